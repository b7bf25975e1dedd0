"""What a palette drag carries: a block kind or a new stage, under our own MIME type."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QMimeData

from ...spec import BlockKind

PART_MIME = "application/x-resnet-explorer-part"
STAGE_PART = "stage"


def part_mime(part: BlockKind | str) -> QMimeData:
    """Mime data for dragging a block kind (a ``BlockKind``) or ``"stage"``."""
    if isinstance(part, BlockKind):
        payload = f"block:{part.value}"
    elif part == STAGE_PART:
        payload = STAGE_PART
    else:
        raise ValueError(f"not a palette part: {part!r}")
    mime = QMimeData()
    mime.setData(PART_MIME, QByteArray(payload.encode("ascii")))
    return mime


def decode_part(mime: QMimeData | None) -> BlockKind | str | None:
    """The dragged part (a ``BlockKind`` or ``"stage"``), or None for anything else."""
    if mime is None or not mime.hasFormat(PART_MIME):
        return None
    text = bytes(mime.data(PART_MIME).data()).decode("ascii", errors="replace")
    if text == STAGE_PART:
        return STAGE_PART
    if text.startswith("block:"):
        try:
            return BlockKind(text.removeprefix("block:"))
        except ValueError:
            return None
    return None
