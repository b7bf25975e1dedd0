"""Colours, pens and fonts shared by the diagram, the palette and the legend.

One place decides how a block kind, a shortcut kind or a disabled skip looks, so
the canvas, the palette swatches and the legend can never disagree. Presenter
mode multiplies every size (fonts, line widths, boxes) by ``Theme.scale``; the app-wide
presenter switch is in ``presenter.py`` and the plots' styling in ``plot_style.py``.
The colours are a colour-blind-safe set (blue, orange, teal, purple, grey) with a
light fill for the box and a strong tone for its border and swatch.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPen

from ..spec import BlockKind, ShortcutKind

# The strong tone of each kind: box border, palette swatch, legend entry.
KIND_COLORS: dict[BlockKind, QColor] = {
    BlockKind.BASIC: QColor("#2f6fb5"),
    BlockKind.BOTTLENECK: QColor("#d2761c"),
    BlockKind.PREACT_BASIC: QColor("#16876b"),
    BlockKind.PREACT_BOTTLENECK: QColor("#7a4bb3"),
    BlockKind.PLAIN: QColor("#6b6b6b"),
}

# The light tone of each kind: the box's fill, dark text stays readable on it.
KIND_FILLS: dict[BlockKind, QColor] = {
    BlockKind.BASIC: QColor("#dbeafb"),
    BlockKind.BOTTLENECK: QColor("#fde6cc"),
    BlockKind.PREACT_BASIC: QColor("#d3f0e7"),
    BlockKind.PREACT_BOTTLENECK: QColor("#e9ddf7"),
    BlockKind.PLAIN: QColor("#e6e6e6"),
}

# Names a person reads in the legend and the palette.
KIND_NAMES: dict[BlockKind, str] = {
    BlockKind.BASIC: "Basic (post-activation)",
    BlockKind.BOTTLENECK: "Bottleneck (post-activation)",
    BlockKind.PREACT_BASIC: "Pre-activation basic",
    BlockKind.PREACT_BOTTLENECK: "Pre-activation bottleneck",
    BlockKind.PLAIN: "Plain (no shortcut)",
}

# Legend rows: (kind, colour name for people who cannot rely on the hue alone).
KIND_COLOR_NAMES: dict[BlockKind, str] = {
    BlockKind.BASIC: "blue",
    BlockKind.BOTTLENECK: "orange",
    BlockKind.PREACT_BASIC: "teal",
    BlockKind.PREACT_BOTTLENECK: "purple",
    BlockKind.PLAIN: "grey",
}

LEGEND_KINDS: tuple[tuple[BlockKind, str, str], ...] = tuple(
    (kind, KIND_NAMES[kind], KIND_COLOR_NAMES[kind]) for kind in BlockKind)

# How each shortcut style is told apart (shown in the legend next to a drawn sample).
SHORTCUT_STYLES: tuple[tuple[str, str], ...] = (
    ("identity", "Identity shortcut: solid line"),
    ("projection", "Projection: line with a 1x1 conv box"),
    ("zero_pad", "Zero-pad: dotted line, \"0-pad\" mark"),
    ("off", "Skip switched off: dashed grey, \"off\""),
)

INK = QColor("#1d232b")  # text and the main data path
MUTED = QColor("#5b6470")  # secondary text
SHORTCUT_INK = QColor("#1d232b")
SKIP_OFF_INK = QColor("#9aa1a9")
ERROR = QColor("#d0312d")
ACCENT = QColor("#f0a800")  # selection highlight: amber reads on every kind's fill
HOVER = QColor("#0b74de")
HOVER_FILL = QColor("#e3f0fd")  # the skip switch under the mouse
STAGE_FILL = QColor("#f6f7f9")
STAGE_BORDER = QColor("#b7bec7")
NODE_FILL = QColor("#eef0f3")  # input, stem, head
NODE_BORDER = QColor("#4a5360")
BACKGROUND = QColor("#ffffff")
PLOT_TEXT = "#222222"  # plot titles, legends
PLOT_LABEL = "#333333"  # axis labels and tick numbers

PRESENTER_SCALE = 1.45  # text size on a projector relative to a laptop screen
TICK_POINTS = 9.0  # the plots' tick labels at normal size (points)


def presenter_tick_pixels(dpi: float) -> float:
    """Pixel size of a plot's tick label in presenter mode on a screen of ``dpi`` (logical)."""
    return TICK_POINTS * PRESENTER_SCALE * dpi / 72.0


@dataclass(frozen=True)
class Theme:
    """Sizes for normal use or for a projector (``presenter``)."""

    presenter: bool = False

    @property
    def scale(self) -> float:
        return PRESENTER_SCALE if self.presenter else 1.0

    def px(self, value: float) -> float:
        """A length in scene units, scaled for presenter mode."""
        return value * self.scale

    def font(self, size: float = 12.0, bold: bool = False, italic: bool = False) -> QFont:
        """A font sized in pixels, so it scales with the diagram when zooming."""
        return scaled_font(size * self.scale, bold=bold, italic=italic)

    def line(self, width: float = 1.5) -> float:
        # Lines grow a little faster than text so they survive a projector's blur.
        return width * (1.7 if self.presenter else 1.0)

    def shortcut_pen(self, style: str, hovered: bool = False) -> QPen:
        """The pen of a skip arc: ``style`` is identity, projection, zero_pad or off."""
        width = self.line(2.6 if hovered else 1.8)
        colour = HOVER if hovered else (SKIP_OFF_INK if style == "off" else SHORTCUT_INK)
        pen = QPen(colour, width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        if style == "zero_pad":
            pen.setStyle(Qt.PenStyle.DotLine)
        elif style == "off":
            pen.setStyle(Qt.PenStyle.DashLine)
        return pen


def scaled_font(pixel_size: float, bold: bool = False, italic: bool = False) -> QFont:
    font = QFont()
    font.setFamilies(["DejaVu Sans", "Noto Sans", "Liberation Sans", "Arial", "Sans Serif"])
    font.setPixelSize(max(1, round(pixel_size)))
    font.setBold(bold)
    font.setItalic(italic)
    return font


def shortcut_style(shortcut: ShortcutKind, skip: bool) -> str:
    """Which drawn style a resolved shortcut gets (``none`` for plain blocks)."""
    if shortcut is ShortcutKind.NONE:
        return "none"
    if not skip:
        return "off"
    if shortcut is ShortcutKind.PROJECTION:
        return "projection"
    if shortcut is ShortcutKind.ZERO_PAD:
        return "zero_pad"
    return "identity"


def point_font(points: float) -> QFont:
    """The application's font family at ``points`` (a tick label, a plot legend)."""
    font = QFont()
    font.setPointSizeF(points)
    return font


def css_points(points: float) -> str:
    return f"{points:.1f}pt"
