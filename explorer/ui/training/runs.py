"""The session's runs: growing metric buffers, one entry per run, and the store that holds them.

The run store owns every run's curves (the active one grows while the worker trains;
finished, stopped and failed runs stay for comparison). Plots and the run list read
from here and never keep a copy of their own.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field

import numpy as np

from ...train.api import EpochMetrics, RunRecord, StepMetrics, TrainSettings
from ..theme import COLOUR

EMA_WEIGHT = 0.9  # smoothing of the loss line; debiased so the first points are not pulled to zero


class GrowingArray:
    """A 1-D float64 array with amortised O(1) appends (capacity doubles when full)."""

    def __init__(self, capacity: int = 256, dtype=np.float64):
        self._data = np.empty(max(1, capacity), dtype=dtype)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=self._data.dtype).ravel()
        need = self._size + values.size
        if need > self._data.size:
            capacity = self._data.size
            while capacity < need:
                capacity *= 2
            grown = np.empty(capacity, dtype=self._data.dtype)
            grown[:self._size] = self._data[:self._size]
            self._data = grown
        self._data[self._size:need] = values
        self._size = need

    def append(self, value: float) -> None:
        self.extend((value,))

    @property
    def view(self) -> np.ndarray:
        """The filled part (a view: valid until the next append)."""
        return self._data[:self._size]

    @property
    def last(self) -> float:
        return float(self._data[self._size - 1]) if self._size else float("nan")


def settings_summary(spec_name: str, settings: TrainSettings) -> str:
    """What a legend shows for a run: "resnet20 · sgd lr 0.1 · bs 128" (and "· from FILE" for a run
    that started from pretrained weights)."""
    return f"{spec_name} · {settings.optimizer} lr {settings.lr:g} · bs {settings.batch_size}" + _origin(settings)


def _origin(settings: TrainSettings) -> str:
    """" · from FILE, frozen to PART" for a run that started from pretrained weights, else ""."""
    if not settings.init_weights:
        return ""
    text = f" · from {os.path.basename(settings.init_weights)}"
    if settings.freeze:
        text += f", frozen to {settings.freeze}"
    return text


@dataclass
class RunEntry:
    """One run's curves and identity. ``record`` arrives when the run ends."""

    number: int
    spec_name: str
    spec_json: dict
    settings: TrainSettings
    colour: str
    status: str = "running"  # running | finished | stopped | failed
    message: str = ""
    visible: bool = True
    paused: bool = False  # a running run held by Pause (its status stays "running")
    record: RunRecord | None = None
    total_steps: int = 0
    steps: GrowingArray = field(default_factory=GrowingArray)
    loss: GrowingArray = field(default_factory=GrowingArray)
    loss_ema: GrowingArray = field(default_factory=GrowingArray)
    lr: GrowingArray = field(default_factory=GrowingArray)
    epochs: list[EpochMetrics] = field(default_factory=list)
    _ema: float = 0.0
    _ema_count: int = 0

    @property
    def label(self) -> str:
        return f"#{self.number} {settings_summary(self.spec_name, self.settings)}"

    @property
    def short_label(self) -> str:
        """"#2 resnet20": what the run list shows (the number keeps it unique), and where a
        fine-tuned run's weights came from; the optimiser settings are in the tooltip."""
        return f"#{self.number} {self.spec_name}" + _origin(self.settings)

    @property
    def active(self) -> bool:
        return self.status == "running"

    @property
    def shown_status(self) -> str:
        """The status as the run list shows it: "paused" while a running run is held."""
        return "paused" if self.active and self.paused else self.status

    def add_steps(self, event: StepMetrics) -> None:
        self.total_steps = int(event.total_steps)
        self.steps.extend(event.steps)
        self.loss.extend(event.loss)
        self.lr.extend(event.lr)
        smoothed = np.empty(len(event.loss))
        ema, count = self._ema, self._ema_count
        for i, value in enumerate(np.asarray(event.loss, dtype=np.float64)):
            if np.isfinite(value):
                ema = EMA_WEIGHT * ema + (1.0 - EMA_WEIGHT) * value
                count += 1
            smoothed[i] = ema / (1.0 - EMA_WEIGHT ** count) if count else np.nan
        self._ema, self._ema_count = ema, count
        self.loss_ema.extend(smoothed)

    def add_epoch(self, event: EpochMetrics) -> None:
        self.epochs.append(event)

    def epoch_arrays(self) -> dict[str, np.ndarray]:
        """Per-epoch columns as arrays (epochs are few; built on demand)."""
        names = ("epoch", "train_loss", "train_error", "test_loss", "test_error", "lr", "images_per_s")
        return {n: np.array([getattr(e, n) for e in self.epochs], dtype=np.float64) for n in names}

    def finish(self, record: RunRecord | None, status: str, message: str) -> None:
        self.record = record
        self.status = status
        self.message = message


class RunStore:
    """Every run of this session, in start order."""

    def __init__(self):
        self._runs: list[RunEntry] = []
        self._numbers = itertools.count(1)

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self):
        return iter(list(self._runs))

    def new_run(self, spec_name: str, spec_json: dict, settings: TrainSettings) -> RunEntry:
        number = next(self._numbers)
        entry = RunEntry(number=number, spec_name=spec_name, spec_json=spec_json, settings=settings,
                         colour=COLOUR.run_cycle[(number - 1) % len(COLOUR.run_cycle)])
        self._runs.append(entry)
        return entry

    def remove(self, entry: RunEntry) -> None:
        self._runs.remove(entry)

    @property
    def active(self) -> RunEntry | None:
        return next((r for r in self._runs if r.active), None)

    def records(self) -> list[RunRecord]:
        return [r.record for r in self._runs if r.record is not None]

    def latest_with_weights(self) -> RunEntry | None:
        for entry in reversed(self._runs):
            if entry.record is not None and entry.record.model_state is not None:
                return entry
        return None
