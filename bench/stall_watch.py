"""Why did the GUI thread stall? Stack dumps and collector timings while a bench runs.

``StallWatch(ticker_ms=10, late_ms=40, path)`` re-arms ``faulthandler.dump_traceback_later``
on every tick of a GUI-thread timer: when the event loop is ``late_ms`` late, faulthandler's
own C thread writes every Python thread's stack to ``path`` without needing the interpreter
lock (so a thread that holds the lock in a long C call is caught in the act). It also records
every cyclic garbage collection (thread, generation, milliseconds) through ``gc.callbacks``.

    with StallWatch("/tmp/stalls.txt") as watch:
        ...run the GUI...
    print(watch.report())
"""
from __future__ import annotations

import collections
import faulthandler
import gc
import threading
import time

from PySide6.QtCore import QTimer


class StallWatch:
    def __init__(self, path: str, late_ms: float = 40.0, tick_ms: int = 10):
        self.path = path
        self.late_s = late_ms / 1000.0
        self.collections: list[tuple[str, int, float]] = []  # thread name, generation, ms
        self._fh = None
        self._gc_started: dict[int, float] = {}
        self._timer = QTimer()
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._arm)

    def _arm(self) -> None:
        faulthandler.dump_traceback_later(self.late_s, repeat=False, file=self._fh)

    def _on_gc(self, phase: str, info: dict) -> None:
        ident = threading.get_ident()
        if phase == "start":
            self._gc_started[ident] = time.perf_counter()
        else:
            start = self._gc_started.pop(ident, None)
            if start is not None:
                self.collections.append((threading.current_thread().name, info["generation"],
                                         (time.perf_counter() - start) * 1000))

    def __enter__(self) -> "StallWatch":
        self._fh = open(self.path, "w")
        gc.callbacks.append(self._on_gc)
        self._arm()
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.stop()
        faulthandler.cancel_dump_traceback_later()
        gc.callbacks.remove(self._on_gc)
        self._fh.close()

    def report(self, top: int = 8) -> str:
        """The longest collections and the most frequent innermost frames of the dumps."""
        lines = []
        slow = sorted(self.collections, key=lambda c: -c[2])[:top]
        lines.append(f"{len(self.collections)} collections; slowest: " +
                     ", ".join(f"gen{g} {ms:.0f} ms on {name}" for name, g, ms in slow))
        with open(self.path) as fh:
            dumps = fh.read().split("Timeout (")[1:]
        lines.append(f"{len(dumps)} stack dumps of a late event loop")
        frames = collections.Counter()
        for dump in dumps:
            for thread in dump.split("\n\n"):
                body = [ln.strip() for ln in thread.splitlines() if ln.strip().startswith("File")]
                if body:
                    frames[body[0]] += 1
        for frame, n in frames.most_common(top):
            lines.append(f"  {n:4d}  {frame}")
        return "\n".join(lines)
