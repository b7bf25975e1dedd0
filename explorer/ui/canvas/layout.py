"""Sizes and positions of the diagram, for either orientation.

Everything is laid out along a *flow* axis ``u`` (the data path, the spine) and a
*cross* axis ``v`` (skip arcs sit on the positive side). ``Geometry.pt`` maps
``(u, v)`` to scene coordinates: top-to-bottom puts ``u`` on y and arcs to the
right; left-to-right puts ``u`` on x and arcs above. Sizes are in scene units and
grow with the theme's presenter scale.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from PySide6.QtCore import QPointF, QRectF

from ...spec import BlockKind
from ..theme import Theme
from .paint import text_width

VERTICAL = "vertical"
# Every size diagram text is drawn at in normal mode (pixels at 100%); ``Geometry.text``
# turns one into scene units. Keep this list complete: presenter mode's fit reads its
# smallest entry to decide how far to fold stages.
TEXT_SIZES = (22.0, 15.0, 14.5, 14.0, 13.0, 12.5, 11.5, 11.0)
PRESENTER_TEXT_FLOOR = 13.0
PRESENTER_LENGTH_SCALE = 1.0  # presenter lengths (text grows by the theme's 1.45)
HORIZONTAL = "horizontal"


@dataclass(frozen=True)
class Slot:
    """Positions along the flow inside one block's slot (0 = where the data enters)."""

    split: float  # where the shortcut leaves the spine
    box_start: float
    box_end: float
    add: float | None  # centre of the addition circle (None: plain block)
    relu: float | None  # centre of the ReLU mark after the add (post-activation and plain)
    length: float
    relu_cross: float = 0.0  # presenter mode: the ReLU mark sits beside the add, not after it


@dataclass(frozen=True)
class Geometry:
    """Sizes for one theme and orientation.

    Presenter mode is compact: its text is ``theme.scale`` times normal (small labels
    lifted to ``PRESENTER_TEXT_FLOOR`` first) while lengths grow only by
    ``PRESENTER_LENGTH_SCALE``; a block box holds one line (its shapes move to the stage
    header and the tooltip) and box, summary and node widths fit the network's own words
    (``box_width``, ``summary_width``, ``node_width``, set by the scene). So a fit can draw
    the diagram's text as large as the plots' tick labels (see ``fitting``).
    """

    theme: Theme
    orientation: str = VERTICAL
    box_width: float | None = None  # presenter: fitted to the widest block title (scene units)
    summary_width: float | None = None
    node_width: float | None = None

    @property
    def vertical(self) -> bool:
        return self.orientation == VERTICAL

    @property
    def compact(self) -> bool:
        """Presenter mode's compact boxes: one line per block, widths fitted to the words."""
        return self.theme.presenter

    def s(self, value: float) -> float:
        return value * (PRESENTER_LENGTH_SCALE if self.theme.presenter else 1.0)

    def text(self, size: float) -> float:
        """Pixel size (scene units) of diagram text drawn at ``size`` in normal mode.

        Presenter mode scales every size and lifts the small ones (marks, "ReLU", the
        BN band) to ``PRESENTER_TEXT_FLOOR`` first, so no label is a size smaller than
        the rest of the diagram on a projector.
        """
        if self.theme.presenter:
            size = max(size, PRESENTER_TEXT_FLOOR)
        return size * self.theme.scale

    @property
    def smallest_text(self) -> float:
        """The smallest pixel size (scene units) any text of the diagram is drawn at."""
        return min(self.text(size) for size in TEXT_SIZES)

    # -- mapping ------------------------------------------------------------
    def pt(self, u: float, v: float) -> QPointF:
        return QPointF(v, u) if self.vertical else QPointF(u, -v)

    def rect(self, u0: float, u1: float, v0: float, v1: float) -> QRectF:
        """The scene rectangle spanning flow [u0, u1] and cross [v0, v1]."""
        a, b = self.pt(u0, v0), self.pt(u1, v1)
        return QRectF(a, b).normalized()

    def along(self, w: float, h: float) -> float:
        """How much flow a box of scene size ``w`` x ``h`` takes."""
        return h if self.vertical else w

    def across(self, w: float, h: float) -> float:
        return w if self.vertical else h

    # -- sizes --------------------------------------------------------------
    def _line(self, size: float) -> float:
        """Height of one line of text drawn at ``size``."""
        return self.text(size) * 1.3

    @cached_property
    def box_size(self) -> tuple[float, float]:
        """A block box, scene width x height."""
        if self.compact:  # one line: "Basic · 64   stride 2"
            w = self.box_width or self.s(258)
            h = max(self.s(30), self._line(14.5) + self.s(6))
            return (w, h) if self.vertical else (w, max(h, self.s(50)))
        return (self.s(258), self.s(52)) if self.vertical else (self.s(212), self.s(66))

    @cached_property
    def summary_size(self) -> tuple[float, float]:
        if self.compact:  # title, shapes, skips
            return (self.summary_width or self.s(318), 3 * self._line(14.5) + self.s(12))
        return (self.s(318), self.s(84)) if self.vertical else (self.s(300), self.s(84))

    @cached_property
    def node_size(self) -> tuple[float, float]:
        if self.compact:
            return (self.node_width or self.s(274), 2 * self._line(14.5) + self.s(8))
        return (self.s(274), self.s(48)) if self.vertical else (self.s(190), self.s(66))

    @cached_property
    def input_size(self) -> tuple[float, float]:
        if self.compact:
            return (self.node_width or self.s(200), self._line(14.5) + self.s(6))
        return (self.s(200), self.s(32)) if self.vertical else (self.s(150), self.s(50))

    @property
    def band(self) -> float:
        """Thickness of the BN-ReLU band at the top of a pre-activation box."""
        return max(self.s(17), self.text(11) * 1.4)

    @property
    def add_radius(self) -> float:
        return self.s(8.5)

    @cached_property
    def relu_size(self) -> tuple[float, float]:
        text = text_width("ReLU", self.text(11.5), True)
        return (max(self.s(44), text + self.s(10)), max(self.s(16), self.text(11.5) * 1.3))

    @property
    def lead(self) -> float:
        return self.s(14 if self.compact else 20)

    @property
    def gap(self) -> float:
        return self.s(3.5)

    @property
    def connector(self) -> float:
        """Spine length between the input, stem, stages and head."""
        return self.s(18 if self.compact else 28)

    @property
    def column_gap(self) -> float:
        """Space between two columns of stages (the spine turns the corner in it)."""
        return self.s(28 if self.compact else 70)

    @cached_property
    def arc_offset(self) -> float:
        """Cross distance from the spine to the skip arc's straight run."""
        if self.compact:  # the switch, as wide as its words, clears the box
            mark = self.mark_size[0] if self.vertical else self.mark_size[1]
            return self.across(*self.box_size) / 2 + mark / 2 + self.s(10)
        return self.across(*self.box_size) / 2 + self.s(30)

    @cached_property
    def mark_size(self) -> tuple[float, float]:
        """The skip switch on an arc: a knob and its mark ("on", "1x1", "0-pad", "off")."""
        h = max(self.s(22), self.text(11.5) * 1.45)
        knob = h - 2 * self.s(3.5)
        return (text_width("0-pad", self.text(11.5), True) + knob + self.s(15), h)

    @property
    def frame_pad(self) -> float:
        return self.s(8 if self.compact else 14)

    @property
    def header(self) -> float:
        """Height of a stage frame's title band."""
        return max(self.s(32), self._line(15) + self.s(6))

    @cached_property
    def frame_cross(self) -> tuple[float, float]:
        """Cross extent (low, high) of a stage frame's content, header excluded."""
        low = -self.across(*self.summary_size) / 2 - self.frame_pad
        mark_half = (self.mark_size[0] if self.vertical else self.mark_size[1]) / 2
        high = self.arc_offset + mark_half + self.frame_pad
        return low, high

    def slot(self, kind: BlockKind) -> Slot:
        return _slot(self, kind)


def _slot(g: Geometry, kind: BlockKind) -> Slot:
    # A pre-activation box is longer by its BN-ReLU band, on the input side.
    box_len = g.along(*g.box_size) + (g.band if kind.preactivation else 0)
    relu_len = g.along(*g.relu_size)
    split = g.lead * 0.4
    box_start = g.lead
    box_end = box_start + box_len
    u = box_end
    add = relu = None
    if kind is not BlockKind.PLAIN:
        add = u + g.gap + g.add_radius
        u = add + g.add_radius
    relu_cross = 0.0
    if not kind.preactivation and add is not None and g.compact and g.vertical:
        # ReLU(F(x) + x) drawn "ReLU ⊕" on one row: the block is one line shorter
        relu, relu_cross = add, -(g.add_radius + g.s(8) + g.across(*g.relu_size) / 2)
    elif not kind.preactivation:
        relu = u + g.gap + relu_len / 2
        u = relu + relu_len / 2
    return Slot(split=split, box_start=box_start, box_end=box_end, add=add, relu=relu,
                length=u + g.gap, relu_cross=relu_cross)


def summary_slot(g: Geometry) -> float:
    """Flow length of a collapsed stage's summary slot."""
    return g.lead * 1.5 + g.along(*g.summary_size)


def split_into_columns(lengths: list[float], k: int, first: float = 0.0, last: float = 0.0) -> list[int]:
    """The column (0 .. k-1) of each stage, in order, so the tallest of ``k`` columns is lowest.

    ``lengths`` are the stages' flow lengths; the first column also holds ``first`` (input
    and stem), the last ``last`` (the head). Every column gets at least one stage.
    """
    n = len(lengths)
    k = max(1, min(k, n))
    start = [0.0]
    for length in lengths:
        start.append(start[-1] + length)

    def height(i: int, j: int) -> float:  # stages i .. j-1 in one column
        return start[j] - start[i] + (first if i == 0 else 0.0) + (last if j == n else 0.0)

    # best[c][j]: (lowest tallest column, where the c-th column starts) for stages 0 .. j-1
    inf = float("inf")
    best = [[(inf, 0)] * (n + 1) for _ in range(k + 1)]
    best[0][0] = (0.0, 0)
    for c in range(1, k + 1):
        for j in range(c, n + 1):
            best[c][j] = min(((max(best[c - 1][i][0], height(i, j)), i) for i in range(c - 1, j)),
                             key=lambda t: t[0])
    column_of, j = [0] * n, n
    for c in range(k, 0, -1):
        i = best[c][j][1]
        column_of[i:j] = [c - 1] * (j - i)
        j = i
    return column_of
