"""Where exported weights come from, and strict checks of weight files.

Three sources: a fresh, seeded build of the spec; a checkpoint written by the trainer
(a ``torch.save`` dict with at least ``"spec"`` and ``"model"``); or a bare state_dict,
such as a torchvision ResNet file or a finished run's weights handed over by the GUI.
Every state_dict is checked key by key before it is loaded (``nn/weights_file.py``), so
a wrong or damaged file ends in a ``WeightsError`` naming the first key that does not
fit and both shapes, never in a long PyTorch traceback.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import torch
from torch import nn

from ..nn import ResNet, build
from ..nn.weights_file import (WeightsError, WeightsFile, _first_line, check_state_dict,  # noqa: F401 - re-exported
                               read_weights_file)
from ..spec import NetworkSpec, analyse
from ..spec.atomic import atomic_write_bytes


def load_state_dict_strict(model: nn.Module, state: dict, source: str = "the file") -> None:
    """Check, then load with ``strict=True`` (the check gives the readable message)."""
    check_state_dict(model, state, source)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:  # a dtype PyTorch cannot copy, say
        raise WeightsError(f"{source} could not be loaded: {_first_line(err)}") from None


def prepare_model(spec: NetworkSpec, state_dict: dict | None = None, seed: int = 0,
                  source: str = "the weights") -> ResNet:
    """The model to export: ``spec`` built (fresh weights from ``seed`` or ``state_dict``), skips
    set as in the spec, in eval mode, float32 on the CPU."""
    info = analyse(spec)
    model = build(spec, info=info, seed=seed)
    if state_dict is not None:
        state = {k: (v.detach().to("cpu") if isinstance(v, torch.Tensor) else v) for k, v in state_dict.items()}
        load_state_dict_strict(model, state, source)
    model.apply_spec_skips(spec)
    model.float().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def load_weights_for(spec: NetworkSpec, path: str | os.PathLike) -> tuple[dict, str]:
    """The state_dict in ``path`` checked against ``spec``; returns it and a description.

    A trainer checkpoint must have been trained on a network with the same weight layout
    (skip switches may differ); a bare state_dict (torchvision's) is checked key by key.
    """
    state, label, _ = load_weights_with_note(spec, path)
    return state, label


def load_weights_with_note(spec: NetworkSpec, path: str | os.PathLike) -> tuple[dict, str, str | None]:
    """``load_weights_for`` plus how the weights expect their inputs normalised (saved by training;
    None when the file does not say)."""
    from ..train.finetune import input_note

    weights = read_weights_file(path)
    name = weights.path.name
    model = build(spec, seed=0)
    if weights.spec is not None and weights.spec.with_skips(True) != spec.with_skips(True):
        try:
            check_state_dict(model, weights.state_dict, name)
        except WeightsError as err:
            raise WeightsError(f"{err} (the checkpoint was trained on '{weights.spec.name}', "
                               f"not on this network)") from None
    check_state_dict(model, weights.state_dict, name)
    what = "checkpoint" if weights.spec is not None else "state_dict"
    return weights.state_dict, f"{what} {name}", input_note(weights)


def import_torchvision_weights(spec: NetworkSpec, path: str | os.PathLike) -> ResNet:
    """A model of ``spec`` holding the weights of a torchvision-style state_dict file (strict)."""
    state, _ = load_weights_for(spec, path)
    model = build(spec, seed=0)
    load_state_dict_strict(model, state, Path(path).name)
    model.apply_spec_skips(spec)
    return model


def save_weights(spec: NetworkSpec, state_dict: dict, path: str | os.PathLike, source: str = "") -> Path:
    """Write ``{"spec", "model", "source"}`` atomically: a weights file ``read_weights_file`` accepts.

    It has no optimizer state, so training can start from it but not resume a run.
    """
    from ..spec.fileformat import to_dict

    path = Path(path).expanduser()
    if path.suffix == "":
        path = path.with_suffix(".pt")
    buffer = io.BytesIO()  # serialised in memory, then one checked atomic write
    torch.save({"spec": to_dict(spec), "model": {k: v.detach().cpu() for k, v in state_dict.items()},
                "source": source}, buffer)
    try:
        atomic_write_bytes(path, buffer.getbuffer())
    except OSError as err:
        raise WeightsError(str(err)) from None
    return path
