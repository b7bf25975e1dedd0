"""What every experiment runner shares: ``run`` in the calling thread, a stop flag, the error.

A runner subclasses ``Job`` and implements ``_work(sink)`` and ``_result()``. ``run(on_event)``
calls ``_work`` in the thread that calls it and returns ``_result()``; ``_work`` first calls
the ``thread_init`` the runner was made with, inside its own error handling (a failure
there becomes ``error``); events reach ``on_event(index, event)`` on that thread too. The
CLI calls ``run`` on its main thread (Ctrl+C calls ``stop``, see ``cli/common.py``); the
GUI calls it on a background thread of its own.

``stop`` only sets a flag, without a lock, so any thread may call it, and so may a signal
handler that interrupts ``run`` on the same thread; ``_work`` looks at ``stopped`` often
enough to end within a step. ``error`` names what kept the work from starting or ending
(empty when nothing did).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable

Sink = Callable[[int, Any], None]


class Job(ABC):
    """A stoppable piece of experiment work that ``run`` does in the calling thread; see the module docstring.

    ``thread_init`` (optional): each runner's ``_work`` calls it first, on that thread.
    """

    def __init__(self, thread_init: Callable[[], None] | None = None):
        self._stop_asked = False  # a plain flag: setting it takes no lock (see the module docstring)
        self._thread_init = thread_init or (lambda: None)
        self._ran = False
        self.error = ""

    @abstractmethod
    def _work(self, sink: Sink) -> None:
        """The job itself, on the thread that called ``run``."""

    @abstractmethod
    def _result(self):
        """What ``run`` returns."""

    def run(self, on_event: Sink | None = None):
        """Do the job in this thread and return its result (once per runner)."""
        if self._ran:
            raise RuntimeError("this experiment has already been run")
        self._ran = True
        self._work(on_event or (lambda index, event: None))
        return self._result()

    def stop(self) -> None:
        """Ask the job to end after the step it is in."""
        self._stop_asked = True

    @property
    def stopped(self) -> bool:
        return self._stop_asked
