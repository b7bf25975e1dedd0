"""The live training plots: loss per step, error per epoch, learning rate per step.

One ``PlotDataItem`` per metric and run, with clip-to-view and automatic downsampling
switched on before any data arrives, fed from the run store's ndarray buffers. Runs are
overlaid by adding their items to the plots and hidden by removing them (the legend
follows the plot's items). Presenter mode scales every text, tick and line of the plots
(``presenter.follow_presenter``), including plots made while it is already on.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..plot_style import PlotScaler
from ..presenter import follow_presenter
from ..theme import COLOUR, TICK_POINTS, Theme
from .runs import RunEntry


def _pen(colour: str, width: float = 1.0, alpha: int = 255, style=Qt.PenStyle.SolidLine) -> QPen:
    qcolour = QColor(colour)
    qcolour.setAlpha(alpha)
    pen = pg.mkPen(qcolour, width=width)
    pen.setStyle(style)
    pen.setCosmetic(True)
    return pen


def _legend_brush():
    """A legend's background: the plot shows through a little."""
    fill = QColor(COLOUR.legend_fill)
    fill.setAlpha(210)
    return pg.mkBrush(fill)


def _curve(name: str | None = None, **style) -> pg.PlotDataItem:
    item = pg.PlotDataItem(name=name, **style)
    item.setClipToView(True)
    item.setDownsampling(auto=True, method="peak")
    return item


# short words: the samples beside them show the line and marker (a narrow plot clips long ones)
ERROR_LEGEND = {"test": "test", "train": "train"}
ERROR_KEY = "Error: ● test, ▼ train (dashed)"
TITLES = ("Training loss per step (faint: raw, bold: smoothed)",
          "Error per epoch (solid: test, dashed: train)", "Learning rate")
SHORT_TITLES = ("Loss (faint: raw)", "Error (dashed: train)", "Learning rate")
TINY_TITLES = ("Loss", "Error", "LR")  # when even a short title does not fit


class EpochAxis(pg.AxisItem):
    """An axis that labels whole epochs only (no "1.5" between epoch 1 and 2)."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802,N803 - pyqtgraph's names
        levels = []
        for spacing, values in super().tickValues(minVal, maxVal, size):
            if spacing < 1:
                spacing = 1.0
                values = np.arange(np.ceil(minVal), np.floor(maxVal) + 1)
            whole = [v for v in values if float(v).is_integer()]
            if whole:
                levels.append((spacing, whole))
        return levels[:1] if levels and levels[0][0] == 1.0 else levels

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        return [str(int(round(v * scale))) for v in values]


@dataclass
class RunCurves:
    colour: str
    loss_raw: pg.PlotDataItem
    loss_ema: pg.PlotDataItem
    train_error: pg.PlotDataItem
    test_error: pg.PlotDataItem
    lr: pg.PlotDataItem

    def restyle(self, theme: Theme) -> None:
        """Pens and markers at this theme's line width (thicker on a projector)."""
        c, line = self.colour, theme.line
        self.loss_raw.setPen(_pen(c, line(1.0), alpha=70))
        self.loss_ema.setPen(_pen(c, line(2.0)))
        self.train_error.setPen(_pen(c, line(1.5), style=Qt.PenStyle.DashLine))
        self.test_error.setPen(_pen(c, line(1.5)))
        self.lr.setPen(_pen(c, line(1.0)))
        for item in (self.train_error, self.test_error):
            item.setSymbolSize(6 * theme.scale)


TITLE_POINTS = 10.0


class TrainingPlots(QWidget):
    """Three stacked plots sharing the runs' colours; ``refresh(entry)`` redraws one run."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        pg.setConfigOptions(antialias=False)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(COLOUR.plot_background)
        self.view.ci.setSpacing(10)
        self.log_scale = QCheckBox("log scale for loss and learning rate")
        self.log_scale.setToolTip("Spread out small values (a loss near zero, a decayed learning rate) "
                                  "and keep a diverging run from flattening the others")
        self.log_scale.toggled.connect(self.set_log_scale)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.view, 1)
        # in one row the plots are too small for a legend inside: the error plot's key goes here
        self.error_key = QLabel(ERROR_KEY)
        self.error_key.setWordWrap(True)
        self.error_key.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.error_key, 1)
        bottom.addWidget(self.log_scale, 0, Qt.AlignmentFlag.AlignRight)
        layout.addLayout(bottom)

        self.scaler = PlotScaler()
        self.theme = Theme()
        self.loss_plot = self.view.addPlot(row=0, col=0, colspan=2)
        self.loss_legend = self.loss_plot.addLegend(
            offset=(-10, 10), labelTextColor=COLOUR.plot_text, brush=_legend_brush())
        self.scaler.legend(self.loss_legend, 9.0)
        self.error_plot = self.view.addPlot(row=1, col=0, axisItems={"bottom": EpochAxis("bottom")})
        self.error_plot.getViewBox().setDefaultPadding(0.06)  # end points are not cut in half
        # Which line is which, in grey (the colour names the run): top right, where falling
        # error curves leave room (they start high on the left and end low on the right).
        self.error_legend = self.error_plot.addLegend(
            offset=(-6, 6), labelTextColor=COLOUR.plot_text, brush=_legend_brush())
        self._legend_samples = {
            "test": _curve(symbol="o", symbolPen=None, symbolBrush=pg.mkBrush(COLOUR.legend_sample)),
            "train": _curve(symbol="t", symbolPen=None, symbolBrush=pg.mkBrush(COLOUR.legend_sample)),
        }
        self.error_legend.addItem(self._legend_samples["test"], ERROR_LEGEND["test"])
        self.error_legend.addItem(self._legend_samples["train"], ERROR_LEGEND["train"])
        self.scaler.legend(self.error_legend, 8.5)
        # 0 to 100 % until the first epoch ends (not 0 to 1), then it fits the data
        self.error_plot.getViewBox().setRange(yRange=(0, 100), disableAutoRange=False)
        self.lr_plot = self.view.addPlot(row=1, col=1)
        self._set_titles = [
            self._style(plot, title, short, x, y) for plot, title, short, x, y in
            ((self.loss_plot, TITLES[0], SHORT_TITLES[0], "step", "loss"),
             (self.error_plot, TITLES[1], SHORT_TITLES[1], "epoch", "error (%)"),
             (self.lr_plot, TITLES[2], SHORT_TITLES[2], "step", "lr"))]
        for plot in (self.loss_plot, self.lr_plot):
            plot.getAxis("left").enableAutoSIPrefix(False)  # 0.05, not "50 (x0.001)"
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 2)
        self._curves: dict[int, RunCurves] = {}
        self._shown: set[int] = set()
        follow_presenter(self.set_presenter)

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        """Larger titles, labels, ticks and legend and thicker curves for a projector."""
        self.theme = Theme(presenter=on)
        self.scaler.apply(self.theme.scale)
        line = self.theme.line
        self._legend_samples["test"].setPen(_pen(COLOUR.legend_sample, line(1.5)))
        self._legend_samples["train"].setPen(_pen(COLOUR.legend_sample, line(1.5), style=Qt.PenStyle.DashLine))
        for item in self._legend_samples.values():
            item.setSymbolSize(6 * self.theme.scale)
        for curves in self._curves.values():
            curves.restyle(self.theme)

    def set_one_row(self, one_row: bool) -> None:
        """Loss, error and learning rate side by side (short panels) or loss above the others."""
        layout = self.view.ci
        for plot in (self.loss_plot, self.error_plot, self.lr_plot):
            layout.removeItem(plot)
        # in one row every title must fit a third of the width: say less
        titles = SHORT_TITLES if one_row else TITLES
        shorts = TINY_TITLES if one_row else SHORT_TITLES
        for set_title, title, short in zip(self._set_titles, titles, shorts):
            set_title(title, short)
        if one_row:
            layout.addItem(self.loss_plot, row=0, col=0)
            layout.addItem(self.error_plot, row=0, col=1)
            layout.addItem(self.lr_plot, row=0, col=2)
            stretches = {"col": (1, 1, 1), "row": (1, 0)}  # each wide enough to read on a 1280 px screen
        else:
            layout.addItem(self.loss_plot, row=0, col=0, colspan=2)
            layout.addItem(self.error_plot, row=1, col=0)
            layout.addItem(self.lr_plot, row=1, col=1)
            stretches = {"col": (1, 1, 0), "row": (3, 2)}
        # one row is short and narrow: the run list's colour swatches name the runs instead
        self.loss_legend.setVisible(not one_row)
        # ...and the error plot's key sits under the plots, where it covers no point
        self.error_legend.setVisible(not one_row)
        self.error_key.setVisible(one_row)
        grid = layout.layout
        for i, factor in enumerate(stretches["col"]):
            grid.setColumnStretchFactor(i, factor)
        for i, factor in enumerate(stretches["row"]):
            grid.setRowStretchFactor(i, factor)

    @Slot(bool)
    def set_log_scale(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self.lr_plot.setLogMode(y=on)

    def _style(self, plot: pg.PlotItem, title: str, short: str, x: str, y: str):
        """Title, axes and grid of one plot; returns the title's setter (keeps its size)."""
        plot.showGrid(x=True, y=True, alpha=0.2)
        for name, label in (("bottom", x), ("left", y)):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(COLOUR.plot_axis))
            # major ticks only: the minor grid lines doubled the time a repaint takes
            axis.setStyle(maxTickLevel=0)
            self.scaler.axis(axis, label, label_points=10.0, tick_points=TICK_POINTS)
        plot.setMenuEnabled(True)
        return self.scaler.title(plot, title, TITLE_POINTS, short)

    # -- runs -----------------------------------------------------------------------
    def _make(self, entry: RunEntry) -> RunCurves:
        c = entry.colour
        symbol = dict(symbolPen=None, symbolBrush=pg.mkBrush(c))
        curves = RunCurves(
            colour=c,
            loss_raw=_curve(),
            loss_ema=_curve(entry.label),
            train_error=_curve(symbol="t", **symbol),
            test_error=_curve(symbol="o", **symbol),
            lr=_curve(),
        )
        curves.restyle(self.theme)
        self._curves[entry.number] = curves
        return curves

    def curves(self, entry: RunEntry) -> RunCurves:
        return self._curves.get(entry.number) or self._make(entry)

    def is_shown(self, entry: RunEntry) -> bool:
        return entry.number in self._shown

    def show_run(self, entry: RunEntry) -> None:
        if entry.number in self._shown:
            return
        c = self.curves(entry)
        self.loss_plot.addItem(c.loss_raw)
        self.loss_plot.addItem(c.loss_ema)
        self.error_plot.addItem(c.train_error)
        self.error_plot.addItem(c.test_error)
        self.lr_plot.addItem(c.lr)
        self._shown.add(entry.number)
        self.refresh(entry)

    def hide_run(self, entry: RunEntry) -> None:
        if entry.number not in self._shown:
            return
        c = self._curves[entry.number]
        self.loss_plot.removeItem(c.loss_raw)
        self.loss_plot.removeItem(c.loss_ema)
        self.error_plot.removeItem(c.train_error)
        self.error_plot.removeItem(c.test_error)
        self.lr_plot.removeItem(c.lr)
        self._shown.discard(entry.number)

    def forget(self, entry: RunEntry) -> None:
        self.hide_run(entry)
        self._curves.pop(entry.number, None)

    def refresh(self, entry: RunEntry) -> None:
        """Push the run's current buffers to its items (cheap: views, no copies)."""
        if entry.number not in self._shown:
            return
        c = self._curves[entry.number]
        steps = entry.steps.view
        c.loss_raw.setData(steps, entry.loss.view)
        c.loss_ema.setData(steps, entry.loss_ema.view)
        c.lr.setData(steps, entry.lr.view)
        if entry.epochs:
            cols = entry.epoch_arrays()
            c.train_error.setData(cols["epoch"], 100.0 * cols["train_error"])
            c.test_error.setData(cols["epoch"], 100.0 * cols["test_error"])
        else:
            c.train_error.setData(np.empty(0), np.empty(0))
            c.test_error.setData(np.empty(0), np.empty(0))

    def legend_labels(self) -> list[str]:
        """The run names in the loss plot's legend, top to bottom."""
        return [label.text for _, label in self.loss_legend.items]
