"""Weights files on disk: reading them without running code, and checking a state_dict key by key.

A weights file is a training checkpoint (a ``torch.save`` dict with at least ``"spec"``
and ``"model"``), a weights file from ``import-weights`` (``spec``, ``model``,
``source``), or a bare state_dict such as a torchvision ResNet file. ``check_state_dict``
names the first key that does not fit and both shapes, never a long PyTorch traceback.
Training (``--init-weights``), export and the experiments all read weights through here.

Two foreign layouts of a bare state_dict are translated on reading: a ``module.`` prefix
on every key (``nn.DataParallel``) is dropped, and the keys of the widely used PyTorch
CIFAR ResNet code (akamaster/pytorch_resnet_cifar10: ``linear.*`` head, ``shortcut.*``)
become ours. That code's option-A shortcuts pad the new channels on both sides, so its
networks need zero-pad shortcuts with ``PadPlacement.BOTH`` (``pads_both_sides``).
"""
from __future__ import annotations

import math
import os
import pickle
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

from ..spec import NetworkSpec, SpecError, fmt_shape
from ..spec.fileformat import from_dict
from ..spec.params import whole_number

# BatchNorm fills this counter in itself when a file lacks it (older torchvision files do).
_OPTIONAL_SUFFIX = ".num_batches_tracked"
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since PyTorch 1.6
_PICKLE_PROTO = b"\x80"  # the legacy format: a bare pickle


class WeightsError(ValueError):
    """A weights file or state_dict that cannot be loaded into the network."""


@dataclass
class WeightsFile:
    """A weights file as read: the state_dict, and the spec when the file carries one."""

    path: Path
    state_dict: dict
    spec: NetworkSpec | None  # None for a bare state_dict (torchvision files)
    extras: dict = field(default_factory=dict)  # a checkpoint's other entries (settings, normalisation...)
    notes: tuple[str, ...] = ()  # how a foreign state_dict's keys were translated, if they were
    pads_both_sides: bool = False  # from code whose zero-pad shortcuts split the new channels

    @property
    def kind(self) -> str:
        return "checkpoint" if self.spec is not None else "state_dict"


def _shape(value) -> str:
    return fmt_shape(tuple(value.shape)) if isinstance(value, torch.Tensor) and value.dim() else "a scalar"


def read_weights_file(path: str | os.PathLike) -> WeightsFile:
    """Read a trainer checkpoint or a bare state_dict file (CPU tensors, no code executed).
    ``path`` may also name weights fetched by ``python main.py get`` (``resnet50``) when no
    file of that name is here (``downloads.resolve_weights``)."""
    from ..downloads import resolve_weights

    try:
        path = Path(resolve_weights(path))
    except FileNotFoundError as err:
        raise WeightsError(str(err)) from None
    if not path.exists():
        raise WeightsError(f"no such file: {path}")
    if path.is_dir():
        raise WeightsError(f"{path} is a folder, not a weights file")
    if not path.is_file():  # a FIFO or a device: reading it would block or never end
        raise WeightsError(f"{path} is not a regular file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as err:
        raise WeightsError(f"cannot read {path}: {err.strerror or err}") from None
    if not head:
        raise WeightsError(f"{path.name} is empty")
    if not head.startswith(_ZIP_MAGIC) and head[:1] != _PICKLE_PROTO:
        raise WeightsError(f"{path.name} is not a PyTorch weights file (torch.save writes a zip archive; "
                           f"this file starts with {head!r})")
    try:
        # weights_only: a weights file must never run code when it is opened.
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "weights_only" in str(err) or "global" in str(err).lower():
            raise WeightsError(f"{path.name} holds Python objects, not just tensors (a whole pickled model?); "
                               f"save model.state_dict() instead") from None
        raise WeightsError(f"{path.name} is damaged ({_first_line(err)})") from None
    except (zipfile.BadZipFile, EOFError, UnicodeDecodeError) as err:
        raise WeightsError(f"{path.name} is damaged or truncated ({_first_line(err)})") from None
    except RuntimeError as err:
        if "zip" in str(err).lower() or "archive" in str(err).lower():
            raise WeightsError(f"{path.name} is damaged or truncated ({_first_line(err)})") from None
        raise WeightsError(f"{path.name} cannot be read as a PyTorch file: {_first_line(err)}") from None
    except OSError as err:
        raise WeightsError(f"cannot read {path}: {err.strerror or err}") from None
    if not isinstance(data, dict):
        raise WeightsError(f"{path.name} holds {type(data).__name__}, not a state_dict or checkpoint")
    spec = None
    if "model" in data and "spec" in data:
        try:
            spec = from_dict(data["spec"])
        except SpecError as err:
            raise WeightsError(f"{path.name}: the checkpoint's network description is unusable: {err}") from None
        state = data["model"]
    elif "state_dict" in data and isinstance(data["state_dict"], dict):
        state = data["state_dict"]  # a common wrapping of a bare state_dict
    else:
        state = data
    if not isinstance(state, dict) or not state:
        raise WeightsError(f"{path.name} holds no weights")
    bad = next((k for k, v in state.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)), None)
    if bad is not None:
        raise WeightsError(f"{path.name} is not a state_dict: entry {bad!r} is {type(state[bad]).__name__}, "
                           f"not a tensor")
    problem = nonfinite_problem(state)
    if problem:
        raise WeightsError(f"{path.name}: {problem}")
    extras = {k: v for k, v in data.items() if k != "model"} if spec is not None else {}
    if spec is not None and "normalisation" in extras:
        problem = normalisation_problem(extras["normalisation"], spec.input_shape[0])
        if problem:
            raise WeightsError(f"{path.name}: the checkpoint's normalisation {problem}")
    notes: list[str] = []
    pads_both_sides = False
    if spec is None:
        state, notes, pads_both_sides = translate_keys(state)
    return WeightsFile(path=path, state_dict=state, spec=spec, extras=extras, notes=tuple(notes),
                       pads_both_sides=pads_both_sides)


def nonfinite_problem(state: dict) -> str | None:
    """The first tensor of ``state`` holding NaN or infinite values, in words ("'layer1.0.conv1.weight'
    holds 12 NaN values"), or None. Weights like these would only show up as a NaN loss at step 1."""
    for key, value in state.items():
        if not isinstance(value, torch.Tensor) or not value.is_floating_point() or value.numel() == 0:
            continue
        finite = torch.isfinite(value)
        if bool(finite.all()):
            continue
        nan = int(torch.isnan(value).sum())
        inf = int((~finite).sum()) - nan
        parts = [f"{nan:,} NaN value{'s' if nan != 1 else ''}"] if nan else []
        parts += [f"{inf:,} infinite value{'s' if inf != 1 else ''}"] if inf else []
        return f"'{key}' holds {' and '.join(parts)} (of {value.numel():,}): these weights are unusable"
    return None


def normalisation_problem(value, channels: int) -> str | None:
    """What is wrong with a checkpoint's ``normalisation`` entry for a network of ``channels`` input
    channels (one finite mean and one finite std above 0 per channel), or None. Files written before
    the statistics were stored say ``{"kind": "data", "mean": [], "std": []}``, which is accepted."""
    if not isinstance(value, dict):
        return f"must be an object, not {type(value).__name__}"
    if value.get("kind") not in ("imagenet", "data"):
        return f"kind must be 'imagenet' or 'data', not {str(value.get('kind'))[:40]!r}"
    lists = {}
    for name in ("mean", "std"):
        v = value.get(name)
        if not isinstance(v, (list, tuple)) or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                       for x in v):
            return f"{name} must be a list of numbers"
        if not all(math.isfinite(x) for x in v):
            return f"{name} holds a value that is not a finite number ({', '.join(map(str, v))})"
        lists[name] = v
    mean, std = lists["mean"], lists["std"]
    if not mean and not std and value["kind"] == "data":
        return None
    if len(mean) != channels or len(std) != channels:
        return (f"has {len(mean)} means and {len(std)} stds, but the network takes {channels}-channel inputs "
                f"(one of each per channel)")
    if min(std) <= 0:
        return f"std must be above 0 for every channel, got {', '.join(map(str, std))}"
    return None


def is_weights_file(path: str) -> bool:
    """Whether ``path`` is a file that starts like a PyTorch weights file (a zip archive or a pickle),
    so that a command given it where a network goes can take the network the file carries."""
    try:
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return head.startswith(_ZIP_MAGIC) or head[:1] == _PICKLE_PROTO


_BLOCK_FIELDS = ("kind", "width", "stride", "shortcut", "stride_placement", "pad_placement")


def _shown_value(value) -> str:
    return str(getattr(value, "value", value))


def spec_difference(given: NetworkSpec, trained: NetworkSpec) -> str | None:
    """The first difference in layers between ``given`` and ``trained`` that weights cannot bridge, in
    words, or None. Names, skip switches, initialisation, the input's height and width and the head's
    class count are not layers: a checkpoint carries its own."""
    a, b = f"'{given.name}'", "the checkpoint's network"
    if given.input_shape[0] != trained.input_shape[0]:
        return f"{a} takes {given.input_shape[0]}-channel inputs, {b} {trained.input_shape[0]}-channel ones"
    if given.stem != trained.stem:
        return (f"the stem differs ({a}: {given.stem.kind.value}, width {given.stem.width}; {b}: "
                f"{trained.stem.kind.value}, width {trained.stem.width})")
    if given.norm != trained.norm:
        return f"{a} uses {given.norm.value} normalisation, {b} {trained.norm.value}"
    counts = [len(s.blocks) for s in given.stages], [len(s.blocks) for s in trained.stages]
    if counts[0] != counts[1]:
        return (f"{a} has {'-'.join(map(str, counts[0]))} blocks per stage, {b} "
                f"{'-'.join(map(str, counts[1]))}")
    for (si, bi, x), (_, _, y) in zip(given.iter_blocks(), trained.iter_blocks()):
        for name in _BLOCK_FIELDS:
            if getattr(x, name) != getattr(y, name):
                return (f"stage {si + 1}, block {bi + 1}: its {name.replace('_', ' ')} is "
                        f"{_shown_value(getattr(x, name))} in {a}, {_shown_value(getattr(y, name))} in {b}")
    if given.head.pre_norm != trained.head.pre_norm:
        return f"{a} {'has' if given.head.pre_norm else 'has no'} normalisation before its head, {b} the opposite"
    return None


def trained_network(weights: WeightsFile, given: NetworkSpec | None) -> tuple[NetworkSpec, str | None]:
    """The network to load ``weights`` into, and a note when it is not ``given`` as it was.

    A checkpoint carries the network it trained, and that is the one its weights belong to: with no
    ``given`` it is used; a ``given`` network with the same layers is used with the trained input size
    and head (a head fine-tuned to 2 classes, a net trained on 8x8 digits), its own name and skip
    switches kept. Layers that differ are refused, the first difference named. A bare state_dict says
    nothing of its network: ``given`` is needed, and used as it is."""
    name = weights.path.name
    trained = weights.spec
    if trained is None:
        if given is None:
            raise WeightsError(f"{name} is a bare state_dict: it does not say which network it belongs to; "
                               f"give the network (a preset name or a network file) too")
        return given, None
    if given is None:
        return trained, None
    difference = spec_difference(given, trained)
    if difference:
        raise WeightsError(f"{name} holds weights for '{trained.name}', whose layers differ from "
                           f"'{given.name}': {difference}; give the checkpoint alone to use its network")
    fitted = replace(given, input_shape=trained.input_shape, head=trained.head)
    changed = []
    if tuple(given.input_shape) != tuple(trained.input_shape):
        changed.append(f"{trained.input_shape[1]}x{trained.input_shape[2]} inputs "
                       f"('{given.name}' takes {given.input_shape[1]}x{given.input_shape[2]})")
    if given.head.num_classes != trained.head.num_classes:
        changed.append(f"a {trained.head.num_classes}-class head ('{given.name}' has "
                       f"{given.head.num_classes})")
    note = (f"{name} was trained as '{given.name}' with {' and '.join(changed)}: that is the network used"
            if changed else None)
    return fitted, note


CIFAR_REFERENCE = "the PyTorch CIFAR ResNet code (akamaster/pytorch_resnet_cifar10)"
_DATA_PARALLEL_PREFIX = "module."


def needs_import_first(weights: WeightsFile) -> str | None:
    """Why ``weights`` cannot be loaded into a network as it is, or None.

    Files of the PyTorch CIFAR ResNet code pad their zero-pad shortcuts on both sides;
    only ``import-weights`` gives the network that placement, so the other readers
    (training, gradient flow, the experiments) send the user there first.
    """
    if not weights.pads_both_sides:
        return None
    name = weights.path.name
    return (f"{name} comes from {CIFAR_REFERENCE}, whose zero-pad shortcuts put half the new channels before "
            f"the input's; import it first (import-weights NET {name} -o W.pt), then use W.pt with the "
            f"network file it writes")


def read_weights_to_load(path: str | os.PathLike) -> WeightsFile:
    """``read_weights_file`` for the readers that load the weights into a network as it is
    (training, gradient flow, the experiments): a file that must go through ``import-weights``
    first is refused with a ``WeightsError`` saying so (``needs_import_first``)."""
    weights = read_weights_file(path)
    problem = needs_import_first(weights)
    if problem:
        raise WeightsError(problem)
    return weights


def translate_keys(state: dict) -> tuple[dict, list[str], bool]:
    """Our key names for a foreign state_dict: ``(state, notes, pads_both_sides)``.

    A ``module.`` prefix on every key (``nn.DataParallel``) is dropped. The PyTorch CIFAR
    ResNet code's files (``linear.*`` instead of ``fc.*``; an option-B shortcut is
    ``shortcut.*``) are renamed; that code's option-A shortcut pads the new channels
    equally on both sides, so ``pads_both_sides`` is True for its files.
    """
    notes = []
    if state and all(k.startswith(_DATA_PARALLEL_PREFIX) for k in state):
        state = {k[len(_DATA_PARALLEL_PREFIX):]: v for k, v in state.items()}
        notes.append("dropped the 'module.' prefix that DataParallel puts on every key")
    cifar_reference = "linear.weight" in state and "fc.weight" not in state
    # its option-A nets have no shortcut weights; an option-B net ("shortcut.*" convs) pads nothing
    pads_both_sides = cifar_reference and not any(".shortcut." in k for k in state)
    if cifar_reference:
        renamed = {}
        for key, value in state.items():
            if key.startswith("linear."):
                key = "fc." + key[len("linear."):]
            parts = key.split(".")
            if len(parts) > 3 and parts[0].startswith("layer") and parts[2] == "shortcut":
                key = ".".join(parts[:2] + ["downsample"] + parts[3:])
            renamed[key] = value
        state = renamed
        notes.append(f"renamed the keys of {CIFAR_REFERENCE}: its 'linear' is our 'fc', its 'shortcut' our "
                     f"'downsample'")
    return state, notes, pads_both_sides


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    if not lines:
        return type(err).__name__
    return lines[0].split(". ")[0].rstrip(".")[:200]


def check_state_dict(model: nn.Module, state: dict, source: str = "the file",
                     ignore_prefix: str | None = None) -> None:
    """Raise ``WeightsError`` naming the first key of ``state`` that does not fit ``model``.

    Keys are checked in the model's order: a missing key or a shape difference is
    reported first, then keys the model does not have. Keys of the model starting with
    ``ignore_prefix`` (a classifier head to be replaced) are not required.
    """
    expected = model.state_dict()
    if ignore_prefix:
        expected = {k: v for k, v in expected.items() if not k.startswith(ignore_prefix)}
    for key, ref in expected.items():
        if key not in state:
            if key.endswith(_OPTIONAL_SUFFIX):
                continue
            raise WeightsError(f"{source} has no '{key}' (the network expects {_shape(ref)})"
                               + _hint(state, expected))
        got = state[key]
        if tuple(got.shape) != tuple(ref.shape):
            raise WeightsError(f"'{key}' is {_shape(got)} in {source}, but the network expects "
                               f"{_shape(ref)}" + _hint(state, expected))
        if not got.is_floating_point() and ref.is_floating_point():
            raise WeightsError(f"'{key}' in {source} holds {got.dtype}, not floating-point weights")
    extra = [k for k in state if k not in expected]
    if extra:
        key = extra[0]
        more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
        raise WeightsError(f"{source} has '{key}' ({_shape(state[key])}){more}, which the network does not have"
                           + _hint(state, expected))


def _layout(state: dict) -> tuple[tuple[int, ...], bool]:
    """Blocks per ``layerN`` and whether they are bottlenecks, read from state_dict keys."""
    counts: dict[int, set[int]] = {}
    bottleneck = False
    for key in state:
        parts = key.split(".")
        stage = whole_number(parts[0][5:]) if len(parts) > 2 and parts[0].startswith("layer") else None
        block = whole_number(parts[1]) if stage is not None else None
        if block is not None:  # ASCII digits only: a key 'layer¹.0...' is not stage 1
            counts.setdefault(stage, set()).add(block)
            bottleneck = bottleneck or parts[2] == "conv3"
    return tuple(len(counts[i]) for i in sorted(counts)), bottleneck


def _hint(state: dict, expected: dict) -> str:
    got, got_bottleneck = _layout(state)
    want, want_bottleneck = _layout(expected)
    if not got or (got, got_bottleneck) == (want, want_bottleneck):
        return ""
    from ..spec.presets import PRESETS
    kind = "bottleneck" if got_bottleneck else "basic"
    name = next((row.name for row in PRESETS.values()
                 if row.counts == got and row.kind.bottleneck == got_bottleneck and row.stem.value == "imagenet"),
                None)
    looks = f" ({name})" if name else ""
    return (f"; the file holds a {kind}-block network with {'-'.join(map(str, got))} blocks per stage{looks}, "
            f"the network has {'-'.join(map(str, want))}")
