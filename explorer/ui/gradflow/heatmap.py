"""The gradient heatmap: blocks down, training steps across, colour = log10 ||dL/dx||.

Columns arrive one at a time (a recorder column while training, or a probe column
after an edit) into a preallocated ndarray; a 10 Hz timer pushes the array to the
``ImageItem`` only when something changed, so a fast run cannot flood the GUI. When
the buffer is full, every second column is dropped: the whole run stays visible at
half the resolution. The colour levels are fixed (1e-6 to 1e2 by default, the range a
CIFAR net spans from vanishing to exploding) so colours mean the same thing from one
run to the next. Presenter mode scales the texts, the colour bar and the tick spacing.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..plot_style import PlotScaler
from ..presenter import follow_presenter
from ..theme import COLOUR, Theme

LEVELS = (-6.0, 2.0)
MAX_COLUMNS = 4096
PROBE_LABEL = "probe"


class _ColumnAxis(pg.AxisItem):
    """Bottom axis: column index -> the step it shows (or "probe")."""

    def __init__(self, owner: "GradientHeatmap"):
        super().__init__("bottom")
        self._owner = owner

    def tickValues(self, minVal, maxVal, size):  # noqa: N802,N803 - pyqtgraph's names
        n = self._owner.columns
        first, last = max(0, int(math.ceil(minVal - 0.5))), min(n - 1, int(math.floor(maxVal - 0.5)))
        if n == 0 or last < first:
            return []
        room = max(2, int(size // (70 * self._owner.scaler.scale)))  # a label per 70 px (more when larger)
        every = max(1, int(math.ceil((last - first + 1) / room)))
        return [(every, [c + 0.5 for c in range(first - first % every, last + 1, every) if c >= first])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        """Each tick's step; a run of probe ticks says "probe" once, not "probe probe probe"."""
        words, previous = [], None
        for v in values:
            label = self._owner.column_label(int(math.floor(v)))
            words.append("" if label == PROBE_LABEL and previous == PROBE_LABEL else label)
            previous = label
        return words


class _BlockAxis(pg.AxisItem):
    """Left axis: one tick per stage start ("2.1"), all blocks when there are few."""

    def __init__(self, owner: "GradientHeatmap"):
        super().__init__("left")
        self._owner = owner

    def tickValues(self, minVal, maxVal, size):  # noqa: N802,N803 - pyqtgraph's names
        labels = self._owner.block_labels
        if not labels:
            return []
        rows = range(len(labels))
        # every block when the rows are 12 or fewer and tall enough for their labels
        pitch = size / len(labels)
        if len(labels) > 12 or pitch < tick_text_height(self):
            major = [i for i in rows if labels[i].endswith("block 1")]
            return [(1, [i + 0.5 for i in major])]
        return [(1, [i + 0.5 for i in rows])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        return [self._owner.short_label(int(math.floor(v))) for v in values]


class GradientHeatmap(QWidget):
    """``set_blocks(labels)`` starts afresh; ``add_column(norms, label)`` appends one column."""

    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None, quantity: str = "||dL/dx||",
                 title: str = "||dL/dx|| at each block's input over training", levels=LEVELS,
                 nan_words: str = "not measured"):
        """``quantity`` names the value in the readout and the colour bar; ``levels`` are log10 bounds;
        ``nan_words`` is what a hole (NaN) means."""
        super().__init__(parent)
        self.quantity, self._title, self.levels = quantity, title, tuple(levels)
        self.nan_words = nan_words
        self.block_labels: list[str] = []
        self._data = np.full((0, 64), np.nan, dtype=np.float32)  # rows = blocks, columns = steps
        self._labels: list[str] = []
        self._dirty = False
        self._probe_lines: list[pg.InfiniteLine] = []
        self._probe_marks: tuple | None = None  # (probe columns, pen width) the lines show

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(COLOUR.plot_background)
        self.scaler = PlotScaler()
        self._plot = self.view.addPlot(axisItems={"bottom": _ColumnAxis(self), "left": _BlockAxis(self)})
        self._set_title = self.scaler.title(self._plot, title, 12.0, short=f"{quantity} over training")
        self.network = ""
        self._plot.invertY(True)
        self._plot.setMouseEnabled(x=True, y=False)
        self._plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self._plot.addItem(self.image)
        cmap = pg.colormap.get("viridis")
        self.colorbar = pg.ColorBarItem(values=self.levels, colorMap=cmap,
                                        interactive=False, width=18, colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self._plot)
        # the axes choose their own ticks (one per block or stage, one per 70 px)
        self.scaler.axis(self._plot.getAxis("bottom"), "training step", 11.0, 10.0, density=False)
        self.scaler.axis(self._plot.getAxis("left"), "block (stage.block, input at the top)", 11.0, 10.0,
                         density=False, short="block")
        for name in ("bottom", "left"):  # steps and blocks never take an SI prefix ("x0.001")
            self._plot.getAxis(name).enableAutoSIPrefix(False)
        bar_axis = self.colorbar.getAxis("right")
        self.scaler.axis(bar_axis, f"log10 {quantity}", 11.0, 10.0, short="log10")
        self.scaler.custom(self._size_colour_bar)

        self.readout = QLabel("Hover over a cell to read its block, step and value. "
                              "Columns framed in white are probes at the current weights.")
        self.readout.setWordWrap(True)  # a long readout must not widen the whole window
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.readout)

        self._timer = QTimer(self)
        self._timer.setInterval(100)  # at most ten redraws a second, whatever the column rate
        self._timer.timeout.connect(self._flush)
        self._timer.start()
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._probe_pen_width = 2.0
        follow_presenter(self.set_presenter)

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        theme = Theme(presenter=on)
        self.scaler.apply(theme.scale)
        self.readout.setStyleSheet(f"font-size: {11 * theme.scale:.1f}pt; color: {COLOUR.caption};")
        self._probe_pen_width = theme.line(2.0)
        self._mark_probe_columns()
        self._fit_readout()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self._fit_readout()

    def _fit_readout(self) -> None:
        """The readout as tall as its wrapped lines at this width: in a short dock the layout gave it
        the height of its unwrapped hint and cut its last line (presenter mode at 1280x720)."""
        need = self.readout.heightForWidth(max(self.width(), 1))
        if need > 0 and need != self.readout.minimumHeight():
            self.readout.setMinimumHeight(need)

    def _size_colour_bar(self, scale: float) -> None:
        self.colorbar.layout.setColumnFixedWidth(1, 18 * scale)  # the bar itself
        self.colorbar.getAxis("right").setWidth(round(60 * scale))  # numbers and the rotated label

    # -- data -----------------------------------------------------------------
    @property
    def columns(self) -> int:
        return len(self._labels)

    def column_label(self, col: int) -> str:
        return self._labels[col] if 0 <= col < len(self._labels) else ""

    def short_label(self, row: int) -> str:
        """"stage 2, block 3" -> "2.3"."""
        if not 0 <= row < len(self.block_labels):
            return ""
        label = self.block_labels[row]
        parts = label.replace(",", "").split()
        if len(parts) == 4 and parts[0] == "stage" and parts[2] == "block":
            return f"{parts[1]}.{parts[3]}"
        return str(row + 1)

    def values(self) -> np.ndarray:
        """The log10 norms shown: rows = blocks, columns = steps (a copy)."""
        return self._data[:, :self.columns].copy()

    def set_network(self, name: str) -> None:
        """Say whose columns these are in the title ("run #2 (resnet20)", "probes of resnet56")."""
        self.network = name
        self._set_title(f"{self._title}: {name}" if name else self._title,
                        f"{self.quantity}, {name}" if name else f"{self.quantity} over training")

    def set_blocks(self, labels: list[str]) -> None:
        """Start an empty heatmap with these rows."""
        self.block_labels = list(labels)
        self._data = np.full((len(labels), 64), np.nan, dtype=np.float32)
        self._labels = []
        self._dirty = True
        self._flush()
        for name in ("left", "bottom"):  # the old rows' and columns' tick labels go too
            axis = self._plot.getAxis(name)
            axis.picture = None
            axis.update()

    def add_column(self, norms, label: str) -> None:
        norms = np.asarray(norms, dtype=np.float64)
        if len(norms) != len(self.block_labels):
            raise ValueError(f"a column of {len(norms)} norms for {len(self.block_labels)} blocks")
        if self.columns == self._data.shape[1]:
            if self.columns >= MAX_COLUMNS:
                self._data[:, :self.columns // 2] = self._data[:, 0:self.columns:2]
                self._labels = self._labels[0::2]
            else:
                grown = np.full((self._data.shape[0], self._data.shape[1] * 2), np.nan, dtype=np.float32)
                grown[:, :self.columns] = self._data[:, :self.columns]
                self._data = grown
        # exact zeros sit just below the scale, overflow just above it, NaN stays a hole
        logs = np.full(norms.shape, np.nan)
        positive = np.isfinite(norms) & (norms > 0)
        logs[positive] = np.log10(norms[positive])
        logs[norms == 0] = self.levels[0] - 1.0
        logs[np.isposinf(norms)] = self.levels[1] + 1.0
        self._data[:, self.columns] = logs.astype(np.float32)
        self._labels.append(label)
        self._dirty = True

    def _flush(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        n = self.columns
        if n == 0 or not self.block_labels:
            self.image.clear()
            return
        lo, hi = self.colorbar.levels()
        self.image.setImage(self._data[:, :n], autoLevels=False, levels=(lo, hi))
        self.image.setRect(0, 0, n, len(self.block_labels))
        self._plot.setXRange(0, max(n, 1), padding=0)
        self._plot.setYRange(0, len(self.block_labels), padding=0)
        self._mark_probe_columns()
        self._plot.getAxis("bottom").picture = None
        self._plot.getAxis("bottom").update()

    def _mark_probe_columns(self) -> None:
        """White edges around probe columns when they sit among training columns."""
        probes = [i for i, label in enumerate(self._labels) if label == PROBE_LABEL]
        if len(probes) == len(self._labels):
            probes = []  # only probes: no training columns to tell them apart from
        marked = (tuple(probes[-40:]), self._probe_pen_width)
        if marked == self._probe_marks:
            return  # the lines drawn are these already (each flush of a training column comes here)
        self._probe_marks = marked
        for line in self._probe_lines:
            self._plot.removeItem(line)
        self._probe_lines = []
        pen = pg.mkPen(COLOUR.probe_column, width=self._probe_pen_width)
        for col in probes[-40:]:
            for x in (col, col + 1):
                line = pg.InfiniteLine(pos=x, angle=90, pen=pen, movable=False)
                self._plot.addItem(line, ignoreBounds=True)
                self._probe_lines.append(line)

    def flush(self) -> None:
        """Draw pending columns now (the timer does this ten times a second)."""
        self._dirty = True
        self._flush()

    # -- hover ----------------------------------------------------------------
    def describe_cell(self, col: int, row: int) -> str:
        if not (0 <= col < self.columns and 0 <= row < len(self.block_labels)):
            return ""
        value = float(self._data[row, col])
        label = self._labels[col]
        where = "probe at the current weights" if label == PROBE_LABEL else f"step {label}"
        if math.isnan(value):
            shown = self.nan_words
        elif value == self.levels[0] - 1.0:
            shown = "exactly 0"
        elif value == self.levels[1] + 1.0:
            shown = "overflowed (infinite)"
        else:
            shown = f"{10 ** value:.3g} (log10 {value:+.2f})"
        return f"{self.block_labels[row]} · {where} · {self.quantity} = {shown}"

    def _on_mouse_moved(self, pos) -> None:
        if not self._plot.sceneBoundingRect().contains(pos):
            return
        p = self._plot.vb.mapSceneToView(pos)
        text = self.describe_cell(int(math.floor(p.x())), int(math.floor(p.y())))
        if text:
            self.readout.setText(text)
            self._fit_readout()
            self.view.setToolTip(text)
            self.hovered.emit(text)

    def stop(self) -> None:
        self._timer.stop()


def tick_text_height(axis: pg.AxisItem) -> float:
    """The height of one line of the axis's tick labels, in pixels."""
    font = axis.style["tickFont"]
    return QFontMetricsF(font).height() if font is not None else 14.0
