"""Download… : fetch a dataset or pretrained weights by name, as ``python main.py get NAME`` does.

The dialog shows what the entry is, its size, how it is verified and where it goes, then
runs ``downloads.fetch`` (or ``downloads.adopt`` for From file…) on a ``BackgroundTask``:
a progress bar with the size, the rate and the time left; Stop ends the transfer between
two chunks and keeps the part, which the next Download continues. Any failure is one line
under the bar (the same words as the CLI's). ``fetched(name)`` is emitted once the entry is
here, so the chooser that opened the dialog can select the name.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDialog, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)

from .. import downloads
from .background import BackgroundTask, TaskOutcome
from .theme import COLOUR

EMIT_EVERY_S = 0.1  # progress reaches the GUI at most ten times a second


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_text(done: int, total: int | None, rate: float | None) -> str:
    """'12.3 of 102.5 MB · 4.1 MB/s · 21 s left' (rate in bytes per second; None before it is known)."""
    text = f"{done / 1e6:,.1f} of {_mb(total)}" if total else _mb(done)
    if rate:
        text += f" · {rate / 1e6:,.1f} MB/s"
        if total:
            text += f" · {_duration(max(0, total - done) / rate)} left"
    return text


def app_words(message: str, entry: downloads.Entry) -> str:
    """A download error as the CLI words it, with the dialog's buttons in place of commands."""
    for part in entry.parts:
        message = message.replace(f"run `python main.py get {entry.name} --from-file {part.filename}`",
                                  "press From file… with it")
    return (message.replace("run the same command again to continue", "press Continue")
            .replace("and run the same command again", "and press Download again")
            .replace(" (--dir)", " (RESNET_EXPLORER_DOWNLOADS)"))


class DownloadDialog(QDialog):
    """Choose an entry of ``kind`` ("dataset" or "weights") and fetch it; ``fetched(name)`` at the end."""

    fetched = Signal(str)

    def __init__(self, kind: str, name: str | None = None, parent: QWidget | None = None, choose_files=None):
        super().__init__(parent)
        self.setWindowTitle("Download a dataset" if kind == "dataset" else "Download pretrained weights")
        self._choose_files = choose_files or (lambda parent: QFileDialog.getOpenFileNames(
            parent, "Files fetched elsewhere", "")[0])
        self.kind = kind
        self.task = BackgroundTask(self, name="download")
        self.task.eventsReady.connect(self._on_events)
        self.task.finished.connect(self._on_finished)
        self.entries = [e for e in downloads.BY_NAME.values() if e.kind == kind]
        self.choice = QComboBox()
        for e in self.entries:
            self.choice.addItem(f"{e.name}: {e.title}", e.name)
        if name and self.choice.findData(name) >= 0:
            self.choice.setCurrentIndex(self.choice.findData(name))
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {COLOUR.error_text};")
        self.error.setTextInteractionFlags(self.error.textInteractionFlags() | self.error.textInteractionFlags().
                                           TextSelectableByMouse)
        self.download_button = QPushButton("Download")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop between two chunks; what has arrived is kept and Download continues it")
        self.file_button = QPushButton("From file…")
        self.file_button.setToolTip("Adopt files fetched elsewhere (a USB stick, another computer), verified by "
                                    "their hashes")
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        for b in (self.download_button, self.stop_button, self.file_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        for w in (self.choice, self.about, self.bar, self.status, self.error):
            layout.addWidget(w)
        layout.addLayout(buttons)
        self.download_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.file_button.clicked.connect(self.from_file)
        self.close_button.clicked.connect(self.close)
        self.choice.currentIndexChanged.connect(lambda _i: self._show_entry())
        self._file_label = ""
        self._last = "0 MB"
        self._started = (0.0, 0)  # (time, bytes) when the current file's transfer began
        self.resize(560, 0)
        self._show_entry()

    def entry(self) -> downloads.Entry:
        return downloads.BY_NAME[self.choice.currentData()]

    # -- showing ---------------------------------------------------------------------------
    def _show_entry(self) -> None:
        e = self.entry()
        here = downloads.local_path(e)
        place = f"Here: {here}" if here else f"Goes to {downloads.downloads_dir() / e.name}"
        note = f"<br>{e.note}." if e.note else ""
        self.about.setText(f"<b>{e.title}</b><br>{downloads.size_text(e)}, verified with {e.checks}.{note}"
                           f"<br>{place}")
        self.bar.setValue(1000 if here else 0)
        self.error.clear()
        self.status.setText("Already downloaded." if here else "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.task.is_running()
        here = downloads.is_ready(self.entry())
        self.download_button.setEnabled(not running)
        self.file_button.setEnabled(not running and not here)
        self.stop_button.setEnabled(running)
        self.choice.setEnabled(not running)
        partial = any((downloads.downloads_dir() / "files" / (p.filename + ".part")).is_file()
                      for p in self.entry().parts)
        self.download_button.setText("Use" if here else "Continue" if partial and not running else "Download")
        self.download_button.setToolTip("Choose it where the dialog was opened from" if here else "")

    # -- commands -----------------------------------------------------------------------------
    @Slot()
    def start(self) -> bool:
        if self.task.is_running():
            return False
        entry = self.entry()
        if downloads.is_ready(entry):  # here already: Use picks it
            self.fetched.emit(entry.name)
            self.accept()
            return False
        self.error.clear()
        self.status.setText("Connecting…")

        def work(emit, cancelled):
            last = [0.0]

            def progress(done, total):
                now = time.monotonic()
                if now - last[0] >= EMIT_EVERY_S or (total and done >= total):
                    last[0] = now
                    emit(("progress", done, total, now))

            return downloads.fetch(entry, progress=progress, cancelled=cancelled,
                                   announce=lambda i, n, f: emit(("file", i, n, f)))

        self.task.start(work)
        self._update_buttons()
        return True

    @Slot()
    def from_file(self) -> bool:
        if self.task.is_running():
            return False
        files = self._choose_files(self)
        if not files:
            return False
        entry = self.entry()
        self.error.clear()
        self.status.setText("Checking the hashes…")
        self.task.start(lambda emit, cancelled: downloads.adopt(entry, list(files)))
        self._update_buttons()
        return True

    @Slot()
    def stop(self) -> None:
        self.task.cancel()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.task.shutdown(5.0)  # stops between two chunks; the part is kept for next time
        super().closeEvent(event)

    # -- from the task --------------------------------------------------------------------------
    @Slot(list)
    def _on_events(self, events: list) -> None:
        for event in events:
            if event[0] == "file":
                _, index, count, filename = event
                self._file_label = filename if count == 1 else f"{filename} ({index + 1} of {count})"
                self._started = (0.0, 0)
            else:
                _, done, total, when = event
                if not self._started[0]:
                    self._started = (when, done)
                elapsed = when - self._started[0]
                rate = (done - self._started[1]) / elapsed if elapsed > 0.3 else None
                if total:
                    self.bar.setValue(int(1000 * done / total))
                self._last = f"{done / 1e6:,.1f} of {_mb(total)}" if total else _mb(done)
                self.status.setText(f"{self._file_label}: {progress_text(done, total, rate)}")

    @Slot(object)
    def _on_finished(self, outcome: TaskOutcome) -> None:
        entry = self.entry()
        if outcome.error is None:
            self._show_entry()
            self.status.setText(f"Verified with {entry.checks}: {downloads.local_path(entry)}")
            self.fetched.emit(entry.name)
            return
        err = outcome.error
        if isinstance(err, downloads.DownloadStopped):
            self.status.setText(f"Stopped after {self._last}; Continue picks up from there.")
        elif isinstance(err, downloads.DownloadError):
            self.status.setText("")
            self.error.setText(app_words(str(err), entry))
        else:
            self.status.setText("")
            self.error.setText(f"the download stopped on an unexpected error: {outcome.error_text}")
        self._update_buttons()


def download_button(kind: str, on_fetched, current=None, parent: QWidget | None = None,
                    text: str = "Download…") -> QPushButton:
    """A "Download…" button that opens the dialog for ``kind``, preselecting ``current()`` (a name
    or None), and calls ``on_fetched(name)`` once something is here."""
    button = QPushButton(text)
    button.setToolTip("Fetch " + ("a dataset" if kind == "dataset" else "torchvision's ImageNet weights") +
                      " by name, verified by hash (as `python main.py get NAME` does)")

    def open_dialog():
        dialog = DownloadDialog(kind, current() if current else None, parent or button.window())
        dialog.fetched.connect(on_fetched)
        button.dialog = dialog  # tests reach the open dialog here
        dialog.open()

    button.clicked.connect(open_dialog)
    return button
