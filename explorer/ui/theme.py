"""Colours, pens and fonts shared by the diagram, the palette and the legend.

One place decides how a block kind, a shortcut kind or a disabled skip looks, so
the canvas, the palette swatches and the legend can never disagree. Presenter
mode multiplies every size (fonts, line widths, boxes) by ``Theme.scale``.
The colours are a colour-blind-safe set (blue, orange, teal, purple, grey) with a
light fill for the box and a strong tone for its border and swatch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPen

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


class PresenterMode(QObject):
    """Whether presenter mode is on, for the whole application (it scales the app font too)."""

    changed = Signal(bool)

    def __init__(self):
        super().__init__()
        self._on = False

    @property
    def on(self) -> bool:
        return self._on

    @property
    def scale(self) -> float:
        return Theme(presenter=self._on).scale

    def set_on(self, on: bool) -> None:
        if bool(on) != self._on:
            self._on = bool(on)
            self.changed.emit(self._on)


_presenter_mode: PresenterMode | None = None


def presenter_mode() -> PresenterMode:
    """The one app-wide presenter switch (made on first use)."""
    global _presenter_mode
    if _presenter_mode is None:
        _presenter_mode = PresenterMode()
    return _presenter_mode


def follow_presenter(slot: Callable[[bool], None]) -> None:
    """Call ``slot(on)`` now and whenever presenter mode changes.

    ``slot`` should be a bound method of a QObject: the connection then ends when that
    object is deleted, so a closed panel is never called.
    """
    mode = presenter_mode()
    slot(mode.on)
    mode.changed.connect(slot)


class PaneWidth(QObject):
    """Keeps a splitter's first pane wide enough for its content at the current text size.

    ``need()`` says how wide the pane must be for ``content`` (a form) to show every field
    whole; ``widths`` are the pane's least and most width at normal text size, scaled in
    presenter mode. Presenter mode's larger text makes a form wider than its normal
    column: the pane grows with it and goes back to the width it had when presenter mode
    ends, unless the user has dragged the splitter since. ``need`` is asked again whenever
    ``content``'s layout changes, since the new font reaches a form's fields a moment
    after the switch.
    """

    def __init__(self, splitter, pane, content, need: Callable[[], int], widths: tuple[int, int]):
        super().__init__(pane)
        self._splitter, self._pane, self._need, self._widths = splitter, pane, need, widths
        self._normal_width: int | None = None  # the pane's width before presenter mode
        splitter.splitterMoved.connect(self._user_moved)
        content.installEventFilter(self)
        follow_presenter(self._on_presenter)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LayoutRequest:
            self.fit()
        return False

    @Slot(bool)
    def _on_presenter(self, on: bool) -> None:
        if on and self._pane.isVisible():
            self._normal_width = self._pane.width()
        self.fit()

    @Slot(int, int)
    def _user_moved(self, _pos: int, _index: int) -> None:
        self._normal_width = None  # the width the user chose is the one to keep

    def fit(self) -> None:
        mode = presenter_mode()
        least = max(round(self._widths[0] * mode.scale), self._need())
        most = max(round(self._widths[1] * mode.scale), least)
        if (least, most) == (self._pane.minimumWidth(), self._pane.maximumWidth()):
            return
        self._pane.setMinimumWidth(least)
        self._pane.setMaximumWidth(most)
        sizes = self._splitter.sizes()
        if sum(sizes) > 0:
            wanted = self._normal_width if not mode.on and self._normal_width else sizes[0]
            width = min(max(wanted, least), most)
            self._splitter.setSizes([width, sum(sizes) - width])  # the other pane takes the rest


def point_font(points: float) -> QFont:
    """The application's font family at ``points`` (a tick label, a plot legend)."""
    font = QFont()
    font.setPointSizeF(points)
    return font


def css_points(points: float) -> str:
    return f"{points:.1f}pt"


class ShrinkableLabel(pg.LabelItem):
    """A plot title with no minimum width.

    pyqtgraph makes a title's text width the plot's minimum width, so a long title at a
    projector's size pushed the plot past its cell and cut off its right side. With this
    label the plot keeps its cell's width and ``PlotScaler.title`` picks the short title.
    Its preferred width is 0 too: a column's width never depends on which title it shows,
    so a narrow plot showing the short title can widen again when there is room.
    """

    def updateMin(self):  # noqa: N802 - pyqtgraph's name
        super().updateMin()
        self.setMinimumWidth(0)
        for hint in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            self._sizeHint[hint] = (0, self._sizeHint[hint][1])
        self.updateGeometry()


def _let_title_shrink(plot: pg.PlotItem) -> None:
    if isinstance(plot.titleLabel, ShrinkableLabel):
        return
    old = plot.titleLabel
    plot.layout.removeItem(old)
    if old.scene() is not None:
        old.scene().removeItem(old)
    plot.titleLabel = ShrinkableLabel("")
    plot.layout.addItem(plot.titleLabel, 0, 1)


def _next_tick_step(step: float) -> float:
    """The next step of the 1-2-5 series (10 -> 20 -> 50 -> 100)."""
    leading = step / 10 ** math.floor(math.log10(step) + 1e-9)
    return step * (2.5 if 1.5 < leading < 3 else 2.0)


def _keep_tick_numbers_apart(axis) -> None:
    """Widen a horizontal axis's major tick step until its numbers have room between them.

    pyqtgraph picks the step from the axis length alone and always labels every major
    tick, so on a narrow plot in presenter mode "0 20 40 60 80" ran together into one
    string of digits.
    """
    choose = axis.tickSpacing

    def tick_spacing(low: float, high: float, size: float):
        levels = choose(low, high, size)
        if not levels or size <= 0 or high == low or not shiboken6.isValid(axis):
            return levels
        major = levels[0][0]
        font = axis.style.get("tickFont") or QFont()
        metrics = QFontMetricsF(font)
        words = axis.tickStrings([low, high], axis.autoSIPrefixScale, major)
        room = max(metrics.horizontalAdvance(str(w)) for w in words) + metrics.horizontalAdvance("   ")
        per_unit = size / abs(high - low)
        step = major
        while step * per_unit < room and step < abs(high - low):
            step = _next_tick_step(step)
        if step == major:
            return levels
        return [(step, 0.0)] + [level for level in levels[1:] if level[0] < step]

    axis.tickSpacing = tick_spacing


class PlotScaler:
    """Keeps a pyqtgraph plot's text sizes at normal size and applies them at any scale.

    Register each title, axis and legend once with its normal point size; ``apply(scale)``
    then sets them all, and ``scale`` remembers the last one so later registrations come
    up at the same size. Tick density drops as text grows, so larger numbers do not
    collide. Titles get a ``ShrinkableLabel`` so a long one cannot widen its plot.
    """

    def __init__(self):
        self.scale = 1.0
        self._appliers: list[Callable[[float], None]] = []

    def _add(self, applier: Callable[[float], None]) -> None:
        self._appliers.append(applier)
        applier(self.scale)

    def apply(self, scale: float) -> None:
        self.scale = scale
        for applier in self._appliers:
            applier(scale)

    def title(self, plot, text: str, points: float, short: str | None = None,
              colour: str = PLOT_TEXT) -> Callable[[str, str | None], None]:
        """Size ``plot``'s title; ``short`` replaces it when the plot is too narrow for ``text``.

        Returns a setter ``set_text(text, short=None)`` that changes the words and keeps the size.
        """
        state = {"text": text, "short": short, "shown": None, "scale": self.scale}

        def show(force: bool = False) -> None:
            if not shiboken6.isValid(plot.titleLabel):
                return  # Qt reports a last geometry change while the plot is deleted
            size = points * state["scale"]
            font = point_font(size)
            shown = state["text"]
            width = plot.titleLabel.width()  # the width of the plot's data column
            if state["short"] and width > 0 and QFontMetricsF(font).horizontalAdvance(shown) + 16 > width:
                shown = state["short"]
            if shown == state["shown"] and not force:
                return
            state["shown"] = shown
            plot.setTitle(shown, size=css_points(size), color=colour)
            # pyqtgraph gives a title row 30 px, which clips larger text
            height = math.ceil(QFontMetricsF(font).height() * 1.25) + 4
            plot.titleLabel.setMaximumHeight(height)
            plot.layout.setRowFixedHeight(0, height)

        def apply(scale: float) -> None:
            state["scale"] = scale
            show(force=True)

        def set_text(new_text: str, new_short: str | None = None) -> None:
            state["text"], state["short"] = new_text, new_short
            show(force=True)

        _let_title_shrink(plot)
        plot.titleLabel.geometryChanged.connect(show)
        self._add(apply)
        return set_text

    def axis(self, axis, label: str | None, label_points: float = 10.0, tick_points: float = TICK_POINTS,
             colour: str = PLOT_LABEL, density: bool = True, short: str | None = None) -> None:
        """Label text and tick font of one axis.

        ``density`` thins pyqtgraph's ticks as they grow; ``short`` replaces the label when
        the axis is too short for it (a rotated label longer than a short plot is clipped).
        """
        state = {"scale": self.scale, "shown": None}

        def show_label(force: bool = False) -> None:
            if label is None or not shiboken6.isValid(axis):
                return
            size = label_points * state["scale"]
            length = axis.height() if axis.orientation in ("left", "right") else axis.width()
            shown = label
            if short and length > 0 and QFontMetricsF(point_font(size)).horizontalAdvance(label) + 8 > length:
                shown = short
            if shown != state["shown"] or force:
                state["shown"] = shown
                axis.setLabel(shown, color=colour, **{"font-size": css_points(size)})

        def apply(scale: float) -> None:
            state["scale"] = scale
            axis.setTickFont(point_font(tick_points * scale))
            axis.setTextPen(colour)
            show_label(force=True)
            if density:
                axis.setTickDensity(1.0 / scale)
            axis.picture = None  # redraw the ticks with the new font
            axis.update()

        axis.geometryChanged.connect(show_label)
        if axis.orientation in ("top", "bottom"):
            _keep_tick_numbers_apart(axis)
        self._add(apply)

    def legend(self, legend, points: float) -> None:
        def apply(scale: float) -> None:
            legend.setLabelTextSize(css_points(points * scale))
            for _, label in legend.items:  # pyqtgraph stores the size; the text is drawn again here
                label.setText(label.text)
            if legend.parentLayoutItem() is None:  # a floating legend sizes itself; one in a layout is sized
                legend.updateSize()

        self._add(apply)

    def custom(self, applier: Callable[[float], None]) -> None:
        """Anything else that depends on the scale (a colour bar's width, a pen)."""
        self._add(applier)
