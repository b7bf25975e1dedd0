"""Python's cycle collector, run on the GUI thread only.

The collector normally runs on whichever thread happens to allocate past its threshold.
In this app that is often the training or probe thread (building a model allocates a
lot), and when the garbage it finds holds Qt objects (a closed window's menus, a
finished dialog), their C++ destructors run on that thread. We saw the result in a test
run: the training thread, inside ``~QObject`` and holding Qt's lock, waited for the GIL
while the GUI thread, holding the GIL, waited for that lock: a frozen window.

So while the app runs, automatic collection is off and the GUI thread collects instead,
checking the allocation counts a few times a second and collecting each generation when
its threshold is passed, just as Python itself would.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

CHECK_INTERVAL_MS = 250


class MainThreadCollector(QObject):
    """Turns automatic garbage collection off and collects from a GUI-thread timer."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS):
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    @Slot()
    def check(self) -> None:
        """Collect the generations whose allocation counts passed their thresholds."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):  # the oldest due generation also collects the younger ones
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        """Collect everything now, on this thread, and give collection back to Python."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
