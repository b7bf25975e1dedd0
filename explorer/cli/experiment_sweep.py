"""``experiment depth-sweep``: final training and test error against depth, plain nets and ResNets.

Registered by ``explorer.cli.experiment``; kept in its own module so each experiment's
command can change without touching the others'.
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace

from . import CliError
from .common import add_json_option, print_result, print_words, run_with_sigint


def register(exp) -> None:
    from ..experiments.depth_sweep import DEFAULT_SWEEP_DEPTHS, DEFAULT_SWEEP_EPOCHS
    from ..train.recipes import RECIPES
    from .experiment_common import add_common_options
    from .settings_options import add_recipe_option

    p = exp.add_parser(
        "depth-sweep", help="a plain net and a ResNet at every depth: final error against depth",
        description=f"Train a plain net and a ResNet at every depth with one recipe (by default the paper's: "
                    f"{RECIPES['paper'].text(data=False, depths=False)}), one step each in turn, and report each "
                    f"net's final training and test error against depth, with where (if anywhere) the plain "
                    f"curve turns. The result is kept in the user's cache folder, where the app's Depth sweep "
                    f"page finds it.")
    add_common_options(p, epochs_default=DEFAULT_SWEEP_EPOCHS)
    add_recipe_option(p, "paper", "the optimiser and epochs (the sweep keeps its depths)")
    p.add_argument("--depths", metavar="LIST",
                   help=f"depths 6n+2, comma-separated (default {','.join(map(str, DEFAULT_SWEEP_DEPTHS))})")
    p.add_argument("--seeds", metavar="LIST",
                   help="train every net once per seed, e.g. 0,1,2 (error bars span the seeds); default: --seed or 0")
    p.add_argument("--from-cache", action="store_true",
                   help="print the cached sweep of these settings instead of training (error when there is none)")
    add_json_option(p)
    p.set_defaults(func=cmd_depth_sweep)


def sweep_settings(args):
    from ..experiments.depth_sweep import SweepSettings, parse_seeds
    from .experiment_common import common_changes

    changes = common_changes(args)
    seed = changes.pop("seed", None)
    if args.seeds is not None:
        if seed is not None:
            raise CliError("--seed and --seeds: give one of them")
        changes["seeds"] = parse_seeds(args.seeds)  # SpecError names the bad seed
    elif seed is not None:
        changes["seeds"] = (seed,)
    settings = SweepSettings()
    if args.recipe:
        settings = settings.with_recipe(args.recipe, depths=False)  # the sweep keeps its own depths
    return replace(settings, **changes)


def _check_recipe(settings) -> None:
    """Every network's training settings (one per seed), checked before anything is printed."""
    from ..train.api import TrainingError
    from ..train.optim import check_settings

    try:
        for seed in settings.seeds:
            check_settings(settings.train_settings(seed))
    except TrainingError as err:
        raise CliError(str(err)) from None


def _progress_line(settings, runs, row: dict, epoch: int, seconds: float) -> str:
    """One epoch: each kind's training error at every depth (mean over the seeds that reported it)."""
    parts = []
    for kind, name in (("plain", "plain "), ("resnet", "ResNet")):
        cells = []
        for depth in settings.depths:
            values = [row[i] for i, (arm, _) in enumerate(runs) if arm.kind == kind and arm.depth == depth
                      and i in row]
            cells.append(f"{depth}:{100 * sum(values) / len(values):5.1f}" if values else f"{depth}:   --")
        parts.append(f"{name} {' '.join(cells)}")
    return (f"epoch {epoch:>3}/{settings.epochs}  training error %  {'  |  '.join(parts)}  "
            f"({seconds:.0f} s)")


def cmd_depth_sweep(args) -> int:
    from ..experiments import sweep_cache
    from ..experiments.depth_sweep import sweep_result, sweep_runner
    from ..experiments.depth_sweep_words import sweep_verdict
    from ..train.api import EpochMetrics, RunFinished
    from .experiment_common import EpochTable

    settings = sweep_settings(args)
    _check_recipe(settings)
    out = sys.stderr if args.json else sys.stdout
    if args.from_cache:
        result = sweep_cache.load(settings)
        if result is None:
            raise CliError(f"no cached sweep for these settings ({settings.describe()}); run it without --from-cache")
        print(f"depth sweep from the cache ({sweep_cache.path_for(settings)}), measured "
              f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(result.measured_at))}", file=out, flush=True)
        return _report(args, result, sweep_verdict(result), None)

    runs = settings.runs()
    print(f"depth sweep: {len(runs)} networks, {settings.describe()}; they take turns one step at a time",
          file=out, flush=True)
    table = EpochTable(list(range(len(runs))))
    started, cpu0 = time.perf_counter(), time.process_time()

    def show(rows) -> None:
        for epoch, row in rows:
            print(_progress_line(settings, runs, row, epoch, time.perf_counter() - started), file=out, flush=True)

    def on_event(i: int, event) -> None:
        if isinstance(event, EpochMetrics):
            show(table.add(i, event.epoch, event.train_error))
        elif isinstance(event, RunFinished):
            if event.status == "failed":
                print(f"{runs[i][0].label} seed {runs[i][1]} failed: {event.message}", file=out, flush=True)
            show(table.end(i))

    runner = sweep_runner(settings)
    run_with_sigint(runner, on_event)
    result = sweep_result(settings, runner, time.perf_counter() - started, time.process_time() - cpu0)
    verdict = sweep_verdict(result)
    saved = sweep_cache.save(result)
    code = _report(args, result, verdict, saved)
    failed = any(a.status == "failed" for a in result.arms)
    return 1 if failed and verdict.outcome == "no_verdict" else code


def _report(args, result, verdict, saved) -> int:
    if args.json:
        report = result.to_dict()
        report["by_depth"] = {kind: [{"depth": p.depth, "train_error": p.mean, "train_error_low": p.low,
                                      "train_error_high": p.high, "seeds": p.count} for p in result.points(kind)]
                              for kind in ("plain", "resnet")}
        for kind in ("plain", "resnet"):
            for row, test in zip(report["by_depth"][kind], result.points(kind, "test")):
                row.update(test_error=test.mean, test_error_low=test.low, test_error_high=test.high)
        report["cache_file"] = str(saved) if saved else None
        print_result(report, verdict)
        return 0
    print(f"\n{'depth':>6}  {'plain train':>11}  {'plain test':>10}  {'ResNet train':>12}  {'ResNet test':>11}")
    pts = {(k, m): {p.depth: p for p in result.points(k, m)} for k in ("plain", "resnet") for m in ("train", "test")}

    def cell(kind, metric, depth, width):
        p = pts[(kind, metric)].get(depth)
        if p is None:
            return f"{'--':>{width}}"
        spread = f" ±{50 * (p.high - p.low):.1f}" if p.count > 1 else ""
        return f"{100 * p.mean:>{width - len(spread) - 1}.1f}%{spread}"

    for depth in result.settings.depths:
        print(f"{depth:>6}  {cell('plain', 'train', depth, 11)}  {cell('plain', 'test', depth, 10)}  "
              f"{cell('resnet', 'train', depth, 12)}  {cell('resnet', 'test', depth, 11)}")
    print_words(verdict, f"({result.seconds:.0f} s{', kept in ' + str(saved) if saved else ''})")
    return 0
