"""The import warm-up: off the GUI thread, the collector held meanwhile, the result frozen."""
import gc
import sys
import threading

from PySide6.QtWidgets import QWidget

from explorer.ui.main_thread_gc import MainThreadCollector
from explorer.ui.warm_up import ImportWarmer, warm_after_first_paint


class _Watch(MainThreadCollector):
    """Records what the warmer asks of the collector, and on which thread."""

    def __init__(self):
        super().__init__(interval_ms=60_000)
        self.calls = []

    def hold(self, held):
        self.calls.append(("hold", held, threading.current_thread() is threading.main_thread()))
        super().hold(held)

    def freeze(self):
        self.calls.append(("freeze", None, threading.current_thread() is threading.main_thread()))
        super().freeze()


def test_the_modules_are_imported_off_the_gui_thread_and_frozen_after(qtbot, monkeypatch):
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    imported_on = []
    real = __import__("importlib").import_module

    def import_module(name):
        imported_on.append(threading.current_thread())
        return real(name)

    monkeypatch.setattr("importlib.import_module", import_module)
    collector = _Watch()
    try:
        warmer = ImportWarmer(collector, modules=("colorsys",))
        with qtbot.waitSignal(warmer.finished, timeout=30_000):
            warmer.start()
            assert collector.held_back
        assert "colorsys" in sys.modules and warmer.error == "" and warmer.seconds >= 0
        assert imported_on and threading.main_thread() not in imported_on
        assert collector.calls == [("hold", True, True), ("freeze", None, True), ("hold", False, True)]
        assert not collector.held_back
    finally:
        gc.unfreeze()
        collector.stop()
        gc.disable()


def test_a_failed_import_is_reported_and_collection_resumes(qtbot):
    collector = _Watch()
    try:
        warmer = ImportWarmer(collector, modules=("explorer.no_such_module",))
        with qtbot.waitSignal(warmer.finished, timeout=30_000):
            warmer.start()
        assert "ModuleNotFoundError" in warmer.error and not collector.held_back
    finally:
        gc.unfreeze()
        collector.stop()
        gc.disable()


def test_the_warm_up_waits_for_the_window_to_be_painted(qtbot, monkeypatch):
    monkeypatch.setattr("explorer.ui.warm_up.WARM_UP_DELAY_MS", 0)
    window = QWidget()
    qtbot.addWidget(window)
    warmer = warm_after_first_paint(window, None)
    started = []
    monkeypatch.setattr(warmer, "start", lambda: started.append(True))
    assert not started
    window.show()
    qtbot.waitUntil(lambda: bool(started), timeout=10_000)
