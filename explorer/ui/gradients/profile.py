"""The depth profile: ||dL/dx|| against block position on a log scale, with a ghost.

Each new profile pushes the one shown before it into a grey dashed "before" line, so
switching every skip off (or any edit) shows before and after on the same axes.
Dotted vertical lines mark where a new stage starts.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QVBoxLayout, QWidget

NOW_COLOUR = "#1f5fa8"
GHOST_COLOUR = "#8a8a8a"


def format_power(v: float) -> str:
    """A log10 value as the number a student reads: -2 -> 0.01, 3 -> 1000, 7 -> 1e7."""
    x = 10.0 ** v
    if x >= 1e4 or x < 1e-3:
        mant, exp = f"{x:.1e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        return f"1e{int(exp)}" if mant == "1" else f"{mant}e{int(exp)}"
    return f"{x:.3g}"


class LogNormAxis(pg.AxisItem):
    """Left axis for log10 data: ticks at decades (and 2x, 5x when fewer than three decades show)."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802,N803 - pyqtgraph's names
        if not (np.isfinite(minVal) and np.isfinite(maxVal)) or maxVal <= minVal:
            return []
        lo, hi = int(np.floor(minVal)), int(np.ceil(maxVal))
        step = max(1, int(np.ceil((maxVal - minVal) / max(2, size // 40))))  # a label per 40 pixels
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
        self._labels: list[str] = []
        self.widget = pg.PlotWidget(background="w", axisItems={"left": LogNormAxis("left")})
        plot = self.plot = self.widget.getPlotItem()
        plot.setTitle("Gradient reaching each block, at the current weights", size="12pt", color="#222222")
        plot.setLabel("bottom", "block, in depth order (1 = nearest the input)", color="#333333",
                      **{"font-size": "11pt"})
        plot.setLabel("left", "||dL/dx|| (log scale)", color="#333333", **{"font-size": "11pt"})
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.showGrid(x=False, y=True, alpha=0.2)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        font = QFont()
        font.setPointSize(10)
        for name in ("left", "bottom"):
            plot.getAxis(name).setTickFont(font)
            plot.getAxis(name).setTextPen("#333333")
        self.legend = plot.addLegend(offset=(-6, 4), labelTextSize="11pt", labelTextColor="#222222",
                                     brush=pg.mkBrush(255, 255, 255, 170))
        self.ghost_item = pg.PlotDataItem(pen=_pen(GHOST_COLOUR, 2, Qt.PenStyle.DashLine), name="before")
        self.now_item = pg.PlotDataItem(pen=_pen(NOW_COLOUR, 3), symbol="o", symbolSize=6,
                                        symbolBrush=NOW_COLOUR, symbolPen=None, name="now")
        plot.addItem(self.ghost_item)
        plot.addItem(self.now_item)
        self._stage_lines: list[pg.InfiniteLine] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget)

    def show_profile(self, norms, labels: list[str], caption: str) -> None:
        """Plot ``norms`` as the current profile; the previous one becomes the ghost."""
        norms = np.asarray(norms, dtype=np.float64)
        if self.current is not None:
            self.ghost = self.current
            self.ghost_item.setData(np.arange(1, len(self.ghost) + 1), np.log10(_plottable(self.ghost)))
            self._rename(self.ghost_item, f"before: {self._caption}")
        self.current = norms
        self._caption = caption
        self.now_item.setData(np.arange(1, len(norms) + 1), np.log10(_plottable(norms)))
        self._rename(self.now_item, f"now: {caption}")
        self._mark_stages(labels)
        self._fit()

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
        self.plot.setYRange(lo, hi, padding=0.08)
        n = max(len(a) for a in (self.current, self.ghost) if a is not None)
        self.plot.setXRange(0.5, n + 0.5, padding=0.02)

    def clear_ghost(self) -> None:
        self.ghost = None
        self.ghost_item.setData([], [])
        self._rename(self.ghost_item, "before")

    def _rename(self, item, text: str) -> None:
        label = self.legend.getLabel(item)
        if label is not None:
            label.setText(text)

    def _mark_stages(self, labels: list[str]) -> None:
        if labels == self._labels:
            return
        self._labels = list(labels)
        for line in self._stage_lines:
            self.plot.removeItem(line)
        self._stage_lines = []
        for i, label in enumerate(labels):
            if i > 0 and label.endswith(", block 1"):
                line = pg.InfiniteLine(pos=i + 0.5, angle=90, pen=_pen("#b0b0b0", 1, Qt.PenStyle.DotLine),
                                       label=label.split(",")[0], labelOpts={"position": 0.95, "color": "#666666"})
                self.plot.addItem(line, ignoreBounds=True)
                self._stage_lines.append(line)


def _plottable(norms: np.ndarray) -> np.ndarray:
    """Zeros cannot sit on a log axis: show them at the smallest positive value / 10, NaN as gaps."""
    out = norms.copy()
    positive = out[np.isfinite(out) & (out > 0)]
    floor = positive.min() / 10 if len(positive) else 1e-12
    out[(out <= 0) & np.isfinite(out)] = floor
    out[~np.isfinite(out)] = np.nan
    return out
