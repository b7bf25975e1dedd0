"""Loss-landscape cost: one grid point against a bare evaluation of the same model and images.

    python bench/bench_landscape.py            # about a minute on 2 busy cores
    python bench/bench_landscape.py --quick    # fewer repeats

A grid point is ``LossSurface.loss_at``: the weights moved to ``w + a*d1 + b*d2`` (every
conv and linear weight written once), then the loss in eval mode on the fixed images. The
baseline is the bare part of that: the same model's eval-mode forward and cross-entropy
on the same images, weights untouched. Both run interleaved in the same process with one
torch thread; the ratio is the cost of moving the weights. The last line extrapolates to
the default experiment (ResNet-20 and plain-20, a 25x25 grid, 512 images at 8x8).
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
import torch.nn.functional as F  # noqa: E402

from explorer.analysis.landscape import GridPlan, LossSurface, random_direction  # noqa: E402
from explorer.experiments.arms import cifar_net  # noqa: E402
from explorer.nn import build  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rounds = 5 if args.quick else 20
    print(f"load average {os.getloadavg()[0]:.1f} (1 min), one torch thread")
    plan = GridPlan()
    total = 0.0
    for kind in ("resnet", "plain"):
        spec = cifar_net(kind, 20, (3, 8, 8))
        model = build(spec, seed=0).eval()
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(512, 3, 8, 8, generator=gen)
        y = torch.randint(0, 10, (512,), generator=gen)
        weights = list(model.parameters())
        surface = LossSurface(model, x, y, random_direction(weights, 1), random_direction(weights, 2))

        @torch.no_grad()
        def bare():
            return float(F.cross_entropy(model(x), y))

        point, base = [], []
        surface.loss_at(0.1, 0.1)  # warm-up
        bare()
        for r in range(rounds):  # interleaved: machine load hits both alike
            c = time.process_time()
            surface.loss_at(0.05 * r, -0.05 * r)
            point.append(time.process_time() - c)
            c = time.process_time()
            bare()
            base.append(time.process_time() - c)
        surface.restore()
        p, b = statistics.median(point), statistics.median(base)
        total += p * plan.points ** 2
        print(f"{spec.name}: grid point {1000 * p:.1f} CPU-ms, bare evaluation {1000 * b:.1f} CPU-ms, "
              f"ratio {p / b:.2f}")
    print(f"25x25 grid for both nets: about {total:.0f} CPU-seconds of evaluation "
          f"(the default's goal: within 3 minutes)")


if __name__ == "__main__":
    main()
