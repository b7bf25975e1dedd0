"""The loss-landscape plots: one heatmap per network with a shared colour scale, and the 1D slice.

Each heatmap shows log10 of the training loss over the grid (direction 1 across,
direction 2 up), the trained weights at the centre (a cross), and a white contour where
the loss is twice its value at the centre: the basin the words talk about. Both
heatmaps use the same colour levels, so the same colour means the same loss in both.
Until the fine grid is complete, its missing points are filled in from the coarse grid
(``analysis.landscape.preview``), so the picture sharpens as the points arrive.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QWidget

from ...analysis.landscape import GridPlan, preview
from ..plot_style import PlotScaler, decades_until_data, plain_ticks_for_data
from ..presenter import follow_presenter
from ..theme import COLOUR, Theme

COLOUR_MAP = "viridis"


def net_colour(kind: str) -> str:
    return {"plain": COLOUR.arm_plain, "preact": COLOUR.arm_preact}.get(kind, COLOUR.arm_resnet)


def shared_levels(grids: list[np.ndarray | None]) -> tuple[float, float] | None:
    """The log10 range covering every finite value of every grid (None when there is none)."""
    logs = [np.log10(np.clip(g[np.isfinite(g)], 1e-12, None)) for g in grids if g is not None]
    logs = [x for x in logs if x.size]
    if not logs:
        return None
    lo = min(float(x.min()) for x in logs)
    hi = max(float(x.max()) for x in logs)
    return (lo, hi if hi > lo else lo + 1e-6)


def _style_axes(plot, scaler: PlotScaler, bottom: str, left: str | None) -> None:
    for name, label in (("bottom", bottom), ("left", left)):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(COLOUR.plot_axis))
        axis.setStyle(maxTickLevel=0)
        axis.enableAutoSIPrefix(False)
        # a short plot on a projector has no room for the whole words: the first word says it
        short = label.split(" ")[-1] if label == "training loss" else label.split(" (")[0] if label else None
        scaler.axis(axis, label, label_points=11.0, tick_points=10.0, short=short)


class LandscapeView(QWidget):
    """``reset(plan, labels, kinds)`` once per run; ``show_grids(grids)`` as the points arrive."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.scaler = PlotScaler()
        self.theme = Theme()
        self.plan = GridPlan()
        self.labels: list[str] = []
        self.kinds: list[str] = []
        self.shown: list[np.ndarray | None] = []  # what each heatmap shows now (loss, not log)
        self.levels: tuple[float, float] | None = None
        self._rect = QRectF(-1.0, -1.0, 2.0, 2.0)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.maps: list[pg.PlotWidget] = []
        self.images: list[pg.ImageItem] = []
        self.contours: list[pg.IsocurveItem] = []
        self._titles = []
        for k in range(2):
            widget = pg.PlotWidget(background=COLOUR.plot_background)
            plot = widget.getPlotItem()
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            plot.setAspectLocked(True)
            self._titles.append(self.scaler.title(plot, "", 13.0))
            _style_axes(plot, self.scaler, "direction 1", "direction 2" if k == 0 else None)
            image = pg.ImageItem()
            plot.addItem(image)
            contour = pg.IsocurveItem(pen=pg.mkPen(COLOUR.landscape_mark, width=2))
            contour.setParentItem(image)
            centre = pg.ScatterPlotItem(x=[0.0], y=[0.0], symbol="+", size=16,
                                        pen=pg.mkPen(COLOUR.landscape_mark, width=2),
                                        brush=pg.mkBrush(COLOUR.landscape_mark))
            centre.setZValue(10)
            plot.addItem(centre)
            layout.addWidget(widget, 0, k)
            self.maps.append(widget)
            self.images.append(image)
            self.contours.append(contour)
        self.colour_bar = pg.ColorBarItem(values=(0, 1), colorMap=COLOUR_MAP, interactive=False,
                                          label="log10 training loss")
        self.colour_bar.setImageItem(self.images, insert_in=self.maps[1].getPlotItem())
        self.slice = pg.PlotWidget(background=COLOUR.plot_background)
        sp = self.slice.getPlotItem()
        sp.setMenuEnabled(False)
        sp.hideButtons()
        sp.showGrid(x=True, y=True, alpha=0.25)
        sp.setLogMode(y=True)
        self._slice_title = self.scaler.title(sp, "1D slice along direction 1 (through the trained weights)", 13.0)
        _style_axes(sp, self.scaler, "distance along direction 1 (filter norms)", "training loss")
        decades_until_data(sp)
        self.slice_items: list[pg.PlotDataItem] = []
        layout.addWidget(self.slice, 1, 0, 1, 2)
        layout.setRowStretch(0, 3)
        layout.setRowStretch(1, 2)
        follow_presenter(self.set_presenter)

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        self.theme = Theme(presenter=on)
        self.scaler.apply(self.theme.scale)
        for item, kind in zip(self.slice_items, self.kinds):
            item.setPen(pg.mkPen(QColor(net_colour(kind)), width=self.theme.line(2.2)))

    def reset(self, plan: GridPlan, labels: list[str], kinds: list[str]) -> None:
        self.plan = plan
        self.labels = list(labels)
        self.kinds = list(kinds)
        self.shown = [None] * len(labels)
        self.levels = None
        for k in range(2):  # both stay visible: the colour scale sits beside the second
            self.images[k].clear()
            self.contours[k].setData(None)
            self._titles[k](labels[k] if k < len(labels) else "(no second network chosen)")
        step = float(plan.axis[1] - plan.axis[0])
        rect = QRectF(-plan.span - step / 2, -plan.span - step / 2, 2 * plan.span + step, 2 * plan.span + step)
        self._rect = rect  # set again after each setImage: the image's transform depends on its size
        for widget in self.maps:
            widget.getPlotItem().setRange(xRange=(rect.left(), rect.right()), yRange=(rect.top(), rect.bottom()),
                                          padding=0)
        sp = self.slice.getPlotItem()
        for item in self.slice_items:
            sp.removeItem(item)
        self.slice_items = []
        for label, kind in zip(labels, kinds):
            item = pg.PlotDataItem(name=label, pen=pg.mkPen(QColor(net_colour(kind)), width=self.theme.line(2.2)),
                                   symbol="o", symbolSize=5, symbolBrush=pg.mkBrush(net_colour(kind)),
                                   symbolPen=None)
            sp.addItem(item)
            self.slice_items.append(item)
        sp.setXRange(-plan.span, plan.span, padding=0.02)

    def show_grids(self, grids: list[np.ndarray]) -> None:
        """Draw each net's grid so far (NaN: not evaluated yet)."""
        plan = self.plan
        self.shown = [preview(plan, g) for g in grids]
        self.levels = shared_levels(self.shown)
        if self.levels is not None:
            self.colour_bar.setLevels(self.levels)
        for k, shown in enumerate(self.shown):
            if shown is None:
                continue
            logs = np.log10(np.clip(np.where(np.isfinite(shown), shown, np.nanmax(shown[np.isfinite(shown)])),
                                    1e-12, None))
            self.images[k].setImage(logs, levels=self.levels, autoLevels=False)
            self.images[k].setRect(self._rect)
            centre = shown[plan.centre, plan.centre]
            if np.isfinite(centre) and centre > 0:
                self.contours[k].setData(logs, level=float(np.log10(2.0 * centre)))
        for k, (item, grid) in enumerate(zip(self.slice_items, grids)):
            row = grid[:, plan.centre]
            ok = np.isfinite(row) & (row > 0)
            item.setData(plan.axis[ok], row[ok])
            if ok.any():
                plain_ticks_for_data(self.slice.getPlotItem())

    def legend_html(self) -> str:
        parts = [f"<span style='color:{net_colour(kind)}'>━━━</span>&nbsp;{label}"
                 for label, kind in zip(self.labels, self.kinds)]
        parts.append("white contour: twice the loss at the centre (+)")
        return "&nbsp;&nbsp;&nbsp;&nbsp; ".join(parts)
