"""Run the Qt-free trainer off the GUI thread and hand its events to the GUI in batches.

The run is one ``BackgroundTask`` (``ui/background.py``) at low priority: the trainer's
events go into the task's event pump (drained on the GUI thread a few times a second
into one ``eventsReady`` batch), so the GUI sees a handful of updates per second however
fast the steps are; ``runEnded`` follows the last batch as soon as the run has ended.
Stop, pause and resume go through the trainer's ``TrainControl``; ``shutdown`` stops the
run and waits for it, and a run still inside a long step is left to end on its own.
"""
from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot

from ...train.api import RunRecord, TrainControl, TrainingError, TrainSettings
from ..background import BackgroundTask, TaskOutcome
from ..event_pump import DRAIN_INTERVAL_MS


def underlying_resnet(model):
    """The explorer ResNet inside ``model`` (through torch.compile's and DDP's wrappers)."""
    from ...analysis.gradflow import unwrap  # the one unwrapping rule; torch is loaded by now

    base = unwrap(model)
    if not hasattr(base, "apply_spec_skips"):
        raise TypeError("the trainer's model is not an explorer ResNet")
    return base


def default_trainer_factory(spec, settings, control):
    from ...train.trainer import Trainer  # torch comes in here, on the training thread
    return Trainer(spec, settings, control=control)


@dataclass
class RunOutcome:
    """What the training thread leaves behind: a record, or why no run could start."""

    record: RunRecord | None = None
    error: str = ""  # set when the run could not start or crashed; the message for people
    status: str = ""  # finished | stopped | failed (from the record or the error)


class _TrainingRun:
    """Builds the trainer and runs it (the task's function); everything it reports goes to ``emit``."""

    def __init__(self, spec, settings: TrainSettings, control: TrainControl, factory: Callable,
                 extra_sinks: list[Callable]):
        self._spec = spec
        self._settings = settings
        self._control = control
        self._factory = factory
        self._all_sinks = list(extra_sinks)  # every sink is closed at the end, also one that failed
        self._extra_sinks = list(extra_sinks)  # the sinks still written to
        self._emit: Callable = lambda event: None
        self.trainer = None

    def _on_event(self, event) -> None:
        self._emit(event)
        for sink in self._extra_sinks:
            try:
                sink(event)
            except Exception as exc:  # a logging problem must not end the run: stop writing to this
                print(f"training log: {exc}", file=sys.stderr)  # sink (it is still closed at the end)
                self._extra_sinks = [s for s in self._extra_sinks if s is not sink]

    def __call__(self, emit: Callable, cancelled: Callable[[], bool]) -> RunOutcome:  # on the task's thread
        self._emit = emit
        try:
            self.trainer = self._factory(self._spec, self._settings, self._control)
            record = self.trainer.run(self._on_event)
            if record.model_state is None and getattr(self.trainer, "model", None) is not None:
                model = underlying_resnet(self.trainer.model)
                record.model_state = {k: v.detach().to("cpu", copy=True)
                                      for k, v in model.state_dict().items()}
            return RunOutcome(record=record, status=record.status, error="")
        except (TrainingError, ValueError) as exc:  # SpecError is a ValueError; both name the problem
            return RunOutcome(error=str(exc), status="failed")
        except Exception as exc:  # a bug: report it in the panel, keep the app up
            traceback.print_exc()
            return RunOutcome(error=f"training stopped by an unexpected error: "
                                    f"{type(exc).__name__}: {exc}", status="failed")
        finally:
            for sink in self._all_sinks:
                close = getattr(sink, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception as exc:
                        print(f"training log: {exc}", file=sys.stderr)


class TrainingWorker(QObject):
    """One training run at a time, on its own thread; all signals arrive on the GUI thread.

    ``eventsReady(list)`` carries the trainer's events since the last batch, in order
    (``StepMetrics``, ``EpochMetrics``, ``GradColumn``, ``RunFinished``);
    ``runEnded(RunOutcome)`` follows the last batch of a run.
    """

    eventsReady = Signal(list)
    runEnded = Signal(object)

    def __init__(self, parent: QObject | None = None, trainer_factory: Callable | None = None,
                 interval_ms: int = DRAIN_INTERVAL_MS):
        super().__init__(parent)
        self._factory = trainer_factory or default_trainer_factory
        self._task = BackgroundTask(self, name="training", low_priority=True, interval_ms=interval_ms)
        self._task.eventsReady.connect(self.eventsReady)
        self._task.finished.connect(self._on_task_finished)
        self._run: _TrainingRun | None = None
        self.control: TrainControl | None = None

    # -- state ------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._task.is_running()

    @property
    def paused(self) -> bool:
        return self.control is not None and self.control.paused

    @property
    def trainer(self):
        """The running trainer (None before the task has built it, and between runs)."""
        return self._run.trainer if self._run is not None else None

    # -- commands ---------------------------------------------------------------
    def start(self, spec, settings: TrainSettings, extra_sinks: list[Callable] | None = None) -> None:
        if self._task.is_running():
            raise RuntimeError("a run is already active")
        self.control = TrainControl()
        self._run = _TrainingRun(spec, settings, self.control, self._factory, list(extra_sinks or []))
        self._task.start(self._run)

    def pause(self) -> None:
        if self.control is not None:
            self.control.pause()

    def resume(self) -> None:
        if self.control is not None:
            self.control.resume()

    def stop(self) -> None:
        """Ask the run to stop; it ends after the step in flight."""
        if self.control is not None:
            self.control.stop()

    def call_between_steps(self, fn: Callable) -> bool:
        """Queue ``fn(resnet)`` for the training thread; False when no run is active."""
        if not self._task.is_running() or self.control is None:
            return False
        self.control.call_between_steps(lambda model: fn(underlying_resnet(model)))
        return True

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Stop the run and wait for it; True when nothing is running any more.

        A run still inside a long step is left to end on its own (``runEnded`` follows then).
        """
        if not self._task.is_running():
            return True
        self.stop()
        return self._task.shutdown(timeout_s)

    # -- training thread -> GUI -------------------------------------------------
    @Slot(object)
    def _on_task_finished(self, ended: TaskOutcome) -> None:
        outcome = ended.result
        if ended.failed:  # _TrainingRun catches everything; this would be a bug in it
            outcome = RunOutcome(error=f"training stopped by an unexpected error: {ended.error_text}",
                                 status="failed")
        self._run = None
        self.control = None
        self.runEnded.emit(outcome)
