"""Does the window's default run fit a lesson? Time it end to end, as the app runs it.

From "Start" (the dataset is made then, as in the app) to the end of the run: the
default network (ResNet-20) with the training panel's quick-run settings
(the ``quick`` recipe of ``explorer.train.recipes``), the per-step metrics and gradient recording the
window asks for on a CPU, and torch's CPU threads as the app sets them
(``lesson.app_cpu_threads``: one core left to the GUI, so one thread on a 2-core machine)
unless ``--threads`` says otherwise. Reported:

- when the loss is visibly falling: the smoothed loss (the bold line of the loss plot)
  first 5% below its first value, as wall seconds and process CPU seconds;
- when the run ends, and its last test error against chance (90% for ten classes);
- the load average before and after, since wall time on a shared machine is noisy:
  compare CPU seconds, and a run with ``--threads 2`` in the same minutes.

Targets (a lesson on a 2-core laptop): falling within 15 s, ending within 90 s,
test error well below chance. ``--baseline`` also times the settings the window used
before (5 epochs of the whole 10,000 images, SGD 0.1, augmentation), in the same process.

    python bench/bench_default_run.py [--threads 2] [--baseline]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from explorer.spec import DEFAULT_PRESET, preset  # noqa: E402
from explorer.train.api import EpochMetrics, StepMetrics, TrainSettings  # noqa: E402
from explorer.train.lesson import app_cpu_threads  # noqa: E402
from explorer.train.recipes import apply as apply_recipe  # noqa: E402
from explorer.train.trainer import Trainer  # noqa: E402
from explorer.ui.training.runs import EMA_WEIGHT  # noqa: E402  (the plot's smoothing; Qt-free module)

FALLING = 0.95  # "visibly falling": the smoothed loss 5% under where it started


def app_settings(settings: TrainSettings) -> TrainSettings:
    """What the window adds on a CPU: every step's loss, gradient columns every 10 steps."""
    return replace(settings, device="cpu", metrics_every=1, grad_every=10)


def time_run(spec, settings: TrainSettings) -> dict:
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    state = {"ema": 0.0, "count": 0, "first": None, "falling": None, "epochs": []}

    def on_event(event) -> None:
        if isinstance(event, StepMetrics):
            for step, loss in zip(event.steps, event.loss):
                state["count"] += 1
                state["ema"] = EMA_WEIGHT * state["ema"] + (1 - EMA_WEIGHT) * float(loss)
                smooth = state["ema"] / (1 - EMA_WEIGHT ** state["count"])
                if state["first"] is None:
                    state["first"] = smooth
                elif state["falling"] is None and smooth <= FALLING * state["first"]:
                    state["falling"] = (int(step), time.perf_counter() - start_wall,
                                        time.process_time() - start_cpu)
        elif isinstance(event, EpochMetrics):
            state["epochs"].append((event.epoch, event.test_error, event.train_error,
                                    time.perf_counter() - start_wall, time.process_time() - start_cpu))

    record = Trainer(spec, settings).run(on_event)
    return {"wall": time.perf_counter() - start_wall, "cpu": time.process_time() - start_cpu,
            "steps": len(record.steps), "falling": state["falling"], "epochs": state["epochs"],
            "status": record.status}


def report(name: str, settings: TrainSettings, result: dict) -> None:
    size = "whole set" if settings.train_size is None else f"{settings.train_size:,}"
    print(f"\n{name}: {size} images x {settings.epochs} epochs, batch {settings.batch_size}, "
          f"{settings.optimizer} lr {settings.lr:g}, augment {'on' if settings.augment else 'off'}, "
          f"{result['steps']} steps, {result['status']}")
    falling = result["falling"]
    if falling:
        print(f"  loss visibly falling at step {falling[0]}: {falling[1]:.1f} s wall, {falling[2]:.1f} s CPU")
    else:
        print("  the smoothed loss never fell 5% below its start")
    for epoch, test, train, wall, cpu in result["epochs"]:
        print(f"  epoch {epoch}: test error {100 * test:.1f}%, train error {100 * train:.1f}% "
              f"({wall:.1f} s wall, {cpu:.1f} s CPU)")
    print(f"  run ended: {result['wall']:.1f} s wall, {result['cpu']:.1f} s CPU "
          f"(chance: 90.0% error)", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: as the app sets them)")
    p.add_argument("--baseline", action="store_true", help="also time the window's previous defaults")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads or app_cpu_threads())
    spec = preset(DEFAULT_PRESET)
    print(f"{spec.name}; torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"{os.cpu_count()} cores; load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs = [("quick run (the default)", app_settings(apply_recipe("quick")))]
    if args.baseline:
        old = TrainSettings(dataset="shapes", epochs=5, batch_size=128, lr=0.1, optimizer="sgd", augment=True)
        runs.append(("previous default", app_settings(old)))
    for name, settings in runs:
        report(name, settings, time_run(spec, settings))
    print(f"\nload average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
