"""The event pump that carries training and experiment events from worker threads to the GUI."""
import threading

from PySide6.QtCore import QCoreApplication, QThread

from explorer.ui.event_pump import EventPump


def test_items_from_threads_arrive_in_batches_on_the_gui_thread_in_order(qtbot):
    pump = EventPump(interval_ms=20)
    batches, threads_seen = [], []
    pump.ready.connect(lambda items: (batches.append(items), threads_seen.append(QThread.currentThread())))
    pump.start()
    workers = [threading.Thread(target=lambda k=k: [pump.push((k, i)) for i in range(500)]) for k in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    qtbot.waitUntil(lambda: sum(len(b) for b in batches) == 1500)
    pump.stop()
    items = [item for batch in batches for item in batch]
    for k in range(3):
        assert [i for kk, i in items if kk == k] == list(range(500))  # each thread's order kept
    assert len(batches) < 1500  # batched, not one signal per item
    assert all(t is QCoreApplication.instance().thread() for t in threads_seen)


def test_stop_hands_over_what_is_left_and_start_forgets_it(qtbot):
    pump = EventPump(interval_ms=60_000)  # the timer never fires during the test
    got = []
    pump.ready.connect(got.append)
    pump.start()
    pump.push("a")
    pump.push("b")
    pump.stop()
    assert got == [["a", "b"]]
    pump.push("stale")
    pump.start()
    pump.push("c")
    pump.stop()
    assert got == [["a", "b"], ["c"]]
