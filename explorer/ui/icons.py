"""Our own toolbar and menu icons, drawn as small SVG files shipped inside the package.

The files live in ``explorer/resources/icons`` and are found through
``importlib.resources``, so the app finds them whether it runs from a clone, an
editable install or an installed wheel. Machines without a desktop have no icon theme,
so every action carries one of these. Icons are cached per name; an unknown name is a
programming error and raises.
"""
from __future__ import annotations

import atexit
from contextlib import ExitStack
from functools import lru_cache
from importlib import resources
from pathlib import Path

from PySide6.QtGui import QIcon

ICON_PACKAGE = "explorer"
ICON_SUBDIR = ("resources", "icons")

# Files extracted from a zipped install stay on disk until the process exits (Qt reads them lazily).
_extracted = ExitStack()
atexit.register(_extracted.close)


def icon_dir():
    """The icon folder as an ``importlib.resources`` Traversable."""
    folder = resources.files(ICON_PACKAGE)
    for part in ICON_SUBDIR:
        folder = folder / part
    return folder


def icon_path(name: str) -> Path:
    """A file-system path to ``<name>.svg`` (extracted first when the package is not on disk)."""
    entry = icon_dir() / f"{name}.svg"
    if not entry.is_file():
        raise FileNotFoundError(f"no icon named {name!r} in the package's {'/'.join(ICON_SUBDIR)}")
    if isinstance(entry, Path):
        return entry
    return _extracted.enter_context(resources.as_file(entry))


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The icon ``<name>.svg`` (rendered sharply at any size by Qt's SVG engine)."""
    return QIcon(str(icon_path(name)))


def available() -> list[str]:
    return sorted(entry.name.removesuffix(".svg") for entry in icon_dir().iterdir()
                  if entry.name.endswith(".svg"))
