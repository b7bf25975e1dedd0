"""The one way the app runs work off the GUI thread: ``BackgroundTask``.

A task runs a plain Python callable ``fn(emit, cancelled)`` on a thread of its own:

- ``emit(item)`` pushes into the task's ``EventPump`` (safe from any thread, costs next
  to nothing); the GUI thread receives the items in order, a few times a second, as
  one ``eventsReady(list)``;
- ``cancelled()`` reads the flag that ``cancel()`` sets; ``fn`` looks at it when it can
  stop (work that has its own stop switch, a trainer's control, is stopped by the owner
  as well);
- when ``fn`` returns or raises, the GUI thread gets the remaining items, then one
  ``finished(TaskOutcome)`` at once: the end is signalled by the thread itself (queued
  to the GUI thread), not found by the pump's next tick, so a short task (a gradient
  probe) reports within milliseconds of its end.

``shutdown(timeout_s)`` cancels and waits. A thread that does not end in time (a long
training step) is left to finish: it belongs to the application until it ends and is
deleted then, so no thread is ever destroyed while it runs, and closing the window
never waits for more than the timeout.

Work that must not slow the GUI down (training, experiments) runs at low priority
(``low_priority=True``): a higher nice value on Linux, inherited by the threads it
starts (torch's OpenMP pool, an experiment's arms), QThread's LowPriority elsewhere.
"""
from __future__ import annotations

import os
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from .event_pump import DRAIN_INTERVAL_MS, EventPump

LOW_PRIORITY_NICE = 5  # Linux: how much lower than the GUI thread low-priority tasks run

Emit = Callable[[Any], None]
Cancelled = Callable[[], bool]
TaskFn = Callable[[Emit, Cancelled], Any]


def lower_this_threads_priority(nice: int = LOW_PRIORITY_NICE) -> None:
    """Let the GUI thread win the CPU when it needs it (the calling thread takes what is left).

    Linux applies nice values per thread, and the threads started from this one (torch's
    OpenMP pool, Python threads) inherit it. Elsewhere QThread's LowPriority does the job.
    """
    if not sys.platform.startswith("linux") or nice <= 0:
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:
        pass  # not permitted here: run at normal priority


@dataclass
class TaskOutcome:
    """How a task ended: ``fn``'s return value, or the exception it raised."""

    result: Any = None
    error: BaseException | None = None  # what fn raised (its __traceback__ kept), None when it returned
    cancelled: bool = False  # cancel() had been called by the time fn ended

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def error_text(self) -> str:
        """``"TypeName: message"`` of the exception, or "" when fn returned."""
        return "" if self.error is None else f"{type(self.error).__name__}: {self.error}"

    @property
    def traceback_text(self) -> str:
        if self.error is None:
            return ""
        return "".join(traceback.format_exception(type(self.error), self.error, self.error.__traceback__))


class _TaskThread(QThread):
    """Runs one ``fn`` and keeps its outcome; nothing else."""

    def __init__(self, fn: TaskFn, emit: Emit, cancelled: Cancelled, low_priority: bool):
        super().__init__()
        self._fn = fn
        self._emit = emit
        self._cancelled = cancelled
        self._low_priority = low_priority
        self.outcome: TaskOutcome | None = None

    def run(self) -> None:  # noqa: D401 - QThread's entry point, on the task's thread
        if self._low_priority:
            lower_this_threads_priority()
        try:
            outcome = TaskOutcome(result=self._fn(self._emit, self._cancelled))
        except Exception as exc:  # noqa: BLE001 - the owner hears of it in finished(), the app stays up
            outcome = TaskOutcome(error=exc)
        outcome.cancelled = self._cancelled()
        self.outcome = outcome  # the work itself is let go on the GUI thread (_finish, or deleteLater)


class BackgroundTask(QObject):
    """One ``fn(emit, cancelled)`` at a time on its own thread; every signal arrives on the GUI thread.

    ``eventsReady(list)`` carries what ``fn`` emitted since the last batch, oldest first;
    ``finished(TaskOutcome)`` follows the last batch, once per ``start``.
    """

    eventsReady = Signal(list)
    finished = Signal(object)  # TaskOutcome

    def __init__(self, parent: QObject | None = None, name: str = "background", low_priority: bool = False,
                 interval_ms: int = DRAIN_INTERVAL_MS):
        super().__init__(parent)
        self._name = name
        self._low_priority = low_priority
        self._pump = EventPump(self, interval_ms)
        self._pump.ready.connect(self.eventsReady)
        self._thread: _TaskThread | None = None
        self._cancel = threading.Event()

    def is_running(self) -> bool:
        """True from ``start`` until ``finished`` has been emitted."""
        return self._thread is not None

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def start(self, fn: TaskFn) -> None:
        """Run ``fn(emit, cancelled)`` on a new thread; refused while a task is running."""
        if self._thread is not None:
            raise RuntimeError(f"the {self._name} task is already running")
        cancel = self._cancel = threading.Event()  # a fresh flag: a late cancel() of the last task cannot reach this one
        thread = _TaskThread(fn, self._pump.push, cancel.is_set, self._low_priority)
        thread.setObjectName(self._name)
        # The application owns the thread while it runs, so neither this object's end nor
        # Python's collection can destroy a running QThread; it is deleted once it has ended.
        thread.setParent(QCoreApplication.instance())
        thread.finished.connect(self._on_thread_finished)
        thread.finished.connect(thread.deleteLater)
        self._thread = thread
        self._pump.start()
        thread.start(QThread.Priority.LowPriority if self._low_priority else QThread.Priority.InheritPriority)

    def cancel(self) -> None:
        """Raise the flag ``fn`` reads through ``cancelled()``; safe to call at any time."""
        self._cancel.set()

    def shutdown(self, timeout_s: float | None = 2.0) -> bool:
        """Cancel and wait up to ``timeout_s`` (None: as long as it takes); True when nothing runs any more.

        When the thread has ended, ``finished`` is emitted before this returns. When it has
        not, it is left to end on its own (and ``finished`` follows then, if this task still exists).
        """
        thread = self._thread
        if thread is None:
            return True
        self.cancel()
        ended = thread.wait() if timeout_s is None else thread.wait(max(1, int(timeout_s * 1000)))
        if not ended:
            return False
        self._finish()
        return True

    # -- task thread -> GUI -------------------------------------------------------
    @Slot()
    def _on_thread_finished(self) -> None:
        # A queued signal of a thread already finished by shutdown() finds another thread (or none) here.
        if self._thread is not None and self._thread.isFinished():
            self._finish()

    def _finish(self) -> None:
        thread = self._thread
        if thread is None:
            return
        thread.wait()  # finished is emitted just before the thread really ends
        outcome = thread.outcome or TaskOutcome(error=RuntimeError("the task ended without an outcome"))
        thread.outcome = thread._fn = thread._emit = None
        self._pump.stop()  # hands over the last items before finished
        self._thread = None  # before finished: its receivers may start the next task
        self.finished.emit(outcome)
