"""Where exported weights come from, and strict checks of weight files.

Three sources: a fresh, seeded build of the spec; a checkpoint written by the trainer
(a ``torch.save`` dict with at least ``"spec"`` and ``"model"``); or a bare state_dict,
such as a torchvision ResNet file or a finished run's weights handed over by the GUI.
Every state_dict is checked key by key before it is loaded (``nn/weights_file.py``), so
a wrong or damaged file ends in a ``WeightsError`` naming the first key that does not
fit and both shapes, never in a long PyTorch traceback. Files of the widely used PyTorch
CIFAR ResNet code are read too (``nn/weights_file.py`` translates their keys); their
zero-pad shortcuts split the new channels, which ``import_weights`` gives the network.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..nn import ResNet, build
from ..nn.weights_file import (CIFAR_REFERENCE, WeightsError, WeightsFile, _first_line,  # noqa: F401 - re-exported
                               check_state_dict, read_weights_file)
from ..spec import NetworkSpec, PadPlacement, ShortcutKind, analyse, with_pad_placement
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


def _zero_pads(spec: NetworkSpec) -> set[PadPlacement]:
    return {b.pad_placement for _, _, b in spec.iter_blocks() if b.shortcut is ShortcutKind.ZERO_PAD}


def _layout_difference(saved: NetworkSpec, spec: NetworkSpec) -> str | None:
    """What differs between two specs whose weights have the same keys, yet changes the outputs."""
    for (si, bi, a), (_, _, b) in zip(saved.iter_blocks(), spec.iter_blocks()):
        where = f"stage {si + 1}, block {bi + 1}"
        if a.pad_placement != b.pad_placement and ShortcutKind.ZERO_PAD in (a.shortcut, b.shortcut):
            return (f"its zero-pad shortcuts put the new channels at '{a.pad_placement.value}', "
                    f"this network's at '{b.pad_placement.value}' ({where})")
        if a.stride_placement != b.stride_placement and a.kind.bottleneck:
            return (f"its bottlenecks stride the {a.stride_placement.value}, this network's the "
                    f"{b.stride_placement.value} ({where})")
    return None


def load_weights_for(spec: NetworkSpec, path: str | os.PathLike) -> tuple[dict, str]:
    """The state_dict in ``path`` checked against ``spec``; returns it and a description.

    A trainer checkpoint must have been trained on a network with the same weight layout
    (skip switches may differ); a bare state_dict (torchvision's) is checked key by key.
    Weights that would load but compute something else (zero-pad or stride placement)
    are refused with the difference named.
    """
    state, label, _ = load_weights_with_note(spec, path)
    return state, label


def load_weights_with_note(spec: NetworkSpec, path: str | os.PathLike) -> tuple[dict, str, str | None]:
    """``load_weights_for`` plus how the weights expect their inputs normalised (saved by training;
    None when the file does not say)."""
    from ..train.finetune import input_note

    weights = read_weights_file(path)
    state = _checked_state(spec, weights, build(spec, seed=0))
    what = "checkpoint" if weights.spec is not None else "state_dict"
    return state, f"{what} {weights.path.name}", input_note(weights)


def _checked_state(spec: NetworkSpec, weights: WeightsFile, model: ResNet) -> dict:
    """``weights``' state_dict once it fits ``model`` (built from ``spec``), key by key and in layout."""
    name = weights.path.name
    if weights.spec is not None and weights.spec.with_skips(True) != spec.with_skips(True):
        try:
            check_state_dict(model, weights.state_dict, name)
        except WeightsError as err:
            raise WeightsError(f"{err} (the checkpoint was trained on '{weights.spec.name}', "
                               f"not on this network)") from None
        difference = _layout_difference(weights.spec, spec)
        if difference:
            raise WeightsError(f"{name} was made for '{weights.spec.name}', whose weights fit this network but "
                               f"compute something else: {difference}; use the network saved with it")
    check_state_dict(model, weights.state_dict, name)
    if weights.pads_both_sides and PadPlacement.END in _zero_pads(spec):
        raise WeightsError(f"{name} comes from {CIFAR_REFERENCE}, whose zero-pad shortcuts put half the new "
                           f"channels before the input's; {spec.name}'s append them all. Import it first "
                           f"(import-weights), which sets the placement")
    return weights.state_dict


@dataclass
class ImportedWeights:
    model: ResNet
    spec: NetworkSpec  # the network the weights belong to (the one asked for, possibly with a new pad placement)
    notes: list[str]


def import_weights(spec: NetworkSpec, path: str | os.PathLike) -> ImportedWeights:
    """``spec`` holding the weights of a state_dict file (torchvision's, DataParallel's, the PyTorch
    CIFAR ResNet code's) or a weights/checkpoint file, checked strictly key by key.

    Files of the PyTorch CIFAR ResNet code pad their option-A shortcuts on both sides; the
    returned spec's zero-pad shortcuts do the same, and ``notes`` says so.
    """
    weights = read_weights_file(path)
    notes = list(weights.notes)
    if weights.pads_both_sides and PadPlacement.END in _zero_pads(spec):
        spec = with_pad_placement(spec, PadPlacement.BOTH)
        notes.append(f"{spec.name}'s zero-pad shortcuts now split the new channels evenly before and after "
                     f"the input's (pad placement 'both'), as that code's do, so the outputs match it")
    model = build(spec, seed=0)
    load_state_dict_strict(model, _checked_state(spec, weights, model), weights.path.name)
    model.apply_spec_skips(spec)
    return ImportedWeights(model=model, spec=spec, notes=notes)


def import_torchvision_weights(spec: NetworkSpec, path: str | os.PathLike) -> ResNet:
    """A model of ``spec`` holding the weights of a torchvision-style state_dict file (strict)."""
    return import_weights(spec, path).model


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
