"""Garbage is collected on the GUI thread, never on a worker that happens to allocate."""
import gc
import threading
import weakref

from explorer.ui.main_thread_gc import MainThreadCollector


class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the cycle collector frees it


def test_workers_never_collect_and_the_gui_thread_does(qtbot, _collect_garbage_on_the_gui_thread):
    assert not gc.isenabled()
    collected_on = []
    gc.callbacks.append(lambda phase, info: phase == "stop" and collected_on.append(threading.current_thread()))
    try:
        cycle = weakref.ref(Node())

        kept = []

        def allocate_a_lot():  # far past generation 0's threshold, as building a model does
            kept.extend([i] for i in range(50 * gc.get_threshold()[0]))

        worker = threading.Thread(target=allocate_a_lot)
        worker.start()
        worker.join()
        assert cycle() is not None and collected_on == []  # the worker did not collect
        qtbot.waitUntil(lambda: cycle() is None, timeout=5_000)  # the GUI thread's timer did
        assert collected_on and all(t is threading.main_thread() for t in collected_on)
    finally:
        gc.callbacks.pop()


def test_stopping_collects_everything_and_gives_collection_back(qapp):
    was = gc.isenabled()
    gc.enable()
    try:
        collector = MainThreadCollector(interval_ms=60_000)
        assert not gc.isenabled()
        cycle = weakref.ref(Node())
        assert cycle() is not None
        collector.stop()
        assert cycle() is None and gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
