"""Our own toolbar and menu icons, drawn as small SVG files under ``resources/icons``.

Machines without a desktop have no icon theme, so every action carries one of these.
Icons are cached per name; an unknown name is a programming error and raises.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QIcon

ICON_DIR = Path(__file__).resolve().parents[2] / "resources" / "icons"


def icon_path(name: str) -> Path:
    path = ICON_DIR / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"no icon named {name!r} in {ICON_DIR}")
    return path


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg`` (rendered sharply at any size by Qt's SVG engine)."""
    return QIcon(str(icon_path(name)))


def available() -> list[str]:
    return sorted(p.stem for p in ICON_DIR.glob("*.svg"))
