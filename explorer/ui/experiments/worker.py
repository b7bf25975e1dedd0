"""Run an experiment's arms off the GUI thread and hand their events to the GUI in batches.

The arms run on plain Python threads (``experiments.runner.ArmRunner``, Qt-free, the
same object the CLI uses). They only push events into an ``EventPump``, drained on the
GUI thread a few times a second into one ``eventsReady`` batch (the same pump as the
training worker's); ``runEnded`` follows once every thread of the experiment has ended.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot

from ..event_pump import DRAIN_INTERVAL_MS, EventPump
from ..training.worker import lower_this_threads_priority


class ExperimentWorker(QObject):
    """One experiment at a time. ``eventsReady(list[(arm_index, event)])``, ``runEnded(runner)``."""

    eventsReady = Signal(list)
    runEnded = Signal(object)

    def __init__(self, parent: QObject | None = None, interval_ms: int = DRAIN_INTERVAL_MS):
        super().__init__(parent)
        self.runner = None
        self._pump = EventPump(self, interval_ms)
        self._pump.ready.connect(self.eventsReady)
        self._pump.ticked.connect(self._check_done)

    def is_running(self) -> bool:
        return self.runner is not None

    def start(self, make_runner: Callable) -> None:
        """``make_runner(thread_init)`` returns an unstarted ``ArmRunner``."""
        if self.runner is not None:
            raise RuntimeError("an experiment is already running")
        # the arms' threads (and the OpenMP threads they start) give way to the GUI thread
        self.runner = make_runner(lower_this_threads_priority)
        self._pump.start()
        self.runner.start(lambda arm, event: self._pump.push((arm, event)))

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Stop every arm and wait for the threads; True when none is left running."""
        runner = self.runner
        if runner is None:
            return True
        runner.stop()
        if not runner.join(timeout_s):
            return False
        self._finish()
        return True

    # -- arm threads -> GUI ---------------------------------------------------------
    @Slot()
    def _check_done(self) -> None:
        if self.runner is not None and self.runner.done:
            self._finish()

    def _finish(self) -> None:
        runner = self.runner
        if runner is None:
            return
        runner.join()
        self.runner = None
        self._pump.stop()  # hands over the last events before runEnded
        self.runEnded.emit(runner)
