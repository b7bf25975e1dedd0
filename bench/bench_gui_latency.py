"""How responsive the window stays while the training panel trains at full speed.

A 10 ms QTimer ticks on the GUI thread; the longest gap between two ticks is the worst
stall a user could feel. Measured first with nothing running (the baseline), then while
the panel trains a network on ``shapes`` as fast as this machine can. Target: the
longest gap under 50 ms while training.

    python bench/bench_gui_latency.py [--net resnet20] [--seconds 20] [--batch-size 128]

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

from explorer.spec.presets import preset  # noqa: E402
from explorer.train.api import StepMetrics, TrainSettings  # noqa: E402
from explorer.ui.document import Document  # noqa: E402
from explorer.ui.training import TrainingPanel  # noqa: E402


def tick_gaps(seconds: float) -> np.ndarray:
    """Gaps (ms) between ticks of a 10 ms timer over ``seconds`` of Qt's own event loop."""
    clock = QElapsedTimer()
    gaps: list[float] = []
    last = [None]

    def tick():
        now = clock.nsecsElapsed() / 1e6
        if last[0] is not None:
            gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    timer.stop()
    return np.asarray(gaps)


def bare_loop_gaps(spec, batch_size: int, seconds: float) -> tuple[np.ndarray, int]:
    """The same measurement while a bare PyTorch loop (no trainer, no panel) trains in a thread."""
    import threading

    from explorer.nn import build

    model = build(spec, seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = torch.randn(batch_size, *spec.input_shape)
    y = torch.randint(0, spec.head.num_classes, (batch_size,))
    stop = threading.Event()
    steps = [0]

    def loop():
        while not stop.is_set():
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps[0] += 1

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        return tick_gaps(seconds), steps[0]
    finally:
        stop.set()
        thread.join()


def summary(gaps: np.ndarray) -> str:
    if not len(gaps):
        return "no ticks"
    return (f"max {gaps.max():6.1f} ms  p99 {np.percentile(gaps, 99):6.1f} ms  "
            f"median {np.median(gaps):5.1f} ms  ({len(gaps)} ticks)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", default="resnet20")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--train-size", type=int, default=4096)
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch intra-op threads (0: torch's default)")
    args = parser.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)

    app = QApplication.instance() or QApplication([])
    panel = TrainingPanel(Document(preset(args.net)))
    panel.resize(1400, 900)
    panel.show()
    app.processEvents()

    baseline = tick_gaps(min(args.seconds, 5.0))
    bare, bare_steps = bare_loop_gaps(preset(args.net), args.batch_size, min(args.seconds, 10.0))

    panel.form.set_settings(TrainSettings(dataset="shapes", train_size=args.train_size, test_size=512,
                                          epochs=1000, batch_size=args.batch_size, device="cpu"))
    steps = []
    panel.worker.eventsReady.connect(
        lambda events: steps.extend(int(s) for e in events if isinstance(e, StepMetrics) for s in e.steps))
    handling: list[float] = []  # how long the panel's handler of one batch takes
    original = panel._on_events

    def timed(events):
        t = time.perf_counter()
        original(events)
        handling.append((time.perf_counter() - t) * 1000)

    panel.worker.eventsReady.disconnect(panel._on_events)
    panel.worker.eventsReady.connect(timed)
    panel.start()
    # measure once steps flow (data preparation is not "full speed training")
    while not steps:
        tick_gaps(0.1)
    t0, first = time.monotonic(), steps[-1]
    training = tick_gaps(args.seconds)
    elapsed = time.monotonic() - t0
    done = steps[-1] - first
    ok = panel.shutdown(5.0)

    print(f"GUI-thread tick gaps, 10 ms QTimer, {torch.get_num_threads()} torch threads, "
          f"{os.cpu_count()} cores, {args.net} batch {args.batch_size} on cpu")
    print(f"  idle:     {summary(baseline)}")
    print(f"  bare torch loop in a plain thread: {summary(bare)}  ({bare_steps} steps)")
    print(f"  training: {summary(training)}  ({done} steps, "
          f"{done * args.batch_size / max(elapsed, 1e-9):,.0f} images/s)")
    if len(baseline) and len(training):
        print(f"  longest gap, training / idle: {training.max() / baseline.max():.1f}x; "
              f"target under 50 ms: {'met' if training.max() < 50 else 'NOT met'}")
    if handling:
        print(f"  panel update per batch: max {max(handling):.1f} ms, median {np.median(handling):.1f} ms "
              f"({len(handling)} batches, {len(handling) / max(elapsed, 1e-9):.1f} per second)")
    print(f"  shutdown clean: {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
