"""TorchScript (``.pt``): scripted, or traced when scripting fails (with the reason kept).

The skip switches are baked in: each block's ``skip`` becomes a TorchScript constant,
so the compiler drops the addition of a switched-off block and the saved graph has no
shortcut there. Tracing bakes them in the same way, since it records only what ran.
"""
from __future__ import annotations

import copy
import io
import warnings
from pathlib import Path

import torch
from torch import nn

from ..nn import ResidualBlock
from ..spec.atomic import write_new

JIT_DEPRECATION_NOTE = ("torch.jit (TorchScript) is deprecated in PyTorch 2.13 and may go away in a later "
                        "release. The file works today with torch.jit.load; for new deployments prefer "
                        "torch.export (.pt2) or ONNX.")

# Attributes that decide which code a block's forward runs; as constants they fold away.
_SWITCHES = ("skip", "has_shortcut", "project_preactivated")
_baked_classes: dict[type, type] = {}


def _baked_class(cls: type) -> type:
    """A subclass of ``cls`` whose switch attributes are TorchScript constants."""
    if cls not in _baked_classes:
        _baked_classes[cls] = type(cls.__name__, (cls,), {
            "__constants__": list(_SWITCHES),
            "__module__": cls.__module__,
            "__doc__": cls.__doc__,
        })
    return _baked_classes[cls]


def bake_skips(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in which every block's current skip state is a compile-time constant."""
    baked = copy.deepcopy(model)
    for module in baked.modules():
        if isinstance(module, ResidualBlock):
            for name in _SWITCHES:
                if not hasattr(module, name):
                    setattr(module, name, False)
            module.__class__ = _baked_class(type(module))
    return baked.eval()


def write_torchscript(model: nn.Module, path: Path, example: torch.Tensor, method: str = "auto") -> list[str]:
    """Save ``model`` as TorchScript; returns notes for the user (how it was made, the deprecation)."""
    notes = []
    scripted = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit's own deprecation, reported below
        warnings.simplefilter("ignore", FutureWarning)
        if method in ("auto", "script"):
            try:
                scripted = torch.jit.script(bake_skips(model))
                notes.append("scripted with torch.jit.script")
            except Exception as err:  # noqa: BLE001 - any compiler failure means: fall back to tracing
                if method == "script":
                    raise
                reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
                notes.append(f"traced with torch.jit.trace, because scripting failed: {reason}")
        if scripted is None:
            if method == "trace" and not notes:
                notes.append("traced with torch.jit.trace")
            with torch.no_grad():
                scripted = torch.jit.trace(copy.deepcopy(model).eval(), (example,), check_trace=False)
        # into memory first: torch.jit.save aborts the whole process from C++ when the disk is
        # full; a checked write turns that into an error naming the file
        buffer = io.BytesIO()
        torch.jit.save(scripted, buffer)
    write_new(path, buffer.getbuffer())
    notes.append(JIT_DEPRECATION_NOTE)
    return notes
