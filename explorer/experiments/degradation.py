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

from ..spec import SpecError
from ..train.api import RunRecord, TrainSettings
from ..train.recipes import RECIPES, for_experiment
from .arms import Arm, parse_depths
from .degradation_words import conclude  # noqa: F401  (the experiment's words)
from .verdict import Verdict, pct, points  # noqa: F401
from .runner import ArmOutcome, ArmRunner

# The defaults are the "paper" recipe of train/recipes.py (the optimiser, its 30 epochs and
# the depths 20 and 56), on digits at 8x8. They are chosen so that a laptop CPU shows the
# effect in a few minutes. Measured
# on a shared 2-core CPU (final training error plain-20 / plain-56 / ResNet-20 / ResNet-56):
#   8x8, 10 epochs: 0.6 / 88 / 0.0 / 53%   (ResNet-56 still learning: "mixed")
#   8x8, 20 epochs: 0.0 / 79 / 0.0 / 5.4%  (ResNet-56 not caught up: "only the plain half")
#   8x8, 30 epochs, seeds 0, 1, 2: plain-56 67, 56, 63%; ResNet-56 0.1, 4.1, 3.0%; the 20s 0.0-0.1%
#     ("shown", "only the plain half", "mostly": the ResNet half is the one that needs epochs)
#   16x16, 20 epochs: 0.0 / 44 / 0.0 / 15% ("only the plain half"), at 3x the cost of 8x8
# 30 epochs at 8x8 take about 135 CPU-seconds (2 to 5 minutes of wall time there);
# bench/bench_experiment_gui.py measures it through the window.
PAPER = RECIPES["paper"].settings
DEFAULT_EPOCHS = PAPER["epochs"]
DEFAULT_DEPTHS = RECIPES["paper"].depths
DEFAULT_DATASET = "digits"
# digits are 8x8 drawings: at 8x8 the nets see every detail at 1/16 of the cost of 32x32
DEFAULT_IMAGE_SIZE = 8



def optimiser_text(s) -> str:
    """An experiment's optimiser in one line: 'SGD lr 0.1 momentum 0.9 wd 0.0001 cosine, batch 128'."""
    opt = "AdamW" if s.optimizer == "adamw" else "SGD"
    momentum = f" momentum {s.momentum:g}" if s.optimizer == "sgd" else ""
    warmup = f", warm-up {s.warmup_epochs:g} epochs" if s.warmup_epochs else ""
    return f"{opt} lr {s.lr:g}{momentum} wd {s.weight_decay:g} {s.schedule}{warmup}, batch {s.batch_size}"


@dataclass(frozen=True)
class DegradationSettings:
    epochs: int = DEFAULT_EPOCHS
    depths: tuple[int, ...] = DEFAULT_DEPTHS
    dataset: str = DEFAULT_DATASET
    image_size: int | None = DEFAULT_IMAGE_SIZE  # None: the nets' own 32x32
    device: str = "auto"
    seed: int = 0
    batch_size: int = PAPER["batch_size"]  # the optimiser: the paper recipe's unless a recipe is applied
    optimizer: str = PAPER["optimizer"]
    lr: float = PAPER["lr"]
    momentum: float = PAPER["momentum"]
    weight_decay: float = PAPER["weight_decay"]
    schedule: str = PAPER["schedule"]
    warmup_epochs: float = PAPER["warmup_epochs"]
    augment: bool = False  # training error means error on the training images themselves
    train_size: int | None = None
    test_size: int | None = None
    metrics_every: int = 4
    recipe: str = "paper"  # the recipe the optimiser settings came from (train/recipes.py)

    def __post_init__(self):
        object.__setattr__(self, "depths", parse_depths(",".join(str(d) for d in self.depths)))

    def arms(self) -> list[Arm]:
        """plain then ResNet at each depth, shallow first: plain-20, plain-56, ResNet-20, ResNet-56."""
        return [Arm(kind, d) for kind in ("plain", "resnet") for d in self.depths]

    def runs(self) -> list[tuple[Arm, int]]:
        """Every network to train, with its seed: here each arm once, with ``seed``."""
        return [(arm, self.seed) for arm in self.arms()]

    def with_recipe(self, name: str, depths: bool = True):
        """These settings with the optimiser and epochs of the recipe ``name``, and (``depths``) its
        depths where it names some (``train/recipes.py``)."""
        from ..train.api import TrainingError

        try:
            return for_experiment(name, self, depths=depths)
        except TrainingError as err:
            raise SpecError(str(err), where="experiment") from None

    def recipe_text(self) -> str:
        """The recipe as it is, in one line."""
        return optimiser_text(self)

    def input_shape(self) -> tuple[int, int, int] | None:
        return (3, self.image_size, self.image_size) if self.image_size else None

    def train_settings(self, seed: int | None = None) -> TrainSettings:
        """The same recipe for every arm (``seed``: this run's seed, default ``self.seed``)."""
        seed = self.seed if seed is None else seed
        return TrainSettings(
            dataset=self.dataset, train_size=self.train_size, test_size=self.test_size, epochs=self.epochs,
            batch_size=self.batch_size, optimizer=self.optimizer, lr=self.lr, momentum=self.momentum,
            weight_decay=self.weight_decay, schedule=self.schedule, warmup_epochs=self.warmup_epochs,
            augment=self.augment, seed=seed, device=self.device, metrics_every=self.metrics_every)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["depths"] = list(self.depths)
        return d


@dataclass
class ArmResult:
    """One trained network's numbers after each completed epoch."""

    arm: Arm
    train_errors: list[float] = field(default_factory=list)  # fractions, one per completed epoch
    test_errors: list[float] = field(default_factory=list)
    status: str = "finished"  # finished | stopped | failed | not started
    message: str = ""
    seed: int = 0
    train_losses: list[float] = field(default_factory=list)  # mean training loss of each epoch
    test_losses: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.arm.label

    @property
    def epochs_done(self) -> int:
        return len(self.train_errors)

    @classmethod
    def from_record(cls, arm: Arm, record: RunRecord, seed: int = 0) -> "ArmResult":
        e = record.epochs
        return cls(arm, [m.train_error for m in e], [m.test_error for m in e], record.status, record.message,
                   seed, [m.train_loss for m in e], [m.test_loss for m in e])

    @classmethod
    def from_outcome(cls, arm: Arm, outcome: ArmOutcome, seed: int = 0) -> "ArmResult":
        if outcome.record is not None:
            return cls.from_record(arm, outcome.record, seed)
        return cls(arm, status=outcome.status, message=outcome.error, seed=seed)

    def to_dict(self) -> dict:
        last = (lambda xs: xs[-1] if xs else None)
        test = last(self.test_errors)
        return {"arm": self.label, "kind": self.arm.kind, "depth": self.arm.depth, "seed": self.seed,
                "status": self.status, "message": self.message, "epochs_done": self.epochs_done,
                "final_train_error": last(self.train_errors), "final_test_error": test,
                "final_test_accuracy": None if test is None else 1.0 - test,
                "train_error": list(self.train_errors), "test_error": list(self.test_errors),
                "train_loss": list(self.train_losses), "test_loss": list(self.test_losses)}

    @classmethod
    def from_dict(cls, d: dict) -> "ArmResult":
        if d["kind"] not in ("plain", "resnet"):
            raise ValueError(f"an arm of kind {d['kind']!r}, not plain or resnet")
        return cls(Arm(d["kind"], int(d["depth"])), error_list(d.get("train_error", []), "training error"),
                   error_list(d.get("test_error", []), "test error"), d.get("status", "finished"),
                   d.get("message", ""), int(d.get("seed", 0)), [float(v) for v in d.get("train_loss", [])],
                   [float(v) for v in d.get("test_loss", [])])


def error_list(values, what: str) -> list[float]:
    """Saved errors read back: each a fraction from 0 to 1 (ValueError names the first that is not)."""
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            raise ValueError(f"a {what} of {v!r}, not a fraction from 0 to 1")
        out.append(float(v))
    return out


def results_from_outcomes(settings, outcomes: list[ArmOutcome]) -> list[ArmResult]:
    """One ``ArmResult`` per run of ``settings`` (``runs()``), in the same order as the outcomes."""
    return [ArmResult.from_outcome(arm, outcome, seed) for (arm, seed), outcome in zip(settings.runs(), outcomes)]


def run_label(arm: Arm, seed: int, seeds: int) -> str:
    return f"{arm.label} seed {seed}" if seeds > 1 else arm.label


def degradation_runner(settings, thread_init=None) -> ArmRunner:
    """The runs of ``settings`` as an ``ArmRunner``; the data set is loaded once, in ``run``.

    ``settings`` is a ``DegradationSettings`` or anything with the same recipe methods
    (``runs``, ``train_settings(seed)``, ``input_shape``): the depth sweep uses it too.
    """
    from ..train.datasets import load_dataset
    from ..train.trainer import Trainer

    runs = settings.runs()
    shape = settings.input_shape()
    seeds = len({seed for _, seed in runs})

    def setup():
        h, w = shape[1:] if shape else runs[0][0].spec().input_shape[1:]
        return load_dataset(settings.dataset, train_size=settings.train_size, test_size=settings.test_size,
                            image_size=(h, w))

    def make_trainer(i: int, control, data):
        arm, seed = runs[i]
        return Trainer(arm.spec(shape), settings.train_settings(seed), control=control, data=data)

    return ArmRunner([run_label(a, s, seeds) for a, s in runs], make_trainer, setup=setup, thread_init=thread_init)


def result_table(settings: DegradationSettings, results: list[ArmResult], seconds: float) -> dict:
    """The ``--json`` result without its words: what ``verdict_from_result`` reads back."""
    return {"experiment": "degradation", "settings": settings.to_dict(), "seconds": round(seconds, 1),
            "arms": [r.to_dict() for r in results]}


def verdict_from_result(d: dict) -> Verdict:
    """The words of a saved ``--json`` result (``experiment report``), from its table alone."""
    from types import SimpleNamespace

    return conclude([ArmResult.from_dict(a) for a in d["arms"]], int(d["settings"]["epochs"]),
                    SimpleNamespace(**d["settings"]))
