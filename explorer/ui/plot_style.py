"""The plots' styling: text sizes that follow presenter mode, and fixes to pyqtgraph's layout.

``PlotScaler`` keeps a pyqtgraph plot's titles, axes, ticks and legends at sizes that
scale with presenter mode. ``ShrinkableLabel`` and the tick-spacing patch change how
pyqtgraph lays out titles and tick numbers; they touch pyqtgraph's private attributes
(``LabelItem._sizeHint``, the plot layout's title row, ``AxisItem.tickSpacing``,
``LegendItem.items``), which is why pyproject.toml pins pyqtgraph's versions.
"""
from __future__ import annotations

import math
from typing import Callable

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF

from .theme import COLOUR, TICK_POINTS, css_points, point_font


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


def wrap_words(text: str, metrics: QFontMetricsF, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` at ``metrics``' font, broken between words (a word
    longer than a line keeps a line of its own)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and metrics.horizontalAdvance(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [text]


def percent_axis_until_data(plot) -> None:
    """A plot whose y axis is in percent reads 0 to 100 while it has no data (pyqtgraph's empty
    0 to 1 under a "%" label read as fractions of a percent); the first data sets the range."""
    plot.setYRange(0, 100, padding=0)
    plot.enableAutoRange(y=True)  # with nothing to fit, the range stays until data comes


def decades_until_data(plot, low: int = -3, high: int = 1) -> None:
    """A log-scale y axis with no data reads 10^low to 10^high, one label per power of ten
    (pyqtgraph's empty log axis labelled 2, 3, 4, ... 9 on top of each other); the first data sets
    the range and the ticks (``plain_ticks_for_data``)."""
    plot.setYRange(low, high, padding=0)
    plot.getAxis("left").setTicks([[(k, f"{10.0 ** k:g}") for k in range(low, high + 1)], []])
    plot.enableAutoRange(y=True)  # with nothing to fit, the range stays until data comes


def plain_ticks_for_data(plot) -> None:
    """The axis's own ticks again, once the plot has data (after ``decades_until_data``)."""
    plot.getAxis("left").setTicks(None)


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
              colour: str = COLOUR.plot_text) -> Callable[[str, str | None], None]:
        """Size ``plot``'s title; ``short`` replaces it when the plot is too narrow for ``text``.

        Returns a setter ``set_text(text, short=None)`` that changes the words and keeps the size.
        """
        state = {"text": text, "short": short, "shown": None, "scale": self.scale}

        def show(force: bool = False) -> None:
            if not shiboken6.isValid(plot) or not shiboken6.isValid(plot.titleLabel):
                return  # Qt reports a last geometry change while the plot is deleted
            size = points * state["scale"]
            font = point_font(size)
            shown = state["text"]
            width = plot.titleLabel.width()  # the width of the plot's data column
            metrics = QFontMetricsF(font)
            if state["short"] and width > 0 and metrics.horizontalAdvance(shown) + 16 > width:
                shown = state["short"]
            scene = plot.scene()
            shown_on_screen = scene is not None and any(view.isVisible() for view in scene.views())
            # wrapped only as laid out on screen (a plot not shown yet has no real width)
            lines = wrap_words(shown, metrics, width - 16) if width > 0 and shown_on_screen else [shown]
            if tuple(lines) == state["shown"] and not force:
                return
            state["shown"] = tuple(lines)
            # too long even when short: wrapped onto more lines, never cut off at the plot's edge
            plot.setTitle("<br>".join(lines), size=css_points(size), color=colour)
            # pyqtgraph gives a title row 30 px, which clips larger text
            height = math.ceil(metrics.height() * 1.25) * len(lines) + 4
            plot.titleLabel.setMaximumHeight(height)
            plot.layout.setRowFixedHeight(0, height)

        def apply(scale: float) -> None:
            state["scale"] = scale
            show(force=True)

        def set_text(new_text: str, new_short: str | None = None) -> None:
            if (new_text, new_short) == (state["text"], state["short"]):
                return  # the same words (every probe names its network again): no new layout
            state["text"], state["short"] = new_text, new_short
            show()

        _let_title_shrink(plot)
        plot.titleLabel.geometryChanged.connect(show)
        self._add(apply)
        return set_text

    def axis(self, axis, label: str | None, label_points: float = 10.0, tick_points: float = TICK_POINTS,
             colour: str = COLOUR.plot_label, density: bool = True,
             short: str | tuple[str, ...] | None = None) -> None:
        """Label text and tick font of one axis.

        ``density`` thins pyqtgraph's ticks as they grow; ``short`` replaces the label when
        the axis is too short for it (a rotated label longer than a short plot is clipped);
        several, shorter and shorter: the first that fits.
        """
        state = {"scale": self.scale, "shown": None}
        shorter = (short,) if isinstance(short, str) else tuple(short or ())

        def show_label(force: bool = False) -> None:
            if label is None or not shiboken6.isValid(axis):
                return
            size = label_points * state["scale"]
            length = axis.height() if axis.orientation in ("left", "right") else axis.width()
            metrics = QFontMetricsF(point_font(size))
            shown = label
            if length > 0:  # the first that fits, else the shortest
                for candidate in shorter:
                    if metrics.horizontalAdvance(shown) + 8 <= length:
                        break
                    shown = candidate
            if shown != state["shown"] or force:
                state["shown"] = shown
                axis.setLabel(shown, color=colour, **{"font-size": css_points(size)})
                # pyqtgraph centres the label only when the axis resizes: a new text (longer or
                # shorter) stayed where the old one was centred, half out of the plot
                axis.resizeEvent(None)

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
