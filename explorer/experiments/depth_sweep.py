"""Accuracy against depth: a plain net and a ResNet at every depth, one recipe (the lessons' depth slider).

Every network trains with the degradation experiment's recipe and runner (one step each
in turn, so all curves grow together), possibly with several seeds. The result is the
final training and test error of each network, drawn against depth: one curve for the
plain nets, one for the ResNets, with the seeds' spread as error bars. The words
(``depth_sweep_words``) say where, if anywhere, the plain curve turns.

Sweeps are cached per settings in the user's cache folder (``sweep_cache``), so a page
re-opened in class shows the last sweep at once, with when it was measured.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..spec import SpecError
from ..spec.params import check_seed, signed_whole_number
from .arms import Arm
from .degradation import DEFAULT_DATASET, DEFAULT_IMAGE_SIZE, ArmResult, DegradationSettings, results_from_outcomes

# The defaults are chosen so that the sweep on digits ends within 8 minutes on a 2-core laptop
# CPU. Measured with bench/bench_depth_sweep.py (one torch thread, process CPU-seconds; the
# shared machine's load was 7 to 15, so wall times there were 3 to 4x longer), digits at 8x8,
# seed 0, final training error plain 8/14/20/32/44/56 | ResNet 8/14/20/32/44/56:
#   20 epochs: 116 CPU-s; plain 0.0 0.0 0.0 2.4 21 79% | ResNet 0.0 0.0 0.0 0.1 2.3 5.4%
#              (the plain curve turns at 32; ResNet-56 not caught up: "too short for the ResNet curve")
#   30 epochs: 177 CPU-s; plain 0.0 0.0 0.0 0.5 5.8 67% | ResNet 0.0 0.0 0.0 0.0 0.1 0.1%
#              (turns at 44; every ResNet within 1 point: "shown")
# Twelve networks cost about twice the degradation experiment's four (the depths add up to
# 174 layers per kind against 76).
DEFAULT_SWEEP_DEPTHS = (8, 14, 20, 32, 44, 56)
DEFAULT_SWEEP_EPOCHS = 30
MAX_SEEDS = 10
SWEEP_KINDS = ("plain", "resnet")  # the two curves


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` -> ``(0, 1, 2)``; ``"3"`` -> ``(3,)``; raises SpecError naming the bad one."""
    seeds = []
    for part in str(text).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        seed = signed_whole_number(part)  # ASCII digits only
        if seed is None:
            raise SpecError(f"seeds: {part!r} is not a whole number (write them like 0,1,2)",
                            where="experiment")
        if seed < 0:
            raise SpecError(f"seeds: {seed} is negative; seeds are 0, 1, 2, ...", where="experiment")
        check_seed(seed, "seeds", where="experiment")
        seeds.append(seed)
    seeds = sorted(set(seeds))
    if not seeds:
        raise SpecError("seeds: give at least one seed, like 0 or 0,1,2", where="experiment")
    if len(seeds) > MAX_SEEDS:
        raise SpecError(f"seeds: {len(seeds)} seeds would train {len(seeds)} times as long; use at most {MAX_SEEDS}",
                        where="experiment")
    return tuple(seeds)


@dataclass(frozen=True)
class SweepSettings(DegradationSettings):
    """The degradation recipe at many depths and, optionally, several seeds."""

    epochs: int = DEFAULT_SWEEP_EPOCHS
    depths: tuple[int, ...] = DEFAULT_SWEEP_DEPTHS
    dataset: str = DEFAULT_DATASET
    image_size: int | None = DEFAULT_IMAGE_SIZE
    seeds: tuple[int, ...] = (0,)

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "seeds", parse_seeds(",".join(str(s) for s in self.seeds)))
        object.__setattr__(self, "seed", self.seeds[0])

    def runs(self) -> list[tuple[Arm, int]]:
        """Seed by seed, the plain nets shallow to deep, then the ResNets."""
        return [(Arm(kind, d), seed) for seed in self.seeds for kind in SWEEP_KINDS for d in self.depths]

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["seeds"] = list(self.seeds)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SweepSettings":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known["depths"] = tuple(known.get("depths", DEFAULT_SWEEP_DEPTHS))
        known["seeds"] = tuple(known.get("seeds", (0,)))
        return cls(**known)

    def describe(self) -> str:
        size = f"{self.image_size}x{self.image_size}" if self.image_size else "32x32"
        seeds = f", seeds {', '.join(map(str, self.seeds))}" if len(self.seeds) > 1 else ""
        return (f"depths {', '.join(map(str, self.depths))} on {self.dataset} ({size}), {self.epochs} epochs"
                f"{seeds}; {self.recipe_text()}")


@dataclass(frozen=True)
class DepthPoint:
    """One kind of net at one depth: a metric's mean over the seeds and its range."""

    depth: int
    mean: float
    low: float
    high: float
    count: int  # seeds with a value


@dataclass
class SweepResult:
    """A sweep's networks and their numbers, with when it was measured and how it ended."""

    settings: SweepSettings
    arms: list[ArmResult] = field(default_factory=list)
    status: str = "finished"  # finished | stopped | failed
    measured_at: float = 0.0  # time.time() when it ended
    seconds: float = 0.0  # wall time
    cpu_seconds: float = 0.0  # this process's CPU time during the sweep

    @property
    def epoch(self) -> int:
        """The last epoch every network completed (the sweep compares them there)."""
        return min((a.epochs_done for a in self.arms), default=0)

    def points(self, kind: str, metric: str = "train", epoch: int | None = None) -> list[DepthPoint]:
        """``kind``'s nets by depth: mean and range over seeds of the training (or test) error at ``epoch``
        (default: ``self.epoch``); depths with no value are left out."""
        epoch = self.epoch if epoch is None else epoch
        out = []
        for depth in self.settings.depths:
            values = []
            for a in self.arms:
                if a.arm.kind == kind and a.arm.depth == depth:
                    series = a.train_errors if metric == "train" else a.test_errors
                    if 0 < epoch <= len(series):
                        values.append(series[epoch - 1])
            if values:
                out.append(DepthPoint(depth, sum(values) / len(values), min(values), max(values), len(values)))
        return out

    def curves(self, kind: str, depth: int) -> list[ArmResult]:
        """The networks of ``kind`` at ``depth``, one per seed."""
        return [a for a in self.arms if a.arm.kind == kind and a.arm.depth == depth]

    def to_dict(self) -> dict:
        return {"experiment": "depth-sweep", "settings": self.settings.to_dict(), "status": self.status,
                "measured_at": self.measured_at, "seconds": round(self.seconds, 1),
                "cpu_seconds": round(self.cpu_seconds, 1), "epoch": self.epoch,
                "arms": [a.to_dict() for a in self.arms]}

    @classmethod
    def from_dict(cls, d: dict) -> "SweepResult":
        return cls(SweepSettings.from_dict(d["settings"]), [ArmResult.from_dict(a) for a in d.get("arms", [])],
                   d.get("status", "finished"), float(d.get("measured_at", 0.0)), float(d.get("seconds", 0.0)),
                   float(d.get("cpu_seconds", 0.0)))


def sweep_result(settings: SweepSettings, runner, seconds: float, cpu_seconds: float = 0.0) -> SweepResult:
    """What an ended runner of ``settings`` leaves: every network's numbers and how the sweep ended."""
    arms = results_from_outcomes(settings, runner.outcomes)
    if runner.stopped or any(a.status == "stopped" for a in arms):
        status = "stopped"
    elif runner.error or any(a.status in ("failed", "not started") for a in arms):
        status = "failed"
    else:
        status = "finished"
    return SweepResult(settings, arms, status, time.time(), seconds, cpu_seconds)


def sweep_runner(settings: SweepSettings, thread_init=None):
    """Every network of the sweep as one ``ArmRunner`` (the degradation experiment's)."""
    from .degradation import degradation_runner

    return degradation_runner(settings, thread_init=thread_init)


def verdict_from_result(d: dict):
    """The words of a saved ``--json`` sweep (``experiment report``), from its table alone."""
    from .depth_sweep_words import sweep_verdict

    return sweep_verdict(SweepResult.from_dict(d))
