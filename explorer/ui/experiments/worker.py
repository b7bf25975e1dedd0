"""Run an experiment's arms off the GUI thread and hand their events to the GUI in batches.

The arms run on plain Python threads (``experiments.runner.ArmRunner``, Qt-free, the
same object the CLI uses). They only append events to a lock-protected list; a
GUI-thread QTimer drains it a few times a second and emits one ``eventsReady`` batch,
and emits ``runEnded`` once every thread of the experiment has ended.
"""
from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ..training.worker import lower_this_threads_priority

DRAIN_INTERVAL_MS = 200


class ExperimentWorker(QObject):
    """One experiment at a time. ``eventsReady(list[(arm_index, event)])``, ``runEnded(runner)``."""

    eventsReady = Signal(list)
    runEnded = Signal(object)

    def __init__(self, parent: QObject | None = None, interval_ms: int = DRAIN_INTERVAL_MS):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: list = []
        self.runner = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._drain)

    def is_running(self) -> bool:
        return self.runner is not None

    def start(self, make_runner: Callable) -> None:
        """``make_runner(thread_init)`` returns an unstarted ``ArmRunner``."""
        if self.runner is not None:
            raise RuntimeError("an experiment is already running")
        with self._lock:
            self._pending = []
        # the arms' threads (and the OpenMP threads they start) give way to the GUI thread
        self.runner = make_runner(lower_this_threads_priority)
        self._timer.start()
        self.runner.start(self._push)

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
    def _push(self, arm: int, event) -> None:  # an arm's thread
        with self._lock:
            self._pending.append((arm, event))

    @Slot()
    def _drain(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
        if events:
            self.eventsReady.emit(events)
        if self.runner is not None and self.runner.done:
            self._finish()

    def _finish(self) -> None:
        runner = self.runner
        if runner is None:
            return
        runner.join()
        self._timer.stop()
        self.runner = None
        with self._lock:
            events, self._pending = self._pending, []
        if events:
            self.eventsReady.emit(events)
        self.runEnded.emit(runner)
