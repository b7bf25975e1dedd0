"""What the trainer takes and gives back: settings, events and the control handle.

This is the contract between the Qt-free trainer (``train/trainer.py``), the CLI and
the GUI worker. Events are plain dataclasses holding NumPy arrays, safe to pass across
threads; the trainer never calls Qt.

The trainer (``explorer.train.trainer.Trainer``) is driven like this::

    trainer = Trainer(spec, settings, control=TrainControl(), resume=None)
    record = trainer.run(on_event)   # blocks; call from a worker thread in the GUI
    gen = trainer.steps(on_event)    # or one step per next(gen); StopIteration.value is the record
    trainer.model                    # the nn.Module (valid after run() started)
    trainer.save_checkpoint(path)

``run`` reports NaN/inf losses and out-of-memory as ``RunFinished(status="failed")``
and returns the record with that status; problems found before the first step (a
missing dataset folder, an invalid spec) raise ``SpecError`` / ``TrainingError``.
Checkpoints are ``torch.save`` dicts holding at least ``"spec"`` (the network file's
JSON dict, ``fileformat.to_dict``) and ``"model"`` (the state_dict), plus optimizer,
scheduler, step, epoch, settings and metrics for an exact resume.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..analysis.records import GradColumn  # noqa: F401  (an event the trainer emits; defined below train)
from .settings import TrainSettings  # noqa: F401  (declared with each setting's range, unit and help)


# -- events (trainer -> whoever listens) -------------------------------------------

@dataclass
class StepMetrics:
    """Per-step values since the last read, coalesced: one event every ``metrics_every`` steps."""

    steps: np.ndarray  # int64, global step numbers (1-based)
    loss: np.ndarray  # float64, training loss of each step
    lr: np.ndarray  # float64, learning rate used at each step
    total_steps: int
    epoch: int  # 1-based epoch the last step belongs to
    images_per_s: float  # over the steps in this batch
    eta_s: float  # seconds left, estimated


@dataclass
class EpochMetrics:
    epoch: int  # 1-based
    step: int
    train_loss: float
    train_error: float  # fraction, 0..1
    test_loss: float
    test_error: float
    lr: float
    images_per_s: float
    seconds: float  # wall time of the epoch (training part)


@dataclass
class RunFinished:
    status: str  # finished | stopped | failed
    message: str  # for people: why it stopped, what to try
    step: int
    epoch: int


TrainEvent = StepMetrics | EpochMetrics | GradColumn | RunFinished
EventSink = Callable[[TrainEvent], None]


class TrainingError(RuntimeError):
    """A run that cannot go on; the message says why and what to try."""


class NonFiniteLoss(TrainingError):
    """The loss became NaN or infinite."""


class DeviceOutOfMemory(TrainingError):
    """The device ran out of memory at the chosen batch size."""


# -- control (whoever drives -> trainer) -----------------------------------------

class TrainControl:
    """Thread-safe stop / pause / resume and between-step commands for a running trainer.

    The trainer calls ``checkpoint(model)`` once per step: it applies queued commands
    (skip toggles, for instance) at a point where no forward or backward is in flight,
    blocks while paused, and returns False when the run should stop.
    """

    def __init__(self):
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._commands: deque[Callable] = deque()

    def stop(self) -> None:
        """Safe from a SIGINT handler on the training thread itself: it takes no lock the loop
        may hold at that moment (a running loop's ``_running`` is already set, so it is left alone)."""
        self._stop.set()
        if not self._running.is_set():
            self._running.set()  # wake a paused loop so it can see the stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def call_between_steps(self, fn: Callable) -> None:
        """Queue ``fn(model)`` to run on the training thread between two steps."""
        with self._lock:
            self._commands.append(fn)

    def checkpoint(self, model) -> bool:
        """Apply queued commands, wait while paused; False means stop now."""
        self._drain(model)
        if not self._running.is_set():  # only a paused loop takes the event's lock
            while not self._running.wait(timeout=0.05):
                self._drain(model)  # toggles made while paused still take effect
            self._drain(model)
        return not self._stop.is_set()

    def _drain(self, model) -> None:
        while True:
            with self._lock:
                if not self._commands:
                    return
                fn = self._commands.popleft()
            fn(model)


@dataclass
class RunRecord:
    """Everything a finished or stopped run leaves behind for comparison and export."""

    name: str
    spec_json: dict
    settings: TrainSettings
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    epochs: list[EpochMetrics] = field(default_factory=list)
    status: str = "running"
    message: str = ""
    model_state: dict | None = None  # CPU state_dict at the end of the run (for export and probes)
    grad_columns: list[GradColumn] = field(default_factory=list)  # when settings.grad_every > 0
    notes: list[str] = field(default_factory=list)  # conversions made for the run (class count, channels, size)
    normalisation: dict | None = None  # how inputs were normalised (``finetune.Normalisation.to_dict``)
