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
import queue
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
    """Runs the functions handed to it, one after another, and reports each end with ``jobEnded``.

    A one-shot thread runs a single function and ends; a kept thread waits for the next
    one until ``close()``.
    """

    jobEnded = Signal(int)  # the job's number; emitted on this thread, queued to the task

    def __init__(self, name: str, low_priority: bool, keep: bool):
        super().__init__()
        self.setObjectName(name)
        self._low_priority = low_priority
        self._keep = keep
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._job = None  # the job in flight or just ended
        self.outcome: TaskOutcome | None = None  # the last job's, until the task takes it
        self.closing = False

    def submit(self, job_id: int, fn: TaskFn, emit: Emit, cancelled: Cancelled) -> None:
        self._jobs.put((job_id, fn, emit, cancelled))

    def close(self) -> None:
        """End after the job in flight (a one-shot thread ends after its job anyway)."""
        self.closing = True
        self._jobs.put(None)

    def take_outcome(self) -> TaskOutcome | None:
        """The last job's outcome, once (GUI thread); the job's function is let go here too."""
        outcome, self.outcome, self._job = self.outcome, None, None
        return outcome

    def run(self) -> None:  # noqa: D401 - QThread's entry point, on the task's thread
        if self._low_priority:
            lower_this_threads_priority()
        while True:
            job = self._jobs.get()
            if job is None:
                return
            job_id, fn, emit, cancelled = self._job = job  # kept until the GUI thread takes the outcome
            try:
                outcome = TaskOutcome(result=fn(emit, cancelled))
            except Exception as exc:  # noqa: BLE001 - the owner hears of it in finished(), the app stays up
                outcome = TaskOutcome(error=exc)
            outcome.cancelled = cancelled()
            self.outcome = outcome
            del job, fn, emit, outcome  # freed with the thread's references, on the GUI thread
            self.jobEnded.emit(job_id)
            if not self._keep:
                return


class BackgroundTask(QObject):
    """One ``fn(emit, cancelled)`` at a time on its own thread; every signal arrives on the GUI thread.

    ``eventsReady(list)`` carries what ``fn`` emitted since the last batch, oldest first;
    ``finished(TaskOutcome)`` follows the last batch, once per ``start``.

    Each ``start`` gets a new thread, unless ``keep_thread``: then one thread runs every
    start of this task in turn and waits in between, until ``shutdown`` (or this object's
    end). Work that runs often and briefly (the gradient probe) keeps its thread, so each
    run finds the same warm per-thread state (memory arena, OpenMP pool).
    """

    eventsReady = Signal(list)
    finished = Signal(object)  # TaskOutcome

    def __init__(self, parent: QObject | None = None, name: str = "background", low_priority: bool = False,
                 interval_ms: int = DRAIN_INTERVAL_MS, keep_thread: bool = False):
        super().__init__(parent)
        self._name = name
        self._low_priority = low_priority
        self._keep_thread = keep_thread
        self._pump = EventPump(self, interval_ms)
        self._pump.ready.connect(self.eventsReady)
        self._thread: _TaskThread | None = None  # the thread running a job, or the kept thread waiting for one
        self._job = 0  # the number of the last job started
        self._running = False
        self._cancel = threading.Event()

    def is_running(self) -> bool:
        """True from ``start`` until ``finished`` has been emitted."""
        return self._running

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def start(self, fn: TaskFn) -> None:
        """Run ``fn(emit, cancelled)`` on the task's thread; refused while a task is running."""
        if self._running:
            raise RuntimeError(f"the {self._name} task is already running")
        cancel = self._cancel = threading.Event()  # a fresh flag: a late cancel() of the last run cannot reach this one
        self._job += 1
        self._running = True
        self._pump.start()
        thread = self._thread
        if thread is None or thread.closing:
            thread = self._thread = self._new_thread()
        thread.submit(self._job, fn, self._pump.push, cancel.is_set)

    def _new_thread(self) -> _TaskThread:
        thread = _TaskThread(self._name, self._low_priority, self._keep_thread)
        # The application owns the thread while it runs, so neither this object's end nor
        # Python's collection can destroy a running QThread; it is deleted once it has ended.
        thread.setParent(QCoreApplication.instance())
        thread.jobEnded.connect(self._on_job_ended)
        thread.finished.connect(thread.deleteLater)
        if self._keep_thread:
            self.destroyed.connect(thread.close)  # a kept thread must not wait for work forever
        thread.start(QThread.Priority.LowPriority if self._low_priority else QThread.Priority.InheritPriority)
        return thread

    def cancel(self) -> None:
        """Raise the flag ``fn`` reads through ``cancelled()``; safe to call at any time."""
        self._cancel.set()

    def shutdown(self, timeout_s: float | None = 2.0) -> bool:
        """Cancel and wait up to ``timeout_s`` (None: as long as it takes); True when nothing runs any more.

        When the thread has ended, ``finished`` is emitted (if a run was under way) before
        this returns. When it has not, it is left to end on its own (and ``finished``
        follows then, if this task still exists). A kept thread ends here too.
        """
        thread = self._thread
        if thread is None:
            return True
        self.cancel()
        thread.close()
        ended = thread.wait() if timeout_s is None else thread.wait(max(1, int(timeout_s * 1000)))
        if not ended:
            return False
        self._thread = None
        if self._running:
            self._finish(thread)
        return True

    # -- task thread -> GUI -------------------------------------------------------
    @Slot(int)
    def _on_job_ended(self, job: int) -> None:
        # Job numbers are this task's own: the end of a run that shutdown() has already
        # handled arrives here late and is ignored. The current run's thread is _thread.
        if self._running and job == self._job and self._thread is not None:
            self._finish(self._thread)

    def _finish(self, thread: _TaskThread) -> None:
        if not self._keep_thread or thread.closing:
            thread.wait()  # it ends right after its job
            if self._thread is thread:
                self._thread = None
        outcome = thread.take_outcome()
        if outcome is None:
            outcome = TaskOutcome(error=RuntimeError("the task ended without an outcome"))
        self._pump.stop()  # hands over the last items before finished
        self._running = False  # before finished: its receivers may start the next run
        self.finished.emit(outcome)
