"""Writing the whole diagram to a PNG (at twice its size, for slides) or an SVG file."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, QRectF, QSize
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene

from ...spec.atomic import atomic_path
from .. import theme as th

PNG_SCALE = 2.0
MARGIN = 24.0


def export_scene(scene: QGraphicsScene, path, title: str = "network") -> Path:
    """Render every item of ``scene`` (not just what a view shows) to ``path``.

    The suffix picks the format. The file is written next to its destination and
    moved into place, so a failed export never leaves half a file behind.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ValueError(f"cannot export the diagram as '{path.suffix or path.name}': "
                         "choose a file name ending in .png or .svg")
    content = getattr(scene, "content_rect", None) or scene.itemsBoundingRect()
    source = content.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
    with atomic_path(path) as tmp:  # a unique temporary name, renamed into place when written
        if suffix == ".svg":
            _write_svg(scene, source, str(tmp), title)
        else:
            _write_png(scene, source, str(tmp))
    return path


def _render(scene: QGraphicsScene, painter: QPainter, target: QRectF, source: QRectF) -> None:
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    painter.fillRect(target, th.BACKGROUND)
    scene.render(painter, target, source)


def _write_png(scene: QGraphicsScene, source: QRectF, filename: str) -> None:
    size = QSize(max(1, round(source.width() * PNG_SCALE)), max(1, round(source.height() * PNG_SCALE)))
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(th.BACKGROUND)
    painter = QPainter(image)
    try:
        _render(scene, painter, QRectF(0, 0, size.width(), size.height()), source)
    finally:
        painter.end()
    if not image.save(filename, "PNG"):
        raise OSError(f"could not write the PNG image {filename}")


def _write_svg(scene: QGraphicsScene, source: QRectF, filename: str, title: str) -> None:
    from PySide6.QtSvg import QSvgGenerator  # only exports need it

    size = QSize(max(1, round(source.width())), max(1, round(source.height())))
    generator = QSvgGenerator()
    generator.setFileName(filename)
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    generator.setDescription("Block diagram exported from ResNet Explorer")
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"could not write the SVG image {filename}")
    try:
        _render(scene, painter, QRectF(0, 0, size.width(), size.height()), source)
    finally:
        painter.end()
