"""What the GUI thread pays to hear from a worker: one queued signal per event against the event pump.

superqt's ``thread_worker`` (and a plain ``QThread`` with a ``Signal(object)``) delivers each
value a worker yields as its own queued signal: the GUI thread wakes once per value. The
app's ``BackgroundTask`` pushes values into an ``EventPump`` (``ui/event_pump.py``), a locked
list the GUI drains five times a second into one batch. This runs both in the same process:
a worker thread produces ``--events`` small events as fast as it can (a training run on a GPU
reports at up to a few thousand steps per second), and the GUI thread's CPU seconds and its
number of wake-ups until every event has arrived are printed, with the ratio of the two.

    QT_QPA_PLATFORM=offscreen python bench/bench_event_delivery.py [--events 20000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal  # noqa: E402

from explorer.ui.event_pump import EventPump  # noqa: E402


class _PerEvent(QObject):
    value = Signal(object)


def per_event_signal(n: int) -> tuple[float, int]:
    """Each event a queued signal, as superqt's workers deliver what they yield."""
    app = QCoreApplication.instance()
    got = [0]
    wakeups = [0]
    sender = _PerEvent()

    def on_value(_v):
        got[0] += 1
        wakeups[0] += 1

    sender.value.connect(on_value)
    thread = QThread()
    sender.moveToThread(thread)
    thread.start()
    cpu0 = time.thread_time()

    def produce():
        for i in range(n):
            sender.value.emit((i, 0.5))

    worker = threading.Thread(target=produce)
    worker.start()
    while got[0] < n:
        app.processEvents()
    worker.join()
    cpu = time.thread_time() - cpu0
    thread.quit()
    thread.wait()
    return cpu, wakeups[0]


def pumped(n: int) -> tuple[float, int]:
    """Events pushed into the app's EventPump and drained as batches."""
    app = QCoreApplication.instance()
    pump = EventPump()
    got = [0]
    wakeups = [0]

    def on_batch(items):
        got[0] += len(items)
        wakeups[0] += 1

    pump.ready.connect(on_batch)
    pump.start()
    cpu0 = time.thread_time()

    def produce():
        for i in range(n):
            pump.push((i, 0.5))

    worker = threading.Thread(target=produce)
    worker.start()
    while got[0] < n:
        app.processEvents()
        time.sleep(0.001)  # an idle GUI thread waits for its next event, it does not spin
    worker.join()
    cpu = time.thread_time() - cpu0
    pump.stop()
    return cpu, wakeups[0]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=20_000)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    QCoreApplication.instance() or QCoreApplication([])
    print(f"{args.events:,} events from one worker thread; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    rows = {"one queued signal per event (superqt's way)": [], "EventPump batches (the app's way)": []}
    for _ in range(args.repeats):
        rows["one queued signal per event (superqt's way)"].append(per_event_signal(args.events))
        rows["EventPump batches (the app's way)"].append(pumped(args.events))
    medians = {}
    for name, runs in rows.items():
        cpu = statistics.median(r[0] for r in runs)
        wake = statistics.median(r[1] for r in runs)
        medians[name] = cpu
        print(f"  {name:<46} GUI thread {cpu * 1000:8.1f} ms CPU, {wake:8,.0f} wake-ups")
    a, b = medians.values()
    print(f"  ratio (per-event / pump): {a / max(b, 1e-9):.1f}x the GUI thread's CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
