"""Checkpoint files: one ``torch.save`` dict, written atomically, read without unpickling code,
and checked field by field once when read (``validate_checkpoint``).

Keys: ``format``, ``version``, ``spec`` (``fileformat.to_dict``), ``model`` (state_dict),
``optimizer``, ``scheduler``, ``step`` (steps done), ``epoch`` (epochs done),
``batch_in_epoch``, ``epoch_sums`` (the running sums of the epoch in progress),
``settings`` (``TrainSettings.to_dict``), ``rng`` (torch CPU/CUDA and augmentation
generator states), ``metrics`` (per-step losses and lrs, per-epoch rows so far),
``name`` and ``notes``.

Version 2: each block's parameters are in torchvision's order (branch, then
``downsample``). Version 1 listed a block's shortcut parameters first; the optimizer
state of a version-1 file is indexed in that order and is renumbered on reading
(``upgrade_optimizer_state``), so old runs resume exactly.
"""
from __future__ import annotations

import io
import os

import torch

from ..spec import NetworkSpec, SpecError
from ..spec.atomic import atomic_write_bytes
from ..spec.fileformat import from_dict
from .api import EpochMetrics, TrainingError, TrainSettings

FORMAT = "resnet-explorer-checkpoint"
VERSION = 2
REQUIRED = ("spec", "model", "optimizer", "scheduler", "step", "epoch", "settings")


def write_checkpoint(path: str | os.PathLike, payload: dict) -> None:
    """Save atomically: a crash mid-write leaves the previous checkpoint intact.

    The dict is serialised into memory first and written with one checked write, so a
    full disk ends in ``WriteError`` (an ``OSError`` naming the file and the reason),
    never in an error from inside torch's writer or a half-written file.
    """
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getbuffer())


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Load and check a checkpoint; ``TrainingError`` names what is wrong (the first field)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise TrainingError(f"checkpoint {path} does not exist")
    if not os.path.isfile(path):
        raise TrainingError(f"checkpoint {path} is not a regular file")
    try:
        # weights_only: opening a checkpoint never runs code from it
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for a damaged or foreign file
        lines = str(err).strip().splitlines()
        raise TrainingError(f"cannot read checkpoint {path}: {lines[0] if lines else type(err).__name__}") from None
    validate_checkpoint(data, path)
    return data


def validate_checkpoint(data, path: str = "checkpoint") -> None:
    """Check the structure of a loaded checkpoint once, so that nothing deeper trips over a
    field of the wrong type; raises ``TrainingError`` naming the first bad field."""
    if not isinstance(data, dict):
        raise TrainingError(f"{path} is not a training checkpoint (expected a dict)")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise TrainingError(f"{path} is not a training checkpoint of this app: missing {', '.join(missing)}")

    def bad(field: str, what: str):
        raise TrainingError(f"{path}: checkpoint field '{field}' {what}")

    if "format" in data and data["format"] != FORMAT:
        bad("format", f"is {_short(data['format'])}, not {FORMAT!r}")
    if "version" in data and (not _is_int(data["version"]) or data["version"] > VERSION):
        bad("version", f"is {_short(data['version'])}; this app reads version {VERSION}")
    for key in ("step", "epoch", "batch_in_epoch", "total_steps"):
        if key in data and not (_is_int(data[key]) and 0 <= data[key] < 2 ** 62):
            bad(key, f"must be a whole number of at least 0, not {_short(data[key])}")
    if not isinstance(data["spec"], dict):
        bad("spec", f"must be a network description (an object), not {type(data['spec']).__name__}")
    try:
        from_dict(data["spec"])
    except SpecError as err:
        bad("spec", f"is not a usable network: {err}")
    _check_state(data["model"], bad)
    if "normalisation" in data:  # checked against the stored network's input channels at every read
        from ..nn.weights_file import normalisation_problem

        problem = normalisation_problem(data["normalisation"], from_dict(data["spec"]).input_shape[0])
        if problem:
            bad("normalisation", problem)
    _check_optimizer(data["optimizer"], bad)
    _check_scheduler(data["scheduler"], bad)
    _check_settings(data["settings"], bad)
    if "epoch_sums" in data:
        sums = data["epoch_sums"]
        if not (isinstance(sums, (list, tuple)) and len(sums) == 4 and all(_is_number(v) for v in sums)):
            bad("epoch_sums", "must list four numbers")
    if "rng" in data:
        rng = data["rng"]
        if not isinstance(rng, dict) or any(not (isinstance(v, torch.Tensor) and v.dtype == torch.uint8)
                                            for v in rng.values()):
            bad("rng", "must map names to random-generator states (byte tensors)")
    if "name" in data and not isinstance(data["name"], str):
        bad("name", f"must be text, not {type(data['name']).__name__}")
    if "notes" in data and not (isinstance(data["notes"], list) and all(isinstance(n, str) for n in data["notes"])):
        bad("notes", "must be a list of texts")
    if "metrics" in data:
        _check_metrics(data["metrics"], bad)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_state(state, bad) -> None:
    if not isinstance(state, dict) or not state:
        bad("model", "must be a non-empty state_dict (names to tensors)")
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            bad("model", f"entry {_short(key)} is {type(value).__name__}, not a tensor")
        if not value.is_floating_point() and not key.endswith("num_batches_tracked"):
            bad("model", f"entry '{key}' holds {value.dtype}, not floating-point weights")
    from ..nn.weights_file import nonfinite_problem

    problem = nonfinite_problem(state)
    if problem:
        bad("model", problem)


def _check_optimizer(opt, bad) -> None:
    if not isinstance(opt, dict) or not isinstance(opt.get("state"), dict) \
            or not isinstance(opt.get("param_groups"), list):
        bad("optimizer", "must be an optimizer state (an object with 'state' and 'param_groups')")
    for i, group in enumerate(opt["param_groups"]):
        if not isinstance(group, dict) or not isinstance(group.get("params"), list) \
                or not all(_is_int(p) for p in group["params"]):
            bad("optimizer", f"param_groups[{i}] must be an object listing parameter numbers")
        for key, value in group.items():
            if key in ("lr", "momentum", "weight_decay", "initial_lr") and not _is_number(value):
                bad("optimizer", f"param_groups[{i}].{key} must be a number, not {_short(value)}")
    for key, value in opt["state"].items():
        if not _is_int(key) or not isinstance(value, dict) \
                or not all(v is None or isinstance(v, (torch.Tensor, int, float)) for v in value.values()):
            bad("optimizer", f"state entry {_short(key)} is malformed")


# Loading a scheduler's state sets each entry as an attribute: typed where known; anything else
# must be plain data, and no entry may replace one of the scheduler's methods or its optimizer
_SCHEDULER_FIELDS = {"base_lrs": "numbers", "_last_lr": "numbers", "last_epoch": "int", "_step_count": "int",
                     "_is_initial": "bool", "_get_lr_called_within_step": "bool", "lr_lambdas": "lambdas",
                     "total_steps": "int", "verbose": "bool"}


def _plain(value, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if depth < 4 and isinstance(value, (list, tuple)):
        return all(_plain(v, depth + 1) for v in value)
    if depth < 4 and isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


def _scheduler_methods() -> set[str]:
    names = {"optimizer"}
    for cls in (torch.optim.lr_scheduler.LambdaLR, torch.optim.lr_scheduler.OneCycleLR,
                torch.optim.lr_scheduler.MultiStepLR, torch.optim.lr_scheduler.CosineAnnealingLR):
        names.update(n for n in dir(cls) if callable(getattr(cls, n, None)))
    return names


def _check_scheduler(state, bad) -> None:
    if not isinstance(state, dict):
        bad("scheduler", f"must be an object, not {type(state).__name__}")
    methods = _scheduler_methods()
    checks = {"numbers": lambda v: isinstance(v, list) and all(_is_number(x) for x in v),
              "int": _is_int, "bool": lambda v: isinstance(v, bool),
              "lambdas": lambda v: isinstance(v, list) and all(x is None or isinstance(x, dict) for x in v)}
    for key, value in state.items():
        if not isinstance(key, str) or key in methods or key.startswith("__"):
            bad("scheduler", f"has the entry {_short(key)}, which is not scheduler state")
        kind = _SCHEDULER_FIELDS.get(key)
        if not (checks[kind](value) if kind else _plain(value)):
            bad(f"scheduler.{key}", f"has the wrong type ({_short(value)})")


def _check_settings(settings, bad) -> None:
    if not isinstance(settings, dict):
        bad("settings", f"must be an object, not {type(settings).__name__}")
    defaults = TrainSettings()
    for name, value in settings.items():
        if name not in TrainSettings.__dataclass_fields__:
            continue  # settings of a newer version are ignored
        default = getattr(defaults, name)
        where = f"settings.{name}"
        if name == "milestones":
            ok = isinstance(value, (list, tuple)) and all(_is_number(v) for v in value)
        elif name in ("train_size", "test_size", "max_steps"):
            ok = value is None or _is_int(value)
        elif isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = _is_int(value)
        elif isinstance(default, float):
            ok = _is_number(value)
        elif isinstance(default, str):
            ok = isinstance(value, str)
        else:
            ok = True
        if not ok:
            bad(where, f"has the wrong type ({_short(value)})")


def _check_metrics(metrics, bad) -> None:
    if not isinstance(metrics, dict):
        bad("metrics", f"must be an object, not {type(metrics).__name__}")
    for key in ("steps", "losses", "lrs"):
        values = metrics.get(key, [])
        if not isinstance(values, list) or not all(_is_number(v) for v in values):
            bad(f"metrics.{key}", "must be a list of numbers")
    epochs = metrics.get("epochs", [])
    if not isinstance(epochs, list):
        bad("metrics.epochs", "must be a list")
    names = set(EpochMetrics.__dataclass_fields__)
    for i, row in enumerate(epochs):
        if not isinstance(row, dict) or set(row) != names or not all(_is_number(v) for v in row.values()):
            bad(f"metrics.epochs[{i}]", f"must be an object with the numbers {', '.join(sorted(names))}")


def checkpoint_spec(data: dict, path: str = "checkpoint") -> NetworkSpec:
    try:
        return from_dict(data["spec"])
    except SpecError as err:
        raise TrainingError(f"{path}: the network stored in the checkpoint is invalid: {err}") from None


def checkpoint_settings(data: dict) -> TrainSettings:
    try:
        return TrainSettings.from_dict(data["settings"])
    except (TypeError, ValueError) as err:
        raise TrainingError(f"the checkpoint's settings are unusable: {err}") from None


def v1_parameter_order(model) -> list[str]:
    """The model's parameter names in the order version 1 of the app registered them:
    within each residual block, the shortcut's (``downsample``) before the branch's."""
    names = [name for name, _ in model.named_parameters()]
    blocks = [f"{name}." for name in model.block_names()]
    order: list[str] = []
    done: set[str] = set()
    for name in names:
        if name in done:
            continue
        block = next((b for b in blocks if name.startswith(b)), None)
        if block is None:
            order.append(name)
            continue
        members = [n for n in names if n.startswith(block)]
        shortcut = [n for n in members if n.startswith(f"{block}downsample.")]
        order += shortcut + [n for n in members if n not in shortcut]
        done.update(members)
    return order


def upgrade_optimizer_state(model, optimizer_state: dict, version: int) -> dict:
    """The optimizer state of a checkpoint of ``version``, indexed in this model's parameter order."""
    if version >= 2:
        return optimizer_state
    names = [name for name, _ in model.named_parameters()]
    groups = optimizer_state.get("param_groups", [])
    if len(groups) != 1 or list(groups[0].get("params", [])) != list(range(len(names))):
        return optimizer_state  # not one group over every parameter: not ours; loading will say so
    new_index = {name: i for i, name in enumerate(names)}
    old_names = v1_parameter_order(model)
    state = {new_index[old_names[int(i)]]: value for i, value in optimizer_state.get("state", {}).items()}
    return {**optimizer_state, "state": state}


def check_optimizer_shapes(model, optimizer, where: str) -> None:
    """After loading a saved optimizer state: each state tensor has its parameter's shape (a
    wrong one would fail only at the first step, deep inside the optimizer)."""
    for name, param in model.named_parameters():
        for key, value in optimizer.state.get(param, {}).items():
            if isinstance(value, torch.Tensor) and value.dim() and value.shape != param.shape:
                raise TrainingError(f"{where}: optimizer state '{key}' of {name} is "
                                    f"{'x'.join(map(str, value.shape))}, but the parameter is "
                                    f"{'x'.join(map(str, param.shape))}")
