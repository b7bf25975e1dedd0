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


def _generations_collected(fn) -> list[int]:
    seen = []
    callback = lambda phase, info: phase == "stop" and seen.append(info["generation"])  # noqa: E731
    gc.callbacks.append(callback)
    try:
        fn()
    finally:
        gc.callbacks.remove(callback)
    return seen


def _into_the_oldest_generation(n: int) -> list:
    """``n`` new long-lived objects, moved to generation 2 as Python would, and enough young
    collections since that generation 2 is due by the count."""
    kept = [[i] for i in range(n)]
    for _ in range(gc.get_threshold()[2] + 1):
        gc.collect(1)  # survivors of generation 1 move to 2; each adds one to generation 2's count
    return kept


def test_a_full_collection_waits_until_the_oldest_generation_grew_by_a_quarter(qapp):
    collector = MainThreadCollector(interval_ms=60_000)
    collector.freeze()  # what is alive before the test is not counted
    try:
        base = _into_the_oldest_generation(20_000)
        assert 2 in _generations_collected(collector.check)  # the first one: nothing measured before
        few = _into_the_oldest_generation(1_000)  # 5% more: a walk of the whole heap is not worth it
        assert 2 not in _generations_collected(collector.check)
        many = _into_the_oldest_generation(10_000)  # 50% more: Python's rule says collect
        assert 2 in _generations_collected(collector.check)
        assert len(base) + len(few) + len(many) == 31_000
    finally:
        gc.unfreeze()
        collector.stop()
        gc.disable()  # the test fixture's collector keeps automatic collection off


def test_nothing_is_collected_while_held(qapp):
    collector = MainThreadCollector(interval_ms=60_000)
    try:
        _into_the_oldest_generation(10)
        cycle = weakref.ref(Node())
        kept = [[i] for i in range(2 * gc.get_threshold()[0])]  # generation 0 is due as well
        collector.hold(True)
        assert _generations_collected(collector.check) == [] and cycle() is not None
        collector.hold(False)
        assert _generations_collected(collector.check) and kept
    finally:
        collector.stop()
        gc.disable()


def test_frozen_objects_are_walked_by_no_collection(qapp):
    collector = MainThreadCollector(interval_ms=60_000)
    try:
        before = gc.get_freeze_count()
        kept = _into_the_oldest_generation(5_000)
        collector.freeze()
        assert gc.get_freeze_count() >= before + len(kept)
        assert len(gc.get_objects(2)) < len(kept)  # they left the generations the collector walks
    finally:
        gc.unfreeze()
        collector.stop()
        gc.disable()
