"""Gradient flow costs: the probe, the panel's toggle round trip, and recording during training.

    python bench/bench_probe.py            # everything (two to three minutes on 2 idle cores)
    python bench/bench_probe.py --quick    # fewer repeats

1. Probe: ResNet-56, batch 32, CPU. The probe (hooks, state saved and restored, norms)
   against a bare forward/backward of the same model and batch, in the same run.
2. Toggle round trip (target: under 250 ms for ResNet-56 on a 2-core CPU): the
   GradflowPanel's time from ``document.edit`` (all skips off / on) to the first look
   (a few images, target 100 ms) and to the full-batch profile, offscreen Qt; the probe
   runs on the panel's worker thread.
3. Recorder: SGD steps of a CIFAR ResNet with and without the recorder at k in
   {1, 10, 50}; configurations run in interleaved rounds so machine load hits all
   alike. Prints throughput ratios and the extra time of one recorded step, then
   extrapolates the overhead to a faster (GPU) step, which is how the default k is chosen.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import torch  # noqa: E402
from torch import nn  # noqa: E402

from explorer.analysis.gradflow import probe, seeded_batch  # noqa: E402
from explorer.analysis.gradflow_recorder import DEFAULT_EVERY, GradientRecorder  # noqa: E402
from explorer.nn import build  # noqa: E402
from explorer.spec import preset  # noqa: E402


def median_time(fn, repeats: int) -> tuple[float, float]:
    """Median wall time and median CPU time of the process (all threads) over ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def bench_probe(repeats: int) -> None:
    spec = preset("resnet56")
    model = build(spec, seed=0)
    x, y = seeded_batch(spec.input_shape, 10, 32, 0)
    model_cl = build(spec, seed=0).to(memory_format=torch.channels_last)
    x_cl = x.contiguous(memory_format=torch.channels_last)

    def bare():
        model.train()
        model.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()

    rows = [("bare forward+backward", bare),
            ("probe: blocks + weights", lambda: probe(model, x, y)),
            ("probe: block inputs only", lambda: probe(model, x, y, weights=False)),
            ("probe, block inputs, cl", lambda: probe(model_cl, x_cl, y, weights=False)),
            ("probe as the panel runs it", lambda: probe(model_cl, x_cl, y, weights=False, residual=True,
                                                         images=True))]
    for _, fn in rows:
        fn()  # warm-up
    print(f"[probe] resnet56, batch 32, {torch.get_num_threads()} torch threads, median of {repeats}:")
    base = None
    for label, fn in rows:
        wall, cpu = median_time(fn, repeats)
        base = base or (wall, cpu)
        print(f"  {label:<27} wall {wall * 1000:7.1f} ms  cpu {cpu * 1000:7.1f} ms  "
              f"ratio to bare: wall {wall / base[0]:.2f}x, cpu {cpu / base[1]:.2f}x")
    print("  (the panel's probe: autograd computes no weight gradients, model and batch channels_last (cl),")
    print("   residual sizes and block maps from the same forward;")
    print("   on a busy machine trust the cpu column: with one torch thread it is the idle wall time)")


def bench_round_trip(repeats: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from explorer.ui.document import Document
    from explorer.ui.gradflow import GradflowPanel

    app = QApplication.instance() or QApplication([])
    document = Document(preset("resnet56"))
    panel = GradflowPanel(document)
    panel.resize(1200, 800)
    panel.show()
    got, firsts_seen = [], []
    panel.profileUpdated.connect(got.append)
    panel.firstLookShown.connect(lambda _: firsts_seen.append(time.perf_counter()))

    def wait():
        t = time.perf_counter()
        while not got and time.perf_counter() - t < 120:
            app.processEvents()
            time.sleep(0.001)
        app.processEvents()  # let the redraw happen within the measured time
        return got.pop()

    wait()  # the first probe builds the model
    trips, firsts, probes, cpus = [], [], [], []
    for i in range(repeats):
        on = i % 2 == 1
        firsts_seen.clear()
        t, c = time.perf_counter(), time.process_time()
        panel.skips_on.click() if on else panel.skips_off.click()
        outcome = wait()
        trips.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        probes.append(outcome.seconds)
        if firsts_seen:
            firsts.append(firsts_seen[0] - t)
    panel.shutdown()
    trip, worker, cpu = statistics.median(trips), statistics.median(probes), statistics.median(cpus)
    print(f"[toggle] resnet56, all skips off/on through the document, median of {repeats}:")
    if firsts:
        print(f"  edit -> first look shown     wall {statistics.median(firsts) * 1000:7.1f} ms   "
              f"(a few images first; target 100 ms)")
    print(f"  full-batch probe (worker)    wall {worker * 1000:7.1f} ms")
    print(f"  edit -> full profile shown   wall {trip * 1000:7.1f} ms  cpu {cpu * 1000:7.1f} ms   "
          f"(target 250 ms: {'met' if trip < 0.25 else 'NOT met'} on this run's wall clock)")
    print(f"  all round trips (ms): {', '.join(f'{t * 1000:.0f}' for t in trips)}")
    print("  the cpu figure counts every thread of the process: with an idle machine the wall time is")
    print("  at most that, and less when torch's two threads both get a core")


def bench_recorder(name: str, batch: int, steps_per_round: int, rounds: int) -> None:
    spec = preset(name)
    configs = [("bare", 0), ("k=1", 1), ("k=10", 10), ("k=50", 50)]
    models = {label: build(spec, seed=0) for label, _ in configs}
    opts = {label: torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9) for label, m in models.items()}
    recs = {label: GradientRecorder(models[label], k) for label, k in configs if k}
    step_no = {label: 0 for label, _ in configs}
    times = {label: 0.0 for label, _ in configs}
    cpu_times = {label: 0.0 for label, _ in configs}
    record_times, plain_times = [], []
    x, y = seeded_batch(spec.input_shape, 10, batch, 1)

    def run(label, n):
        model, opt, rec = models[label], opts[label], recs.get(label)
        for _ in range(n):
            step_no[label] += 1
            s = step_no[label]
            t, c = time.perf_counter(), time.process_time()
            armed = rec.arm(s) if rec else False
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if armed:
                rec.collect(s)
            opt.step()
            if rec and s % 10 == 0:
                rec.drain()
            dt, dc = time.perf_counter() - t, time.process_time() - c
            times[label] += dt
            cpu_times[label] += dc
            if label == "k=1":
                record_times.append(dc)
            elif label == "bare":
                plain_times.append(dc)

    for label, _ in configs:
        run(label, 2)  # warm-up, not counted
        times[label] = cpu_times[label] = 0.0
    record_times.clear()
    plain_times.clear()
    for r in range(rounds):
        order = configs[r % len(configs):] + configs[:r % len(configs)]  # rotate: no config always first
        for label, _ in order:
            run(label, steps_per_round)
    n = steps_per_round * rounds
    base = n * batch / times["bare"]
    base_cpu = n * batch / cpu_times["bare"]
    print(f"[recorder] {name}, batch {batch}, {n} SGD steps per configuration, CPU, rotating rounds:")
    for label, _ in configs:
        ips, ips_cpu = n * batch / times[label], n * batch / cpu_times[label]
        print(f"  {label:<5} {ips:8.1f} images/s wall ({ips / base * 100:6.1f}% of bare)   "
              f"{ips_cpu:8.1f} images per cpu-second ({ips_cpu / base_cpu * 100:6.1f}% of bare)")
    extra = statistics.median(record_times) - statistics.median(plain_times)
    step = statistics.median(plain_times)
    print(f"  median cpu time of a recorded step {extra * 1000:+.2f} ms over a plain {step * 1000:.1f} ms "
          f"step ({extra / step * 100:+.1f}%); differences of a few % are within this machine's noise")
    for label in recs:
        recs[label].close()


def explain_default() -> None:
    print(f"[default] GradientRecorder default k = {DEFAULT_EVERY}:")
    print("  The GPU target (at most 3% for ResNet-56 at batch 512) cannot be measured on this machine.")
    print("  A recorded step adds a hook call per block, one _foreach_norm over the block-input")
    print("  gradients and one stack: a few kernel launches and no host sync; drain() transfers")
    print("  every pending column at once. Even if a recorded step cost 13% extra on the GPU (the")
    print("  issue's figure for _foreach_norm over all weight gradients every step), k = 10 keeps")
    print(f"  the average cost at 1.3%, inside the 3% budget; k = 1 would not be safe there.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-gui", action="store_true", help="leave out the Qt round trip")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (default: torch's choice, or 1 when the machine is busier "
                             "than its core count: spinning OpenMP threads then slow everything down)")
    args = parser.parse_args()
    reps = 5 if args.quick else 11
    load = os.getloadavg()
    threads = args.threads or (1 if load[0] > (os.cpu_count() or 1) else torch.get_num_threads())
    torch.set_num_threads(threads)
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{v:.1f}' for v in load)}, {threads} torch threads")
    bench_probe(reps)
    if not args.skip_gui:
        bench_round_trip(6 if args.quick else 12)
    bench_recorder("resnet20", 32, 10 if args.quick else 25, 4 if args.quick else 8)
    explain_default()
    return 0


if __name__ == "__main__":
    sys.exit(main())
