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

import math
from dataclasses import asdict, dataclass, field

from ..train.api import RunRecord, TrainSettings
from .arms import Arm, parse_depths
from .runner import ArmOutcome, ArmRunner

# The defaults are chosen so that a laptop CPU shows the effect in a few minutes. Measured
# on a shared 2-core CPU (final training error plain-20 / plain-56 / ResNet-20 / ResNet-56):
#   8x8, 10 epochs: 0.6 / 88 / 0.0 / 53%   (ResNet-56 still learning: "mixed")
#   8x8, 20 epochs: 0.0 / 79 / 0.0 / 5.4%  ("mostly")
#   8x8, 30 epochs, seeds 0, 1, 2: plain-56 67, 56, 63%; ResNet-56 0.1, 4.1, 3.0%; the 20s 0.0-0.1%
#   16x16, 20 epochs: 0.0 / 44 / 0.0 / 15% ("mixed"), at 3x the cost of 8x8
# 30 epochs at 8x8 take about 135 CPU-seconds (2 to 5 minutes of wall time there);
# bench/bench_experiment_gui.py measures it through the window.
DEFAULT_EPOCHS = 30
DEFAULT_DEPTHS = (20, 56)
DEFAULT_DATASET = "digits"
# digits are 8x8 drawings: at 8x8 the nets see every detail at 1/16 of the cost of 32x32
DEFAULT_IMAGE_SIZE = 8

CLEAR_GAP = 0.02  # the deeper plain net is "clearly worse" when 2 points or more behind ...
CLEAR_RATIO = 1.5  # ... and at least 1.5x the shallower one's error
SAME_GAP = 0.01  # a deeper ResNet within 1 point of the shallower one is "no worse"
UNTRAINED = 0.10  # a shallow plain net above 10% training error has not fitted the data yet


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


@dataclass(frozen=True)
class Verdict:
    outcome: str  # shown | mostly | mixed | not_shown | no_verdict
    headline: str  # one sentence, shown large
    details: tuple[str, ...]  # the numbers and the why, one sentence each
    epoch: int  # the epoch the numbers were compared at (0: none)
    errors: dict  # arm label -> training error at that epoch

    @property
    def shown(self) -> bool:
        return self.outcome in ("shown", "mostly")

    @property
    def text(self) -> str:
        return " ".join((self.headline,) + self.details)

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "shown": self.shown, "epoch": self.epoch, "headline": self.headline,
                "details": list(self.details), "training_error": dict(self.errors)}


def pct(x: float) -> str:
    """0.135 -> "13.5%", 0.0004 -> "0.04%"."""
    if not math.isfinite(x):
        return "?"
    v = 100.0 * x
    return f"{v:.2g}%" if 0 < v < 0.1 else f"{v:.1f}%"


def points(x: float) -> str:
    """A difference of error fractions in percentage points."""
    v = 100.0 * abs(x)
    return f"{v:.1f} point{'' if round(v, 1) == 1.0 else 's'}"


def conclude(results: list[ArmResult], planned_epochs: int) -> Verdict:
    """What this run shows, in words, from each arm's training error per epoch.

    The arms are compared at the last epoch every arm completed, so a stopped run is
    judged on equal terms. The shallowest and the deepest net of each kind decide.
    """
    plains = sorted((r for r in results if not r.arm.residual), key=lambda r: r.arm.depth)
    resnets = sorted((r for r in results if r.arm.residual), key=lambda r: r.arm.depth)
    if len(plains) < 2 or len(resnets) < 2:
        return Verdict("no_verdict", "No verdict: the experiment needs a plain net and a ResNet at two "
                       "depths at least.", (), 0, {})
    missing = [r for r in results if r.epochs_done == 0]
    if missing:
        why = []
        for r in missing:
            reason = r.message or ("stopped before its first epoch ended" if r.status == "stopped"
                                   else "no epoch completed")
            why.append(f"{r.label}: {reason}.")
        return Verdict("no_verdict", "No verdict yet: "
                       + ", ".join(r.label for r in missing)
                       + (" has" if len(missing) == 1 else " have") + " not completed an epoch.",
                       tuple(why), 0, {})
    epoch = min(r.epochs_done for r in results)
    errors = {r.label: r.train_errors[epoch - 1] for r in results}
    p_lo, p_hi = plains[0], plains[-1]
    r_lo, r_hi = resnets[0], resnets[-1]
    e_plo, e_phi = errors[p_lo.label], errors[p_hi.label]
    e_rlo, e_rhi = errors[r_lo.label], errors[r_hi.label]
    plain_gap = e_phi - e_plo
    res_gap = e_rhi - e_rlo

    listing = ", ".join(f"{r.label} {pct(errors[r.label])}" for r in plains + resnets)
    when = f"after {epoch} epoch{'s' if epoch != 1 else ''}"
    details = [f"Training error {when}: {listing}."]
    failed = [r for r in results if r.status == "failed"]
    for r in failed:
        details.append(f"{r.label} failed: {r.message}.")
    if epoch < planned_epochs:
        details.append(f"The run stopped at epoch {epoch} of {planned_epochs}, so these are the numbers "
                       "at that point, not at the end.")

    plain_worse = plain_gap >= CLEAR_GAP and e_phi >= CLEAR_RATIO * e_plo
    if not plain_worse:
        if plain_gap < 0:
            relation = "below"
        elif plain_gap < CLEAR_GAP:
            relation = "close to"
        else:
            relation = "not clearly above"
        headline = (f"This run did NOT show degradation: {p_hi.label} ended at {pct(e_phi)} training error, "
                    f"{relation} {p_lo.label}'s {pct(e_plo)}.")
        if e_plo > UNTRAINED:
            details.append(f"The run was too short: even {p_lo.label} has not fitted the training set yet. "
                           f"Run more epochs (say {max(2 * planned_epochs, planned_epochs + 10)}).")
        elif epoch < planned_epochs:
            details.append("Let it run to the end: the gap usually opens as the learning rate falls.")
        else:
            details.append(f"Both plain nets fitted this training set. A deeper plain net (e.g. "
                           f"{_deeper(p_hi.arm.depth)}) or a larger dataset shows the effect.")
        return Verdict("not_shown", headline, tuple(details), epoch, errors)

    head = (f"Degradation shown: {p_hi.label} ended with more training error than {p_lo.label} "
            f"({pct(e_phi)} against {pct(e_plo)})")
    why = (f"Adding layers to a plain net made even the training set harder to fit: that is not "
           f"overfitting (which lowers training error) but a net that is harder to optimise.")
    if res_gap <= SAME_GAP:
        headline = (f"{head}, while {r_hi.label} did not ({pct(e_rhi)} against {pct(e_rlo)}).")
        details.append(why)
        details.append("With skips, the same extra depth cost nothing here.")
        return Verdict("shown", headline, tuple(details), epoch, errors)
    if res_gap <= plain_gap / 3:
        headline = (f"{head}; the ResNets mostly avoid it ({r_hi.label} {pct(e_rhi)} against "
                    f"{r_lo.label} {pct(e_rlo)}).")
        details.append(why)
        details.append(f"{r_hi.label} is {points(res_gap)} behind {r_lo.label}, far less than the plain nets' "
                       f"{points(plain_gap)}; more epochs usually close it.")
        return Verdict("mostly", headline, tuple(details), epoch, errors)
    headline = (f"Both deeper nets trained worse here: {p_hi.label} {pct(e_phi)} against {p_lo.label} "
                f"{pct(e_plo)}, and {r_hi.label} {pct(e_rhi)} against {r_lo.label} {pct(e_rlo)}, "
                "so this run does not separate plain nets from ResNets.")
    details.append("Deeper nets of both kinds need more steps at first; run more epochs "
                   f"(say {max(2 * planned_epochs, planned_epochs + 10)}) and the ResNet's gap closes.")
    return Verdict("mixed", headline, tuple(details), epoch, errors)


def _deeper(depth: int) -> int:
    return 110 if depth < 110 else depth * 2 + 2


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
