"""One plot for all arms of an experiment: training error per epoch, or training loss per step.

Plain nets are drawn in orange tones, ResNets in blue tones; the shallowest net of a
kind is dashed and lighter, the deepest solid and strong, so the four curves are told
apart by hue and by line style (and by the legend). The x axis runs over the whole
planned length from the start, so the curves visibly grow towards the right.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QWidget

from ...experiments.arms import Arm
from ..plot_style import PlotScaler, percent_axis_until_data
from ..presenter import follow_presenter
from ..theme import COLOUR, Theme, point_font
from ..training.plots import EpochAxis

PLAIN_TONES = (COLOUR.arm_plain_light, COLOUR.arm_plain, COLOUR.arm_plain_strong)  # orange
RESNET_TONES = (COLOUR.arm_resnet_light, COLOUR.arm_resnet, COLOUR.arm_resnet_strong)  # blue
PREACT_TONES = (COLOUR.arm_preact_light, COLOUR.arm_preact, COLOUR.arm_preact_strong)  # green
VIEWS = {"error": ("Training error per epoch", "training error (%)"),
         "loss": ("Training loss (smoothed)", "training loss"),
         "accuracy": ("Test accuracy per epoch", "test accuracy (%)")}
EPOCH_VIEWS = ("error", "accuracy")  # one point per epoch, drawn with markers
EMA = 0.8  # smoothing of the per-step loss


def arm_colour(arm: Arm, rank: int, count: int) -> str:
    tones = PREACT_TONES if arm.kind == "preact" else RESNET_TONES if arm.residual else PLAIN_TONES
    if count <= 1:
        return tones[1]
    return tones[0] if rank == 0 else tones[2] if rank == count - 1 else tones[1]


def arm_style(rank: int, count: int) -> Qt.PenStyle:
    return Qt.PenStyle.DashLine if rank == 0 and count > 1 else Qt.PenStyle.SolidLine


class _ArmData:
    def __init__(self):
        self.epochs: list[float] = []
        self.errors: list[float] = []
        self.accuracy: list[float] = []  # test accuracy (%), one per epoch
        self.loss_x: list[float] = []
        self.loss: list[float] = []
        self._ema: float | None = None

    def add_losses(self, x: np.ndarray, losses: np.ndarray) -> None:
        for xi, v in zip(x, losses):
            self._ema = float(v) if self._ema is None else EMA * self._ema + (1 - EMA) * float(v)
            self.loss_x.append(float(xi))
            self.loss.append(self._ema)


class ArmCurves(pg.PlotWidget):
    """``set_arms`` once per run, then ``add_epoch`` / ``add_steps`` as the events arrive."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, background=COLOUR.plot_background, axisItems={"bottom": EpochAxis("bottom")})
        self.plot = self.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.getViewBox().setDefaultPadding(0.03)
        # No legend inside the plot: the curves start high on the left and fall, so any corner
        # hides some of them. The page names the arms under the plot (``legend_html``).
        self.scaler = PlotScaler()
        self._set_title = self.scaler.title(self.plot, VIEWS["error"][0], 13.0)
        for name in ("bottom", "left"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(COLOUR.plot_axis))
            axis.setStyle(maxTickLevel=0)  # major ticks only
        self.scaler.axis(self.plot.getAxis("bottom"), "epoch", label_points=11.0, tick_points=10.0)
        self._left_shown: tuple[str, float] | None = None  # the left axis's words and size now
        self.plot.getAxis("left").geometryChanged.connect(self._set_left_label)
        self.scaler.axis(self.plot.getAxis("left"), None, label_points=11.0, tick_points=10.0)
        self.theme = Theme()
        self.view = "error"
        self.arms: list[Arm] = []
        self._data: list[_ArmData] = []
        self._items: list[pg.PlotDataItem] = []
        self._epochs = 1
        self._steps_per_epoch = 1.0
        self._set_left_label()
        percent_axis_until_data(self.plot)
        follow_presenter(self.set_presenter)

    def _set_left_label(self) -> None:
        """The view's axis words; on an axis too short for them, without "training"/"test" (the title
        says which)."""
        size = 11.0 * self.theme.scale
        axis = self.plot.getAxis("left")
        text = VIEWS[self.view][1]
        if axis.height() > 0 and QFontMetricsF(point_font(size)).horizontalAdvance(text) + 8 > axis.height():
            text = text.split(" ", 1)[1] if " " in text else text
        if (text, size) == self._left_shown:
            return
        self._left_shown = (text, size)
        axis.setLabel(text, color=COLOUR.plot_label, **{"font-size": f"{size:.1f}pt"})
        axis.resizeEvent(None)  # centred again on the axis (pyqtgraph does so only on a resize)

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        self.theme = Theme(presenter=on)
        self.scaler.apply(self.theme.scale)
        self._set_left_label()
        self._restyle()

    # -- a run ------------------------------------------------------------------------
    def set_arms(self, arms: list[Arm], epochs: int) -> None:
        """Start afresh for a run of ``arms`` over ``epochs`` epochs."""
        for item in self._items:
            self.plot.removeItem(item)
        self.arms = list(arms)
        self._epochs = max(1, epochs)
        self._steps_per_epoch = 1.0
        self._data = [_ArmData() for _ in self.arms]
        self._items = []
        for arm in self.arms:
            item = pg.PlotDataItem(name=arm.label)
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            self.plot.addItem(item)
            self._items.append(item)
        self._restyle()
        self.plot.setXRange(0, self._epochs, padding=0.02)
        self._redraw_all()
        if self.view in EPOCH_VIEWS:
            self.plot.setYRange(0, 100, padding=0.02)  # until the first epoch ends

    def _restyle(self) -> None:
        for i, (arm, item) in enumerate(zip(self.arms, self._items)):
            same = sorted(a.depth for a in self.arms if a.kind == arm.kind)
            rank, count = same.index(arm.depth), len(same)
            colour = QColor(arm_colour(arm, rank, count))
            width = self.theme.line(2.2 if rank == count - 1 else 1.8)
            pen = pg.mkPen(colour, width=width, style=arm_style(rank, count))
            pen.setCosmetic(True)
            item.setPen(pen)
            if self.view in EPOCH_VIEWS:
                item.setSymbol("o")
                item.setSymbolSize(7 * self.theme.scale)
                item.setSymbolBrush(pg.mkBrush(colour))
                item.setSymbolPen(None)
            else:
                item.setSymbol(None)

    def set_view(self, view: str) -> None:
        """``error`` (per epoch, the experiment's measure), ``loss`` (per step, smoothed) or ``accuracy``
        (test accuracy per epoch)."""
        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}")
        self.view = view
        self._set_title(VIEWS[view][0])
        self._set_left_label()
        self._restyle()
        self._redraw_all()

    def add_epoch(self, arm: int, epoch: int, train_error: float, test_error: float = float("nan")) -> None:
        data = self._data[arm]
        data.epochs.append(float(epoch))
        data.errors.append(100.0 * train_error)
        data.accuracy.append(100.0 * (1.0 - test_error))
        if self.view in EPOCH_VIEWS:
            self._redraw(arm)

    def add_steps(self, arm: int, steps: np.ndarray, losses: np.ndarray, total_steps: int) -> None:
        self._steps_per_epoch = max(1.0, total_steps / self._epochs)
        self._data[arm].add_losses(np.asarray(steps, dtype=np.float64) / self._steps_per_epoch, losses)
        if self.view == "loss":
            self._redraw(arm)

    def _redraw(self, arm: int) -> None:
        data, item = self._data[arm], self._items[arm]
        if self.view == "error":
            item.setData(np.asarray(data.epochs), np.asarray(data.errors))
        elif self.view == "accuracy":
            item.setData(np.asarray(data.epochs), np.asarray(data.accuracy))
        else:
            item.setData(np.asarray(data.loss_x), np.asarray(data.loss))

    def _redraw_all(self) -> None:
        for i in range(len(self._items)):
            self._redraw(i)
        self.plot.enableAutoRange(axis="y")

    def legend_html(self, values: dict[int, str] | None = None) -> str:
        """Each arm's line sample, name and (optionally) latest value, as rich text in its colour."""
        values = values or {}
        parts = []
        for i, arm in enumerate(self.arms):
            same = sorted(a.depth for a in self.arms if a.kind == arm.kind)
            rank, count = same.index(arm.depth), len(same)
            sample = "╌╌╌" if arm_style(rank, count) == Qt.PenStyle.DashLine else "━━━"
            value = f"&nbsp;<b>{values[i]}</b>" if i in values else ""
            parts.append(f"<span style='color:{arm_colour(arm, rank, count)}'>{sample}</span>"
                         f"&nbsp;{arm.label}{value}")
        return "&nbsp;&nbsp;&nbsp;&nbsp; ".join(parts)

    def values(self, arm: int) -> tuple[np.ndarray, np.ndarray]:
        """What the plot shows for ``arm`` now (x, y)."""
        x, y = self._items[arm].getData()
        return (np.asarray(x if x is not None else []), np.asarray(y if y is not None else []))
