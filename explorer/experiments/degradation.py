"""The degradation experiment (He et al. 2016): deeper plain nets train worse, ResNets do not.

What to train: a plain net and a ResNet at each depth (20 and 56 by default), all on
the same data with the same recipe (SGD 0.1, momentum 0.9, weight decay 1e-4, cosine,
batch 128). What to look at: the *training* error. A deeper plain net that ends with
more training error than a shallower one is not overfitting (that would lower the
training error); it is harder to optimise. The residual nets are the control.

``conclude`` turns the final numbers into words, and says plainly when a run did not
show the effect and why (too short, stopped early, both nets fitted the data).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..train.api import RunRecord, TrainSettings
from .arms import Arm, parse_depths
from .degradation_words import Verdict, conclude, pct, points  # noqa: F401  (the experiment's words)
from .runner import ArmOutcome, ArmRunner

# The defaults are chosen so that a laptop CPU shows the effect in a few minutes. Measured
# on a shared 2-core CPU (final training error plain-20 / plain-56 / ResNet-20 / ResNet-56):
#   8x8, 10 epochs: 0.6 / 88 / 0.0 / 53%   (ResNet-56 still learning: "mixed")
#   8x8, 20 epochs: 0.0 / 79 / 0.0 / 5.4%  (ResNet-56 not caught up: "only the plain half")
#   8x8, 30 epochs, seeds 0, 1, 2: plain-56 67, 56, 63%; ResNet-56 0.1, 4.1, 3.0%; the 20s 0.0-0.1%
#     ("shown", "only the plain half", "mostly": the ResNet half is the one that needs epochs)
#   16x16, 20 epochs: 0.0 / 44 / 0.0 / 15% ("only the plain half"), at 3x the cost of 8x8
# 30 epochs at 8x8 take about 135 CPU-seconds (2 to 5 minutes of wall time there);
# bench/bench_experiment_gui.py measures it through the window.
DEFAULT_EPOCHS = 30
DEFAULT_DEPTHS = (20, 56)
DEFAULT_DATASET = "digits"
# digits are 8x8 drawings: at 8x8 the nets see every detail at 1/16 of the cost of 32x32
DEFAULT_IMAGE_SIZE = 8


@dataclass(frozen=True)
class DegradationSettings:
    epochs: int = DEFAULT_EPOCHS
    depths: tuple[int, ...] = DEFAULT_DEPTHS
    dataset: str = DEFAULT_DATASET
    image_size: int | None = DEFAULT_IMAGE_SIZE  # None: the nets' own 32x32
    device: str = "auto"
    seed: int = 0
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    augment: bool = False  # training error means error on the training images themselves
    train_size: int | None = None
    test_size: int | None = None
    metrics_every: int = 4

    def __post_init__(self):
        object.__setattr__(self, "depths", parse_depths(",".join(str(d) for d in self.depths)))

    def arms(self) -> list[Arm]:
        """plain then ResNet at each depth, shallow first: plain-20, plain-56, ResNet-20, ResNet-56."""
        return [Arm(kind, d) for kind in ("plain", "resnet") for d in self.depths]

    def input_shape(self) -> tuple[int, int, int] | None:
        return (3, self.image_size, self.image_size) if self.image_size else None

    def train_settings(self) -> TrainSettings:
        """The same recipe for every arm."""
        return TrainSettings(
            dataset=self.dataset, train_size=self.train_size, test_size=self.test_size, epochs=self.epochs,
            batch_size=self.batch_size, optimizer="sgd", lr=self.lr, momentum=self.momentum,
            weight_decay=self.weight_decay, schedule=self.schedule, augment=self.augment, seed=self.seed,
            device=self.device, metrics_every=self.metrics_every)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["depths"] = list(self.depths)
        return d


@dataclass
class ArmResult:
    """One arm's numbers: training and test error after each completed epoch."""

    arm: Arm
    train_errors: list[float] = field(default_factory=list)  # fractions, one per completed epoch
    test_errors: list[float] = field(default_factory=list)
    status: str = "finished"  # finished | stopped | failed | not started
    message: str = ""

    @property
    def label(self) -> str:
        return self.arm.label

    @property
    def epochs_done(self) -> int:
        return len(self.train_errors)

    @classmethod
    def from_record(cls, arm: Arm, record: RunRecord) -> "ArmResult":
        return cls(arm, [e.train_error for e in record.epochs], [e.test_error for e in record.epochs],
                   record.status, record.message)

    @classmethod
    def from_outcome(cls, arm: Arm, outcome: ArmOutcome) -> "ArmResult":
        if outcome.record is not None:
            return cls.from_record(arm, outcome.record)
        return cls(arm, status=outcome.status, message=outcome.error)

    def to_dict(self) -> dict:
        return {"arm": self.label, "kind": self.arm.kind, "depth": self.arm.depth, "status": self.status,
                "message": self.message, "train_error": list(self.train_errors),
                "test_error": list(self.test_errors)}


def results_from_outcomes(settings: DegradationSettings, outcomes: list[ArmOutcome]) -> list[ArmResult]:
    return [ArmResult.from_outcome(arm, outcome) for arm, outcome in zip(settings.arms(), outcomes)]


def degradation_runner(settings: DegradationSettings, thread_init=None) -> ArmRunner:
    """The arms of ``settings`` as an ``ArmRunner``; the data set is loaded once, off the caller's thread."""
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
        return Trainer(arms[i].spec(shape), train, control=control, data=data)

    return ArmRunner([a.label for a in arms], make_trainer, setup=setup, thread_init=thread_init)
