"""The export dialog: format, file, weights and input size; export and verify off the GUI thread.

The export itself (``explorer.export.export_network``) is a ``BackgroundTask``; the
dialog shows its progress messages, then the measured difference or the error. Closing
the dialog while an export runs cancels it (the verifying process is killed) and waits
for it, so no thread outlives the dialog.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch  # noqa: F401 - torch before PySide6 (explorer.export imports it anyway)

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLayout, QLineEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from ..export import (EXPORT_INSTALL, FORMATS, JIT_DEPRECATION_NOTE, ExportCancelled, ExportError, WeightsError, export_network,
                      load_weights_for, onnx_available, parse_input_shape)
from ..spec import SpecError, analyse, fmt_shape
from .background import BackgroundTask, TaskOutcome
from .folders import remember_folder, start_folder
from .theme import COLOUR

FILE_ITEM = "Weights file (checkpoint or torchvision state_dict)…"
CHOOSE_FILE = "choose-file"  # the key of the item that asks for a weights file
KEY_ROLE = Qt.ItemDataRole.UserRole + 1  # a source's key: what identifies it, whatever its words


def export_task(spec, fmt: str, path: str, state_dict, weights_label: str, input_shape):
    """The export as a task's function: progress texts are its events, the ``ExportResult`` its result."""

    def run(emit, cancelled):
        return export_network(spec, fmt, path, progress=emit, cancel=cancelled, state_dict=state_dict,
                              input_shape=input_shape, weights_label=weights_label)
    return run


def failure_message(error: BaseException) -> str:
    """What the dialog says when an export ended with ``error``."""
    if isinstance(error, (ExportCancelled, ExportError, SpecError, WeightsError)):
        return str(error)
    return f"export failed unexpectedly: {type(error).__name__}: {error}"


class ExportDialog(QDialog):
    """Export ``document``'s network. ``weights_sources()`` returns ``[(key, label, state_dict or None), ...]``:
    the key identifies a source across refreshes (its label may change: a run's status); None means a
    fresh initialisation (seed 0)."""

    exportSucceeded = Signal(object)  # ExportResult
    exportFailed = Signal(str)

    def __init__(self, document, weights_sources, parent: QWidget | None = None, settings=None):
        super().__init__(parent)
        self.setWindowTitle("Export network")
        self._settings = settings  # QSettings: where the last file went (see ``folders``)
        self._document = document
        self._weights_sources = weights_sources
        self._file_sources: list[tuple[str, str, dict]] = []
        self._task = BackgroundTask(self, name="export")
        self._task.eventsReady.connect(self._on_progress)
        self._task.finished.connect(self._on_export_ended)
        self.spec = document.spec if document.valid else document.last_valid_spec

        layout = QVBoxLayout(self)
        # Grow with the result text instead of squeezing the fields.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        self.network_label = QLabel()
        self.network_label.setWordWrap(True)
        layout.addWidget(self.network_label)
        self.invalid_label = QLabel()
        self.invalid_label.setWordWrap(True)
        self.invalid_label.setStyleSheet(f"color: {COLOUR.caution_text};")
        layout.addWidget(self.invalid_label)

        form = QFormLayout()
        self.format_combo = QComboBox()
        for fmt in FORMATS.values():
            self.format_combo.addItem(f"{fmt.label} ({fmt.suffix})", fmt.key)
        form.addRow("Format:", self.format_combo)
        self.format_help = QLabel()
        self.format_help.setWordWrap(True)
        form.addRow("", self.format_help)

        self.file_edit = QLineEdit()
        self.file_edit.setMinimumWidth(480)  # sets the dialog's width: paths are long
        self.browse_button = QPushButton("Browse…")
        row = QHBoxLayout()
        row.addWidget(self.file_edit, 1)
        row.addWidget(self.browse_button)
        form.addRow("File:", row)

        self.weights_combo = QComboBox()
        form.addRow("Weights:", self.weights_combo)
        self.input_edit = QLineEdit()
        self.input_edit.setPlaceholderText("CxHxW, e.g. 3x32x32")
        self.input_edit.setToolTip("The input the export is traced and verified with. TorchScript and the "
                                   "source file accept any size; .pt2 and ONNX keep this height and width.")
        form.addRow("Input size:", self.input_edit)
        layout.addLayout(form)

        self.jit_note = QLabel(JIT_DEPRECATION_NOTE)
        self.jit_note.setWordWrap(True)
        self.jit_note.setStyleSheet(f"color: {COLOUR.caution_text};")
        layout.addWidget(self.jit_note)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 0)  # busy: the steps have no meaningful percentages
        self.progress_bar.setVisible(False)
        layout.addWidget(self.progress_bar)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setMinimumHeight(self.fontMetrics().lineSpacing() * 5)
        layout.addWidget(self.result_label)
        layout.addStretch(1)

        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        layout.addWidget(self.buttons)

        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        self.browse_button.clicked.connect(self._on_browse)
        self.weights_combo.activated.connect(self._on_weights_activated)
        self.export_button.clicked.connect(self.start_export)
        self.close_button.clicked.connect(self.reject)

        self._fill_network()
        self.refresh_weights()
        self._on_format_changed()

    # -- filling in ------------------------------------------------------------
    def _fill_network(self) -> None:
        spec = self.spec
        if spec is None:
            self.network_label.setText("There is no valid network to export yet.")
            self.invalid_label.setText("Fix the errors in the design first; the editor lists them.")
            self.export_button.setEnabled(False)
            return
        info = analyse(spec)
        self.network_label.setText(f"<b>{_escape(spec.name)}</b>: {info.params:,} parameters, depth "
                                   f"{info.depth}, input {fmt_shape(spec.input_shape)}")
        if not self._document.valid:
            self.invalid_label.setText("The current design has errors, so this exports the last valid version "
                                       "of the network.")
        self.invalid_label.setVisible(not self._document.valid)
        self.input_edit.setText(fmt_shape(spec.input_shape))
        folder = start_folder(self._settings)
        self.file_edit.setText(str(folder / f"{_file_stem(spec.name)}.pt"))

    def refresh_weights(self) -> None:
        """Re-read the weights sources (finished runs may have appeared)."""
        current = self.current_weights_key()
        self.weights_combo.clear()
        for key, label, state in list(self._weights_sources()) + self._file_sources:
            self.weights_combo.addItem(label, state)
            self.weights_combo.setItemData(self.weights_combo.count() - 1, key, KEY_ROLE)
        self.weights_combo.addItem(FILE_ITEM, None)
        self.weights_combo.setItemData(self.weights_combo.count() - 1, CHOOSE_FILE, KEY_ROLE)
        index = self.weights_combo.findData(current, KEY_ROLE)
        self.weights_combo.setCurrentIndex(max(0, index if current != CHOOSE_FILE else 0))

    def current_weights_key(self) -> str | None:
        return self.weights_combo.currentData(KEY_ROLE)

    def current_format(self) -> str:
        return self.format_combo.currentData()

    def select_format(self, key: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(key))

    def select_weights(self, key: str) -> None:
        """Select the source whose key is ``key`` ("fresh", "run:2", "file:PATH")."""
        self.weights_combo.setCurrentIndex(self.weights_combo.findData(key, KEY_ROLE))

    @Slot()
    def _on_format_changed(self) -> None:
        fmt = FORMATS[self.current_format()]
        help_text = fmt.description
        if fmt.key == "onnx" and not onnx_available():
            help_text += f". Needs the 'onnx' package, which is not installed: {EXPORT_INSTALL}"
        self.format_help.setText(help_text)
        # the last result was another format's: it says nothing about this one
        self.result_label.clear()
        self.status_label.clear()
        self.jit_note.setVisible(fmt.key == "torchscript")
        text = self.file_edit.text().strip()
        if text:
            path = Path(text)
            known = {f.suffix for f in FORMATS.values()}
            if path.suffix in known or not path.suffix:
                self.file_edit.setText(str(path.with_suffix(fmt.suffix)))

    @Slot()
    def _on_browse(self) -> None:
        fmt = FORMATS[self.current_format()]
        path, _ = QFileDialog.getSaveFileName(self, f"Export as {fmt.label}", self.file_edit.text(),
                                              f"{fmt.label} (*{fmt.suffix});;All files (*)")
        if path:
            self.file_edit.setText(path)

    @Slot(int)
    def _on_weights_activated(self, index: int) -> None:
        if self.weights_combo.itemData(index, KEY_ROLE) != CHOOSE_FILE:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Weights for the export", "",
                                              "PyTorch weights (*.pt *.pth *.ckpt);;All files (*)")
        if path:
            self.add_weights_file(path)
        else:
            self.weights_combo.setCurrentIndex(0)

    def add_weights_file(self, path: str) -> bool:
        """Check a checkpoint or state_dict file against the network and offer it as a source."""
        try:
            state, label = load_weights_for(self.spec, path)
        except WeightsError as err:
            self._show_error(str(err))
            self.weights_combo.setCurrentIndex(0)
            return False
        key = f"file:{os.path.abspath(path)}"
        self._file_sources = [f for f in self._file_sources if f[0] != key] + [(key, f"From {label}", state)]
        self.refresh_weights()
        self.select_weights(key)
        self.result_label.clear()
        return True

    # -- exporting -------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True from the start of an export until the dialog has handled its end."""
        return self._task.is_running()

    @Slot()
    def start_export(self) -> None:
        if self.spec is None or self.running:
            return
        if self.current_weights_key() == CHOOSE_FILE:
            self._show_error("Choose the weights to export.")
            return
        try:
            shape = parse_input_shape(self.input_edit.text())
        except ExportError as err:
            self._show_error(str(err))
            return
        path = self.file_edit.text().strip()
        if not path:
            self._show_error("Choose a file to write.")
            return
        label = self.weights_combo.currentText()
        state = self.weights_combo.currentData()
        if state is None:
            label = label or "fresh initialisation (seed 0)"
        self._set_busy(True)
        self.result_label.clear()
        self.status_label.setText("Starting…")
        self._task.start(export_task(self.spec, self.current_format(), path, state, label, shape))

    def _set_busy(self, busy: bool) -> None:
        self.progress_bar.setVisible(busy)
        for widget in (self.export_button, self.format_combo, self.file_edit, self.browse_button,
                       self.weights_combo, self.input_edit):
            widget.setEnabled(not busy)
        self.close_button.setText("Cancel" if busy else "Close")

    @Slot(list)
    def _on_progress(self, texts: list) -> None:
        self.status_label.setText(texts[-1] + "…")

    @Slot(object)
    def _on_export_ended(self, outcome: TaskOutcome) -> None:
        self._set_busy(False)
        if outcome.failed:
            self._on_failed(failure_message(outcome.error))
        else:
            self._on_succeeded(outcome.result)

    @Slot(object)
    def _on_succeeded(self, result) -> None:
        files = "<br>".join(_escape(str(p)) for p in result.files)
        if result.verified:
            same = " (identical outputs)" if result.max_diff == 0 else ""
            check = (f"<b>Verified</b> on random inputs at batch sizes 1 and 3: largest difference from the "
                     f"live model {result.max_diff:.3g}{same}, tolerance {result.tolerance:.0e}; "
                     f"{_escape(result.verification)}.")
        else:
            check = f"<b>Not verified</b>: {_escape(result.verification)}."
        notes = "".join(f"<br>{_escape(n)}" for n in result.notes if n != JIT_DEPRECATION_NOTE)
        self.result_label.setStyleSheet(f"color: {COLOUR.verified_text if result.verified else COLOUR.caution_text};")
        self.result_label.setText(f"Wrote {files}<br>{check}{notes}")
        self.status_label.setText(f"Done in {result.seconds:.1f} s.")
        if result.files:
            remember_folder(self._settings, result.files[0])
        self.exportSucceeded.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._show_error(message)
        self.status_label.setText("")
        self.exportFailed.emit(message)

    def _show_error(self, message: str) -> None:
        self.result_label.setStyleSheet(f"color: {COLOUR.failed};")
        self.result_label.setText(f"<b>Export failed</b>: {_escape(message)}")

    # -- closing ---------------------------------------------------------------
    def shutdown(self) -> None:
        """Cancel a running export and wait for it to end (its end is handled before this returns)."""
        self._task.shutdown(None)

    def reject(self) -> None:
        if self.running:
            self._task.cancel()
            self.status_label.setText("Cancelling…")
            return
        self.shutdown()
        super().reject()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self.shutdown()
        super().done(result)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _file_stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")
    return stem or "network"
