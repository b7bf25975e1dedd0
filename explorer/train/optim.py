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


def make_scheduler(opt: torch.optim.Optimizer, s: TrainSettings, total_steps: int,
                   steps_per_epoch: int) -> torch.optim.lr_scheduler.LRScheduler:
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
        return lr_factor(step, total=total_steps, warmup=warmup, schedule=s.schedule, milestones=milestones)

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
    from .settings import check_ranges

    check_ranges(s)
