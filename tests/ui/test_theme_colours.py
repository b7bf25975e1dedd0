"""Every colour the app shows is a named role in the theme (``explorer/ui/theme.py``).

No module of ``explorer/ui`` outside the theme modules spells a colour value (a hex
literal, an RGB triple, a pyqtgraph colour letter, a CSS colour name); and every role in
the theme's table is used somewhere, so the table never keeps a name nothing shows.
"""
import dataclasses
import pathlib
import re

import pytest

from explorer.ui.theme import COLOUR, ColourRoles

UI = pathlib.Path(__file__).resolve().parents[2] / "explorer" / "ui"
THEME_MODULES = {UI / "theme.py", UI / "presenter.py", UI / "plot_style.py"}

# What counts as spelling a colour. "&#9888;" (an HTML character) and "#tourPanel" (a style
# sheet's object name) are not colours.
COLOUR_VALUE = re.compile("|".join((
    r"(?<![&\w])#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3,4})\b",  # "#1b5e20", "#222"
    r"\b(?:QColor|QColor\.fromRgbF?|mkColor|mkBrush|mkPen)\(\s*\(?\s*\d",  # QColor(255, 0, 0), mkBrush(255, ...)
    r"\b(?:QColor|mkColor|mkBrush|mkPen|setBackground)\(\s*[\"'][a-zA-Z]+[\"']",  # mkPen("w"), QColor("red")
    r"\b(?:background|color|colour|labelTextColor)\s*=\s*[\"'][a-zA-Z]+[\"']",  # background="w"
    r"(?:\bcolor|\bbackground(?:-color)?|\bborder[\w-]*)\s*:[^;{}'\"]*?\b(?:white|black|red|green|blue|gr[ae]y)\b",
    r"\bQt\.(?:GlobalColor\.)?(?:white|black|red|green|blue|gray|darkGray|lightGray|yellow)\b",
)))


def _ui_sources() -> list[pathlib.Path]:
    return sorted(p for p in UI.rglob("*.py") if p not in THEME_MODULES)


def colour_values(text: str) -> list[str]:
    return [m.group(0) for m in COLOUR_VALUE.finditer(text)]


def test_no_colour_value_outside_the_theme():
    found = []
    for path in _ui_sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found += [f"{path.relative_to(UI.parent.parent)}:{number}: {value}" for value in colour_values(line)]
    assert _ui_sources(), "no UI modules found: the scan looked in the wrong folder"
    assert not found, "colours spelled outside the theme (name a role in theme.COLOUR):\n" + "\n".join(found)


@pytest.mark.parametrize("line", [
    'ERROR_STYLE = "color: #7A0014;"',
    "self.readout.setStyleSheet(f\"font-size: {size}; color: #333;\")",
    'brush=pg.mkBrush(255, 255, 255, 210)',
    'pen = pg.mkPen("w", width=2)',
    'super().__init__(parent, background="w")',
    'painter.setPen(QPen(QColor(240, 168, 0), 5))',
    'label.setStyleSheet("QLabel { color: red; }")',
    'self.message = pg.TextItem("", color="k")',
    'painter.setBrush(Qt.GlobalColor.white)',
])
def test_the_scan_sees_each_way_of_spelling_a_colour(line):
    assert colour_values(line), line


@pytest.mark.parametrize("line", [
    "out.append(f\"<div style='color:{COLOUR.invalid_design}'>&#9888; {text}</div>\")",
    'self.setStyleSheet(f"#tourPanel {{ background: {COLOUR.note_fill}; }}")',
    'pixmap.fill(Qt.GlobalColor.transparent)',
    'colour = QColor(COLOURS[kind])',
    'self.view.setBackground(COLOUR.plot_background)',
])
def test_the_scan_passes_named_roles(line):
    assert not colour_values(line), line


def test_every_role_is_used():
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(UI.rglob("*.py")))
    used = set(re.findall(r"\bCOLOUR\.(\w+)", text))
    roles = {f.name for f in dataclasses.fields(ColourRoles)}
    assert roles - used == set(), "roles in theme.COLOUR that nothing uses"
    assert used - roles == set(), "COLOUR.<name> used but not in the table"


def test_every_role_is_a_colour():
    for field in dataclasses.fields(ColourRoles):
        value = getattr(COLOUR, field.name)
        for colour in value if isinstance(value, tuple) else (value,):
            assert re.fullmatch(r"#[0-9a-f]{6}", colour), f"{field.name}: {colour!r} is not #rrggbb"
