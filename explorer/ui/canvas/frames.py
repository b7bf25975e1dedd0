"""The diagram's other items: stage frames, collapsed summaries, input/stem/head, spine, title.

Each item is told its scene rectangle by the scene's layout and what to show by a
small frozen data record; like the blocks, an item repaints only when either changes.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPen, QPolygonF, QTextOption
from PySide6.QtWidgets import QGraphicsItem

from ...spec import BlockKind
from .. import theme as th
from .layout import Geometry
from .paint import arrowhead, draw_text, font, rounded


class _RectItem(QGraphicsItem):
    """An item drawn inside a scene rectangle set by the layout."""

    role = ""

    def __init__(self):
        super().__init__()
        self._rect = QRectF()
        self._data = None
        self.selected = False

    def rect(self) -> QRectF:
        return QRectF(self._rect)

    def set_rect(self, rect: QRectF) -> None:
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = QRectF(rect)

    def set_data(self, data) -> bool:
        if data == self._data:
            return False
        self._data = data
        self._on_data(data)
        self.update()
        return True

    def _on_data(self, data) -> None:
        """Subclasses cache what they derive from their data here; the base caches nothing."""

    def set_selected(self, on: bool) -> None:
        if on != self.selected:
            self.selected = on
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        pad = 12.0
        return self._rect.adjusted(-pad, -pad, pad, pad)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self._rect)
        return path


@dataclass(frozen=True)
class StageData:
    stage: int
    title: str
    collapsed: bool
    has_error: bool
    geom: Geometry


class StageFrameItem(_RectItem):
    role = "stage"

    def __init__(self, data: StageData):
        super().__init__()
        self.setZValue(0)
        self.set_data(data)

    @property
    def stage(self) -> int:
        return self._data.stage

    @property
    def collapsed(self) -> bool:
        return self._data.collapsed

    @property
    def title(self) -> str:
        return self._data.title

    def _on_data(self, data: StageData) -> None:
        action = "expand" if data.collapsed else "collapse"
        self.setToolTip(f"<b>{data.title}</b><br>Click the chevron to {action} this stage; "
                        "drop a block kind here to add a block")

    def header_rect(self) -> QRectF:
        r = self._rect
        return QRectF(r.left(), r.top(), r.width(), self._data.geom.header)

    def chevron_rect(self) -> QRectF:
        h = self.header_rect()
        side = h.height()
        return QRectF(h.left() + self._data.geom.s(4), h.top(), side, side)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        d, g = self._data, self._data.geom
        t = g.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.selected:
            pen = QPen(th.ACCENT, t.line(5))
        elif d.has_error:
            pen = QPen(th.ERROR, t.line(2.4))
        else:
            pen = QPen(th.STAGE_BORDER, t.line(1.3))
        painter.setPen(pen)
        painter.setBrush(th.STAGE_FILL)
        painter.drawPath(rounded(self._rect, g.s(10)))
        header = self.header_rect()
        painter.setPen(QPen(th.STAGE_BORDER, t.line(1)))
        painter.drawLine(header.bottomLeft() + QPointF(g.s(8), 0), header.bottomRight() - QPointF(g.s(8), 0))
        chev = self.chevron_rect()
        c, k = chev.center(), chev.height() * 0.2
        if d.collapsed:  # pointing along the text: "there is more inside"
            tri = QPolygonF([QPointF(c.x() - k * 0.7, c.y() - k), QPointF(c.x() + k, c.y()),
                             QPointF(c.x() - k * 0.7, c.y() + k)])
        else:
            tri = QPolygonF([QPointF(c.x() - k, c.y() - k * 0.7), QPointF(c.x() + k, c.y() - k * 0.7),
                             QPointF(c.x(), c.y() + k)])
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(th.INK)
        painter.drawPolygon(tri)
        text = QRectF(chev.right() + g.s(2), header.top(), header.right() - chev.right() - g.s(12),
                      header.height())
        draw_text(painter, text, d.title, g.text(15), th.ERROR if d.has_error else th.INK, bold=True,
                  align=Qt.AlignmentFlag.AlignLeft)


@dataclass(frozen=True)
class SummaryData:
    stage: int
    count: int
    kind: BlockKind | None  # None: mixed kinds
    title: str
    shapes: str
    counts: str
    errors: int
    geom: Geometry


class SummaryItem(_RectItem):
    """A collapsed stage: one box standing for all its blocks (drawn as a stack of cards)."""

    role = "summary"

    def __init__(self, data: SummaryData):
        super().__init__()
        self.setZValue(2)
        self.set_data(data)

    @property
    def stage(self) -> int:
        return self._data.stage

    def _on_data(self, d: SummaryData) -> None:
        self.setToolTip(f"<b>{d.title}</b><br>{d.shapes}<br>{d.counts}<br>"
                        "Collapsed: click the chevron in the stage header (or double-click here) "
                        "to show every block")

    def paint(self, painter: QPainter, option, widget=None) -> None:
        d, g = self._data, self._data.geom
        t = g.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = th.KIND_COLORS.get(d.kind, th.NODE_BORDER)
        fill = th.KIND_FILLS.get(d.kind, th.NODE_FILL)
        step = g.s(5)
        box = self._rect.adjusted(0, 2 * step, -2 * step, 0)
        for i in (2, 1):  # the cards behind
            painter.setPen(QPen(colour, t.line(1.2)))
            painter.setBrush(fill.darker(100 + 6 * i))
            painter.drawPath(rounded(box.translated(i * step, -i * step), g.s(7)))
        if self.selected:
            painter.setPen(QPen(th.ACCENT, t.line(7)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(rounded(box.adjusted(-2, -2, 2, 2), g.s(9)))
        painter.setPen(QPen(th.ERROR if d.errors else colour, t.line(3.2 if d.errors else 1.8)))
        painter.setBrush(fill)
        painter.drawPath(rounded(box, g.s(7)))
        inner = box.adjusted(g.s(10), g.s(4), -g.s(10), -g.s(4))
        h = inner.height() / 3
        rows = [(d.title, 14.5, True, th.INK), (d.shapes, 13, False, th.INK),
                (d.counts, 12.5, False, th.ERROR if d.errors else th.MUTED)]
        for i, (text, size, bold, ink) in enumerate(rows):
            draw_text(painter, QRectF(inner.left(), inner.top() + i * h, inner.width(), h), text,
                      g.text(size), ink, bold=bold, align=Qt.AlignmentFlag.AlignLeft)


@dataclass(frozen=True)
class NodeData:
    part: str  # "input", "stem" or "head"
    title: str
    subtitle: str
    tooltip: str
    error: str | None
    geom: Geometry


class NodeItem(_RectItem):
    role = "node"

    def __init__(self, data: NodeData):
        super().__init__()
        self.setZValue(2)
        self.set_data(data)

    @property
    def part(self) -> str:
        return self._data.part

    def _on_data(self, d: NodeData) -> None:
        tip = d.tooltip + (f"<br><span style='color:{th.ERROR.name()}'>{d.error}</span>" if d.error else "")
        self.setToolTip(tip)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        d, g = self._data, self._data.geom
        t = g.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self._rect
        radius = r.height() / 2 if d.part == "input" else g.s(7)
        if self.selected:
            painter.setPen(QPen(th.ACCENT, t.line(7)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(rounded(r.adjusted(-2, -2, 2, 2), radius + 2))
        painter.setPen(QPen(th.ERROR if d.error else th.NODE_BORDER, t.line(3.2 if d.error else 1.6)))
        painter.setBrush(th.NODE_FILL)
        painter.drawPath(rounded(r, radius))
        inner = r.adjusted(g.s(10), g.s(3), -g.s(10), -g.s(3))
        if d.subtitle:
            top = QRectF(inner.left(), inner.top(), inner.width(), inner.height() / 2)
            bottom = top.translated(0, inner.height() / 2)
            draw_text(painter, top, d.title, g.text(14.5), th.INK, bold=True, align=Qt.AlignmentFlag.AlignLeft)
            draw_text(painter, bottom, d.subtitle, g.text(13), th.ERROR if d.error else th.INK,
                      align=Qt.AlignmentFlag.AlignLeft)
        else:
            draw_text(painter, inner, d.title, g.text(14), th.INK, bold=True)


class SpineItem(QGraphicsItem):
    """The data path between input, stem, stages and head: straight segments with arrowheads."""

    def __init__(self):
        super().__init__()
        self.setZValue(1)  # above the stage frames' fill, below the boxes
        self._segments: list[tuple] = []  # (start, end, with an arrowhead)
        self._geom: Geometry | None = None
        self._bounds = QRectF()

    def set_segments(self, segments: list[tuple], geom: Geometry) -> None:
        if segments == self._segments and geom == self._geom:
            return
        self.prepareGeometryChange()
        self._segments, self._geom = list(segments), geom
        bounds = QRectF()
        for a, b, _ in segments:
            bounds = bounds.united(QRectF(a, b).normalized())
        pad = geom.s(10)
        self._bounds = bounds.adjusted(-pad, -pad, pad, pad)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._bounds

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._geom is None:
            return
        g = self._geom
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for a, b, arrow in self._segments:
            painter.setPen(QPen(th.INK, g.theme.line(1.6)))
            painter.drawLine(a, b)
            if not arrow:
                continue
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(th.INK)
            painter.drawPolygon(arrowhead(b, g.pt(1, 0), g.s(8)))


class TextBlockItem(_RectItem):
    """The diagram's title, or the red banner naming what makes the design invalid."""

    role = "text"

    def __init__(self, banner: bool):
        super().__init__()
        self.banner = banner
        self.setZValue(3)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._data is None:
            return
        lines, geom = self._data
        t = geom.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self._rect
        if self.banner:
            painter.setPen(QPen(th.ERROR, t.line(2)))
            painter.setBrush(th.ERROR.lighter(190))
            painter.drawPath(rounded(r, geom.s(8)))
            r = r.adjusted(geom.s(12), geom.s(8), -geom.s(12), -geom.s(8))
        y = r.top()
        for i, (text, size, bold) in enumerate(lines):
            painter.setFont(font(geom.text(size), bold))
            painter.setPen(th.ERROR.darker(130) if self.banner else (th.INK if i == 0 else th.MUTED))
            option_ = QTextOption()
            option_.setWrapMode(QTextOption.WrapMode.WordWrap)
            height = text_height(text, geom.text(size), bold, r.width())
            painter.drawText(QRectF(r.left(), y, r.width(), height), text, option_)
            y += height + geom.s(2)


def text_height(text: str, pixel_size: float, bold: bool, width: float) -> float:
    from .paint import metrics
    m = metrics(pixel_size, bold)
    rect = m.boundingRect(QRectF(0, 0, width, 10_000), int(Qt.TextFlag.TextWordWrap), text)
    return rect.height()


class DropIndicatorItem(QGraphicsItem):
    """Where a dragged block or stage will land: a thick bar across the spine."""

    def __init__(self):
        super().__init__()
        self.setZValue(10)
        self._line = (QPointF(), QPointF())
        self._width = 6.0
        self.setVisible(False)

    def show_line(self, a: QPointF, b: QPointF, width: float) -> None:
        self.prepareGeometryChange()
        self._line, self._width = (a, b), width
        self.setVisible(True)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        a, b = self._line
        w = self._width
        return QRectF(a, b).normalized().adjusted(-w, -w, w, w)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(th.HOVER, self._width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawLine(*self._line)
