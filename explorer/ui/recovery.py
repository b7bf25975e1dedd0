"""Autosave and crash recovery of the open network.

A few seconds after each change, the open network (when it has unsaved changes) is
written to a recovery file in the app's data folder, one file per running app
(``recovery-<pid>.json``), atomically. A clean quit, a save, or undoing back to the
saved state removes it. A recovery file whose app is no longer running was left by a
crash or a kill: the next start offers to restore it, and removes it once the user
answered Restore or Discard; closing the question any other way (Escape, quitting the
app or logging out while it is open) keeps the file for the next start. Only regular
files are read: a FIFO or a device under a recovery file's name is left alone, never
opened (opening it would block the GUI thread).

The network inside a recovery file is checked by the same ``from_dict`` as a network
file's (the wrapper around it is plain JSON the app wrote itself), so a damaged one is
dropped with a status message, never a traceback.
"""
from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer

from ..spec import SpecError
from ..spec.atomic import atomic_write_text
from ..spec.fileformat import from_dict, to_dict
from ..spec.params import whole_number

AUTOSAVE_DELAY_MS = 3000
FORMAT = "resnet-explorer/recovery"
_PREFIX = "recovery-"


def default_folder() -> Path:
    """``<app data>/recovery`` (on Linux ``~/.local/share/ResNet Explorer/ResNet Explorer/recovery``)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or os.path.expanduser("~/.resnet-explorer")) / "recovery"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process of that number: leave its file alone
    return True


@dataclass
class Recovered:
    """A recovery file left by an app that is no longer running."""

    file: Path
    spec: object  # NetworkSpec
    path: Path | None  # the file the network was opened from or saved to, if any
    saved_at: float

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        where = f"“{self.path.name}”" if self.path else f"“{self.spec.name}” (never saved)"
        return f"{where}, autosaved {when}"


def find_orphans(folder: Path) -> tuple[list[Recovered], list[str]]:
    """Recovery files of apps that are no longer running, newest first, and a note for each
    one that could not be read (those are removed)."""
    found, problems = [], []
    try:
        files = sorted(folder.glob(f"{_PREFIX}*.json"))
    except OSError:
        return [], []
    for file in files:
        pid = whole_number(file.stem[len(_PREFIX):])  # ASCII digits only
        if pid is None or _alive(pid):
            continue
        try:
            mode = file.stat().st_mode
        except OSError:
            continue
        if not stat.S_ISREG(mode):
            problems.append(f"{file} is not a regular file (a FIFO or a device?); it was left alone")
            continue
        try:
            if file.stat().st_size > 16 * 1024 * 1024:
                raise ValueError("too large")
            data = json.loads(file.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("not a recovery file")
            spec = from_dict(data.get("network"))
            path = data.get("path")
            saved_at = data.get("saved_at")
            found.append(Recovered(file, spec, Path(path) if isinstance(path, str) and path else None,
                                   float(saved_at) if isinstance(saved_at, (int, float)) else file.stat().st_mtime))
        except (OSError, ValueError, SpecError, RecursionError, TypeError) as err:
            problems.append(f"a damaged recovery file was removed ({err})")
            with contextlib.suppress(OSError):
                file.unlink()
    found.sort(key=lambda r: r.saved_at, reverse=True)
    return found, problems


class Autosave(QObject):
    """Writes the window's document to its recovery file after changes; removes it when clean."""

    def __init__(self, window, folder: Path | None = None, delay_ms: int = AUTOSAVE_DELAY_MS):
        super().__init__(window)
        self.window = window
        self.folder = Path(folder) if folder is not None else default_folder()
        self.file = self.folder / f"{_PREFIX}{os.getpid()}.json"
        self.failed: str | None = None  # why the last autosave failed (shown once in the status bar)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.write_now)
        doc = window.document
        doc.specChanged.connect(self._changed)
        doc.modifiedChanged.connect(self._changed)
        doc.pathChanged.connect(self._changed)

    def _changed(self, *args) -> None:
        self._timer.start()

    def write_now(self) -> None:
        doc = self.window.document
        if not doc.modified:
            self.discard()
            return
        record = {"format": FORMAT, "saved_at": time.time(),
                  "path": str(doc.path) if doc.path is not None else None, "network": to_dict(doc.spec)}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.file, json.dumps(record, indent=1) + "\n")
            self.failed = None
        except OSError as err:
            if self.failed is None:  # said once, not after every edit
                self.window.statusBar().showMessage(
                    f"Autosave failed ({getattr(err, 'reason', None) or err.strerror or err}); "
                    "save your network yourself", 10000)
            self.failed = str(err)

    def discard(self) -> None:
        """Remove this app's recovery file (after a save, or on a clean quit)."""
        self._timer.stop()
        with contextlib.suppress(OSError):
            self.file.unlink()


def install(window, folder: Path | None = None, delay_ms: int = AUTOSAVE_DELAY_MS) -> Autosave:
    """Autosave for ``window``; its recovery file is removed when the app quits normally."""
    from PySide6.QtWidgets import QApplication

    autosave = Autosave(window, folder, delay_ms)
    window.autosave = autosave
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(autosave.discard)
    return autosave


def offer_restore(window, folder: Path | None = None) -> bool:
    """After a crash: offer the newest orphaned recovery file; restore it or discard it.
    Older orphans are removed too (one question, not one per crash). True when restored."""
    folder = Path(folder) if folder is not None else default_folder()
    found, problems = find_orphans(folder)
    if problems:
        window.statusBar().showMessage(problems[0].capitalize(), 8000)
    if not found:
        return False
    newest = found[0]
    answer = window.dialogs.ask_restore(window, newest.describe())
    if answer not in ("restore", "discard"):  # closed unanswered (a quit, a log-out): keep them all
        return False
    for item in found:
        with contextlib.suppress(OSError):
            item.file.unlink()
    if answer != "restore":
        window.statusBar().showMessage("The autosaved network was discarded", 5000)
        return False
    doc = window.document
    doc.replace(newest.spec, newest.path)
    doc.undo_stack.resetClean()  # restored changes are unsaved until the user saves them
    window.statusBar().showMessage(f"Restored {newest.describe()}; save it to keep it", 8000)
    return True
