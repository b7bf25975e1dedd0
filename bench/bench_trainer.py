"""Trainer throughput against a bare PyTorch loop, in the same process and run.

Both train the same network (built from the same spec and seed) on the same in-memory
data with the same batch size, optimizer (SGD, momentum 0.9, nesterov off), cosine
schedule, autocast and memory-format settings and, with ``--compile``, the same
``torch.compile``. The bare loop is what one would write by hand: index a batch of
uint8 images on the device, normalise (and resize if the network wants another size),
forward, loss, backward, step; no metrics, no checks. The trainer runs as the app and
the CLI run it (its device-side running sums, coalesced metric reads, the control
checkpoint each step). Warm-up steps are excluded from the timing; the runs alternate
and the medians over ``--repeats`` are compared. Target ratio: >= 0.97.

    python bench/bench_trainer.py                                   # CPU: resnet20, batch 128
    python bench/bench_trainer.py --device cuda --model resnet56 --batch 512
    python bench/bench_trainer.py --device cuda --model resnet50 --batch 256 [--compile]

ResNet-50 is an ImageNet network (3x224x224): the 32x32 shapes are resized to 224x224 on
the device per batch, in both loops alike.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from explorer.cli.common import resolve_network  # noqa: E402
from explorer.nn import build  # noqa: E402
from explorer.train.api import StepMetrics, TrainSettings  # noqa: E402
from explorer.train.datasets import channel_stats, load_dataset  # noqa: E402
from explorer.train.device import amp_dtype, resolve_device, use_channels_last  # noqa: E402
from explorer.train.trainer import Trainer  # noqa: E402


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def trainer_rate(spec, settings: TrainSettings, data, warmup: int, steps: int) -> float:
    """Images/s of the Trainer between the end of step ``warmup`` and step ``warmup + steps``."""
    stamps = {}

    def on_event(event):
        if isinstance(event, StepMetrics):  # emitted right after the one host read (a sync)
            stamps[int(event.steps[-1])] = (time.perf_counter(), time.process_time())

    trainer = Trainer(spec, settings, data=data)
    trainer.run(on_event)
    (w0, c0), (w1, c1) = stamps[warmup], stamps[warmup + steps]
    images = steps * settings.batch_size
    return images / (w1 - w0), images / (c1 - c0)


def bare_rate(spec, settings: TrainSettings, data, warmup: int, steps: int) -> float:
    device = resolve_device(settings.device)
    amp = amp_dtype(settings.amp, device)
    cl = use_channels_last(settings.channels_last, device)
    torch.manual_seed(settings.seed)
    model = build(spec, seed=settings.seed).to(device)
    if cl:
        model = model.to(memory_format=torch.channels_last)
    net = torch.compile(model) if settings.compile else model
    opt = torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.momentum,
                          weight_decay=settings.weight_decay)
    total = warmup + steps
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_all = data.x_train.to(device)
    y_all = data.y_train.to(device)
    mean, std = channel_stats(data.x_train)
    scale = (1.0 / (255.0 * std)).view(1, -1, 1, 1).to(device)
    shift = (mean / std).view(1, -1, 1, 1).to(device)
    hw = tuple(spec.input_shape[1:])
    order = torch.randperm(len(y_all), device=device)
    b = settings.batch_size
    model.train()
    start = None
    for step in range(total):
        if step == warmup:
            sync(device)
            start = (time.perf_counter(), time.process_time())
        idx = order[step * b:(step + 1) * b]
        x = x_all[idx].float().mul_(scale).sub_(shift)
        if tuple(x.shape[-2:]) != hw:
            x = F.interpolate(x, size=hw, mode="bilinear", align_corners=False)
        if cl:
            x = x.contiguous(memory_format=torch.channels_last)
        y = y_all[idx]
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            loss = loss_fn(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    sync(device)
    return steps * b / (time.perf_counter() - start[0]), steps * b / (time.process_time() - start[1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="resnet20", help="preset name or network JSON file")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=20, help="timed steps per run")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (cudnn autotune, compile)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="auto")
    p.add_argument("--amp", default="auto", choices=["auto", "bf16", "off"])
    p.add_argument("--channels-last", default="auto", choices=["auto", "on", "off"])
    p.add_argument("--compile", action="store_true")
    p.add_argument("--augment", action="store_true", help="let the trainer also crop and flip (extra work)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's default)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.steps % args.warmup:
        p.error("--steps must be a multiple of --warmup (metrics are read every --warmup steps)")
    spec = resolve_network(args.model)
    total = args.warmup + args.steps
    # one epoch longer than the run, so no test evaluation falls inside the timing
    data = load_dataset("shapes", train_size=args.batch * (total + 1), test_size=args.batch)
    if spec.head.num_classes != data.num_classes:  # the trainer would resize the head; do it for both
        spec = replace(spec, head=replace(spec.head, num_classes=data.num_classes))
    settings = TrainSettings(dataset="shapes", max_steps=total, batch_size=args.batch, lr=0.05,
                             momentum=0.9, weight_decay=5e-4, schedule="cosine", augment=args.augment,
                             device=args.device, amp=args.amp, channels_last=args.channels_last,
                             compile=args.compile, metrics_every=args.warmup)
    device = resolve_device(args.device)
    amp = amp_dtype(args.amp, device)
    print(f"{spec.name}, batch {args.batch}, {device}, "
          f"{'bf16' if amp is not None else 'fp32'}, "
          f"{'channels_last' if use_channels_last(args.channels_last, device) else 'contiguous'}"
          f"{', compiled' if args.compile else ''}{', trainer augments' if args.augment else ''}; "
          f"{args.steps} timed steps after {args.warmup} warm-up, {args.repeats} repeats, "
          f"{torch.get_num_threads()} CPU threads", flush=True)
    trainer_runs, bare_runs = [], []
    for r in range(args.repeats):
        bare_runs.append(bare_rate(spec, settings, data, args.warmup, args.steps))
        trainer_runs.append(trainer_rate(spec, settings, data, args.warmup, args.steps))
        print(f"  repeat {r + 1}: bare {bare_runs[-1][0]:10,.1f} img/s   trainer {trainer_runs[-1][0]:10,.1f} img/s"
              f"   (per CPU-second: {bare_runs[-1][1]:,.1f} / {trainer_runs[-1][1]:,.1f})", flush=True)
    bare = statistics.median(r[0] for r in bare_runs)
    trainer = statistics.median(r[0] for r in trainer_runs)
    print(f"bare loop  {bare:10,.1f} images/s (median)")
    print(f"trainer    {trainer:10,.1f} images/s (median)")
    print(f"ratio      {trainer / bare:.3f}  (target >= 0.97)")
    if device.type == "cpu":
        # On a shared CPU, other processes move wall-clock rates around; images per CPU-second
        # of this process (exact with --threads 1) measure the trainer's own overhead.
        bare_cpu = statistics.median(r[1] for r in bare_runs)
        trainer_cpu = statistics.median(r[1] for r in trainer_runs)
        print(f"per CPU-second: bare {bare_cpu:,.1f}, trainer {trainer_cpu:,.1f}, ratio {trainer_cpu / bare_cpu:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
