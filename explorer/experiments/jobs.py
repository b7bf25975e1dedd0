"""What every experiment runner shares: one background thread, a stop flag, join and run.

A runner subclasses ``BackgroundJob`` and implements ``_work(sink)``, which must check
``self.stopped`` often enough to end within a step. ``start`` returns at once (the GUI's
way); ``run`` starts and waits, and a Ctrl+C while waiting stops the work and re-raises
(the CLI's way). ``done`` turns true when ``_work`` has returned, however it ended.
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Any, Callable


class BackgroundJob(ABC):
    thread_name = "experiment"

    def __init__(self):
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def _work(self, sink: Callable[[int, Any], None]) -> None:
        """The job itself, on the background thread."""

    def start(self, on_event: Callable[[int, Any], None] | None = None) -> None:
        if self._thread is not None:
            raise RuntimeError("this experiment has already been started")
        sink = on_event or (lambda index, event: None)
        self._thread = threading.Thread(target=self._run_work, args=(sink,), name=self.thread_name, daemon=False)
        self._thread.start()

    def _run_work(self, sink) -> None:
        try:
            self._work(sink)
        finally:
            self._done.set()

    def stop(self) -> None:
        """Ask the job to end after the step it is in."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def done(self) -> bool:
        """True once the job's threads have ended."""
        return self._done.is_set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job; True when nothing of it is left running."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def wait(self, on_event: Callable[[int, Any], None] | None = None) -> None:
        """Start and wait; Ctrl+C stops the job, waits for it and re-raises."""
        self.start(on_event)
        try:
            while not self.join(0.2):
                continue
        except KeyboardInterrupt:
            self.stop()
            self.join()
            raise
