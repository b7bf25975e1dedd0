"""Run an experiment off the GUI thread and hand its events to the GUI in batches.

The experiment is a Qt-free runner (``ArmRunner``, ``DropRunner``, ``LandscapeRunner``:
the same objects the CLI uses). Its blocking ``run(on_event)`` is one low-priority
``BackgroundTask`` (``ui/background.py``), so the runner and any threads it starts give
way to the GUI thread. Events go into the task's event pump, drained on the GUI thread a
few times a second into one ``eventsReady`` batch; ``runEnded`` follows the last batch
as soon as ``run`` has returned.
"""
from __future__ import annotations

import sys
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot

from ..background import BackgroundTask, TaskOutcome
from ..event_pump import DRAIN_INTERVAL_MS


class ExperimentWorker(QObject):
    """One experiment at a time. ``eventsReady(list[(index, event)])``, ``runEnded(runner)``."""

    eventsReady = Signal(list)
    runEnded = Signal(object)

    def __init__(self, parent: QObject | None = None, interval_ms: int = DRAIN_INTERVAL_MS):
        super().__init__(parent)
        self.runner = None
        self._task = BackgroundTask(self, name="experiment", low_priority=True, interval_ms=interval_ms)
        self._task.eventsReady.connect(self.eventsReady)
        self._task.finished.connect(self._on_task_finished)

    def is_running(self) -> bool:
        return self.runner is not None

    def start(self, make_runner: Callable) -> None:
        """``make_runner()`` returns an unstarted runner (``run(on_event)``, ``stop()``, ``error``)."""
        if self.runner is not None:
            raise RuntimeError("an experiment is already running")
        runner = self.runner = make_runner()
        self._task.start(lambda emit, cancelled: runner.run(lambda index, event: emit((index, event))))

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Stop the experiment and wait for it; True when nothing of it is left running."""
        if self.runner is None:
            return True
        self.runner.stop()
        return self._task.shutdown(timeout_s)

    # -- experiment -> GUI ------------------------------------------------------------
    @Slot(object)
    def _on_task_finished(self, ended: TaskOutcome) -> None:
        runner, self.runner = self.runner, None
        if ended.failed:  # the runners report their own failures in ``error``; this is a bug in one
            print(ended.traceback_text, file=sys.stderr, end="")
            if not runner.error:
                runner.error = f"the experiment stopped by an unexpected error: {ended.error_text}"
        self.runEnded.emit(runner)
