"""How fast a streamed image folder is decoded, against how fast a network trains on it.

Makes a folder of photo-sized JPEGs (500x375, quality 90, smooth shapes with some
texture: about the size and entropy of an ImageNet photo) under /tmp, then measures:

- decode throughput (images/s) of the training transform (random resized crop to
  224 + flip) and of the test transform (resize 256, centre crop 224), through a torch
  DataLoader with 0 (in the main process), 1 and 2 worker processes;
- training steps of ResNet-18 and ResNet-50 at 224x224 on this CPU (images/s).

The loader limits training when it delivers fewer images per second than the network
consumes. Reports wall time, CPU-seconds (the main process and the reaped workers) and the
load average: on a shared machine the CPU-seconds are the steadier figure.

    python bench/bench_decode.py [--images 400] [--batch 32]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

FOLDER = "/tmp/bench_decode_photos"


def make_photos(count: int) -> list[tuple[str, int]]:
    from PIL import Image, ImageDraw, ImageFilter

    os.makedirs(FOLDER, exist_ok=True)
    rng = np.random.default_rng(0)
    files = []
    for i in range(count):
        path = os.path.join(FOLDER, f"{i:05d}.jpg")
        if not os.path.exists(path):
            y, x = np.mgrid[0:375, 0:500]
            base = np.stack([(x * rng.uniform(0.2, 0.5) + y * rng.uniform(0.1, 0.4) + rng.uniform(0, 120)) % 256
                             for _ in range(3)], axis=-1)
            im = Image.fromarray(base.astype(np.uint8))
            draw = ImageDraw.Draw(im)
            for _ in range(12):
                x0, y0 = rng.integers(0, 450), rng.integers(0, 330)
                draw.ellipse((x0, y0, x0 + rng.integers(20, 200), y0 + rng.integers(20, 200)),
                             fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
            im = im.filter(ImageFilter.GaussianBlur(1.5))
            texture = rng.normal(0, 9, (375, 500, 3))
            im = Image.fromarray(np.clip(np.asarray(im) + texture, 0, 255).astype(np.uint8))
            im.save(path, quality=90)
        files.append((path, i % 10))
    return files


def decode_rate(files, train: bool, workers: int, batch: int) -> tuple[float, float, float]:
    from torch.utils.data import DataLoader

    from explorer.train.datasets.streaming import FolderDataset
    from explorer.train.stream_loader import _Keys

    dataset = FolderDataset(files, (224, 224), 3, train=train, seed=0)
    loader = DataLoader(dataset, batch_size=batch, sampler=_Keys(range(len(files)), 0), num_workers=workers,
                        prefetch_factor=4 if workers else None)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, cpu = time.perf_counter(), time.process_time()
    n = sum(len(y) for _, y in loader)
    del loader  # the workers exit and are reaped, so their CPU time is counted
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    return n / wall, wall, cpu + workers_cpu


def step_rate(name: str, batch: int, steps: int = 3) -> float:
    from explorer.nn import build
    from explorer.spec import preset

    model = build(preset(name), seed=0).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, 224, 224)
    y = torch.randint(0, 1000, (batch,))
    times = []
    for _ in range(steps + 1):
        t0 = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    return batch / float(np.median(times[1:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the main process (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    files = make_photos(args.images)
    size = sum(os.path.getsize(f) for f, _ in files) / len(files) / 1024
    print(f"{len(files)} JPEGs of 500x375, {size:.0f} KB on average, in {FOLDER}; "
          f"{os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.1f}")
    decode_rate(files[:args.batch], True, 0, args.batch)  # warm the page cache
    for train in (True, False):
        what = "training transform (random resized crop 224 + flip)" if train else \
            "test transform (resize 256, centre crop 224)"
        for workers in (0, 1, 2):
            rate, wall, cpu = decode_rate(files, train, workers, args.batch)
            print(f"  {what}, {workers} worker{'s' if workers != 1 else ''}: {rate:6.1f} images/s "
                  f"({wall:.1f} s wall, {cpu:.1f} CPU-s in all processes: {len(files) / max(cpu, 1e-9):.0f} "
                  f"images per CPU-second)")
    for name in ("resnet18", "resnet50"):
        batch = min(args.batch, 8)
        wall, cpu = time.perf_counter(), time.process_time()
        rate = step_rate(name, batch, steps=2)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"  {name} training step at 224x224, batch {batch}, {args.threads} thread(s): "
              f"{rate:6.1f} images/s ({3 * batch / max(cpu, 1e-9):.1f} images per CPU-second)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
