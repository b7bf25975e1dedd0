"""The depth profile: ||dL/dx|| against block position on a log scale, with a ghost.

``show_profile`` draws the current profile ("now"); ``set_ghost`` draws a grey dashed
"before" line (the panel decides which earlier profile may stand there: only one of
the same network). ``clear(message)`` empties both at once and writes the message
across the plot, e.g. while a different network is being measured. The title names
the network. Dotted vertical lines mark where a new stage starts. Presenter mode
scales the texts, the lines and the markers.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QFontMetricsF, QPen
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ..plot_style import PlotScaler
from ..presenter import follow_presenter
from ..theme import COLOUR, Theme, point_font

NO_GHOST = "before: none yet"


def format_power(v: float) -> str:
    """A log10 value as the number a student reads: -2 -> 0.01, 3 -> 1000, 7 -> 1e7."""
    x = 10.0 ** v
    if x >= 1e4 or x < 1e-3:
        mant, exp = f"{x:.1e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        return f"1e{int(exp)}" if mant == "1" else f"{mant}e{int(exp)}"
    return f"{x:.4g}"  # 4 digits: 1000 stays "1000", not "1e+03"


class LogNormAxis(pg.AxisItem):
    """Left axis for log10 data: ticks at decades (and 2x, 5x when fewer than three decades show)."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802,N803 - pyqtgraph's names
        if not (np.isfinite(minVal) and np.isfinite(maxVal)) or maxVal <= minVal:
            return []
        lo, hi = int(np.floor(minVal)), int(np.ceil(maxVal))
        font = self.style["tickFont"]
        pitch = max(40.0, 2.5 * QFontMetricsF(font).height()) if font is not None else 40.0
        step = max(1, int(np.ceil((maxVal - minVal) / max(2, size // pitch))))  # a label per 40+ pixels
        decades = [float(d) for d in range(lo, hi + 1) if minVal <= d <= maxVal and d % step == 0]
        if len(decades) >= 3:
            return [(step, decades)]
        # less than three decades in view: label 2x and 5x too, all on one level
        # (pyqtgraph may drop a second level's labels)
        minor = [d + np.log10(m) for d in range(lo - 1, hi + 1) for m in (2, 5)]
        return [(0.3, sorted(decades + [float(v) for v in minor if minVal <= v <= maxVal]))]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        return [format_power(v) for v in values]


def _pen(colour: str, width: float, style=Qt.PenStyle.SolidLine) -> QPen:
    pen = pg.mkPen(QColor(colour), width=width)
    pen.setStyle(style)
    pen.setCosmetic(True)
    return pen


class DepthProfile(QWidget):
    """``show_profile(norms, labels, caption)``; ``current`` and ``ghost`` hold the plotted arrays."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.current: np.ndarray | None = None
        self.ghost: np.ndarray | None = None
        self.ghost_caption = ""
        self._caption = ""
        self._labels: list[str] = []
        self.widget = pg.PlotWidget(background=COLOUR.plot_background, axisItems={"left": LogNormAxis("left")})
        plot = self.plot = self.widget.getPlotItem()
        self.scaler = PlotScaler()
        self._set_title = self.scaler.title(plot, "Gradient reaching each block, at the current weights", 12.0,
                                            short="Gradient reaching each block")
        self.network = ""  # the network whose numbers are shown (named in the title)
        self.message = pg.TextItem("", color=COLOUR.plot_message, anchor=(0.5, 0.5))
        self.message.setZValue(10)
        self.plot.vb.addItem(self.message, ignoreBounds=True)
        self.message_text = ""
        # the bottom axis numbers blocks: pyqtgraph's spacing, thinned when the text grows
        self.scaler.axis(plot.getAxis("bottom"), "block, in depth order (1 = nearest the input)", 11.0, 10.0,
                         short=("block (1 = nearest the input)", "block"))
        self.scaler.axis(plot.getAxis("left"), "||dL/dx|| (log scale)", 11.0, 10.0, density=False,
                         short=("||dL/dx||", "grad"))
        for name in ("left", "bottom"):
            plot.getAxis(name).enableAutoSIPrefix(False)
        plot.showGrid(x=False, y=True, alpha=0.2)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        # The legend sits in a row under the plot: inside, with larger text, it covered the curve.
        self.legend = pg.LegendItem(labelTextColor=COLOUR.plot_text, frame=False, colCount=2, horSpacing=12)
        plot.layout.addItem(self.legend, 4, 1)
        plot.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignLeft)
        plot.legend = self.legend  # named items join it, as with PlotItem.addLegend
        self.legend.setMinimumWidth(0)  # a long caption must not widen the plot past its cell
        self.scaler.legend(self.legend, 11.0)
        plot.vb.geometryChanged.connect(self._fit_legend)
        self.ghost_item = pg.PlotDataItem(name=NO_GHOST)
        self.now_item = pg.PlotDataItem(symbol="o", symbolBrush=COLOUR.gradient_now, symbolPen=None, name="now")
        plot.addItem(self.ghost_item)
        plot.addItem(self.now_item)
        self._stage_lines: list[pg.InfiniteLine] = []
        self.theme = Theme()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget)
        follow_presenter(self.set_presenter)

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        """Larger texts, thicker lines and markers for a projector; back to normal when off."""
        self.theme = theme = Theme(presenter=on)
        self.scaler.apply(theme.scale)
        self.ghost_item.setPen(_pen(COLOUR.gradient_before, theme.line(2), Qt.PenStyle.DashLine))
        self.now_item.setPen(_pen(COLOUR.gradient_now, theme.line(3)))
        self.now_item.setSymbolSize(6 * theme.scale)
        for line in self._stage_lines:
            self._style_stage_line(line)
        if self.message_text:
            self.set_message(self.message_text)
        self._fit_legend()

    def _fit_legend(self) -> None:
        """"before" and "now" side by side when there is room, else one above the other."""
        if not (shiboken6.isValid(self.legend) and shiboken6.isValid(self.plot.vb)):
            return  # the view box reports a last geometry change while the plot is deleted
        items = self.legend.items
        natural = [self._natural_width(label) for _, label in items]
        samples = [sample.boundingRect().width() for sample, _ in items]
        width = self.plot.vb.width()
        needed = sum(natural) + sum(samples) + 12 * 2 * len(items)
        columns = 2 if needed <= width else 1
        changed = columns != self.legend.columnCount
        for (sample, label), full, sample_w in zip(items, natural, samples):
            room = width - sample_w - 12
            # one column and a caption longer than the plot: it wraps onto a second line, never cut
            target = room if columns == 1 and full > room > 0 else -1.0
            if label.item.textWidth() != target:
                label.item.setTextWidth(target)
                label.updateMin()
                changed = True
        if changed:
            self.legend.setColumnCount(columns)
            self.legend.updateSize()
            self.legend.updateGeometry()  # the plot's layout places it again (pyqtgraph moved it to 0, 0)

    @staticmethod
    def _natural_width(label) -> float:
        """The caption's width on one line, whatever width it is wrapped to now."""
        doc = label.item.document().clone()
        doc.setTextWidth(-1)
        return doc.idealWidth()

    def _style_stage_line(self, line: pg.InfiniteLine) -> None:
        line.setPen(_pen(COLOUR.stage_boundary, self.theme.line(1), Qt.PenStyle.DotLine))
        line.label.setFont(point_font(9.0 * self.theme.scale))

    def set_network(self, name: str) -> None:
        """Name the network in the title: "Gradient reaching each block of resnet20, at ..."."""
        self.network = name
        self._set_title(f"Gradient reaching each block of {name}, at the current weights" if name else
                        "Gradient reaching each block, at the current weights",
                        f"Gradient, {name}" if name else "Gradient reaching each block")

    def show_profile(self, norms, labels: list[str], caption: str) -> None:
        """Plot ``norms`` as the current profile ("now: caption"); the ghost stays as it is."""
        norms = np.asarray(norms, dtype=np.float64)
        self.set_message("")
        self._show_axis_values(True)
        self.current = norms
        self._caption = caption
        self.now_item.setData(np.arange(1, len(norms) + 1), np.log10(_plottable(norms)))
        self._rename(self.now_item, f"now: {caption}")
        self._mark_stages(labels)
        self._fit()

    def set_ghost(self, norms, caption: str, fit: bool = True) -> None:
        """The dashed "before: caption" line (None clears it); ``fit=False`` leaves the ranges to
        the ``show_profile`` that follows."""
        if norms is None:
            self.clear_ghost()
            return
        self.ghost = np.asarray(norms, dtype=np.float64)
        self.ghost_caption = caption
        self.ghost_item.setData(np.arange(1, len(self.ghost) + 1), np.log10(_plottable(self.ghost)))
        self._rename(self.ghost_item, f"before: {caption}")
        if fit:
            self._fit()

    def clear(self, message: str = "") -> None:
        """Remove both lines at once and show ``message`` in their place."""
        self.clear_ghost()
        self.current = None
        self._caption = ""
        self.now_item.setData([], [])
        self._rename(self.now_item, "now")
        self._mark_stages([])
        self._show_axis_values(False)  # no numbers on the axes while nothing is plotted
        self.set_message(message)

    def _show_axis_values(self, on: bool) -> None:
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            if axis.style["showValues"] != on:
                axis.setStyle(showValues=on)

    def set_message(self, text: str) -> None:
        """Words drawn across the middle of the plot (empty: none)."""
        if not text and not self.message_text:
            return  # none shown and none to show
        self.message_text = text
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if text:
            self.message.setFont(point_font(12.0 * self.theme.scale))
            if self.current is None:
                self.plot.setXRange(0, 1, padding=0)
                self.plot.setYRange(0, 1, padding=0)
            (x0, x1), (y0, y1) = self.plot.vb.viewRange()
            self.message.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def _fit(self) -> None:
        """Show both lines, at least one decade tall, so a flat profile does not look steep."""
        shown = [np.log10(_plottable(a)) for a in (self.current, self.ghost) if a is not None and len(a)]
        values = np.concatenate(shown) if shown else np.array([])
        values = values[np.isfinite(values)]
        if not len(values):
            return
        lo, hi = float(values.min()), float(values.max())
        if hi - lo < 1.0:
            mid = (hi + lo) / 2
            lo, hi = mid - 0.5, mid + 0.5
        n = max(len(a) for a in (self.current, self.ghost) if a is not None)
        set_ranges(self.plot.vb, (0.5, n + 0.5), 0.02, (lo, hi), 0.08)

    def clear_ghost(self) -> None:
        self.ghost = None
        self.ghost_caption = ""
        self.ghost_item.setData([], [])
        self._rename(self.ghost_item, NO_GHOST)

    def _rename(self, item, text: str) -> None:
        label = self.legend.getLabel(item)
        if label is not None and label.text != text:
            label.setText(text)
            self._fit_legend()

    def _mark_stages(self, labels: list[str]) -> None:
        if labels == self._labels:
            return
        self._labels = list(labels)
        for line in self._stage_lines:
            self.plot.removeItem(line)
        self._stage_lines = []
        for i, label in enumerate(labels):
            if i > 0 and label.endswith(", block 1"):
                line = pg.InfiniteLine(pos=i + 0.5, angle=90, label=label.split(",")[0],
                                       labelOpts={"position": 0.95, "color": COLOUR.stage_boundary_label})
                self._style_stage_line(line)
                self.plot.addItem(line, ignoreBounds=True)
                self._stage_lines.append(line)


def set_ranges(vb, x: tuple[float, float], x_padding: float, y: tuple[float, float], y_padding: float) -> None:
    """``setXRange`` and ``setYRange`` with these paddings in one step, and none when the view already
    shows exactly that: each range set makes every item and axis of the plot update again."""
    ranges = []
    for (lo, hi), padding in ((x, x_padding), (y, y_padding)):
        lo, hi = min(lo, hi), max(lo, hi)
        p = (hi - lo) * padding  # as ViewBox.setRange pads
        ranges.append([lo - p, hi + p])
    if vb.viewRange() != ranges or vb.state["autoRange"] != [False, False]:
        vb.setRange(xRange=ranges[0], yRange=ranges[1], padding=0)


def _plottable(norms: np.ndarray) -> np.ndarray:
    """Zeros cannot sit on a log axis: show them at the smallest positive value / 10, NaN as gaps."""
    out = norms.copy()
    positive = out[np.isfinite(out) & (out > 0)]
    floor = positive.min() / 10 if len(positive) else 1e-12
    out[(out <= 0) & np.isfinite(out)] = floor
    out[~np.isfinite(out)] = np.nan
    return out
