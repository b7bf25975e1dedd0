"""How long the depth sweep takes and what it shows, with one torch thread (a 2-core laptop's share).

Runs ``experiment depth-sweep``'s code (no window) and prints the process CPU-seconds
next to the wall time, the load average, the final training and test error at every
depth and the words. CPU-seconds with one thread are what a quiet 2-core laptop needs
in wall time (its second core keeps the window and the system going), whatever else
loads this machine.

    python bench/bench_depth_sweep.py [--epochs N] [--depths 8,14,20,32,44,56] [--seeds 0]
                                      [--image-size 8] [--dataset digits] [--threads 1]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from explorer.experiments.arms import parse_depths  # noqa: E402
from explorer.experiments.depth_sweep import SweepSettings, parse_seeds, sweep_result, sweep_runner  # noqa: E402
from explorer.experiments.depth_sweep_words import sweep_verdict  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--depths", default=None)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--image-size", type=int, default=8)
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    changes = dict(seeds=parse_seeds(args.seeds), image_size=args.image_size, dataset=args.dataset, device="cpu")
    if args.epochs:
        changes["epochs"] = args.epochs
    if args.depths:
        changes["depths"] = parse_depths(args.depths)
    settings = SweepSettings(**changes)
    print(f"depth sweep: {settings.describe()}; torch threads {torch.get_num_threads()}", flush=True)
    print(f"load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    runner = sweep_runner(settings)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    runner.run()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    result = sweep_result(settings, runner, wall, cpu)
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"wall {wall:.0f} s, process CPU {cpu:.0f} s ({cpu / 60:.1f} CPU-minutes), status {result.status}")
    for kind in ("plain", "resnet"):
        train = {p.depth: p for p in result.points(kind, "train")}
        test = {p.depth: p for p in result.points(kind, "test")}
        cells = "  ".join(f"{d}: {100 * train[d].mean:5.1f}/{100 * test[d].mean:5.1f}" for d in train)
        print(f"{kind:>6} train/test error %  {cells}")
    verdict = sweep_verdict(result)
    print(verdict.text)


if __name__ == "__main__":
    main()
