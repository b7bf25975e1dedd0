"""The icons come from the package (importlib.resources), so an installed wheel finds them."""
import re
from pathlib import Path

import pytest

from explorer.ui import icons

ROOT = Path(__file__).resolve().parents[2]


def test_every_icon_the_code_names_is_shipped_and_renders(qapp):
    named = set()
    for source in (ROOT / "explorer" / "ui").rglob("*.py"):
        named |= set(re.findall(r"""\bicon\(\s*["']([a-z_]+)["']""", source.read_text(encoding="utf-8")))
    assert {"app", "save"} <= named  # the scan found the calls at all
    assert named <= set(icons.available())
    for name in icons.available():
        path = icons.icon_path(name)
        assert path.is_file() and path.parent.name == "icons" and path.parent.parent.name == "resources"
        assert not icons.icon(name).pixmap(24, 24).isNull(), name


def test_an_unknown_icon_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="no icon named 'no_such_icon'"):
        icons.icon_path("no_such_icon")
