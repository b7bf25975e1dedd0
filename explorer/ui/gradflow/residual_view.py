"""Residual size views: the depth profile of ||F(x)||/||x|| and cos(F, x), and one block's maps.

``ResidualProfile`` draws, for every block in depth order, the mean ratio of the branch
output to the shortcut output (log scale, with a dashed line at 1: "as large as the
input") above the mean cosine between them (-1 to 1). Blocks where no shortcut is added
(plain blocks, switched-off skips) leave gaps, and the title says how many. ``clear``
empties it at once (a different network is coming), like the gradient profile.

``BlockImages`` shows, for one probe image, a block's input, its branch output and the
sum as channel-mean images on one shared, symmetric colour scale, so a small correction
looks like a faint picture next to a strong one.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..plot_style import PlotScaler
from ..presenter import follow_presenter
from ..theme import COLOUR, Theme, point_font
from .profile import LogNormAxis, _pen, set_ranges

COSINE_RANGE = [-1 - 2 * 0.05, 1 + 2 * 0.05]  # -1 to 1 as setYRange(-1, 1, padding=0.05) pads it


class ResidualProfile(QWidget):
    """``show(ratio, cosine, labels, caption)``; ``clear(message)``; ``ratio`` / ``cosine`` hold the arrays."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.ratio: np.ndarray | None = None
        self.cosine: np.ndarray | None = None
        self.network = ""
        self.caption = ""
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(COLOUR.plot_background)
        self.scaler = PlotScaler()
        self.top = self.view.addPlot(row=0, col=0, axisItems={"left": LogNormAxis("left")})
        self.bottom = self.view.addPlot(row=1, col=0)
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 2)
        self.bottom.setXLink(self.top)
        self._set_title = self.scaler.title(self.top, "Residual size: ||F(x)|| / ||x|| per block", 12.0,
                                            short="||F(x)|| / ||x||")
        self.scaler.axis(self.top.getAxis("left"), "||F(x)||/||x|| (log)", 11.0, 10.0, density=False,
                         short="ratio")
        self.scaler.axis(self.bottom.getAxis("left"), "cos(F, x)", 11.0, 10.0, short="cos")
        self.scaler.axis(self.bottom.getAxis("bottom"), "block, in depth order", 11.0, 10.0, short="block")
        for plot in (self.top, self.bottom):
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.showGrid(x=False, y=True, alpha=0.2)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.top.getAxis("bottom").setStyle(showValues=False)
        self.bottom.setYRange(-1, 1, padding=0.05)
        self.ratio_item = pg.PlotDataItem(symbol="o", symbolBrush=COLOUR.residual_ratio, symbolPen=None,
                                          connect="finite")
        self.cos_item = pg.PlotDataItem(symbol="o", symbolBrush=COLOUR.residual_cosine, symbolPen=None,
                                        connect="finite")
        self.top.addItem(self.ratio_item)
        self.bottom.addItem(self.cos_item)
        self.one_line = pg.InfiniteLine(pos=0.0, angle=0, movable=False)  # log10(1): as large as the input
        self.zero_line = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.top.addItem(self.one_line, ignoreBounds=True)
        self.bottom.addItem(self.zero_line, ignoreBounds=True)
        self.message = pg.TextItem("", color=COLOUR.plot_message, anchor=(0.5, 0.5))
        self.top.vb.addItem(self.message, ignoreBounds=True)
        self.message_text = ""
        self.theme = Theme()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        follow_presenter(self.set_presenter)

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        self.theme = theme = Theme(presenter=on)
        self.scaler.apply(theme.scale)
        self.ratio_item.setPen(_pen(COLOUR.residual_ratio, theme.line(2.5)))
        self.cos_item.setPen(_pen(COLOUR.residual_cosine, theme.line(2)))
        for item in (self.ratio_item, self.cos_item):
            item.setSymbolSize(6 * theme.scale)
        for line in (self.one_line, self.zero_line):
            line.setPen(_pen(COLOUR.reference_line, theme.line(1), Qt.PenStyle.DashLine))
        if self.message_text:
            self.set_message(self.message_text)

    def set_network(self, name: str) -> None:
        self.network = name
        title = "Residual size: ||F(x)|| / ||x|| per block"
        self._set_title(f"{title} of {name}" if name else title, "||F(x)|| / ||x||")

    def show_sizes(self, ratio, cosine, caption: str) -> None:
        """Plot one measurement (NaN = undefined: a gap); ``caption`` says which skips and weights."""
        self.ratio = np.asarray(ratio, dtype=np.float64)
        self.cosine = np.asarray(cosine, dtype=np.float64)
        self.caption = caption
        x = np.arange(1, len(self.ratio) + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.where(self.ratio > 0, np.log10(self.ratio), np.nan)
        # pyqtgraph cannot bound an all-NaN curve: an undefined profile is drawn as no curve at all
        if np.isfinite(logs).any():
            self.ratio_item.setData(x, logs)
        else:
            self.ratio_item.setData([], [])
        if np.isfinite(self.cosine).any():
            self.cos_item.setData(x, self.cosine)
        else:
            self.cos_item.setData([], [])
        n = len(self.ratio)
        x_range = (0.5, n + 0.5)
        finite = logs[np.isfinite(logs)]
        if len(finite):
            lo, hi = min(float(finite.min()), -0.1), max(float(finite.max()), 0.1)  # keep the line at 1 in view
            if hi - lo < 1.0:  # at least a decade tall, so small differences do not look steep
                mid = (hi + lo) / 2
                lo, hi = mid - 0.5, mid + 0.5
            set_ranges(self.top.vb, x_range, 0.02, (lo, hi), 0.05)
            self.set_message("")
        else:
            self.top.setXRange(*x_range, padding=0.02)
            self.set_message("Undefined for every block:\nno shortcut is added\n(plain blocks or skips off)")
        if self.bottom.vb.viewRange()[1] != COSINE_RANGE:  # its fixed range: the user may have dragged it
            self.bottom.setYRange(-1, 1, padding=0.05)

    def clear(self, message: str = "") -> None:
        self.ratio = self.cosine = None
        self.caption = ""
        self.ratio_item.setData([], [])
        self.cos_item.setData([], [])
        self.set_message(message)

    def set_message(self, text: str) -> None:
        if not text and not self.message_text:
            return  # none shown and none to show
        self.message_text = text
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if text:
            self.message.setFont(point_font(11.0 * self.theme.scale))
            (x0, x1), (y0, y1) = self.top.vb.viewRange()
            self.message.setPos((x0 + x1) / 2, (y0 + y1) / 2)


class BlockImages(QWidget):
    """Input, branch output and sum of one block for one probe image, channel means, one colour scale."""

    TITLES = ("input x", "branch F(x)", "sum F(x) + s(x)")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = QLabel("Select a block in the diagram to see, for one probe image, its input, its "
                              "branch output and their sum.")
        self.caption.setWordWrap(True)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(COLOUR.plot_background)
        self.view.setFixedHeight(140)  # small pictures; in a scroll area the view would otherwise grow
        self._scale = 1.0
        self.plots = []
        self.items = []
        cmap = pg.colormap.get("CET-D1")
        for i, title in enumerate(self.TITLES):
            plot = self.view.addPlot(row=0, col=i)
            plot.setTitle(title, size="9pt", color=COLOUR.plot_text)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            plot.setAspectLocked(True)
            plot.invertY(True)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            item = pg.ImageItem(axisOrder="row-major")
            item.setColorMap(cmap)
            plot.addItem(item)
            self.plots.append(plot)
            self.items.append(item)
        self.levels: tuple[float, float] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.view)
        self.view.setVisible(False)

    def set_scale(self, scale: float) -> None:
        """Presenter mode: larger pictures and titles."""
        self._scale = scale
        self.view.setFixedHeight(round(140 * scale))
        for plot, title in zip(self.plots, self.TITLES):
            plot.setTitle(plot.titleLabel.text or title, size=f"{9 * scale:.1f}pt", color=COLOUR.plot_text)
        self.caption.setStyleSheet(f"font-size: {9 * scale:.1f}pt; color: {COLOUR.caption};")

    def show_block(self, label: str, images, status: str, ratio: float | None, batch: int = 0) -> None:
        """``images``: a BlockImages record (input, branch, total) or None when there is nothing to show;
        ``batch``: the images ``ratio`` is the mean over (0: not known)."""
        if images is None:
            self.clear(f"{label}: no maps measured.")
            return
        self.view.setVisible(True)  # before the ranges: a hidden view has no size to fit them to
        maps = (images.input, images.branch, images.total)
        top = max(float(np.abs(m).max()) for m in maps) or 1.0
        self.levels = (-top, top)
        for plot, item, m in zip(self.plots, self.items, maps):
            item.setImage(np.asarray(m), autoLevels=False, levels=self.levels)
            h, w = np.asarray(m).shape
            plot.setRange(xRange=(0, w), yRange=(0, h), padding=0.02)
        self.plots[2].setTitle("sum F(x) + s(x)" if status == "ok" else "output F(x) (no shortcut)",
                               size=f"{9 * self._scale:.1f}pt", color=COLOUR.plot_text)
        size = "x".join(str(d) for d in images.input.shape)
        if status == "ok" and ratio is not None:
            over = f"mean over the {batch:,} probe images" if batch > 1 else "mean over the batch"
            how = f"||F(x)||/||x|| = {ratio:.2g} ({over})"
        else:
            how = f"no shortcut is added ({status}): the output is F(x) alone"
        self.caption.setText(f"{label}, probe image 1, mean over channels ({size} input), one colour scale "
                             f"(blue negative, red positive): {how}.")

    def clear(self, text: str = "") -> None:
        for item in self.items:
            item.clear()
        self.levels = None
        self.view.setVisible(False)
        self.caption.setText(text or "Select a block in the diagram to see, for one probe image, its input, "
                                     "its branch output and their sum.")
