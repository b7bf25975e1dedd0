"""BackgroundTask: the one way work runs off the GUI thread (events in order, a prompt end, cancel, shutdown)."""
from __future__ import annotations

import os
import sys
import threading
import time

import pytest
import shiboken6
from explorer.ui.background import LOW_PRIORITY_NICE, BackgroundTask


@pytest.fixture
def task(qtbot):
    t = BackgroundTask(name="test")
    yield t
    assert t.shutdown(5.0)


def record(task: BackgroundTask) -> list:
    """Everything the GUI hears, in order: ("events", items) and ("finished", outcome)."""
    heard = []
    task.eventsReady.connect(lambda items: heard.append(("events", items, on_gui_thread())))
    task.finished.connect(lambda outcome: heard.append(("finished", outcome, on_gui_thread())))
    return heard


def on_gui_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def test_events_arrive_in_order_on_the_gui_thread_and_all_before_finished(qtbot, task):
    heard = record(task)
    workers = []

    def fn(emit, cancelled):
        workers.append(threading.current_thread())
        for i in range(2000):
            emit(i)
        return "done"

    with qtbot.waitSignal(task.finished, timeout=10_000):
        task.start(fn)
    assert workers and workers[0] is not threading.main_thread()
    kinds = [h[0] for h in heard]
    assert kinds[-1] == "finished" and kinds.count("finished") == 1
    assert [i for h in heard if h[0] == "events" for i in h[1]] == list(range(2000))
    assert all(h[2] for h in heard)
    outcome = heard[-1][1]
    assert outcome.result == "done" and not outcome.failed and not outcome.cancelled
    assert not task.is_running()


def test_finished_comes_at_once_not_on_the_pumps_next_tick(qtbot):
    task = BackgroundTask(interval_ms=3_600_000)  # the pump's timer would first fire in an hour
    heard = record(task)
    ticks = []
    task._pump.ticked.connect(lambda: ticks.append(True))
    go, waiting = threading.Event(), threading.Event()

    def fn(emit, cancelled):
        emit("last words")
        waiting.set()
        go.wait(10)
        return 42

    task.start(fn)
    assert waiting.wait(10)  # the thread is under way, waiting for go
    with qtbot.waitSignal(task.finished, timeout=120_000):
        go.set()
    # the end travels as a queued signal, with the last events handed over first: the pump's
    # timer never drained anything (counted, not timed)
    assert ticks == []
    assert [h[0] for h in heard] == ["events", "finished"] and heard[0][1] == ["last words"]
    assert heard[1][1].result == 42


def test_an_exception_in_fn_is_an_error_outcome_not_a_crash(qtbot, task):
    heard = record(task)

    def fn(emit, cancelled):
        emit("before")
        raise ValueError("the data set is missing")

    with qtbot.waitSignal(task.finished, timeout=10_000) as ended:
        task.start(fn)
    outcome = ended.args[0]
    assert outcome.failed and isinstance(outcome.error, ValueError)
    assert outcome.error_text == "ValueError: the data set is missing"
    assert "in fn" in outcome.traceback_text and outcome.result is None
    assert heard[0][:2] == ("events", ["before"])
    with qtbot.waitSignal(task.finished, timeout=10_000) as again:  # the task can be used again
        task.start(lambda emit, cancelled: "fine")
    assert again.args[0].result == "fine" and not again.args[0].failed


def test_cancel_is_seen_by_fn(qtbot, task):
    heard = record(task)

    def fn(emit, cancelled):
        emit("waiting")
        while not cancelled():
            time.sleep(0.005)
        return "saw it"

    task.start(fn)
    qtbot.waitUntil(lambda: any(h[0] == "events" for h in heard), timeout=10_000)
    assert task.is_running() and not task.cancelled()
    with qtbot.waitSignal(task.finished, timeout=10_000) as ended:
        task.cancel()
    assert ended.args[0].result == "saw it" and ended.args[0].cancelled


def test_a_second_start_while_running_is_refused(qtbot, task):
    go = threading.Event()
    task.start(lambda emit, cancelled: go.wait(10))
    with pytest.raises(RuntimeError, match="already running"):
        task.start(lambda emit, cancelled: None)
    with qtbot.waitSignal(task.finished, timeout=10_000) as ended:
        go.set()
    assert ended.args[0].result is True  # the first fn's, not the refused one's


def test_shutdown_cancels_waits_and_reports_the_end_before_it_returns(qtbot, task):
    heard = record(task)
    started = threading.Event()

    def fn(emit, cancelled):
        started.set()
        while not cancelled():
            emit("tick")
            time.sleep(0.01)
        return "stopped"

    task.start(fn)
    assert started.wait(10)
    assert task.shutdown(120.0)  # True: it ended while shutdown waited (the limit only guards a hang)
    assert not task.is_running()
    assert heard[-1][0] == "finished" and heard[-1][1].result == "stopped" and heard[-1][1].cancelled
    assert all(h[0] == "events" for h in heard[:-1])
    assert task.shutdown(1.0)  # nothing left


def test_a_thread_that_outlasts_shutdown_is_left_to_end_and_never_destroyed_running(qtbot):
    task = BackgroundTask(name="stubborn")
    go, ended = threading.Event(), threading.Event()

    def fn(emit, cancelled):  # a long step that does not look at the flag
        go.wait(20)
        ended.set()
        return "late"

    task.start(fn)
    assert not task.shutdown(0.1)
    assert not ended.is_set()  # closing stays fast: shutdown returned without waiting for the step
    assert task.is_running()
    with qtbot.waitSignal(task.finished, timeout=10_000) as late:  # while the task lives, its end is still reported
        go.set()
    assert late.args[0].result == "late"

    # the task object goes away while its thread runs: the thread finishes on its own
    go.clear()
    ended.clear()
    task.start(lambda emit, cancelled: (go.wait(20), ended.set()))
    assert not task.shutdown(0.05)
    task.deleteLater()
    del task
    qtbot.wait(20)  # deferred deletion happens; a destroyed running QThread would abort the process
    go.set()
    assert ended.wait(10)
    qtbot.wait(50)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice values per thread are Linux's")
def test_low_priority_tasks_give_way_to_the_gui_thread_and_others_do_not(qtbot):
    def my_nice(emit, cancelled):
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    gui = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    for low, expected in ((True, min(19, gui + LOW_PRIORITY_NICE)), (False, gui)):
        task = BackgroundTask(low_priority=low)
        with qtbot.waitSignal(task.finished, timeout=10_000) as ended:
            task.start(my_nice)
        assert ended.args[0].result == expected, (low, ended.args[0].result)


def test_a_kept_thread_runs_every_start_and_ends_with_shutdown_or_its_task(qtbot):
    def ident(emit, cancelled):
        return threading.get_ident()

    task = BackgroundTask(keep_thread=True)
    idents = []
    for _ in range(3):
        with qtbot.waitSignal(task.finished, timeout=10_000) as ended:
            task.start(ident)
        idents.append(ended.args[0].result)
    assert len(set(idents)) == 1 and idents[0] != threading.get_ident()  # one thread, not the GUI's
    thread = task._thread
    assert thread.isRunning() and not task.is_running()  # waiting for work, no run under way
    assert task.shutdown(5.0) and not thread.isRunning()
    with qtbot.waitSignal(task.finished, timeout=10_000):  # a later start gets a new thread
        task.start(ident)
    assert task._thread is not thread and task._thread.isRunning()

    thread = task._thread
    task.deleteLater()  # gone without shutdown: the kept thread must not wait for work forever
    del task
    # it ends, and is deleted once it has
    qtbot.waitUntil(lambda: not shiboken6.isValid(thread) or not thread.isRunning(), timeout=10_000)
