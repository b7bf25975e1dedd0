"""torch.export (``.pt2``): an ExportedProgram whose batch dimension is dynamic.

Height and width are fixed to the example input's (the program is specialised to
them); the skip switches are plain Python booleans during export, so a switched-off
block has no addition in the program.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch
from torch import nn

from ..spec.atomic import write_new

MAX_BATCH = 1 << 16


def write_pt2(model: nn.Module, path: Path, example: torch.Tensor) -> list[str]:
    # An example batch of 1 would make torch.export specialise the batch size to 1.
    if example.shape[0] < 2:
        example = example.expand(2, *example.shape[1:]).contiguous()
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        program = torch.export.export(model, (example,), dynamic_shapes=({0: batch},))
        buffer = io.BytesIO()  # a checked write instead of torch's writer, which aborts on a full disk
        torch.export.save(program, buffer)
    write_new(path, buffer.getbuffer())
    c, h, w = example.shape[1:]
    return [f"exported with torch.export; batch size is dynamic, input fixed at {c}x{h}x{w}"]
