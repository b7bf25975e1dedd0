"""Run the Qt-free trainer on a background QThread and hand its events to the GUI in batches.

The training thread only pushes events into an ``EventPump`` (a lock-protected list that
a GUI-thread timer drains a few times a second into one ``eventsReady`` batch), so the
GUI sees a handful of updates per second however fast the steps are. Stop, pause and resume go through the trainer's
``TrainControl``; ``shutdown`` stops the run and waits for the thread, so no QThread is
ever destroyed while it runs.
"""
from __future__ import annotations

import os
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from ...train.api import RunRecord, TrainControl, TrainingError, TrainSettings
from ..event_pump import DRAIN_INTERVAL_MS, EventPump
TRAINING_NICE = 5  # Linux: how much lower than the GUI thread the training threads run


def lower_this_threads_priority(nice: int = TRAINING_NICE) -> None:
    """Let the GUI thread win the CPU when it needs it (training takes what is left).

    Linux applies nice values per thread, and the threads torch's OpenMP pool starts
    from this thread inherit it. Elsewhere QThread's LowPriority does the same job.
    """
    if not sys.platform.startswith("linux") or nice <= 0:
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:
        pass  # not permitted here: run at normal priority


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


class _TrainingThread(QThread):
    """Builds the trainer and runs it; everything the trainer reports goes to ``sink``."""

    def __init__(self, spec, settings: TrainSettings, control: TrainControl,
                 sink: Callable, factory: Callable, extra_sinks: list[Callable]):
        super().__init__()
        self.setObjectName("training")
        self._spec = spec
        self._settings = settings
        self._control = control
        self._sink = sink
        self._factory = factory
        self._extra_sinks = extra_sinks
        self.trainer = None
        self.outcome = RunOutcome()

    def _on_event(self, event) -> None:
        self._sink(event)
        for sink in self._extra_sinks:
            try:
                sink(event)
            except Exception as exc:  # a logging problem must not end the run
                print(f"training log: {exc}", file=sys.stderr)
                self._extra_sinks = [s for s in self._extra_sinks if s is not sink]

    def run(self) -> None:  # noqa: D401 - QThread's entry point, on the training thread
        lower_this_threads_priority()
        try:
            self.trainer = self._factory(self._spec, self._settings, self._control)
            record = self.trainer.run(self._on_event)
            if record.model_state is None and getattr(self.trainer, "model", None) is not None:
                model = underlying_resnet(self.trainer.model)
                record.model_state = {k: v.detach().to("cpu", copy=True)
                                      for k, v in model.state_dict().items()}
            self.outcome = RunOutcome(record=record, status=record.status, error="")
        except (TrainingError, ValueError) as exc:  # SpecError is a ValueError; both name the problem
            self.outcome = RunOutcome(error=str(exc), status="failed")
        except Exception as exc:  # a bug: report it in the panel, keep the app up
            traceback.print_exc()
            self.outcome = RunOutcome(error=f"training stopped by an unexpected error: "
                                            f"{type(exc).__name__}: {exc}", status="failed")
        finally:
            for sink in self._extra_sinks:
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
        self._pump = EventPump(self, interval_ms)
        self._pump.ready.connect(self.eventsReady)
        self._thread: _TrainingThread | None = None
        self.control: TrainControl | None = None

    # -- state ------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._thread is not None

    @property
    def paused(self) -> bool:
        return self.control is not None and self.control.paused

    @property
    def trainer(self):
        """The running trainer (None before the thread has built it, and between runs)."""
        return self._thread.trainer if self._thread is not None else None

    # -- commands ---------------------------------------------------------------
    def start(self, spec, settings: TrainSettings, extra_sinks: list[Callable] | None = None) -> None:
        if self._thread is not None:
            raise RuntimeError("a run is already active")
        self.control = TrainControl()
        thread = _TrainingThread(spec, settings, self.control, self._pump.push, self._factory,
                                 list(extra_sinks or []))
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        self._pump.start()
        thread.start(QThread.Priority.LowPriority)

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
        if self._thread is None or self.control is None:
            return False
        self.control.call_between_steps(lambda model: fn(underlying_resnet(model)))
        return True

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Stop the run and wait for its thread; True when nothing is running any more."""
        thread = self._thread
        if thread is None:
            return True
        self.stop()
        if not thread.wait(max(1, int(timeout_s * 1000))):
            # Still inside a long step: keep the thread alive until it ends on its own and
            # let Qt delete it then, rather than destroying a running QThread.
            thread.setParent(QCoreApplication.instance())
            thread.finished.connect(thread.deleteLater)
            return False
        self._finish()
        return True

    # -- training thread -> GUI -------------------------------------------------
    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is not None and self._thread.isFinished():
            self._finish()

    def _finish(self) -> None:
        thread = self._thread
        if thread is None:
            return
        thread.wait()  # finished is emitted just before the thread really ends
        self._pump.stop()  # hands over the last events before runEnded
        outcome = thread.outcome
        self._thread = None
        self.control = None
        self.runEnded.emit(outcome)

