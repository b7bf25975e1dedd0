"""``experiment landscape``: the loss around a trained ResNet and its plain twin (Li et al. 2018).

Registered by ``explorer.cli.experiment``; kept in its own module so each experiment's
command can change without touching the others'.
"""
from __future__ import annotations

import sys
import time

from . import CliError
from .common import add_json_option, print_json, print_words, run_with_sigint


def register(exp) -> None:
    p = exp.add_parser(
        "landscape", help="the loss around trained weights along two random directions, ResNet vs plain twin",
        description="Evaluate the training loss of a trained ResNet and of its plain twin on a fixed subset of "
                    "training images at w + a*d1 + b*d2 over a grid (Li et al. 2018): the same random "
                    "directions for both nets, each filter-normalised to its own weights; batch-norm and bias "
                    "directions zero, running statistics kept (eval mode). The coarse grid comes first, then "
                    "the fine one; the words say where the loss has doubled and how many local minima each "
                    "grid shows.")
    p.add_argument("checkpoints", nargs="*", metavar="CHECKPOINT",
                   help="one or two checkpoint files (train --checkpoint, experiment degradation --save-dir)")
    p.add_argument("--from-dir", metavar="DIR",
                   help="a folder written by experiment degradation --save-dir: takes resnetD.pt and plainD.pt")
    p.add_argument("--depth", type=int, default=20, metavar="D", help="with --from-dir: the depth (default 20)")
    p.add_argument("--points", type=int, metavar="N", help="points per axis of the fine grid (default 25)")
    p.add_argument("--coarse", type=int, metavar="N", help="points per axis of the first, coarse grid (default 9)")
    p.add_argument("--span", type=float, metavar="S", help="the grid covers -S..S along each direction "
                                                           "(default 1, in filter norms)")
    p.add_argument("--images", type=int, metavar="N", help="training images the loss is measured on (default 512)")
    p.add_argument("--dataset", metavar="D", help="measure on this data (default: what the nets were trained on)")
    p.add_argument("--device", metavar="D", help="auto (default) | cpu | cuda | cuda:N | mps")
    p.add_argument("--seed", type=int, metavar="S", help="which random directions (default 0)")
    add_json_option(p, progress="progress")
    p.set_defaults(func=cmd_landscape)


def landscape_settings(args):
    from ..experiments.landscape import LandscapeSettings

    changes = {}
    for name in ("points", "coarse", "span", "images", "dataset", "device", "seed"):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    return LandscapeSettings(**changes)  # SpecError names a bad value


def landscape_nets(args):
    from ..experiments.landscape import checkpoints_in, net_from_checkpoint
    from ..train.api import TrainingError

    if args.from_dir and args.checkpoints:
        raise CliError("give checkpoint files or --from-dir, not both")
    if args.from_dir:
        from ..experiments.arms import MAX_DEPTH
        from ..spec.params import check_number

        check_number(args.depth, "--depth", 8, MAX_DEPTH, integer=True)
        paths = checkpoints_in(args.from_dir, args.depth)
    else:
        paths = list(args.checkpoints)
    if not 1 <= len(paths) <= 2:
        raise CliError("give one or two checkpoint files (a ResNet and its plain twin), or --from-dir DIR")
    try:
        return [net_from_checkpoint(p) for p in paths]
    except TrainingError as err:
        raise CliError(str(err)) from None


def cmd_landscape(args) -> int:
    from ..analysis.landscape import coarse_complete
    from ..experiments.landscape import LandscapeRunner, landscape_verdict, result_dict, summaries_of
    from ..train.api import TrainingError

    settings = landscape_settings(args)
    try:
        nets = landscape_nets(args)
    except TrainingError as err:
        raise CliError(str(err)) from None
    runner = LandscapeRunner(nets, settings)
    plan = runner.plan
    out = sys.stderr if args.json else sys.stdout
    print(f"landscape: {' and '.join(n.label for n in runner.nets)}, {plan.points}x{plan.points} grid over "
          f"±{plan.span:g} (coarse {plan.coarse}x{plan.coarse} first), directions seed {settings.seed}",
          file=out, flush=True)
    started = time.perf_counter()
    cpu0 = time.process_time()
    reported = {"slice": False, "coarse": False}

    def on_event(k, point) -> None:
        if k != len(runner.nets) - 1:
            return  # report once every net has the point
        values = [s.values for s in runner.surfaces]
        if not reported["slice"] and all(v[:, plan.centre].size and
                                         not _has_nan(v[:, plan.centre]) for v in values):
            reported["slice"] = True
            print(f"1D slice along direction 1 done ({time.perf_counter() - started:.1f} s)", file=out, flush=True)
        if not reported["coarse"] and all(coarse_complete(plan, v) for v in values):
            reported["coarse"] = True
            print(f"coarse {plan.coarse}x{plan.coarse} grid done ({time.perf_counter() - started:.1f} s)",
                  file=out, flush=True)

    run_with_sigint(runner, on_event, "point")
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    if not runner.stopped:
        print(f"fine {plan.points}x{plan.points} grid done ({seconds:.1f} s wall, {cpu:.1f} CPU-s)",
              file=out, flush=True)
    print(f"loss on {runner.images} training images of {runner.dataset}", file=out, flush=True)
    verdict = landscape_verdict(summaries_of(runner), plan, runner.weights)
    if args.json:
        result = result_dict(runner, seconds)
        result["cpu_seconds"] = round(cpu, 1)
        print_json(result)
    else:
        print_words(verdict, f"({seconds:.0f} s)")
    return 0


def _has_nan(a) -> bool:
    import numpy as np
    return bool(np.isnan(a).any())
