"""Files: new from preset, open, save, save as, recent files, diagram export.

Every question the user is asked goes through ``Dialogs``, one small seam that tests
replace (``window.dialogs.ask_unsaved = lambda *a: "cancel"``). A file that cannot be
read leaves the open document exactly as it was and says why, naming the file.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ..spec import PRESETS, SpecError, load, preset, save
from .folders import LAST_DIR_KEY, start_folder
from .selection import Selection

MAX_RECENT = 8
RECENT_KEY = "files/recent"
NETWORK_FILTER = "Network files (*.json);;All files (*)"
IMAGE_FILTERS = {"PNG image (*.png)": ".png", "SVG drawing (*.svg)": ".svg"}


class Dialogs:
    """The modal dialogs the window shows; each method can be monkeypatched in tests."""

    def open_path(self, parent: QWidget, directory: str) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(parent, "Open network", directory, NETWORK_FILTER)
        return Path(name) if name else None

    def save_path(self, parent: QWidget, suggested: str) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(parent, "Save network as", suggested, NETWORK_FILTER)
        if not name:
            return None
        path = Path(name)
        return path if path.suffix else path.with_suffix(".json")

    def image_path(self, parent: QWidget, suggested: str) -> Path | None:
        filters = ";;".join(IMAGE_FILTERS)
        name, chosen = QFileDialog.getSaveFileName(parent, "Export diagram", suggested, filters)
        if not name:
            return None
        path = Path(name)
        if path.suffix.lower() not in (".png", ".svg"):
            path = path.with_name(path.name + IMAGE_FILTERS.get(chosen, ".png"))
        return path

    def ask_unsaved(self, parent: QWidget, name: str) -> str:
        """"save", "discard" or "cancel"."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"“{name}” has changes that are not saved.",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, parent)
        box.setInformativeText("Save them before going on?")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")

    def ask_restore(self, parent: QWidget, what: str) -> str:
        """"restore", "discard", or "later" when the question was closed without an answer (Escape,
        the app quit or the session ended while it was open): the network autosaved before the app
        last stopped unexpectedly. Only "discard" lets it go."""
        box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved network?",
                          "ResNet Explorer stopped unexpectedly last time, with unsaved changes.",
                          QMessageBox.StandardButton.NoButton, parent)
        box.setInformativeText(f"Restore {what}? If you discard it, it is gone.")
        restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(restore)
        discard = [b for b in box.buttons() if b is not restore][0]
        box.exec()
        clicked = box.clickedButton()
        return "restore" if clicked is restore else "discard" if clicked is discard else "later"

    def error(self, parent: QWidget, title: str, text: str) -> None:
        QMessageBox.critical(parent, title, text)

    def info(self, parent: QWidget, title: str, text: str) -> None:
        QMessageBox.information(parent, title, text)


def reason(err: Exception, path: Path) -> str:
    """The part of a load error that says what is wrong (without repeating the file name)."""
    text = str(err)
    for prefix in (f"{path.name}: ", "file: "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text


class FileActions(QObject):
    """The file commands of one main window, acting on its document."""

    def __init__(self, window, settings: QSettings, dialogs_owner):
        super().__init__(window)
        self.window = window
        self.settings = settings
        self._dialogs_owner = dialogs_owner  # the window; its .dialogs may be swapped in tests

    @property
    def dialogs(self) -> Dialogs:
        return self._dialogs_owner.dialogs

    @property
    def document(self):
        return self.window.document

    # -- names -----------------------------------------------------------------
    def display_name(self) -> str:
        path = self.document.path
        return path.name if path is not None else f"{self.document.spec.name} (not saved)"

    def _start_dir(self) -> str:
        return str(start_folder(self.settings))  # the last folder used, else Documents

    # -- unsaved changes ----------------------------------------------------
    def maybe_save(self) -> bool:
        """True when it is fine to replace or close the document (saved, discarded or clean)."""
        if not self.document.modified:
            return True
        answer = self.dialogs.ask_unsaved(self.window, self.display_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    # -- commands ---------------------------------------------------------------
    def new_from_preset(self, name: str) -> bool:
        if name not in PRESETS or not self.maybe_save():
            return False
        self._replace(preset(name), None)
        self.window.statusBar().showMessage(f"New network from preset {name}: {PRESETS[name].summary}", 5000)
        return True

    def open(self, path: Path | None = None) -> bool:
        if not self.maybe_save():
            return False
        if path is None:
            path = self.dialogs.open_path(self.window, self._start_dir())
            if path is None:
                return False
        return self._open(Path(path))

    def _open(self, path: Path) -> bool:
        try:
            # An invalid design still opens (its problems are listed); a malformed file does not.
            spec = load(path, validate=False)
        except (SpecError, OSError, ValueError, TypeError, KeyError, RecursionError) as err:
            self.dialogs.error(self.window, "Cannot open network file",
                               f"“{path}” could not be opened:\n\n{reason(err, path)}\n\n"
                               "The network you were editing is unchanged.")
            return False
        self._replace(spec, path)
        self._remember(path)
        self.window.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def save(self) -> bool:
        path = self.document.path
        if path is None:
            return self.save_as()
        return self._save_to(path)

    def save_as(self) -> bool:
        path = self.document.path
        suggested = str(path) if path is not None else str(Path(self._start_dir()) / f"{self.document.spec.name}.json")
        chosen = self.dialogs.save_path(self.window, suggested)
        if chosen is None:
            return False
        return self._save_to(Path(chosen))

    def _save_to(self, path: Path) -> bool:
        try:
            save(self.document.spec, path)
        except (OSError, SpecError, ValueError) as err:
            detail = getattr(err, "strerror", None) or str(err)
            self.dialogs.error(self.window, "Cannot save network file",
                               f"“{path}” could not be written:\n\n{detail}\n\n"
                               "Your network is still open; try another folder or name.")
            return False
        self.document.mark_saved(path)
        self._remember(path)
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def export_image(self) -> bool:
        base = self.document.path.stem if self.document.path else self.document.spec.name
        chosen = self.dialogs.image_path(self.window, str(Path(self._start_dir()) / f"{base}.png"))
        if chosen is None:
            return False
        path = Path(chosen)
        try:
            self.window.diagram.export_image(path)
        except (OSError, ValueError, RuntimeError) as err:
            detail = getattr(err, "strerror", None) or str(err)
            self.dialogs.error(self.window, "Cannot export diagram", f"“{path}” could not be written:\n\n{detail}")
            return False
        self.settings.setValue(LAST_DIR_KEY, str(path.parent))
        self.window.statusBar().showMessage(f"Diagram exported to {path}", 5000)
        return True

    def _replace(self, spec, path: Path | None) -> None:
        self.document.replace(spec, path)
        self.document.select(Selection())

    # -- recent files -----------------------------------------------------------
    def recent_files(self) -> list[Path]:
        values = self.settings.value(RECENT_KEY, [], type=list) or []
        return [Path(v) for v in values if isinstance(v, str) and v]

    def _set_recent(self, paths: list[Path]) -> None:
        self.settings.setValue(RECENT_KEY, [str(p) for p in paths[:MAX_RECENT]])

    def _remember(self, path: Path) -> None:
        path = Path(os.path.abspath(path))
        rest = [p for p in self.recent_files() if p != path]
        self._set_recent([path] + rest)
        self.settings.setValue(LAST_DIR_KEY, str(path.parent))

    def prune_recent(self) -> list[Path]:
        """Drop entries whose file is gone; returns the ones dropped."""
        files = self.recent_files()
        missing = [p for p in files if not p.is_file()]
        if missing:
            self._set_recent([p for p in files if p.is_file()])
        return missing

    def open_recent(self, path: Path) -> bool:
        if not Path(path).is_file():
            self._set_recent([p for p in self.recent_files() if p != Path(path)])
            self.dialogs.info(self.window, "File not found",
                              f"“{path}” no longer exists, so it was removed from Open Recent.")
            return False
        return self.open(Path(path))

    def clear_recent(self) -> None:
        self._set_recent([])
