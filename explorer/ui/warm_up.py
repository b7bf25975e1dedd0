"""After the first paint: import what the first optimizer needs, off the GUI thread.

Every ``torch.optim`` optimizer wraps its methods with ``torch._disable_dynamo``, which
imports ``torch._dynamo`` the first time one is called: about 830 modules, 1.3 CPU-s and
120,000 new Python objects, once per process. Left to the first training run, that
import happened on a training thread at the worst moment (the start of an experiment),
and what stalled the window was not the import but the cycle collector walking those
objects: young collections of tens of thousands of them and full collections of the
whole heap, each holding the interpreter lock for 100 to 450 ms.

``ImportWarmer`` does the import on a plain Python thread once the window is up. The
GUI thread keeps the interpreter lock whenever it needs it (the import is Python code,
which hands the lock over every few milliseconds); the collector is held back while
the objects arrive, and when the import is done it moves them, with everything else
alive then (modules, classes, the main window), out of its way with ``gc.freeze``.
A training run that starts meanwhile waits for the same import to finish (Python's
module lock) instead of doing it again.
"""
from __future__ import annotations

import threading
import time

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, Slot

from .main_thread_gc import MainThreadCollector

WARM_MODULES = ("torch._dynamo",)
# After the first paint the window is busiest (the first gradient probe's result is drawn for
# the first time, about 80 CPU-ms); the warm-up waits that out rather than competing with it.
WARM_UP_DELAY_MS = 2000


def _import_all(names) -> None:
    import importlib

    for name in names:
        importlib.import_module(name)


class ImportWarmer(QObject):
    """``start()`` imports ``WARM_MODULES`` on a daemon thread; ``finished(seconds)`` on the GUI thread."""

    finished = Signal(float)
    _done = Signal(float, str)

    def __init__(self, collector: MainThreadCollector | None, modules=WARM_MODULES, parent: QObject | None = None):
        super().__init__(parent)
        self._collector = collector
        self._modules = tuple(modules)
        self._thread: threading.Thread | None = None
        self.error = ""
        self.seconds: float | None = None
        self._done.connect(self._on_done)  # queued: emitted on the warm-up thread

    def start(self) -> None:
        if self._thread is not None:
            return
        if self._collector is not None:
            self._collector.hold(True)
        self._thread = threading.Thread(target=self._run, name="import-warm-up", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started, error = time.perf_counter(), ""
        try:
            _import_all(self._modules)
        except Exception as err:  # noqa: BLE001 - a failed warm-up only means the first run imports it
            error = f"{type(err).__name__}: {err}"
        self._done.emit(time.perf_counter() - started, error)

    @Slot(float, str)
    def _on_done(self, seconds: float, error: str) -> None:
        self.seconds, self.error = seconds, error
        if self._collector is not None:
            self._collector.freeze()
            self._collector.hold(False)
        self.finished.emit(seconds)

    @property
    def running(self) -> bool:
        return self._thread is not None and self.seconds is None


class _FirstPaint(QObject):
    """Starts the warm-up ``WARM_UP_DELAY_MS`` after the watched window's first paint."""

    def __init__(self, warmer: ImportWarmer, window):
        super().__init__(window)
        self._warmer = warmer
        window.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(WARM_UP_DELAY_MS, self._warmer.start)
        return False


def warm_after_first_paint(window, collector: MainThreadCollector | None) -> ImportWarmer:
    """An ``ImportWarmer`` (a child of ``window``) that starts a while after the window's first
    paint, so neither the start-up to the first picture nor the first results share the CPU with it."""
    warmer = ImportWarmer(collector, parent=window)
    warmer._first_paint = _FirstPaint(warmer, window)
    return warmer
