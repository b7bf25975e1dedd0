"""Starting a run from pretrained weights: the weights file, the head, frozen layers, normalisation.

``--init-weights FILE`` takes any file ``import-weights`` reads: a torchvision-style
state_dict, a weights file written by ``import-weights``, or a training checkpoint
(only its weights; the optimizer starts fresh). Every key of the network except the
classifier head must be in the file with the same shape (the strict check of
``export/weights.py``, with its message). When the file's head has a different
number of outputs than the dataset has classes, the head is left out of the load and
keeps its fresh initialisation, and the run's notes say so.

``--freeze UPTO`` (``stem``, ``stage1`` ... ``stageN``) takes the stem and the stages
up to that one out of training: their parameters get no gradient and their BatchNorm
layers stay in eval mode (their running statistics stay those of the weights).

Normalisation follows the weights: torchvision's weights were trained on inputs
normalised with ImageNet's mean and std, so a run from them uses those; a run from
scratch uses the training split's own. A training checkpoint carries the
normalisation it was trained with. The choice is stored in every checkpoint
(``"normalisation"``), so evaluating or exporting the weights later can prepare
inputs the same way.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
from torch import nn

from .api import TrainingError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
NORMALISE_CHOICES = ("auto", "imagenet", "data")
HEAD_PREFIX = "fc."
HEAD_MODULES = ("avgpool", "flatten", "fc")  # the classifier head: never frozen by --freeze
TRUNK_END = ("final_bn", "final_relu")  # a pre-activation net's last normalisation: frozen with the last stage


@dataclass(frozen=True)
class Normalisation:
    """Inputs are ``(pixel / 255 - mean) / std`` per channel."""

    kind: str  # imagenet | data
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}

    @classmethod
    def from_dict(cls, data) -> "Normalisation | None":
        if not isinstance(data, dict) or data.get("kind") not in ("imagenet", "data"):
            return None
        try:
            mean = tuple(float(v) for v in data["mean"])
            std = tuple(float(v) for v in data["std"])
        except (KeyError, TypeError, ValueError):
            return None
        if not mean or len(mean) != len(std) or min(std) <= 0:
            return None
        return cls(data["kind"], mean, std)

    @classmethod
    def imagenet(cls) -> "Normalisation":
        return cls("imagenet", IMAGENET_MEAN, IMAGENET_STD)

    def describe(self) -> str:
        mean = ", ".join(f"{v:.3f}" for v in self.mean)
        std = ", ".join(f"{v:.3f}" for v in self.std)
        what = "ImageNet's" if self.kind == "imagenet" else "the training images' own"
        return f"{what} mean ({mean}) and std ({std})"


@dataclass
class InitWeights:
    """A weights file read for ``--init-weights``."""

    path: str
    state: dict
    origin: str  # "torchvision" (a bare state_dict), "imported" (import-weights), "checkpoint"
    normalisation: Normalisation | None = None  # what a training checkpoint was trained with
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def head_outputs(self) -> int | None:
        w = self.state.get(HEAD_PREFIX + "weight")
        return int(w.shape[0]) if isinstance(w, torch.Tensor) and w.dim() == 2 else None

    @property
    def from_torchvision(self) -> bool:
        return self.origin in ("torchvision", "imported")


def read_init_weights(path: str) -> InitWeights:
    """Read ``path`` (no code runs); ``TrainingError`` names what is wrong with it."""
    from ..nn.weights_file import WeightsError, read_weights_to_load

    try:
        weights = read_weights_to_load(path)  # refuses a zero-pad placement only import-weights sets
    except WeightsError as err:
        raise TrainingError(f"--init-weights: {err}") from None
    extras = weights.extras
    if weights.spec is None:
        origin, norm = "torchvision", None
    elif "source" in extras and "optimizer" not in extras:  # written by import-weights
        origin, norm = "imported", None
    else:
        origin, norm = "checkpoint", Normalisation.from_dict(extras.get("normalisation"))
        if norm is None:  # written before checkpoints said: those runs used the data's own statistics
            norm = Normalisation("data", (), ())
    return InitWeights(os.fspath(path), dict(weights.state_dict), origin, norm)


def input_note(weights) -> str | None:
    """How inputs must be normalised for the weights in ``weights`` (a ``WeightsFile``), for people;
    None when the file does not say."""
    extras = weights.extras
    if weights.spec is None:
        return ("inputs normalised as their training did; for torchvision's weights that is "
                + Normalisation.imagenet().describe())
    if "source" in extras and "optimizer" not in extras:
        return "inputs normalised with " + Normalisation.imagenet().describe() + " (torchvision's weights)"
    norm = Normalisation.from_dict(extras.get("normalisation"))
    return f"inputs normalised with {norm.describe()}, as in training" if norm is not None else None


def load_into(model: nn.Module, init: InitWeights) -> str | None:
    """Load ``init`` into ``model``: every key but the head strictly; the head too when its size
    matches. Returns a note when the head was replaced, else None. Raises ``TrainingError``."""
    from ..nn.weights_file import WeightsError, check_state_dict

    head = model.state_dict()[HEAD_PREFIX + "weight"]
    state = dict(init.state)
    file_head = state.get(HEAD_PREFIX + "weight")
    replace = (isinstance(file_head, torch.Tensor) and file_head.dim() == 2
               and tuple(file_head.shape) != tuple(head.shape) and file_head.shape[1] == head.shape[1])
    if replace:
        state = {k: v for k, v in state.items() if not k.startswith(HEAD_PREFIX)}
    try:
        check_state_dict(model, state, init.name, ignore_prefix=HEAD_PREFIX if replace else None)
    except WeightsError as err:
        raise TrainingError(f"--init-weights: {err}") from None
    missing, unexpected = model.load_state_dict(state, strict=False)
    left = [k for k in missing if not (replace and k.startswith(HEAD_PREFIX)) and not k.endswith("num_batches_tracked")]
    if left or unexpected:  # check_state_dict should have caught these; never train half-loaded
        raise TrainingError(f"--init-weights: {init.name} did not load completely ({(left + unexpected)[0]})")
    if not replace:
        return None
    return (f"{init.name} has a {file_head.shape[0]}-class head; replaced by a freshly initialised "
            f"{head.shape[0]}-class head for this dataset (every other weight comes from the file)")


def start_from(model: nn.Module, init: InitWeights | None, freeze_upto: str | None, num_stages: int,
               notes: list[str]) -> list[nn.Module]:
    """Load ``init`` (when given) and freeze up to ``freeze_upto``; adds what was done to ``notes``
    and returns the frozen modules (for ``keep_frozen_bn_in_eval``)."""
    if init is not None:
        replaced = load_into(model, init)
        what = {"torchvision": "a torchvision-style state_dict", "imported": "a weights file",
                "checkpoint": "a training checkpoint; its weights only, the optimizer starts fresh"}[init.origin]
        notes.append(f"started from {init.path} ({what})")
        if replaced:
            notes.append(replaced)
    frozen = frozen_modules(model, freeze_upto, num_stages)
    freeze(frozen)
    if frozen:
        trainable, total = count_trainable(model)
        what = (f"the whole trunk is frozen and only the head trains ({trainable:,} of {total:,} parameters): "
                f"linear probing" if is_linear_probe(freeze_upto, num_stages)
                else f"{trainable:,} of {total:,} parameters train")
        notes.append(f"frozen up to {freeze_upto.strip().lower()}: {what}; the frozen BatchNorm layers keep their "
                     f"running statistics")
    return frozen


# -- freezing ---------------------------------------------------------------------------

def freeze_choices(num_stages: int) -> list[str]:
    return ["stem"] + [f"stage{i}" for i in range(1, num_stages + 1)]


def frozen_modules(model: nn.Module, upto: str | None, num_stages: int) -> list[nn.Module]:
    """The top-level modules ``--freeze upto`` covers: the stem, then ``layer1`` .. ``layerK``."""
    if not upto:
        return []
    text = upto.strip().lower().replace(" ", "")
    choices = freeze_choices(num_stages)
    if text not in choices:
        raise TrainingError(f"--freeze {upto!r}: expected one of {', '.join(choices)} "
                            f"(the network has {num_stages} stages)")
    last = 0 if text == "stem" else int(text[5:])
    out = []
    for name, module in model.named_children():
        if name.startswith("layer"):
            if int(name[5:]) > last:
                break
        elif name in HEAD_MODULES or (name in TRUNK_END and last < num_stages):
            break  # the head always trains: freezing the whole trunk is linear probing
        out.append(module)
    return out


def is_linear_probe(upto: str | None, num_stages: int) -> bool:
    """``--freeze`` of the last stage: the whole trunk is frozen and only the head trains."""
    return bool(upto) and upto.strip().lower().replace(" ", "") == f"stage{num_stages}"


def freeze(modules: list[nn.Module]) -> None:
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(False)


def keep_frozen_bn_in_eval(modules: list[nn.Module]) -> None:
    """Call after every ``model.train()``: frozen BatchNorm layers keep their running statistics."""
    for m in modules:
        for sub in m.modules():
            if isinstance(sub, nn.modules.batchnorm._BatchNorm):
                sub.eval()


def count_trainable(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad), total


# -- normalisation ----------------------------------------------------------------------

def resolve_normalisation(choice: str, init: InitWeights | None, channels: int,
                          data_stats) -> tuple[Normalisation, str]:
    """The normalisation a run uses and why (for the run's notes; empty for a run from scratch).
    ``data_stats()`` gives the training split's (mean, std), asked for only when needed."""
    if choice not in NORMALISE_CHOICES:
        raise TrainingError(f"normalise {choice!r}: expected one of {', '.join(NORMALISE_CHOICES)}")

    def own() -> Normalisation:
        mean, std = data_stats()
        return Normalisation("data", tuple(float(v) for v in mean), tuple(float(v) for v in std))

    if choice == "auto":
        if init is None:
            return own(), ""
        if init.from_torchvision:
            choice, why = "imagenet", f"{init.name} holds torchvision-style weights, trained on ImageNet inputs"
        elif init.normalisation is not None and init.normalisation.kind == "imagenet":
            choice, why = "imagenet", f"{init.name} was trained with it"
        else:
            choice, why = "data", f"{init.name} was trained with its data's own statistics"
    else:
        why = "as asked"
    if choice == "imagenet":
        if channels != 3:
            raise TrainingError(f"ImageNet normalisation is for 3-channel (RGB) inputs; this network takes "
                                f"{channels}: use the data's own (--normalise data)")
        norm = Normalisation.imagenet()
    else:
        norm = own()
    return norm, f"inputs normalised with {norm.describe()} ({why})"


def run_normalisation(choice: str, init: InitWeights | None, resume: dict | None, channels: int, data,
                      notes: list[str]) -> Normalisation:
    """A run's normalisation: a resumed run's saved one, else ``resolve_normalisation``'s (noted)."""
    saved = Normalisation.from_dict(resume.get("normalisation")) if resume is not None else None
    if saved is not None:  # a resumed run goes on with the inputs it was trained on
        return saved
    if getattr(data, "streamed", False):
        stats = data.sample_stats
    else:
        from .datasets import channel_stats

        def stats():
            return channel_stats(data.x_train)
    norm, why = resolve_normalisation(choice, init, channels, stats)
    if why:
        notes.append(why)
    return norm
