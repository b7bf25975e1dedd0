"""The depth sweep's two plots: error against depth (two kinds, train and test) and one depth's curves.

Both draw a ``SweepResult`` (live or cached) and nothing else, so what they show is what
the words are computed from. Colours follow the degradation page: plain nets orange,
ResNets blue; training error solid with filled markers, test error dashed with hollow ones.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from ...experiments.paper import paper_series
from ..plot_style import PlotScaler, percent_axis_until_data
from ..presenter import follow_presenter
from ..theme import COLOUR, Theme
from ..training.plots import EpochAxis

COLOURS = {"plain": COLOUR.arm_plain, "resnet": COLOUR.arm_resnet}
NAMES = {"plain": "plain", "resnet": "ResNet"}
METRICS = (("train", "training", Qt.PenStyle.SolidLine), ("test", "test", Qt.PenStyle.DashLine))


def legend_html(seeds: int = 1) -> str:
    """What the lines mean, as rich text in their colours (shown under the plots)."""
    parts = []
    for kind in ("plain", "resnet"):
        for metric, word, style in METRICS:
            sample = "━━━" if style == Qt.PenStyle.SolidLine else "╌╌╌"
            parts.append(f"<span style='color:{COLOURS[kind]}'>{sample}</span>&nbsp;{NAMES[kind]}, {word} error")
    text = "&nbsp;&nbsp;&nbsp; ".join(parts)
    if seeds > 1:
        text += f"&nbsp;&nbsp;&nbsp; (mean of {seeds} seeds; bars span the lowest to the highest)"
    return text


class _Plot(pg.PlotWidget):
    def __init__(self, title: str, bottom: str, parent: QWidget | None = None, axis_items=None):
        super().__init__(parent, background=COLOUR.plot_background, axisItems=axis_items or {})
        self.plot = self.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.getViewBox().setDefaultPadding(0.04)
        self.scaler = PlotScaler()
        self.set_title = self.scaler.title(self.plot, title, 13.0)
        for name, label in (("bottom", bottom), ("left", "error (%)")):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(COLOUR.plot_axis))
            axis.setStyle(maxTickLevel=0)
            self.scaler.axis(axis, label, label_points=11.0, tick_points=10.0, density=name == "left")
        percent_axis_until_data(self.plot)
        self.theme = Theme()

    @Slot(bool)
    def _on_presenter(self, on: bool) -> None:
        self.theme = Theme(presenter=on)
        self.scaler.apply(self.theme.scale)
        self.redraw()

    def redraw(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _pen(self, kind: str, style, width: float = 2.2):
        pen = pg.mkPen(QColor(COLOURS[kind]), width=self.theme.line(width), style=style)
        pen.setCosmetic(True)
        return pen


class SweepPlot(_Plot):
    """Error against depth; ``depthClicked(depth)`` when a user clicks near a depth."""

    depthClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Error against depth", "depth (weighted layers)", parent)
        self.result = None
        self.selected: int | None = None
        self.lines: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(COLOUR.sweep_marker, width=1.5,
                                                                           style=Qt.PenStyle.DotLine))
        self.scene().sigMouseClicked.connect(self._on_click)
        follow_presenter(self._on_presenter)

    def show_result(self, result, selected: int | None = None) -> None:
        self.result = result
        self.selected = selected
        self.redraw()

    def redraw(self) -> None:
        self.plot.clear()
        self.lines = {}
        result = self.result
        if result is None:
            self.set_title("Error against depth (nothing measured yet)")
            return
        epoch, planned = result.epoch, result.settings.epochs
        when = ("final" if epoch == planned else f"after epoch {epoch} of {planned}") if epoch else "no epoch yet"
        self.set_title(f"Training and test error against depth ({when})")
        depths = list(result.settings.depths)
        self.plot.getAxis("bottom").setTicks([[(d, str(d)) for d in depths]])
        for kind in ("plain", "resnet"):
            for metric, _word, style in METRICS:
                pts = result.points(kind, metric)
                if not pts:
                    continue
                x = np.array([p.depth for p in pts], dtype=float)
                y = 100.0 * np.array([p.mean for p in pts])
                colour = QColor(COLOURS[kind])
                fill = colour if metric == "train" else QColor(COLOUR.hollow_marker)
                item = pg.PlotDataItem(x, y, pen=self._pen(kind, style), symbol="o",
                                       symbolSize=9 * self.theme.scale, symbolPen=pg.mkPen(colour, width=2),
                                       symbolBrush=pg.mkBrush(fill),
                                       name=f"{NAMES[kind]}, {metric}")
                self.plot.addItem(item)
                self.lines[(kind, metric)] = item
                if max(p.count for p in pts) > 1:
                    low = 100.0 * np.array([p.mean - p.low for p in pts])
                    high = 100.0 * np.array([p.high - p.mean for p in pts])
                    self.plot.addItem(pg.ErrorBarItem(x=x, y=y, bottom=low, top=high, beam=0.9,
                                                      pen=pg.mkPen(colour, width=self.theme.line(1.5))))
        self._paper_series(depths)
        if self.selected is not None:
            self.marker.setValue(self.selected)
            self.plot.addItem(self.marker)
        span = depths[-1] - depths[0]
        self.plot.setXRange(depths[0] - 0.05 * span, depths[-1] + 0.05 * span, padding=0)
        self.plot.enableAutoRange(axis="y")

    def _paper_series(self, depths: list[int]) -> None:
        """He et al. 2015's CIFAR-10 test errors (Table 6) at the depths inside this sweep's range: a grey
        dashed reference, named as the paper's in the legend (never joined to what was measured)."""
        pts = [(d, e) for d, e in paper_series() if depths[0] <= d <= depths[-1]]
        if not pts:
            return
        item = pg.PlotDataItem([float(d) for d, _ in pts], [100.0 * e for _, e in pts],
                               pen=pg.mkPen(COLOUR.reference_line, width=self.theme.line(1.5),
                                            style=Qt.PenStyle.DashDotLine),
                               symbol="d", symbolSize=9 * self.theme.scale, symbolPen=pg.mkPen(COLOUR.reference_line),
                               symbolBrush=pg.mkBrush(COLOUR.reference_line),
                               name="He et al. 2015, CIFAR-10 test (Table 6)")
        self.plot.addItem(item)
        self.lines[("paper", "test")] = item

    def values(self, kind: str, metric: str = "train") -> tuple[list[float], list[float]]:
        """What the plot draws for ``kind``'s ``metric`` now: (depths, error in %)."""
        item = self.lines.get((kind, metric))
        if item is None:
            return [], []
        x, y = item.getData()
        return list(x), list(y)

    def scene_point(self, depth: float) -> QPointF:
        """Where ``depth`` (at mid height) is in the scene: for clicking it."""
        (_x0, _x1), (y0, y1) = self.plot.getViewBox().viewRange()
        return self.plot.getViewBox().mapViewToScene(QPointF(depth, (y0 + y1) / 2))

    def _on_click(self, event) -> None:
        if self.result is None or event.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        x = vb.mapSceneToView(event.scenePos()).x()
        depth = min(self.result.settings.depths, key=lambda d: abs(d - x))
        self.depthClicked.emit(depth)


class DepthCurves(_Plot):
    """One depth's plain net and ResNet: training (solid) and test (dashed) error per epoch, every seed."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Training curves", "epoch", parent, axis_items={"bottom": EpochAxis("bottom")})
        self.result = None
        self.depth: int | None = None
        self.lines: dict[tuple[str, str, int], pg.PlotDataItem] = {}
        follow_presenter(self._on_presenter)

    def show_depth(self, result, depth: int | None) -> None:
        self.result, self.depth = result, depth
        self.redraw()

    def redraw(self) -> None:
        self.plot.clear()
        self.lines = {}
        if self.result is None or self.depth is None:
            self.set_title("Training curves")
            return
        d = self.depth
        self.set_title(f"plain-{d} and ResNet-{d}: error per epoch")
        many = len(self.result.settings.seeds) > 1
        for kind in ("plain", "resnet"):
            for arm in self.result.curves(kind, d):
                for metric, _word, style in METRICS:
                    series = arm.train_errors if metric == "train" else arm.test_errors
                    if not series:
                        continue
                    x = np.arange(1, len(series) + 1, dtype=float)
                    item = pg.PlotDataItem(x, 100.0 * np.asarray(series), pen=self._pen(kind, style,
                                                                                        1.4 if many else 2.2),
                                           name=f"{arm.label}{f' seed {arm.seed}' if many else ''}, {metric}")
                    self.plot.addItem(item)
                    self.lines[(kind, metric, arm.seed)] = item
        self.plot.setXRange(0, max(1, self.result.settings.epochs), padding=0.02)
        if self.lines:
            self.plot.enableAutoRange(axis="y")
        else:
            self.plot.setYRange(0, 100, padding=0.02)

    def values(self, kind: str, metric: str = "train", seed: int = 0) -> tuple[list[float], list[float]]:
        item = self.lines.get((kind, metric, seed))
        if item is None:
            return [], []
        x, y = item.getData()
        return list(x), list(y)
