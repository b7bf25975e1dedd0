"""Optimizers and learning-rate schedules, stepped once per training step.

Schedules are functions of the step so that they work the same for "epochs" and
"max steps" runs. Warm-up rises linearly from lr/steps to lr over ``warmup_epochs``;
cosine then anneals to zero, multistep divides by 10 at each milestone (fractions of
the run, the paper's 32k/48k of 64k is ``(0.5, 0.75)``), one-cycle is PyTorch's
``OneCycleLR`` (its rising phase is the warm-up, 30% of the run when none is given).
"""
from __future__ import annotations

import math

import torch

from .api import TrainingError, TrainSettings

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("cosine", "multistep", "onecycle", "constant")


def make_optimizer(params, s: TrainSettings) -> torch.optim.Optimizer:
    if s.optimizer == "sgd":
        return torch.optim.SGD(params, lr=s.lr, momentum=s.momentum, nesterov=s.nesterov and s.momentum > 0,
                               weight_decay=s.weight_decay)
    if s.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=s.lr, weight_decay=s.weight_decay)
    raise TrainingError(f"unknown optimizer {s.optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")


def lr_factor(step: int, *, total: int, warmup: int, schedule: str, milestones=(0.5, 0.75)) -> float:
    """Multiplier of the base lr at 0-based ``step`` (for the non-one-cycle schedules)."""
    if step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    if schedule == "multistep":
        return 0.1 ** sum(step >= round(m * total) for m in milestones)
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


class ErrorWarmUp:
    """The paper's warm-up: a tenth of the learning rate until the training error falls below
    ``until`` (``TrainSettings.warmup_until``; 0: none), then the schedule's own rate.

    The trainer measures the training error over the steps since its last read (``observe``);
    the scheduler multiplies its factor by ``scale``, so the switch takes effect at the next step.
    """
    SCALE = 0.1

    def __init__(self, until: float):
        self.until = until
        self.active = until > 0
        self.ended_at: int | None = None  # the step after which the full rate began
        self.error_at_end: float | None = None

    @property
    def scale(self) -> float:
        return self.SCALE if self.active else 1.0

    def observe(self, step: int, error: float) -> bool:
        """The training error over the last steps; True when this ends the warm-up."""
        if self.active and error < self.until:
            self.active, self.ended_at, self.error_at_end = False, step, error
            return True
        return False


def make_scheduler(opt: torch.optim.Optimizer, s: TrainSettings, total_steps: int,
                   steps_per_epoch: int, warm: ErrorWarmUp | None = None) -> torch.optim.lr_scheduler.LRScheduler:
    warmup = min(total_steps - 1, round(s.warmup_epochs * steps_per_epoch)) if s.warmup_epochs > 0 else 0
    if s.schedule == "onecycle":
        pct = warmup / total_steps if warmup else 0.3
        cycle = s.optimizer == "adamw" or s.momentum > 0
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=s.lr, total_steps=max(total_steps, 2),
                                                   pct_start=min(max(pct, 0.01), 0.99), cycle_momentum=cycle)
    if s.schedule not in SCHEDULES:
        raise TrainingError(f"unknown schedule {s.schedule!r}; expected one of {', '.join(SCHEDULES)}")
    for m in s.milestones:
        if not 0 < m < 1:
            raise TrainingError(f"multistep milestones are fractions of the run between 0 and 1, got {m}")
    milestones = tuple(s.milestones)

    def factor(step: int) -> float:
        # A plain function, which LambdaLR leaves out of its state dict: a resumed run that
        # asks for more epochs gets a schedule over its new length, not the saved one.
        scale = warm.scale if warm is not None else 1.0
        return scale * lr_factor(step, total=total_steps, warmup=warmup, schedule=s.schedule, milestones=milestones)

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def check_settings(s: TrainSettings) -> None:
    """Raise ``TrainingError`` for settings no run can use, naming the setting."""
    def bad(msg):
        raise TrainingError(msg)

    if s.batch_size < 1:
        bad(f"batch size must be at least 1, got {s.batch_size}")
    if not (s.lr > 0 and math.isfinite(s.lr)):
        bad(f"learning rate must be a positive number, got {s.lr}")
    if s.max_steps is None and s.epochs < 1:
        bad(f"epochs must be at least 1, got {s.epochs}")
    if s.max_steps is not None and s.max_steps < 1:
        bad(f"steps must be at least 1, got {s.max_steps}")
    if s.optimizer not in OPTIMIZERS:
        bad(f"unknown optimizer {s.optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")
    if s.warmup_until > 0 and s.schedule == "onecycle":
        bad("warm-up until an error is reached cannot be combined with the one-cycle schedule (it has its own "
            "warm-up); choose cosine, multistep or constant")
    if s.schedule not in SCHEDULES:
        bad(f"unknown schedule {s.schedule!r}; expected one of {', '.join(SCHEDULES)}")
    if s.weight_decay < 0 or s.momentum < 0:
        bad("weight decay and momentum cannot be negative")
    if not 0 <= s.label_smoothing < 1:
        bad(f"label smoothing must be in [0, 1), got {s.label_smoothing}")
    if s.warmup_epochs < 0:
        bad(f"warm-up cannot be negative, got {s.warmup_epochs}")
    if s.metrics_every < 1:
        bad(f"metrics_every must be at least 1, got {s.metrics_every}")
    if s.grad_every < 0:
        bad(f"grad_every cannot be negative, got {s.grad_every}")
    _check_ranges(s)  # amp, channels_last and normalise: one of their declared choices


def _check_ranges(s: TrainSettings) -> None:
    """NaN, infinity, negative sizes and numbers far beyond any run, each named (the ranges
    declared with each setting in ``train/settings.py``)."""
    from .limits import check_ranges

    check_ranges(s)
