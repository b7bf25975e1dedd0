"""Where a dragged block or stage would land, and the bar that shows it.

A mixin for ``DiagramScene``: it reads the spans the layout recorded (flow
positions of every stage and block slot, each stage's column offset) and answers
in (stage, index) terms, so the same code serves palette drops and block moves.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF


class DropTargets:
    """Needs ``geom``, ``_frames``, ``_spec``, ``stage_spans``, ``block_spans``,
    ``stage_offsets``, ``cross``, ``flow_end`` and ``indicator`` from the scene."""

    # -- hit testing for drops ---------------------------------------------------------
    def uv(self, p: QPointF) -> tuple[float, float]:
        return (p.y(), p.x()) if self.geom.vertical else (p.x(), -p.y())

    def stage_at(self, p: QPointF) -> int | None:
        for si, frame in enumerate(self._frames):
            if frame.rect().contains(p):
                return si
        return None

    def block_drop_target(self, p: QPointF) -> tuple[int, int] | None:
        """(stage, insertion index) for a block dropped at ``p``, or None outside every stage."""
        si = self.stage_at(p)
        if si is None:
            return None
        spans = self.block_spans.get(si, [])
        if not spans:  # collapsed or empty: append
            return si, len(self._spec.stages[si].blocks)
        u, _ = self.uv(p - self.stage_offsets[si])
        return si, sum(1 for a, b in spans if (a + b) / 2 < u)

    def _in_columns(self) -> bool:
        return len({o.x() for o in self.stage_offsets}) > 1

    def stage_drop_target(self, p: QPointF) -> int:
        if self._in_columns():
            # after a stage: right of its column, or in its column below its middle
            return sum(1 for f in self._frames
                       if p.x() > f.rect().right()
                       or (p.x() >= f.rect().left() and p.y() > f.rect().center().y()))
        u, _ = self.uv(p)
        return sum(1 for a, b in self.stage_spans if (a + b) / 2 < u)

    def show_block_indicator(self, si: int, index: int) -> None:
        g = self.geom
        spans = self.block_spans.get(si, [])
        u0, u1 = self.stage_spans[si]
        if not spans:
            u = u1 - g.s(4)
        elif index < len(spans):
            u = spans[index][0]
        else:
            u = spans[-1][1]
        low, high = self.cross
        off = self.stage_offsets[si]
        self.indicator.show_line(g.pt(u, low + g.s(8)) + off, g.pt(u, high - g.s(8)) + off, g.s(6))

    def show_stage_indicator(self, index: int) -> None:
        g = self.geom
        if self._in_columns():  # a bar in the gap between two columns
            frames = self._frames
            if index < len(frames):
                ref = frames[index].rect()
                if index > 0 and abs(frames[index - 1].rect().left() - ref.left()) < 1:
                    # stacked under the stage before it in one column: a bar across the spine between
                    y = ref.top() - g.connector / 2
                    self.indicator.show_line(QPointF(ref.left(), y), QPointF(ref.right(), y), g.s(7))
                    return
                x = ref.left() - g.column_gap / 2
                self.indicator.show_line(QPointF(x, ref.top()), QPointF(x, ref.bottom()), g.s(7))
            else:  # after the last stage: a bar across the spine below it
                ref = frames[-1].rect()
                y = ref.bottom() + g.connector / 2
                self.indicator.show_line(QPointF(ref.left(), y), QPointF(ref.right(), y), g.s(7))
            return
        if index < len(self.stage_spans):
            u = self.stage_spans[index][0] - g.connector / 2
        elif self.stage_spans:
            u = self.stage_spans[-1][1] + g.connector / 2
        else:
            u = self.flow_end - g.along(*g.node_size) - g.connector / 2
        low, high = self.cross
        self.indicator.show_line(g.pt(u, low), g.pt(u, high), g.s(7))

    def hide_indicator(self) -> None:
        self.indicator.setVisible(False)
