"""Small drawing helpers shared by the diagram items (fonts, text, arrowheads, counts)."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPolygonF

from ..theme import scaled_font


@lru_cache(maxsize=64)
def font(pixel_size: float, bold: bool = False, italic: bool = False) -> QFont:
    return scaled_font(pixel_size, bold=bold, italic=italic)


@lru_cache(maxsize=64)
def metrics(pixel_size: float, bold: bool = False) -> QFontMetricsF:
    return QFontMetricsF(font(pixel_size, bold))


def text_width(text: str, pixel_size: float, bold: bool = False) -> float:
    return metrics(pixel_size, bold).horizontalAdvance(text)


def draw_text(painter: QPainter, rect: QRectF, text: str, pixel_size: float, colour: QColor,
              bold: bool = False, align=Qt.AlignmentFlag.AlignCenter, italic: bool = False) -> None:
    """One line of text in ``rect``, elided at the right if it does not fit."""
    f = font(pixel_size, bold, italic)
    painter.setFont(f)
    painter.setPen(colour)
    shown = metrics(pixel_size, bold).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
    painter.drawText(rect, int(align | Qt.AlignmentFlag.AlignVCenter), shown)


def arrowhead(tip: QPointF, direction: QPointF, size: float) -> QPolygonF:
    """A filled triangle with its point at ``tip``, pointing along unit vector ``direction``."""
    dx, dy = direction.x(), direction.y()
    back = QPointF(tip.x() - dx * size, tip.y() - dy * size)
    half = size * 0.55
    left = QPointF(back.x() - dy * half, back.y() + dx * half)
    right = QPointF(back.x() + dy * half, back.y() - dx * half)
    return QPolygonF([tip, left, right])


def rounded(rect: QRectF, radius: float) -> QPainterPath:
    path = QPainterPath()
    path.addRoundedRect(rect, radius, radius)
    return path


def count(n: int | None) -> str:
    """A parameter or MAC count the way people say it: 4,672 / 27.4K / 1.23M / 4.09G."""
    if n is None:
        return "?"
    if n < 10_000:
        return f"{n:,}"
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if n >= div:
            value = n / div
            return f"{value:.3g}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return str(n)  # pragma: no cover - covered by the first branch
