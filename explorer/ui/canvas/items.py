"""The blocks and their skip arcs: the items a user clicks most.

A ``BlockItem`` sits at the start of its slot on the spine and draws, in its own
coordinates: the spine through the slot, the box (kind colour, a BN-ReLU band at
the top for pre-activation blocks), the addition and the ReLU mark after it for
post-activation blocks. Its ``ArcItem`` child is the shortcut, a separate item so
it can be hovered and clicked on its own. Both redraw only when ``set_data``
receives something different, which keeps an edit on a 600-block net cheap.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from ...spec import BlockKind
from .. import theme as th
from .layout import Geometry
from .paint import arrowhead, count, draw_text, rounded
from .texts import block_title

STYLE_NAMES = {"identity": "Identity shortcut", "projection": "Projection shortcut (1x1 conv + BN)",
               "zero_pad": "Zero-pad shortcut (subsample, pad channels with zeros)",
               "off": "Shortcut switched off"}


@dataclass(frozen=True)
class BlockData:
    """Everything a block item shows; equal data means nothing to redraw."""

    stage: int
    index: int
    kind: BlockKind
    width: int
    stride: int
    in_shape: str | None  # None while the design is invalid
    out_shape: str | None
    style: str  # identity, projection, zero_pad, off or none (see theme.shortcut_style)
    shortcut: str  # the shortcut kind as a person reads it
    params: int | None
    macs: int | None
    error: str | None
    geom: Geometry

    @property
    def label(self) -> str:
        return f"stage {self.stage + 1}, block {self.index + 1}"


class BlockItem(QGraphicsItem):
    role = "block"

    def __init__(self, data: BlockData):
        super().__init__()
        self._data = data
        self.selected = False
        self._placed = None
        self.hovered = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.OpenHandCursor)  # blocks can be dragged to a new place
        self.setZValue(2)
        self.arc = ArcItem(self)
        self._apply(data)

    @property
    def data_(self) -> BlockData:
        return self._data

    @property
    def key(self) -> tuple[int, int]:
        return self._data.stage, self._data.index

    def set_data(self, data: BlockData) -> bool:
        """Show ``data``; returns whether anything changed."""
        if data == self._data:
            return False
        self.prepareGeometryChange()
        self._data = data
        self._apply(data)
        self.update()
        return True

    def set_selected(self, on: bool) -> None:
        if on != self.selected:
            self.selected = on
            self.update()

    def hoverEnterEvent(self, event) -> None:  # noqa: N802
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self.hovered = False
        self.update()

    def _apply(self, d: BlockData) -> None:
        g = d.geom
        self._slot = slot = g.slot(d.kind)
        half = g.across(*g.box_size) / 2
        self._box = g.rect(slot.box_start, slot.box_end, -half, half)
        self._bounds = g.rect(0, slot.length, -half - g.s(6), half + g.s(6))
        self.arc.set_data(d, slot)
        self.setToolTip(block_tooltip(d))

    def place(self, x: float, y: float) -> None:
        """Move to (x, y) unless already there (setPos is not free on a 600-item scene)."""
        if self._placed != (x, y):
            self._placed = (x, y)
            self.setPos(x, y)

    # -- geometry -------------------------------------------------------------
    def box_rect(self) -> QRectF:
        return QRectF(self._box)

    def slot_length(self) -> float:
        return self._slot.length

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.box_rect())
        return path

    # -- drawing --------------------------------------------------------------
    def paint(self, painter: QPainter, option, widget=None) -> None:
        d, g, slot = self._data, self._data.geom, self._slot
        t = g.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        ink = QPen(th.INK, t.line(1.6))
        painter.setPen(ink)
        painter.drawLine(g.pt(0, 0), g.pt(slot.length, 0))
        painter.setBrush(th.INK)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawPolygon(arrowhead(g.pt(slot.box_start, 0), g.pt(1, 0), g.s(7)))
        # the box
        box = self._box
        colour = th.KIND_COLORS[d.kind]
        border = QPen(th.ERROR if d.error else colour,
                      t.line(3.2 if d.error else (2.8 if self.hovered else 1.8)))
        if self.selected:
            painter.setPen(QPen(th.ACCENT, t.line(7)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(rounded(box.adjusted(-g.s(2), -g.s(2), g.s(2), g.s(2)), g.s(9)))
        painter.setPen(border)
        painter.setBrush(th.KIND_FILLS[d.kind])
        painter.drawPath(rounded(box, g.s(7)))
        text_box = QRectF(box)
        if d.kind.preactivation:
            text_box = self._paint_band(painter, box, colour)
        self._paint_text(painter, text_box)
        if slot.add is not None:
            self._paint_add(painter, slot.add)
        if slot.relu is not None:
            self._paint_relu(painter, slot.relu, slot.relu_cross)

    def _paint_band(self, painter: QPainter, box: QRectF, colour) -> QRectF:
        """The BN-ReLU band on the input side of a pre-activation box."""
        d, g = self._data, self._data.geom
        inset = g.s(2)
        if g.vertical:
            band = QRectF(box.left() + inset, box.top() + inset, box.width() - 2 * inset, g.band)
            rest = box.adjusted(0, g.band, 0, 0)
        else:
            band = QRectF(box.left() + inset, box.top() + inset, g.band, box.height() - 2 * inset)
            rest = box.adjusted(g.band, 0, 0, 0)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPath(rounded(band, g.s(5)))
        size = g.text(11)
        if g.vertical:
            draw_text(painter, band, "BN · ReLU first", size, th.BACKGROUND, bold=True)
        else:
            painter.save()
            painter.translate(band.center())
            painter.rotate(-90)
            draw_text(painter, QRectF(-band.height() / 2, -band.width() / 2, band.height(), band.width()),
                      "BN · ReLU", size, th.BACKGROUND, bold=True)
            painter.restore()
        return rest

    def _paint_text(self, painter: QPainter, rect: QRectF) -> None:
        d, g = self._data, self._data.geom
        pad = g.s(9)
        inner = rect.adjusted(pad, g.s(3), -pad, -g.s(3))
        top = QRectF(inner.left(), inner.top(), inner.width(), inner.height() / 2)
        bottom = QRectF(inner.left(), inner.center().y(), inner.width(), inner.height() / 2)
        stride = f"stride {d.stride}" if d.stride != 1 else ""
        title = block_title(d.kind, d.width)
        if g.compact:  # presenter: one line; the shapes are in the stage's header and the tooltip
            ink = th.ERROR if d.error else th.INK
            draw_text(painter, inner, ("⚠ " if d.error else "") + title, g.text(14.5), ink, bold=True,
                      align=Qt.AlignmentFlag.AlignLeft)
            if stride:
                draw_text(painter, inner, stride, g.text(12.5), th.KIND_COLORS[d.kind], bold=True,
                          align=Qt.AlignmentFlag.AlignRight)
            return
        draw_text(painter, top, title, g.text(14.5), th.INK, bold=True, align=Qt.AlignmentFlag.AlignLeft)
        if stride:
            draw_text(painter, top, stride, g.text(12.5), th.KIND_COLORS[d.kind], bold=True,
                      align=Qt.AlignmentFlag.AlignRight)
        if d.out_shape is None:
            shapes = "shapes unknown"
        elif d.in_shape != d.out_shape:  # the blocks that change the shape say so
            shapes = f"{d.in_shape} → {d.out_shape}"
        else:
            shapes = f"→ {d.out_shape}"
        if d.error:
            line, colour = "⚠ " + (shapes if d.out_shape else _short_error(d.error)), th.ERROR
        else:
            line, colour = shapes, th.INK if d.out_shape else th.MUTED
        draw_text(painter, bottom, line, g.text(13), colour, align=Qt.AlignmentFlag.AlignLeft)

    def _paint_add(self, painter: QPainter, u: float) -> None:
        g = self._data.geom
        r = g.add_radius
        c = g.pt(u, 0)
        painter.setPen(QPen(th.INK, g.theme.line(1.6)))
        painter.setBrush(th.BACKGROUND)
        painter.drawEllipse(c, r, r)
        k = r * 0.55
        painter.drawLine(QPointF(c.x() - k, c.y()), QPointF(c.x() + k, c.y()))
        painter.drawLine(QPointF(c.x(), c.y() - k), QPointF(c.x(), c.y() + k))

    def _paint_relu(self, painter: QPainter, u: float, cross: float = 0.0) -> None:
        g = self._data.geom
        w, h = g.relu_size
        c = g.pt(u, cross)
        if cross:  # beside the add: a short arrow from the sum into the ReLU
            painter.setPen(QPen(th.INK, g.theme.line(1.4)))
            start = g.pt(u, -g.add_radius)
            end = g.pt(u, cross + g.across(w, h) / 2)
            painter.drawLine(start, end)
        rect = QRectF(c.x() - w / 2, c.y() - h / 2, w, h)
        painter.setPen(QPen(th.INK, g.theme.line(1.2)))
        painter.setBrush(QBrush(th.NODE_FILL))
        painter.drawPath(rounded(rect, h / 2))
        draw_text(painter, rect, "ReLU", g.text(11.5), th.INK, bold=True)


def _short_error(message: str) -> str:
    """The part of an error worth reading inside a box (the location is the box itself)."""
    head = message.split(": ", 1)[-1]
    return head.split(":", 1)[0]


def block_tooltip(d: BlockData) -> str:
    lines = [f"<b>{d.kind.label} block</b> — {d.label}"]
    if d.in_shape is not None:
        lines.append(f"in {d.in_shape} → out {d.out_shape}")
    lines.append(f"width {d.width}, stride {d.stride}")
    if d.style == "none":
        lines.append("no shortcut (plain block)")
    else:
        lines.append(f"shortcut: {d.shortcut}, skip {'off' if d.style == 'off' else 'on'}")
    if d.params is not None:
        lines.append(f"parameters {d.params:,} · MACs {count(d.macs)}")
    if d.error:
        lines.append(f"<span style='color:{th.ERROR.name()}'>{d.error}</span>")
    lines.append("<i>drag to move; Delete removes it, Ctrl+D duplicates it</i>")
    return "<br>".join(lines)


SWITCH_LABELS = {"identity": "on", "projection": "1x1", "zero_pad": "0-pad", "off": "off"}


class ArcItem(QGraphicsItem):
    """A block's shortcut: leaves the spine before the box, rejoins at the addition.

    Half-way along it sits the skip's switch: a pill with a knob (at the flow's end and
    filled while the skip is on, at its start and hollow while it is off) and the
    shortcut's mark ("on", "1x1", "0-pad", "off"). Only the switch answers the mouse: a
    click on the canvas beside the line is a click on empty space (it deselects), never
    a toggle.
    """

    role = "arc"

    def __init__(self, parent: BlockItem):
        super().__init__(parent)
        self.hovered = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)  # the switch is the only part that takes clicks
        self._path = QPainterPath()
        self._mark = QRectF()
        self._bounds = QRectF()
        self._data: BlockData | None = None

    @property
    def block(self) -> BlockItem:
        return self.parentItem()

    @property
    def style(self) -> str:
        return self._data.style if self._data else "none"

    def switch_rect(self) -> QRectF:
        """The switch, in this item's coordinates (empty for a plain block)."""
        return QRectF(self._mark)

    def set_data(self, d: BlockData, slot) -> None:
        self.prepareGeometryChange()
        self._data = d
        self.setVisible(d.style != "none")
        if d.style == "none":
            self._path = QPainterPath()
            self._mark = QRectF()
            self._bounds = QRectF()
            return
        g = d.geom
        off, rc = g.arc_offset, g.s(12)
        end = slot.add + 0.0
        path = QPainterPath(g.pt(slot.split, 0))
        path.lineTo(g.pt(slot.split, off - rc))
        path.quadTo(g.pt(slot.split, off), g.pt(slot.split + rc, off))
        path.lineTo(g.pt(end - rc, off))
        path.quadTo(g.pt(end, off), g.pt(end, off - rc))
        path.lineTo(g.pt(end, g.add_radius + g.s(1)))
        self._path = path
        w, h = g.mark_size
        mid = g.pt((slot.split + end) / 2, off)
        self._mark = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
        pad = g.s(8)
        self._bounds = path.boundingRect().united(self._mark).adjusted(-pad, -pad, pad, pad)
        action = "switch this skip on" if d.style == "off" else "switch this skip off"
        self.setToolTip(f"<b>{STYLE_NAMES[d.style]}</b> — {d.label}<br>Click the switch to {action} "
                        "(Ctrl+Z undoes it)")

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._bounds

    def shape(self) -> QPainterPath:
        """The switch alone (a little larger than drawn), not the line."""
        path = QPainterPath()
        if self._data is not None and self._data.style != "none":
            m = self._data.geom.s(3)
            path.addRoundedRect(self._mark.adjusted(-m, -m, m, m), m * 2, m * 2)
        return path

    def hoverEnterEvent(self, event) -> None:  # noqa: N802
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self.hovered = False
        self.update()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        d = self._data
        if d is None or d.style == "none":
            return
        g, t = d.geom, d.geom.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = t.shortcut_pen(d.style, self.hovered)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        colour = pen.color()
        # the junction dot on the spine and the arrowhead into the addition
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        start = self._path.elementAt(0)
        painter.drawEllipse(QPointF(start.x, start.y), g.s(3.2), g.s(3.2))
        tip = self._path.currentPosition()
        painter.drawPolygon(arrowhead(tip, g.pt(0, -1), g.s(7)))
        self._paint_switch(painter, colour)

    def _paint_switch(self, painter: QPainter, colour) -> None:
        d = self._data
        g, t = d.geom, d.geom.theme
        mark = self._mark
        on = d.style != "off"
        radius = g.s(3) if d.style == "projection" else mark.height() / 2  # projection: a conv box
        painter.setPen(QPen(colour, t.line(2.4 if self.hovered else 1.3)))
        painter.setBrush(th.HOVER_FILL if self.hovered else th.BACKGROUND)
        painter.drawPath(rounded(mark, radius))
        knob_r = mark.height() / 2 - g.s(3.5)
        inset = g.s(3.5) + knob_r
        knob = QPointF(mark.right() - inset if on else mark.left() + inset, mark.center().y())
        if on:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
        else:
            painter.setPen(QPen(colour, t.line(1.3)))
            painter.setBrush(th.BACKGROUND)
        painter.drawEllipse(knob, knob_r, knob_r)
        room = 2 * inset
        text = QRectF(mark.left() + (g.s(4) if on else room), mark.top(),
                      mark.width() - room - g.s(4), mark.height())
        draw_text(painter, text, SWITCH_LABELS[d.style], g.text(11.5), colour, bold=True)
