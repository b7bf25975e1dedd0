"""One start of the app (or of the bare baseline) that prints when its window was first painted.

    python bench/startup_child.py app    # python main.py, as a user starts it
    python bench/startup_child.py bare   # torch + PySide6 + an empty 1600x1000 QMainWindow
    python bench/startup_child.py settle # the app, then its GUI stalls while the import warm-up runs
    python bench/startup_child.py settle-cold  # the same without the warm-up

Prints ``painted <unix time> cpu <CPU-seconds of the process so far, every thread>`` after
the main window's first paint has been handled, and quits. ``run_all.py`` takes the time before starting this process and subtracts it, so
the figure runs from process start (interpreter included) to the window painted. The
app runs exactly as ``python main.py``; only ``place_window`` is wrapped to watch for
the paint. Run with QT_QPA_PLATFORM=offscreen and a fresh settings folder (HOME).

``settle`` keeps going after the paint: a 10 ms GUI timer ticks for six seconds (and until the
app's import warm-up, ``explorer/ui/warm_up.py``, has finished), then it prints
``settled <longest gap ms> late <longest gap from 1.5 s on, the window the warm-up runs in>
warm <seconds it took> ticks <n>``. ``settle-cold`` does the same without the warm-up: the
stalls those seconds have anyway. With ``STALL_CPU=1`` it also prints the longest gaps with
the GUI thread's own CPU time in each (little CPU: it waited for the interpreter lock or a
core), with ``STALL_DUMPS=<file>`` every thread's stack whenever the loop was late
(``stall_watch.py``).
"""
from __future__ import annotations

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


SETTLE_MS = 6000  # how long "settle" watches after the paint, at least (the warm-up has to end in it)
LATE_MS = 1500  # the warm-up starts 2 s after the paint (warm_up.WARM_UP_DELAY_MS); the window before is the same in both


def watch_settling(window) -> None:
    """After the first paint: the longest gap between ticks of a 10 ms timer, for ``SETTLE_MS`` and
    until the warm-up is over."""
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from explorer.ui.warm_up import ImportWarmer

    warmer = window.findChild(ImportWarmer)
    clock, gaps, last = QElapsedTimer(), [], [None]
    cpu_last, cpus = [time.thread_time()], []
    late = []  # the gaps that ended from LATE_MS on: the window the warm-up runs in

    def tick():
        now = clock.nsecsElapsed() / 1e6
        if last[0] is not None:
            gaps.append(now - last[0])
            if now > LATE_MS:
                late.append(gaps[-1])
            cpus.append(((time.thread_time() - cpu_last[0]) * 1000, now))
        last[0], cpu_last[0] = now, time.thread_time()
        if now > SETTLE_MS and (warmer is None or warmer.seconds is not None or now > 60_000):
            timer.stop()
            if os.environ.get("STALL_CPU"):
                top = sorted(zip(gaps, cpus))[-4:]
                print("longest gaps (ms), the GUI thread's CPU in them, and when they ended (s after the paint):",
                      ", ".join(f"{g:.0f}/{c:.0f}@{at / 1000:.2f}" for g, (c, at) in top), flush=True)
            print(f"settled {max(gaps):.1f} late {max(late, default=0):.1f} "
                  f"warm {warmer.seconds if warmer else -1:.2f} ticks {len(gaps)}", flush=True)
            QApplication.instance().quit()

    if os.environ.get("STALL_DUMPS"):  # where the time went: bench/stall_watch.py
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from stall_watch import StallWatch

        window._stall_watch = StallWatch(os.environ["STALL_DUMPS"]).__enter__()
        QApplication.instance().aboutToQuit.connect(lambda: (window._stall_watch.__exit__(),
                                                             print(window._stall_watch.report(), flush=True)))
    timer = QTimer(window)
    timer.setInterval(10)
    timer.timeout.connect(tick)
    clock.start()
    timer.start()


def watch_first_paint(window, settle: bool = False) -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    class FirstPaint(QObject):
        seen = False

        def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint and not self.seen:
                self.seen = True
                # after this paint pass has been handled: report, then leave the event loop
                QTimer.singleShot(0, lambda: (print(f"painted {time.time():.6f} cpu {time.process_time():.6f}",
                                                    flush=True),
                                              watch_settling(window) if settle else QApplication.instance().quit()))
            return False

    window._first_paint_filter = FirstPaint(window)
    window.installEventFilter(window._first_paint_filter)


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "app"
    if mode == "bare":
        import torch  # noqa: F401  (the app's order)
        from PySide6.QtWidgets import QApplication, QMainWindow

        app = QApplication([])
        window = QMainWindow()
        window.resize(1600, 1000)
        window.show()
        watch_first_paint(window)
        return app.exec()
    import explorer.ui.app as ui_app  # imports nothing heavy itself

    place = ui_app.place_window

    def place_and_watch(window, app):
        place(window, app)
        watch_first_paint(window, settle=mode.startswith("settle"))

    ui_app.place_window = place_and_watch
    if mode == "settle-cold":  # the same without the warm-up: the comparison for its stalls
        import explorer.ui.warm_up as warm_up

        warm_up.warm_after_first_paint = lambda window, collector: None
    from explorer.launcher import main as launch
    return launch([])


if __name__ == "__main__":
    sys.exit(main())
