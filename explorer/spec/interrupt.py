"""Ctrl+C as a flag: a handler that only records the press, and safe points that act on it.

Python's own SIGINT handler raises ``KeyboardInterrupt`` in whatever Python code runs next.
While torch's C++ code is calling back into Python (during ``import torch``, in autograd
hooks, in the dispatcher), that exception cannot travel through the C++ frames, and the
process dies with ``terminate called after throwing an instance of
'pybind11::error_already_set'`` and SIGABRT. So the command line replaces that handler
(``install``, the first thing it does) with one that never raises: it counts the press,
says what will happen, and at most sets plain flags. The work acts on the record at safe
points, where only our own Python code is on the stack:

- ``check(phase)`` is a safe point: it raises ``Interrupted`` once the user asked to
  interrupt. The trainer calls it before reading the data, before building the model and
  before every step and test batch; the export between its stages and while it waits for
  the verifying process; the CLI after loading torch. Any command (a download, say) gets
  the same behaviour by calling it between its chunks of work.
- ``stop_first(stop, what)``: while work runs that can end cleanly and keep its results
  (a training run, an experiment's arms), the first press calls ``stop()`` and says
  "stopping after this step (Ctrl+C again to interrupt now)"; ``stop`` runs inside the
  handler, so it must only set a flag (no lock that the interrupted code may hold).
- Any other press asks to interrupt: it says "interrupted" at once (under torchrun only
  rank 0 speaks), and the next ``check`` raises. Before the work has something to keep
  (while torch loads, the data is read, the model is built) the first press does this.
- ``finish(status)`` ignores every later press and turns a 0 into 130 when "interrupted"
  was said, so the words and the exit status always agree.

Where nothing was installed (the app, tests calling functions directly) no press is ever
recorded, ``check`` reads one attribute and ``stop_first`` changes nothing.

With ``RESNET_EXPLORER_PHASES=1`` (a test hook) ``phase(name)`` and each ``check(name)``
print ``phase: NAME`` on stderr, so a test can send its signals at known moments of
a run instead of after fixed sleeps that a loaded machine stretches.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Callable, Iterator

PHASES_ENV = "RESNET_EXPLORER_PHASES"
INTERRUPTED_STATUS = 130


class Interrupted(KeyboardInterrupt):
    """Raised at a safe point after the user asked to interrupt; "interrupted" was already said."""


class _State:
    def __init__(self):
        self.installed = False
        self.speak = True
        self.presses = 0
        self.requested = False  # a press asked to interrupt; the next check raises
        self.stops: list[tuple[Callable[[], None], str]] = []  # innermost last
        self.stop_used = False  # a first press went to a stop
        self.report_phases = False


_state = _State()


def _say(text: str) -> None:
    """Straight to the file descriptor: a handler that used ``sys.stderr`` while the main code
    is inside a write to it would raise "reentrant call" (the very exception we avoid)."""
    if not _state.speak:
        return
    data = text.encode("utf-8", "backslashreplace")
    with contextlib.suppress(OSError):  # a closed or broken stderr: nothing to tell
        while data:
            data = data[os.write(2, data):]


def _handler(signum, frame) -> None:
    """Record a press. Never raises: it may run while C++ code is calling Python."""
    _state.presses += 1
    if _state.requested:
        return  # said already; the next safe point ends the work
    if _state.stops and not _state.stop_used:
        _state.stop_used = True
        stop, what = _state.stops[-1]
        stop()
        _say(f"\nstopping after this {what} (Ctrl+C again to interrupt now)\n")
        return
    _state.requested = True
    _say("\ninterrupted\n")


def install(speak: bool = True) -> bool:
    """Handle SIGINT with the recording handler (main thread only; False elsewhere).
    ``speak``: say what a press does (False on torchrun ranks other than 0)."""
    _state.speak = speak
    _state.report_phases = os.environ.get(PHASES_ENV, "") not in ("", "0")
    try:
        signal.signal(signal.SIGINT, _handler)
    except ValueError:  # not the main thread
        return False
    _state.installed = True
    return True


def requested() -> bool:
    """Whether the user asked to interrupt (for code that cancels by polling, such as the export)."""
    return _state.requested


def phase(name: str) -> None:
    """Name the work that follows, for the test hook (see the module docstring); nothing else."""
    if _state.report_phases:
        sys.stderr.write(f"phase: {name}\n")
        sys.stderr.flush()


def check(name: str | None = None) -> None:
    """A safe point: raise ``Interrupted`` if the user asked to interrupt. ``name``: the work
    that follows, for the test hook."""
    if name:
        phase(name)
    if _state.requested:
        raise Interrupted


@contextlib.contextmanager
def stop_first(stop: Callable[[], None], what: str = "step") -> Iterator[None]:
    """Within the block the first press calls ``stop()`` (which must only set a flag) instead of
    asking to interrupt; see the module docstring."""
    entry = (stop, what)
    _state.stops.append(entry)
    try:
        yield
    finally:
        _state.stops.remove(entry)


def finish(status: int) -> int:
    """Ignore presses from now on (the work is over; one more must not end it with a
    traceback); the exit status, 130 when "interrupted" was said."""
    if _state.installed:
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _state.requested and status == 0:
        return INTERRUPTED_STATUS
    return status
