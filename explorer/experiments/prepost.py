"""Pre-activation against post-activation (He et al. 2016, "Identity Mappings in Deep Residual Networks").

The lesson's claim: with BN and ReLU moved before the convolutions, nothing acts on the
sum after the addition, the shortcut path is a pure identity from the first block to the
last, and deep nets train better. The experiment trains the post-activation CIFAR ResNet
and its pre-activation twin (``arms.cifar_net("preact", depth)``: the same depth, widths,
shortcuts and parameter count) side by side, one step each in turn, with one recipe. It
records each net's training curves and measures its gradient profile (``analysis.gradflow``:
the loss gradient's norm at each block's input, on a fixed batch of training images) at
initialisation and at the end. ``prepost_words`` says which trained lower and how the
gradient spread differs, and says so when the run shows no difference.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..spec import SpecError
from ..train.api import EpochMetrics, TrainSettings
from ..train.recipes import RECIPES
from ..spec.params import check_number
from .arms import BLOCKS, MAX_DEPTH, Arm, default_block, valid_depth
from .degradation import error_list
from .runner import ArmRunner

# Measured on a shared, loaded 2-core CPU with one torch thread (digits at 8x8): 110 layers,
#   10 epochs, seed 0: 244 s wall (load average 19), 41 CPU-s; training error ResNet-110 77.2%,
#     pre-act 0.07% (below 1% from epoch 6);
#   15 epochs, seeds 0 and 1: 183 and 266 s wall, 55 and 58 CPU-s; ResNet-110 21.6% and 72.6%,
#     pre-act 0.0% both. The gap is open from epoch 2 on, so 10 epochs show it with room to spare.
DEFAULT_DEPTH = 110
DEFAULT_EPOCHS = 10
DEFAULT_DATASET = "digits"
DEFAULT_IMAGE_SIZE = 8
PROBE_IMAGES = 64  # training images in the fixed batch the gradient profiles are measured on

# The words' thresholds (fitted, within, chance, spread) are prepost_words' and verdict's.


@dataclass(frozen=True)
class PrePostSettings:
    depth: int = DEFAULT_DEPTH
    epochs: int = DEFAULT_EPOCHS
    dataset: str = DEFAULT_DATASET
    image_size: int | None = DEFAULT_IMAGE_SIZE  # None: the nets' own 32x32
    device: str = "auto"
    seed: int = 0
    # the paper recipe's optimiser (train/recipes.py), for DEFAULT_EPOCHS instead of its 30
    batch_size: int = RECIPES["paper"].settings["batch_size"]
    optimizer: str = RECIPES["paper"].settings["optimizer"]
    lr: float = RECIPES["paper"].settings["lr"]
    momentum: float = RECIPES["paper"].settings["momentum"]
    weight_decay: float = RECIPES["paper"].settings["weight_decay"]
    schedule: str = RECIPES["paper"].settings["schedule"]
    warmup_epochs: float = RECIPES["paper"].settings["warmup_epochs"]
    warmup_until: float = 0.0  # the paper's ResNet-110 warm-up: lr / 10 until training error < this (0: none)
    block: str = "auto"  # auto (the paper's block for the depth) | basic | bottleneck
    augment: bool = False  # the question is how well each net fits its training set
    train_size: int | None = None
    test_size: int | None = None
    metrics_every: int = 4
    recipe: str = ""  # the recipe the optimiser settings came from (train/recipes.py); "" for these defaults

    def __post_init__(self):
        if self.block not in ("auto",) + BLOCKS:
            raise SpecError(f"block {self.block!r}: expected auto, basic or bottleneck", where="prepost")
        check_number(self.depth, "depth", 8, MAX_DEPTH, integer=True, where="prepost")  # spec.params
        if not valid_depth(self.depth, self.blocks):
            raise SpecError(f"depth {self.depth} is not {'9n+2' if self.blocks == 'bottleneck' else '6n+2'} with "
                            f"n >= 1 for {self.blocks} blocks; try 20, 32, 44, 56 or 110 (basic) or 164 or 1001 "
                            "(bottleneck)", where="prepost")
        if self.epochs < 1:
            raise SpecError(f"epochs must be at least 1, got {self.epochs}", where="prepost")
        if not 0 <= self.warmup_until <= 1:
            raise SpecError(f"warm-up until: a training error between 0 and 1, got {self.warmup_until}",
                            where="prepost")

    @property
    def blocks(self) -> str:
        """The block both nets are built of ("auto": the paper's for this depth)."""
        return default_block(self.depth) if self.block == "auto" else self.block

    def arms(self) -> list[Arm]:
        """The post-activation ResNet, then its pre-activation twin."""
        return [Arm("resnet", self.depth, self.blocks), Arm("preact", self.depth, self.blocks)]

    def input_shape(self) -> tuple[int, int, int] | None:
        return (3, self.image_size, self.image_size) if self.image_size else None

    def train_settings(self) -> TrainSettings:
        return TrainSettings(
            dataset=self.dataset, train_size=self.train_size, test_size=self.test_size, epochs=self.epochs,
            batch_size=self.batch_size, optimizer=self.optimizer, lr=self.lr, momentum=self.momentum,
            weight_decay=self.weight_decay, schedule=self.schedule, warmup_epochs=self.warmup_epochs,
            warmup_until=self.warmup_until,
            augment=self.augment, seed=self.seed, device=self.device, metrics_every=self.metrics_every)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GradientProfile:
    """An arm's per-block input-gradient norms at ``when`` ("init" or "end")."""

    when: str
    labels: list[str]
    norms: np.ndarray
    loss: float

    @property
    def spread(self) -> float:
        """Largest block norm over the smallest (inf when one is 0, nan when there are none)."""
        if len(self.norms) == 0:
            return float("nan")
        lo, hi = float(np.min(self.norms)), float(np.max(self.norms))
        return hi / lo if lo > 0 else float("inf")

    @property
    def first_to_last(self) -> float:
        if len(self.norms) == 0 or self.norms[-1] == 0:
            return float("nan")
        return float(self.norms[0] / self.norms[-1])

    def to_dict(self) -> dict:
        return {"when": self.when, "loss": _f(self.loss), "spread": _f(self.spread),
                "first_to_last": _f(self.first_to_last),
                "blocks": [{"label": lab, "norm": _f(n)} for lab, n in zip(self.labels, self.norms)]}

    @classmethod
    def from_dict(cls, d: dict | None) -> "GradientProfile | None":
        """A saved profile (``to_dict``); a norm saved as null (not finite) reads back as NaN."""
        if d is None:
            return None
        norms = [math.nan if b["norm"] is None else float(b["norm"]) for b in d["blocks"]]
        return cls(d["when"], [str(b["label"]) for b in d["blocks"]], np.asarray(norms, dtype=np.float64),
                   math.nan if d.get("loss") is None else float(d["loss"]))


def _f(x: float):
    x = float(x)
    return x if math.isfinite(x) else None


class ProbedTrainer:
    """A ``Trainer`` that measures its gradient profile before the first step and after the last.

    ``ArmRunner`` drives it like a trainer (``prepare``, then ``steps`` one step at a time);
    the two profiles reach the event sink as ``GradientProfile`` events around the trainer's
    own events: the first with the first step, the last with the step that ends the run.
    """

    def __init__(self, trainer):
        self.trainer = trainer
        self.batch = None
        self.init_profile: GradientProfile | None = None
        self.end_profile: GradientProfile | None = None

    def __getattr__(self, name):  # model, spec, settings, save_checkpoint, ... of the trainer
        trainer = self.__dict__.get("trainer")
        if trainer is None:
            raise AttributeError(name)
        return getattr(trainer, name)

    def prepare(self) -> None:
        self.trainer.prepare()
        if self.batch is None:
            source = self.trainer.source
            n = min(PROBE_IMAGES, source.train_size)
            self.batch = source.prepare(source.x_train[:n], source.y_train[:n], train=False)
            self.init_profile = self._profile("init")

    def _profile(self, when: str) -> GradientProfile:
        from ..analysis.gradflow import probe
        x, y = self.batch
        result = probe(self.trainer.model, x, y, weights=False)
        return GradientProfile(when, list(result.labels), np.asarray(result.block_norms, dtype=np.float64),
                               result.loss)

    def steps(self, on_event=None):
        """``Trainer.steps`` with the profiles around it; returns the trainer's record."""
        sink = on_event or (lambda event: None)
        self.prepare()
        sink(self.init_profile)
        record = yield from self.trainer.steps(sink)
        if self.trainer.model is not None and record.status != "failed":
            self.end_profile = self._profile("end")
            sink(self.end_profile)
        return record

    def run(self, on_event=None):
        from ..train.trainer import drive

        return drive(self.steps(on_event))


def prepost_runner(settings: PrePostSettings, thread_init=None) -> ArmRunner:
    """The two arms as an ``ArmRunner`` of ``ProbedTrainer``s; the data set is loaded once."""
    from ..train.datasets import load_dataset
    from ..train.trainer import Trainer

    arms = settings.arms()
    train = settings.train_settings()
    shape = settings.input_shape()

    def setup():
        h, w = shape[1:] if shape else arms[0].spec().input_shape[1:]
        return load_dataset(settings.dataset, train_size=settings.train_size, test_size=settings.test_size,
                            image_size=(h, w))

    def make_trainer(i: int, control, data):
        return ProbedTrainer(Trainer(arms[i].spec(shape), train, control=control, data=data))

    return ArmRunner([a.label for a in arms], make_trainer, setup=setup, thread_init=thread_init)


# -- results ----------------------------------------------------------------------------

@dataclass
class PrePostArm:
    arm: Arm
    train_loss: list[float] = field(default_factory=list)  # one per completed epoch
    train_error: list[float] = field(default_factory=list)
    test_error: list[float] = field(default_factory=list)
    init: GradientProfile | None = None
    end: GradientProfile | None = None
    status: str = "finished"
    message: str = ""
    classes: int = 10  # the data set's classes: chance is ln(classes) of loss, 1 - 1/classes of error

    @property
    def label(self) -> str:
        return self.arm.label

    @property
    def epochs_done(self) -> int:
        return len(self.train_error)

    def add(self, event) -> None:
        """Take one event of this arm's run (epoch metrics and gradient profiles; others are ignored)."""
        if isinstance(event, EpochMetrics):
            self.train_loss.append(event.train_loss)
            self.train_error.append(event.train_error)
            self.test_error.append(event.test_error)
        elif isinstance(event, GradientProfile):
            setattr(self, event.when, event)

    def to_dict(self) -> dict:
        return {"arm": self.label, "kind": self.arm.kind, "depth": self.arm.depth, "block": self.arm.block,
                "status": self.status, "message": self.message, "classes": self.classes,
                "train_loss": list(self.train_loss),
                "train_error": list(self.train_error), "test_error": list(self.test_error),
                "gradient_init": self.init.to_dict() if self.init else None,
                "gradient_end": self.end.to_dict() if self.end else None}

    @classmethod
    def from_dict(cls, d: dict) -> "PrePostArm":
        if d["kind"] not in ("resnet", "preact"):
            raise ValueError(f"an arm of kind {d['kind']!r}, not resnet or preact")
        classes = int(d.get("classes", 10))
        if classes < 2:
            raise ValueError(f"{classes} classes")
        return cls(Arm(d["kind"], int(d["depth"]), d.get("block", "basic")), [float(v) for v in d["train_loss"]],
                   error_list(d["train_error"], "training error"), error_list(d.get("test_error", []), "test error"),
                   GradientProfile.from_dict(d.get("gradient_init")), GradientProfile.from_dict(d.get("gradient_end")),
                   d.get("status", "finished"), d.get("message", ""), classes)


def results_from_runner(settings: PrePostSettings, runner: ArmRunner) -> list[PrePostArm]:
    """Each arm's numbers from its trainer's record and the profiles its ``ProbedTrainer`` measured."""
    out = []
    for i, arm in enumerate(settings.arms()):
        result = PrePostArm(arm)
        outcome = runner.outcomes[i]
        if outcome.record is not None:
            for e in outcome.record.epochs:
                result.add(e)
            result.status, result.message = outcome.record.status, outcome.record.message
        else:
            result.status, result.message = outcome.status, outcome.error
        if i < len(runner.trainers):
            result.init = runner.trainers[i].init_profile
            result.end = runner.trainers[i].end_profile
            result.classes = runner.trainers[i].spec.head.num_classes  # the data's (the trainer fits the head)
        out.append(result)
    return out


def result_table(settings: PrePostSettings, results: list[PrePostArm], seconds: float, cpu_seconds: float) -> dict:
    """The ``--json`` result without its words: what ``verdict_from_result`` reads back."""
    return {"experiment": "prepost", "settings": settings.to_dict(), "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu_seconds, 1), "arms": [r.to_dict() for r in results]}


def verdict_from_result(d: dict):
    """The words of a saved ``--json`` result (``experiment report``), from its table alone."""
    from .prepost_words import prepost_words

    s = d["settings"]
    return prepost_words([PrePostArm.from_dict(a) for a in d["arms"]], int(s["epochs"]), float(s["lr"]),
                         float(s.get("warmup_until") or 0.0))
