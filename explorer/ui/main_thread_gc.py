"""Python's cycle collector, run on the GUI thread only, and kept short.

The collector normally runs on whichever thread happens to allocate past its threshold.
In this app that is often the training or probe thread (building a model allocates a
lot), and when the garbage it finds holds Qt objects (a closed window's menus, a
finished dialog), their C++ destructors run on that thread. We saw the result in a test
run: the training thread, inside ``~QObject`` and holding Qt's lock, waited for the GIL
while the GUI thread, holding the GIL, waited for that lock: a frozen window.

So while the app runs, automatic collection is off and the GUI thread collects instead,
checking the allocation counts a few times a second and collecting each generation when
its threshold is passed, just as Python itself would, including Python's rule for the
oldest generation: a full collection only once the objects that reached it since the
last one are a quarter of those it held then (without that rule every eleventh young
collection would walk the whole heap).

A full collection holds the interpreter lock for as long as it walks the heap: about
110 ms with torch, Qt and the app loaded, 250 ms once torch's compiler stack is in too
(measured on a 2-core machine; ``bench/stall_watch.py`` shows such a collection as the
cause of every GUI stall over 100 ms at an experiment's start). ``freeze()`` moves
everything alive into the permanent generation, which collections skip; the app calls it
once its window is up and again after ``warm_imports``, when what is alive is modules,
classes and the main window, all of which live as long as the app.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

CHECK_INTERVAL_MS = 250
FULL_COLLECTION_GROWTH = 0.25  # Python's own rule (gcmodule.c, long_lived_pending / long_lived_total)


class MainThreadCollector(QObject):
    """Turns automatic garbage collection off and collects from a GUI-thread timer."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS):
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._long_lived = 0  # objects in the oldest generation after the last full collection (as Python starts)
        self._judged_at = -1  # generation 2's count when _full_due last looked
        self.held_back = False  # True: no collection for now (``hold``)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def _full_due(self) -> bool:
        """Python's rule: enough new objects reached the oldest generation to be worth a walk."""
        if gc.get_count()[2] == self._judged_at:  # no young collection since the last look
            return False
        self._judged_at = gc.get_count()[2]
        pending = len(gc.get_objects(2)) - self._long_lived
        return pending > FULL_COLLECTION_GROWTH * self._long_lived

    @Slot()
    def check(self) -> None:
        """Collect the generations whose allocation counts passed their thresholds."""
        if self.held_back:
            return
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if counts[2] > thresholds[2] and self._full_due():
            gc.collect(2)
            self._long_lived, self._judged_at = len(gc.get_objects(2)), -1
            return
        for generation in (1, 0):  # the oldest due generation also collects the younger ones
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return

    def hold(self, held: bool) -> None:
        """Hold collections back (True) while a burst of long-lived objects arrives (an
        import on another thread), until ``freeze()`` takes them out of every later walk."""
        self.held_back = held

    def freeze(self) -> None:
        """Move every object alive now into the permanent generation (``gc.freeze``)."""
        gc.freeze()
        self._long_lived = len(gc.get_objects(2))

    def stop(self) -> None:
        """Collect everything now, on this thread, and give collection back to Python."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
