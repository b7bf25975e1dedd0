"""One start of the app (or of the bare baseline) that prints when its window was first painted.

    python bench/startup_child.py app    # python main.py, as a user starts it
    python bench/startup_child.py bare   # torch + PySide6 + an empty 1600x1000 QMainWindow

Prints ``painted <unix time> cpu <CPU-seconds of the process so far, every thread>`` after
the main window's first paint has been handled, and quits. ``run_all.py`` takes the time before starting this process and subtracts it, so
the figure runs from process start (interpreter included) to the window painted. The
app runs exactly as ``python main.py``; only ``place_window`` is wrapped to watch for
the paint. Run with QT_QPA_PLATFORM=offscreen and a fresh settings folder (HOME).
"""
from __future__ import annotations

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def watch_first_paint(window) -> None:
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
                                              QApplication.instance().quit()))
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
        watch_first_paint(window)

    ui_app.place_window = place_and_watch
    from explorer.launcher import main as launch
    return launch([])


if __name__ == "__main__":
    sys.exit(main())
