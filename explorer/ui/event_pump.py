"""The one way events from background threads reach the GUI: a locked list and a GUI-thread timer.

Worker threads (a training run, an experiment's arms) call ``push(item)``, which only
appends to a list under a lock: it never touches Qt, so it is safe from any thread and
costs the worker next to nothing. A ``QTimer`` on the GUI thread drains the list a few
times a second and emits everything pushed since as one ``ready(list)``, in order. The
GUI thus sees a handful of updates per second however fast the work produces them
(throttle at the producer, pull at the consumer). ``ticked`` follows every timer drain,
for owners that check on their threads at the same pace.
"""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer, Signal, Slot

DRAIN_INTERVAL_MS = 200  # five GUI updates a second at most


class EventPump(QObject):
    ready = Signal(list)  # the items pushed since the last drain, oldest first
    ticked = Signal()  # after each drain by the timer

    def __init__(self, parent: QObject | None = None, interval_ms: int = DRAIN_INTERVAL_MS):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: list = []
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timeout)

    def start(self) -> None:
        """Forget anything left from before and drain from now on (GUI thread)."""
        with self._lock:
            self._pending = []
        self._timer.start()

    def stop(self) -> None:
        """Stop the timer and hand over what is still pending (GUI thread)."""
        self._timer.stop()
        self.drain()

    def push(self, item) -> None:
        """Queue one item; safe from any thread."""
        with self._lock:
            self._pending.append(item)

    def drain(self) -> None:
        """Emit ``ready`` with everything pushed so far, if anything was (GUI thread)."""
        with self._lock:
            items, self._pending = self._pending, []
        if items:
            self.ready.emit(items)

    @Slot()
    def _on_timeout(self) -> None:
        self.drain()
        self.ticked.emit()
