"""Where file dialogs start: the last folder the user saved or exported to, else Documents.

Save As, Export Diagram, Export Network and the training CSV export all start here
and remember the folder they wrote to, so a teacher's files end up in one place
instead of the home folder for one command and the working directory for another.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

LAST_DIR_KEY = "files/last_dir"


def documents_folder() -> Path:
    """The user's Documents folder (the home folder where the system names none)."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if location and os.path.isdir(location):
        return Path(location)
    return Path.home()


def start_folder(settings: QSettings | None) -> Path:
    """The last folder used (while it exists), else the Documents folder."""
    last = settings.value(LAST_DIR_KEY, "", type=str) if settings is not None else ""
    if last and os.path.isdir(last):
        return Path(last)
    return documents_folder()


def remember_folder(settings: QSettings | None, path) -> None:
    """Remember the folder of ``path`` (a file just written or opened)."""
    if settings is not None:
        settings.setValue(LAST_DIR_KEY, str(Path(os.path.abspath(path)).parent))
