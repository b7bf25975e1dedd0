"""The Qt-free measurements of ``run_all.py``; each runs in its own process and returns rows.

A row is a dict: ``group``, ``figure``, ``value`` (text), ``baseline`` (text, measured in the
same process), ``ratio`` (float or None), ``goal`` (text), ``met`` (True/False/None) and
``note``. CPU figures use one torch thread and report process CPU-seconds next to wall
time: the machine is shared, and CPU time of a one-thread process is what it would take
alone.
"""
from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from dataclasses import replace

import torch

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.dirname(BENCH))


def row(group, figure, value, baseline="", ratio=None, goal="", met=None, note=""):
    return dict(group=group, figure=figure, value=value, baseline=baseline, ratio=ratio, goal=goal,
                met=met, note=note)


def rss_mb() -> float:
    """Resident memory of this process now (MiB)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# -- training: trainer against the bare loop -------------------------------------------------

def trainer(quick: bool) -> list[dict]:
    from bench_trainer import bare_rate, trainer_rate

    from explorer.spec import preset
    from explorer.train.api import TrainSettings
    from explorer.train.datasets import load_dataset

    warmup, steps, repeats, batch = 5, (10 if quick else 15), (2 if quick else 5), 32
    spec = preset("resnet20")
    data = load_dataset("shapes", train_size=batch * (warmup + steps + 1), test_size=batch)
    spec = replace(spec, head=replace(spec.head, num_classes=data.num_classes))
    base = TrainSettings(dataset="shapes", max_steps=warmup + steps, batch_size=batch, lr=0.05, momentum=0.9,
                         weight_decay=5e-4, schedule="cosine", augment=False, device="cpu",
                         metrics_every=warmup)
    rows = []
    for label, settings in (("trainer / bare loop", base),
                            ("trainer with gradient recording (every 10 steps) / bare loop",
                             replace(base, grad_every=10))):
        bare, ours = [], []
        for _ in range(repeats):  # alternate, so load changes hit both alike
            bare.append(bare_rate(spec, settings, data, warmup, steps))
            ours.append(trainer_rate(spec, settings, data, warmup, steps))
        b_wall, o_wall = statistics.median(r[0] for r in bare), statistics.median(r[0] for r in ours)
        b_cpu, o_cpu = statistics.median(r[1] for r in bare), statistics.median(r[1] for r in ours)
        # each repeat runs the two back to back: its ratio sees the same load on both sides
        paired = sorted(o[1] / b[1] for o, b in zip(ours, bare))
        ratio = statistics.median(paired)
        rows.append(row("Training", label, f"{o_cpu:,.0f} img/CPU-s ({o_wall:,.0f} img/s wall)",
                        f"{b_cpu:,.0f} img/CPU-s ({b_wall:,.0f} img/s wall)", ratio, ">= 0.97", ratio >= 0.97,
                        f"ResNet-20, batch {batch}, {steps} timed steps after {warmup} per run; the ratio is the "
                        f"median of {repeats} back-to-back pairs (each pair: {', '.join(f'{r:.2f}' for r in paired)}); "
                        f"median wall-clock ratio {o_wall / b_wall:.2f}"))
    return rows


# -- the default training run ---------------------------------------------------------------

def default_run(quick: bool) -> list[dict]:
    """The app's default run (the settings form's defaults on the default network), projected
    from measured steps and one measured test pass; ``--full`` in run_all runs it all."""
    from explorer.spec import DEFAULT_PRESET, preset
    from explorer.train.api import StepMetrics, TrainSettings
    from explorer.train.trainer import Trainer

    settings = default_form_settings()
    spec = preset(DEFAULT_PRESET)
    measured = 10 if quick else 30
    stamps = {}

    def on_event(event):
        if isinstance(event, StepMetrics):
            for s in event.steps:
                stamps[int(s)] = (time.perf_counter(), time.process_time())

    t0, c0 = time.perf_counter(), time.process_time()
    probe_settings = replace(settings, device="cpu", max_steps=measured, metrics_every=1)
    trainer_ = Trainer(spec, probe_settings)
    trainer_.run(on_event)
    first = min(stamps)
    setup_wall, setup_cpu = stamps[first][0] - t0, stamps[first][1] - c0
    (w1, c1), (w2, c2) = stamps[first + 4], stamps[measured]
    step_wall, step_cpu = (w2 - w1) / (measured - first - 4), (c2 - c1) / (measured - first - 4)
    e0, ec0 = time.perf_counter(), time.process_time()
    trainer_.evaluate()
    eval_wall, eval_cpu = time.perf_counter() - e0, time.process_time() - ec0
    spe = trainer_.source.steps_per_epoch  # the default data set is loaded whole (only the steps were cut)
    total = settings.max_steps if settings.max_steps is not None else settings.epochs * spe
    epochs = -(-total // spe)
    proj_wall = setup_wall + total * step_wall + epochs * eval_wall
    proj_cpu = setup_cpu + total * step_cpu + epochs * eval_cpu
    return [row("Default runs", f"default training run: {DEFAULT_PRESET}, {settings.dataset}, "
                f"{settings.epochs} epochs, batch {settings.batch_size} ({total} steps), CPU",
                f"{proj_cpu / 60:.1f} CPU-min ({proj_wall / 60:.1f} min wall)",
                f"one step {step_cpu * 1000:.0f} CPU-ms; one test pass {eval_cpu:.1f} CPU-s",
                note=f"projected from {measured - first - 4} measured steps, the measured start-up "
                     f"({setup_cpu:.1f} CPU-s: data and model) and one measured test pass; "
                     "gradient recording on as in the app")]


def default_form_settings():
    """The training panel's defaults, read from the form itself (offscreen)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from explorer.ui.training.settings_form import TrainingSettingsForm

    app = QApplication.instance() or QApplication([])  # noqa: F841
    return TrainingSettingsForm().settings()


# -- the degradation experiment's default length ----------------------------------------------

def degradation(quick: bool) -> list[dict]:
    from explorer.experiments.degradation import DegradationSettings, degradation_runner
    from explorer.train.api import EpochMetrics

    defaults = DegradationSettings()
    measured = 2 if quick else 3
    settings = replace(defaults, epochs=measured, device="cpu")
    labels = [a.label for a in settings.arms()]
    done: dict[int, set] = {}
    ended_at: dict[int, tuple[float, float]] = {}

    def on_event(i, event):
        if isinstance(event, EpochMetrics):
            done.setdefault(event.epoch, set()).add(i)
            if len(done[event.epoch]) == len(labels):
                ended_at[event.epoch] = (time.perf_counter(), time.process_time())

    t0, c0 = time.perf_counter(), time.process_time()
    degradation_runner(settings, thread_init=lambda: torch.set_num_threads(1)).run(on_event)
    first_wall, first_cpu = ended_at[1][0] - t0, ended_at[1][1] - c0
    per_wall = (ended_at[measured][0] - ended_at[1][0]) / (measured - 1)
    per_cpu = (ended_at[measured][1] - ended_at[1][1]) / (measured - 1)
    proj_wall = first_wall + (defaults.epochs - 1) * per_wall
    proj_cpu = first_cpu + (defaults.epochs - 1) * per_cpu
    size = f"{defaults.image_size}x{defaults.image_size}" if defaults.image_size else "32x32"
    return [row("Default runs", f"degradation experiment: {', '.join(labels)}, {defaults.dataset} at {size}, "
                f"{defaults.epochs} epochs, CPU",
                f"{proj_cpu / 60:.1f} CPU-min ({proj_wall / 60:.1f} min wall)",
                f"first epoch {first_cpu:.1f} CPU-s (with data and nets); each further epoch {per_cpu:.1f} CPU-s",
                note=f"projected from {measured} measured epochs of all four arms")]


# -- probe time and peak memory (one process per network and kind) ---------------------------

def app_probe_batch(spec) -> int:
    """The batch the app probes ``spec`` with (the activation-memory rule where the code has it)."""
    from explorer.analysis import gradflow as probe_mod
    from explorer.spec import analyse

    choose = getattr(probe_mod, "choose_batch", None)
    if choose is not None:
        return choose(analyse(spec), spec.stem.kind)
    h, w = spec.input_shape[1:]
    return 32 if h * w <= 64 * 64 else 4  # the panel's rule before the memory estimate


def probe_memory(net: str, kind: str) -> dict:
    """``kind`` "probe": the gradient probe as the panel runs it; "bare": one training
    forward/backward of the same model and batch. Returns times and memory."""
    from torch import nn

    from explorer.analysis import gradflow as probe_mod
    from explorer.nn import build
    from explorer.spec import preset

    spec = preset(net)
    base = rss_mb()
    model = build(spec, seed=0).to(memory_format=torch.channels_last)
    with_model = rss_mb()
    batch = app_probe_batch(spec)
    x, y = probe_mod.seeded_batch(spec.input_shape, spec.head.num_classes, batch, 0)
    x = x.contiguous(memory_format=torch.channels_last)

    def bare():
        model.train()
        model.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        model.zero_grad(set_to_none=True)

    def probed():  # as the panel runs it: residual sizes and block maps from the same forward
        probe_mod.probe(model, x, y, weights=False, residual=True, images=True)

    fn = probed if kind == "probe" else bare
    times = []
    for _ in range(3):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t, time.process_time() - c))
    if kind == "probe":  # the panel gives freed pages back a second after the last of a series of probes
        probe_mod.release_memory()
    return dict(net=net, kind=kind, batch=batch, rss_start_mb=base, rss_model_mb=with_model,
                peak_mb=peak_rss_mb(), after_mb=rss_mb(), wall_s=statistics.median(t[0] for t in times[1:]),
                cpu_s=statistics.median(t[1] for t in times[1:]), first_cpu_s=times[0][1])


def probe_rows(results: dict) -> list[dict]:
    """Rows from ``probe_memory`` results keyed by (net, kind)."""
    rows = []
    for net in ("resnet110", "resnet1202"):
        p, b = results.get((net, "probe")), results.get((net, "bare"))
        if p is None or b is None:
            continue
        label = {"resnet110": "ResNet-110", "resnet1202": "ResNet-1202"}[net]
        rows.append(row("Gradient flow", f"{label} probe time (batch {p['batch']})",
                        f"{p['cpu_s'] * 1000:,.0f} CPU-ms ({p['wall_s'] * 1000:,.0f} ms wall)",
                        f"training forward/backward {b['cpu_s'] * 1000:,.0f} CPU-ms", p["cpu_s"] / b["cpu_s"],
                        note="median of two back-to-back calls after a first one; block-input gradients only, "
                             "with residual sizes and block maps, channels_last, as the panel runs it"))
        extra_p, extra_b = p["peak_mb"] - p["rss_model_mb"], b["peak_mb"] - b["rss_model_mb"]
        rows.append(row("Gradient flow", f"{label} probe peak memory",
                        f"{p['peak_mb']:,.0f} MiB peak RSS ({extra_p:,.0f} MiB over the built model)",
                        f"training forward/backward {b['peak_mb']:,.0f} MiB ({extra_b:,.0f} MiB over it)",
                        p["peak_mb"] / b["peak_mb"],
                        note=f"peak RSS of a fresh process each (torch and the model: "
                             f"{p['rss_model_mb']:,.0f} MiB); after the probe {p['after_mb']:,.0f} MiB"))
    return rows
