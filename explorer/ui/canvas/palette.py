"""The palette of parts to drag onto the diagram, and the legend that explains the drawing.

Both draw their own swatches with the theme's colours (no icon theme needed), so a
block kind looks the same in the palette, the legend and the diagram.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QSizePolicy, QWidget

from ...spec import BlockKind
from .. import theme as th
from .mime import PART_MIME, STAGE_PART, part_mime
from .paint import draw_text, font, metrics, rounded

_PART_TIPS = {
    BlockKind.BASIC: "Two 3x3 convolutions, BN after each, ReLU after the addition "
                     "(ResNet-18/34 and the CIFAR nets).",
    BlockKind.BOTTLENECK: "1x1 to narrow, 3x3, 1x1 to widen four times; ReLU after the addition "
                          "(ResNet-50/101/152).",
    BlockKind.PREACT_BASIC: "BN and ReLU come before each convolution, so the shortcut path "
                            "stays a pure identity from block to block.",
    BlockKind.PREACT_BOTTLENECK: "The bottleneck with BN-ReLU first (PreAct ResNet-164/1001).",
    BlockKind.PLAIN: "The basic block's convolutions with no shortcut: the control in the "
                     "degradation experiment.",
}

PALETTE_LABELS = {
    BlockKind.BASIC: "Basic block",
    BlockKind.BOTTLENECK: "Bottleneck block",
    BlockKind.PREACT_BASIC: "Pre-act basic block",
    BlockKind.PREACT_BOTTLENECK: "Pre-act bottleneck",
    BlockKind.PLAIN: "Plain block",
}


def kind_swatch(kind: BlockKind | None, side: int) -> QPixmap:
    """A small picture of a block box (``None``: a stage frame) for lists and the legend."""
    pixmap = QPixmap(side * 2, side * 2)  # drawn at 2x so it stays crisp on high-DPI screens
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    box = QRectF(2, side * 0.18, side - 4, side * 0.64)
    if kind is None:
        painter.setPen(QPen(th.STAGE_BORDER.darker(130), 1.4))
        painter.setBrush(th.STAGE_FILL)
        painter.drawPath(rounded(QRectF(1.5, 1.5, side - 3, side - 3), 4))
        painter.setPen(QPen(th.INK, 1.2))
        painter.drawLine(QPointF(4, side * 0.3), QPointF(side - 4, side * 0.3))
        painter.setBrush(th.KIND_FILLS[BlockKind.BASIC])
        painter.setPen(QPen(th.KIND_COLORS[BlockKind.BASIC], 1.2))
        painter.drawPath(rounded(QRectF(side * 0.2, side * 0.42, side * 0.6, side * 0.4), 2))
    else:
        colour = th.KIND_COLORS[kind]
        painter.setPen(QPen(colour, 1.8))
        painter.setBrush(th.KIND_FILLS[kind])
        painter.drawPath(rounded(box, 3))
        if kind.preactivation:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRect(QRectF(box.left() + 1, box.top() + 1, box.width() - 2, box.height() * 0.3))
        if kind.bottleneck:  # the narrow waist
            painter.setPen(QPen(colour, 1.4))
            mid = box.center().x()
            painter.drawLine(QPointF(mid - side * 0.12, box.bottom() - 3), QPointF(mid + side * 0.12, box.bottom() - 3))
    painter.end()
    return pixmap


class PaletteWidget(QListWidget):
    """Draggable parts: every block kind and a new stage. Drags carry ``PART_MIME``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSpacing(2)
        self._presenter = False
        for kind in BlockKind:
            self._add(PALETTE_LABELS[kind], kind, f"<b>{th.KIND_NAMES[kind]}</b><br>{_PART_TIPS[kind]}"
                      "<br><i>Drag onto a stage to insert it there.</i>")
        self._add("New stage", STAGE_PART, "<b>Stage</b><br>A new stage with one block that keeps "
                  "the shape it receives.<br><i>Drag between two stages or after the last one.</i>")
        self.set_presenter(False)

    def _add(self, text: str, part, tip: str) -> None:
        item = QListWidgetItem(text)
        # Qt would store a str-enum as a plain str: keep the value and convert back in part_at.
        item.setData(Qt.ItemDataRole.UserRole, part.value if isinstance(part, BlockKind) else part)
        item.setToolTip(tip)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        self.addItem(item)

    def part_at(self, row: int):
        return _part(self.item(row))

    def row_of(self, part) -> int:
        for row in range(self.count()):
            if self.part_at(row) == part:
                return row
        raise KeyError(part)

    def set_presenter(self, on: bool) -> None:
        self._presenter = bool(on)
        scale = 1.45 if on else 1.0
        side = round(26 * scale)
        self.setFont(font(14 * scale))
        self.setIconSize(QSize(side, side))
        for row in range(self.count()):
            part = self.part_at(row)
            self.item(row).setIcon(QIcon(kind_swatch(None if part == STAGE_PART else part, side)))
        self.setMinimumWidth(round(210 * scale))

    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt's name
        return [PART_MIME]

    def mimeData(self, items):  # noqa: N802 - Qt's name
        if not items:
            return None
        return part_mime(_part(items[0]))

    def supportedDragActions(self):  # noqa: N802
        return Qt.DropAction.CopyAction


def _part(item: QListWidgetItem):
    value = item.data(Qt.ItemDataRole.UserRole)
    return STAGE_PART if value == STAGE_PART else BlockKind(value)


class LegendWidget(QWidget):
    """What the colours, arcs and marks in the diagram mean."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._scale = 1.0
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_presenter(self, on: bool) -> None:
        self._scale = 1.45 if on else 1.0
        self.updateGeometry()
        self.update()

    def _rows(self):
        rows = [("kind", kind, name) for kind, name, _ in th.LEGEND_KINDS]
        rows += [("arc", style, text) for style, text in th.SHORTCUT_STYLES]
        rows += [("band", None, "BN · ReLU band on top: pre-activation"),
                 ("relu", None, "ReLU after the ⊕: post-activation")]
        return rows

    def _row_height(self) -> float:
        return 24 * self._scale

    def sizeHint(self) -> QSize:  # noqa: N802
        m = metrics(13 * self._scale)
        width = max(m.horizontalAdvance(text) for _, _, text in self._rows()) + 60 * self._scale + 16
        return QSize(round(width), round(len(self._rows()) * self._row_height() + 12))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.sizeHint()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = self._scale
        theme = th.Theme(presenter=s > 1)
        h = self._row_height()
        sample_w = 48 * s
        y = 6.0
        for what, key, text in self._rows():
            sample = QRectF(8, y + 3 * s, sample_w, h - 6 * s)
            mid = sample.center().y()
            if what == "kind":
                painter.setPen(QPen(th.KIND_COLORS[key], 1.8 * s))
                painter.setBrush(th.KIND_FILLS[key])
                painter.drawPath(rounded(sample, 4 * s))
            elif what == "arc":
                pen = theme.shortcut_pen(key)
                painter.setPen(pen)
                painter.drawLine(QPointF(sample.left(), mid), QPointF(sample.right(), mid))
                if key != "identity":
                    label = {"projection": "1x1", "zero_pad": "0-pad", "off": "off"}[key]
                    mark = QRectF(sample.center().x() - 17 * s, sample.top(), 34 * s, sample.height())
                    painter.setPen(QPen(pen.color(), 1.2 * s))
                    painter.setBrush(th.BACKGROUND)
                    painter.drawPath(rounded(mark, 2 if key == "projection" else mark.height() / 2))
                    draw_text(painter, mark, label, 10 * s, pen.color(), bold=True)
            elif what == "band":
                painter.setPen(QPen(th.KIND_COLORS[BlockKind.PREACT_BASIC], 1.5 * s))
                painter.setBrush(th.KIND_FILLS[BlockKind.PREACT_BASIC])
                painter.drawPath(rounded(sample, 4 * s))
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(th.KIND_COLORS[BlockKind.PREACT_BASIC])
                painter.drawRect(QRectF(sample.left() + 1, sample.top() + 1, sample.width() - 2, sample.height() * 0.4))
            else:
                r = sample.height() / 2 - 1
                c = QPointF(sample.left() + r + 1, mid)
                painter.setPen(QPen(th.INK, 1.3 * s))
                painter.setBrush(th.BACKGROUND)
                painter.drawEllipse(c, r, r)
                painter.drawLine(QPointF(c.x() - r * 0.55, mid), QPointF(c.x() + r * 0.55, mid))
                painter.drawLine(QPointF(c.x(), mid - r * 0.55), QPointF(c.x(), mid + r * 0.55))
                pill = QRectF(c.x() + r + 3 * s, sample.top(), sample.right() - c.x() - r - 3 * s + 6 * s,
                              sample.height())
                painter.setBrush(th.NODE_FILL)
                painter.drawPath(rounded(pill, pill.height() / 2))
                draw_text(painter, pill, "ReLU", 8.5 * s, th.INK, bold=True)
            draw_text(painter, QRectF(sample.right() + 14 * s, y, self.width() - sample.right() - 16 * s, h),
                      text, 13 * s, th.INK, align=Qt.AlignmentFlag.AlignLeft)
            y += h
        painter.end()
