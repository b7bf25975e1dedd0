"""The block-diagram editor: the canvas view, its palette of parts and its legend."""
from .mime import PART_MIME, STAGE_PART, decode_part, part_mime
from .palette import LegendWidget, PaletteWidget
from .view import DiagramView

__all__ = ["DiagramView", "PaletteWidget", "LegendWidget", "PART_MIME", "STAGE_PART", "part_mime",
           "decode_part"]
