"""The time a run spends not training, kept out of its speeds, its ETA and its epochs' seconds.

A run is "paused" while ``TrainControl.checkpoint`` blocks (the user pressed Pause, or a
command waits for the step boundary) and while whoever drives ``Trainer.steps`` holds the
generator between two steps (the experiments' arms take turns). ``PausedTime`` adds those
seconds up; an ``ActiveClock`` measures wall time from its start less the pauses inside it,
so a measurement never has to keep two numbers in step by hand.
"""
from __future__ import annotations

import time
from contextlib import contextmanager


class PausedTime:
    """Seconds spent paused since the run began, never reset."""

    def __init__(self):
        self.total = 0.0

    @contextmanager
    def counting(self):
        """The time inside the ``with`` counts as paused (also when it ends by an exception, or a
        generator suspended inside it is closed)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.total += time.perf_counter() - t0

    def clock(self) -> "ActiveClock":
        """A clock starting now that leaves out the pauses from now on."""
        return ActiveClock(self)


class ActiveClock:
    """Wall seconds since ``restart`` (or creation), less the paused seconds in between."""

    def __init__(self, paused: PausedTime):
        self._paused = paused
        self.restart()

    def restart(self) -> None:
        self._t0 = time.perf_counter()
        self._paused_at_start = self._paused.total

    def seconds(self) -> float:
        return time.perf_counter() - self._t0 - (self._paused.total - self._paused_at_start)
