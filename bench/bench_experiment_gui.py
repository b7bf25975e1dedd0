"""How responsive the window stays while Experiments > Degradation runs, and how long it takes.

A 10 ms QTimer ticks on the GUI thread; the gaps between ticks are the stalls a user
could feel. Measured with nothing running (the baseline), then while the degradation
page trains its four arms (the app's defaults unless told otherwise). Also prints the
experiment's wall time, each arm's final training error and the words.

    python bench/bench_experiment_gui.py [--epochs N] [--image-size 8] [--depths 20,56] [--seconds S]

``--seconds`` stops the run early (the latency numbers only need a minute or so).
Runs offscreen unless a display is asked for (QT_QPA_PLATFORM set by the caller).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import torch  # noqa: E402,F401  (torch before PySide6)
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from explorer.experiments.arms import parse_depths  # noqa: E402
from explorer.ui.experiments.degradation_page import DegradationPage  # noqa: E402


class Ticker:
    """Gaps (ms) between ticks of a 10 ms timer, with the time each gap ended."""

    def __init__(self):
        self.clock = QElapsedTimer()
        self.gaps: list[tuple[float, float]] = []
        self._last = None
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def _tick(self):
        now = self.clock.nsecsElapsed() / 1e6
        if self._last is not None:
            self.gaps.append((now / 1000.0, now - self._last))
        self._last = now

    def start(self):
        self.clock.start()
        self.timer.start()

    def stop(self) -> np.ndarray:
        self.timer.stop()
        return np.asarray(self.gaps)


def summary(gaps: np.ndarray) -> str:
    g = gaps[:, 1]
    worst = gaps[int(np.argmax(g))]
    return (f"median {np.median(g):.1f} ms, p99 {np.percentile(g, 99):.1f} ms, max {g.max():.0f} ms "
            f"(at {worst[0]:.1f} s), gaps over 100 ms: {int((g > 100).sum())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--depths")
    parser.add_argument("--seconds", type=float, help="stop the run after this long")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])

    base = Ticker()
    base.start()
    loop = QEventLoop()
    QTimer.singleShot(3000, loop.quit)
    loop.exec()
    print(f"idle window:      {summary(base.stop())}")

    page = DegradationPage()
    page.resize(1400, 900)
    page.show()
    if args.epochs:
        page.form.epochs.setValue(args.epochs)
    if args.image_size:
        page.form.image_size.setCurrentIndex(page.form.image_size.findData(args.image_size))
    if args.depths:
        page.form.depths.setText(", ".join(str(d) for d in parse_depths(args.depths)))
    ticker = Ticker()
    done = QEventLoop()
    page.finished.connect(lambda _v: done.quit())
    t0 = time.perf_counter()
    ticker.start()
    page.run()
    if args.seconds:
        QTimer.singleShot(int(args.seconds * 1000), page.stop)
    done.exec()
    wall = time.perf_counter() - t0
    gaps = ticker.stop()
    print(f"during the run:   {summary(gaps)}")
    after_setup = gaps[gaps[:, 0] > 10.0]
    if len(after_setup):
        print(f"after the first 10 s (data loaded, nets built): {summary(after_setup)}")
    s = page.settings_used
    print(f"experiment: {', '.join(a.label for a in s.arms())}, {s.epochs} epochs, {s.dataset} at "
          f"{s.image_size or 32}px, torch threads {torch.get_num_threads()}: {wall:.0f} s "
          f"({'stopped' if page.runner.stopped else 'finished'})")
    for label, err in (page.verdict.errors.items() if page.verdict else []):
        print(f"  {label:<10} final training error {100 * err:.2f}%")
    if page.verdict is not None:
        print(page.verdict.text)
    page.shutdown()
    page.close()


if __name__ == "__main__":
    main()
