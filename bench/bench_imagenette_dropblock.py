"""The lessons' exercise on this CPU: drop-a-block on ResNet-50 with 300 Imagenette images.

The real files cannot be fetched on the project's test machine, so this makes stand-ins with
the real layouts: an ``imagenette2-320`` folder (``train/`` and ``val/``, the ten WordNet-id
class folders, JPEGs of 427x320 like Imagenette's 320 px version, photo-like content as in
``bench_decode.py``) and a ResNet-50 state_dict in torchvision's format (our preset, seeded).
Only the times mean something (the weights are untrained). It measures, in one run:

- reading and transforming the 300 validation images (``--dataset imagenette`` on a
  1000-class head: shorter side to 256, centre 224x224), the baseline;
- one evaluation of the 300 images (the forward passes drop-a-block makes per block, plus
  the top-1 over 1000 classes and among the ten), with 1 torch thread and with torch's own
  count; each as wall time and CPU-seconds, and as a ratio to the reading;
- the whole ``experiment drop-block resnet50 --checkpoint FILE --dataset imagenette:PATH
  --test-size 300 --blocks 4.1`` command (two evaluations), wall time.

    python bench/bench_imagenette_dropblock.py [--images 300]
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

ROOT = "/tmp/bench_imagenette/imagenette2-320"
WEIGHTS = "/tmp/bench_imagenette/resnet50-seeded.pth"
TEN = ("n01440764", "n02102040", "n02979186", "n03000684", "n03028079", "n03394916", "n03417042", "n03425413",
       "n03445777", "n03888605")  # Imagenette's ten WordNet ids


def make_folder(count: int) -> None:
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0)
    for split, n in (("train", len(TEN)), ("val", count)):
        for i in range(n):
            wnid = TEN[i % len(TEN)]
            folder = os.path.join(ROOT, split, wnid)
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, f"{wnid}_{i:05d}.JPEG")
            if os.path.exists(path):
                continue
            y, x = np.mgrid[0:320, 0:427]
            base = np.stack([(x * rng.uniform(0.2, 0.5) + y * rng.uniform(0.1, 0.4) + rng.uniform(0, 120)) % 256
                             for _ in range(3)], axis=-1)
            im = Image.fromarray(base.astype(np.uint8))
            draw = ImageDraw.Draw(im)
            for _ in range(12):
                x0, y0 = rng.integers(0, 380), rng.integers(0, 280)
                draw.ellipse((x0, y0, x0 + rng.integers(20, 200), y0 + rng.integers(20, 200)),
                             fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
            im.save(path, quality=90)


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def timed(fn):
    wall, cpu = time.perf_counter(), cpu_seconds()
    out = fn()
    return out, time.perf_counter() - wall, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=300)
    args = parser.parse_args()
    from explorer.experiments.dropblock import accuracies, eval_source
    from explorer.nn import build
    from explorer.spec import preset
    from explorer.train.datasets import load_dataset
    from explorer.train.finetune import Normalisation

    make_folder(args.images)
    spec = preset("resnet50")
    model = build(spec, seed=0).eval()
    if not os.path.exists(WEIGHTS):
        torch.save(model.state_dict(), WEIGHTS)
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    data, wall, cpu = timed(lambda: load_dataset(f"imagenette:{ROOT}", test_size=args.images, head_classes=1000))
    read_cpu = cpu
    print(f"read and transform {len(data.y_test)} images: {wall:.1f} s wall, {cpu:.1f} CPU-s (baseline)")
    source = eval_source(spec, data, torch.device("cpu"), normalisation=Normalisation.imagenet())
    default_threads = torch.get_num_threads()
    for threads in sorted({1, default_threads}):
        torch.set_num_threads(threads)
        result, wall, cpu = timed(lambda: accuracies(model, source, data.subset))
        print(f"one evaluation of {len(data.y_test)} images, {threads} thread{'s' if threads > 1 else ''}: "
              f"{wall:.1f} s wall, {cpu:.1f} CPU-s, {len(data.y_test) / cpu:.1f} images per CPU-second "
              f"({cpu / read_cpu:.1f}x the reading)")
    torch.set_num_threads(default_threads)
    from explorer.cli import main as cli

    started = time.perf_counter()
    code = cli(["experiment", "drop-block", "resnet50", "--checkpoint", WEIGHTS, "--dataset", f"imagenette:{ROOT}",
                "--test-size", str(args.images), "--blocks", "4.1", "--device", "cpu"])
    print(f"experiment drop-block ... --blocks 4.1 (read + 2 evaluations): {time.perf_counter() - started:.1f} s "
          f"wall, exit {code}, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
