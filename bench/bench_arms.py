"""Per-step throughput of the default degradation experiment's arms, this code against another copy.

Runs ``experiment degradation``'s runner (no window; the default arms plain-20, plain-56,
ResNet-20 and ResNet-56 on digits at 8x8) for a few epochs and prints the wall and
process CPU time per arm step, counted from the first step's event to the end (data
loading and model building excluded). With ``--against PATH`` (the root of another
checkout, e.g. an older commit exported with ``git archive``) the two copies run
alternately in fresh processes, ``--repeats`` times each, and the ratio of the medians
is printed: above 1 means this copy takes longer per step.

It also says on which thread ``torch._dynamo`` was first imported (the first optimizer
construction does it, through ``torch.optim``'s ``_disable_dynamo`` wrappers).

    python bench/bench_arms.py [--epochs 1] [--threads 0] [--repeats 3] [--against PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def measure(root: str, epochs: int, threads: int, on_thread: bool = False) -> dict:
    """One run of the runner from the checkout at ``root`` (``on_thread``: ``run`` is called on a
    new thread, as the GUI does, instead of the main thread, as the CLI does); returns the timings."""
    sys.path.insert(0, root)
    import threading
    import time

    try:  # what the CLI does before torch loads, for an experiment (a copy from before it had none)
        from explorer.cli.common import short_openmp_spin
    except ImportError:
        pass
    else:
        short_openmp_spin()
    import torch

    if threads:
        torch.set_num_threads(threads)
    import explorer
    from explorer.experiments.degradation import DegradationSettings, degradation_runner
    from explorer.train.api import StepMetrics

    assert Path(explorer.__file__).resolve().is_relative_to(Path(root).resolve()), explorer.__file__
    dynamo_thread = []
    real_import = __builtins__["__import__"] if isinstance(__builtins__, dict) else __builtins__.__import__

    def watching_import(name, *args, **kwargs):
        if not dynamo_thread and name.startswith("torch._dynamo"):
            dynamo_thread.append(threading.current_thread().name)
        return real_import(name, *args, **kwargs)

    import builtins
    builtins.__import__ = watching_import
    first = []

    def on_event(i, event):
        if isinstance(event, StepMetrics) and not first:
            first.append((time.perf_counter(), time.process_time(), int(event.steps[0])))

    settings = DegradationSettings(epochs=epochs, device="cpu")
    runner = degradation_runner(settings)
    t0 = time.perf_counter()
    if on_thread:
        worker = threading.Thread(target=runner.run, args=(on_event,), name="caller")
        worker.start()
        worker.join()
    else:
        runner.run(on_event)
    wall_end, cpu_end = time.perf_counter(), time.process_time()
    builtins.__import__ = real_import
    steps = sum(t.step for t in runner.trainers) - first[0][2]  # the steps after the first event's first
    return {"steps": steps, "wall_per_step_ms": 1000 * (wall_end - first[0][0]) / steps,
            "cpu_per_step_ms": 1000 * (cpu_end - first[0][1]) / steps, "total_s": wall_end - t0,
            "threads": torch.get_num_threads(), "dynamo_thread": dynamo_thread[0] if dynamo_thread else "none",
            "statuses": [o.status for o in runner.outcomes]}


def child(root: str, epochs: int, threads: int, on_thread: bool) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", root, "--epochs", str(epochs),
                          "--threads", str(threads)] + (["--on-thread"] if on_thread else []),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--against", default=None, help="root of another checkout to compare with")
    ap.add_argument("--on-thread", action="store_true", help="call run on a new thread, not the main one")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.epochs, args.threads, args.on_thread)))
        return
    copies = {"this": str(HERE)}
    if args.against:
        copies["other"] = os.path.abspath(args.against)
    results: dict[str, list[dict]] = {name: [] for name in copies}
    for r in range(args.repeats):
        for name, root in copies.items():
            res = child(root, args.epochs, args.threads, args.on_thread)
            results[name].append(res)
            print(f"{name:>5} #{r + 1}: {res['steps']} steps, {res['wall_per_step_ms']:.1f} ms wall and "
                  f"{res['cpu_per_step_ms']:.1f} ms CPU per step, {res['total_s']:.1f} s in all, "
                  f"{res['threads']} torch threads, torch._dynamo first imported on {res['dynamo_thread']!r}, "
                  f"{res['statuses']}, load {os.getloadavg()[0]:.2f}", flush=True)
    medians = {name: (statistics.median(r["wall_per_step_ms"] for r in rows),
                      statistics.median(r["cpu_per_step_ms"] for r in rows)) for name, rows in results.items()}
    for name, (wall, cpu) in medians.items():
        print(f"median {name:>5}: {wall:.1f} ms wall, {cpu:.1f} ms CPU per step")
    if "other" in medians:
        print(f"this / other: wall {medians['this'][0] / medians['other'][0]:.3f}, "
              f"CPU {medians['this'][1] / medians['other'][1]:.3f}")


if __name__ == "__main__":
    main()
