"""``experiment prepost``: a post-activation ResNet against its pre-activation twin (He et al. 2016).

Registered by ``explorer.cli.experiment``; kept in its own module so each experiment's
command can change without touching the others'.
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace

from .common import add_json_option, print_result, print_words, run_with_sigint


def register(exp) -> None:
    from .experiment_common import add_common_options
    from ..experiments.prepost import DEFAULT_EPOCHS
    from .settings_options import add_recipe_option

    p = exp.add_parser(
        "prepost", help="a post-activation ResNet against its pre-activation twin: which trains lower",
        description="Train the post-activation CIFAR ResNet and its pre-activation twin (BN and ReLU before "
                    "each convolution, a pure identity from block to block) at the same depth with one recipe "
                    f"(by default the paper's optimiser: {_default_optimiser()}), one step each in turn; "
                    "measure each net's gradient profile at initialisation and at the end, and say which "
                    "trained lower.")
    p.add_argument("--depth", type=int, metavar="D",
                   help="depth of both nets (default 110): 6n+2 with basic blocks, 9n+2 with bottleneck blocks "
                        "(the paper's 164 and 1001)")
    p.add_argument("--block", choices=("auto", "basic", "bottleneck"),
                   help="auto (default): bottleneck for 164, 1001 and depths only 9n+2 can make, basic otherwise")
    p.add_argument("--warmup-until", type=float, metavar="ERROR",
                   help="the paper's warm-up for ResNet-110: a tenth of the learning rate until the training "
                        "error is below ERROR (the paper's: 0.8), then the full rate")
    add_common_options(p, epochs_default=10, nets="both nets",
                       datasets="digits (default) | shapes | cifar10:PATH | ...")
    add_recipe_option(p, f"{_default_optimiser()}, {DEFAULT_EPOCHS} epochs")
    add_json_option(p)
    p.set_defaults(func=cmd_prepost)


def _default_optimiser() -> str:
    from ..train.recipes import RECIPES

    return RECIPES["paper"].text(data=False, depths=False).rsplit(", ", 1)[0]  # without its epochs


def prepost_settings(args):
    from ..experiments.prepost import PrePostSettings
    from ..train.recipes import for_experiment
    from .experiment_common import parse_image_size

    changes = {}
    for name in ("depth", "epochs", "dataset", "device", "seed", "train_size", "test_size", "block", "warmup_until"):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    if args.image_size is not None:
        changes["image_size"] = parse_image_size(args.image_size.strip().lower())
    settings = PrePostSettings(**changes)  # SpecError names a bad depth or epoch count
    if args.recipe:  # its optimiser and epochs; --epochs given beside it still decides
        settings = replace(for_experiment(args.recipe, settings), **{k: changes[k] for k in ("epochs",) if k in changes})
    return settings


def cmd_prepost(args) -> int:
    from ..experiments.degradation import optimiser_text
    from ..experiments.prepost import GradientProfile, prepost_runner, result_table, results_from_runner
    from ..experiments.prepost_words import prepost_words
    from ..train.api import EpochMetrics, RunFinished
    from .experiment_common import EpochTable

    settings = prepost_settings(args)
    arms = settings.arms()
    labels = [a.label for a in arms]
    out = sys.stderr if args.json else sys.stdout
    size = f"{settings.image_size}x{settings.image_size}" if settings.image_size else "32x32"
    warm = (f", a tenth of the learning rate until the training error is below {100 * settings.warmup_until:g}%"
            if settings.warmup_until else "")
    print(f"prepost: {' and '.join(labels)} ({settings.blocks} blocks) on {settings.dataset} ({size}), "
          f"{settings.epochs} epochs each, "
          f"{optimiser_text(settings)}{warm}{f' ({settings.recipe} recipe)' if settings.recipe else ''}; "
          f"the arms take turns one step at a time",
          file=out, flush=True)
    table = EpochTable(labels)
    losses: dict[tuple[int, str], float] = {}
    started = time.perf_counter()
    cpu0 = time.process_time()

    def show(rows) -> None:
        for epoch, row in rows:
            cells = "  ".join(f"{label} {100 * row[label]:5.1f}% (loss {losses[(epoch, label)]:.3g})"
                              if label in row else f"{label}   --  " for label in labels)
            print(f"epoch {epoch:>3}/{settings.epochs}  training error  {cells}  "
                  f"({time.perf_counter() - started:.0f} s)", file=out, flush=True)

    def on_event(i: int, event) -> None:
        if isinstance(event, EpochMetrics):
            losses[(event.epoch, labels[i])] = event.train_loss
            show(table.add(labels[i], event.epoch, event.train_error))
        elif isinstance(event, GradientProfile):
            print(f"{labels[i]} gradient profile at {'initialisation' if event.when == 'init' else 'the end'}:"
                  f" block norms {_profile_text(event)}", file=out, flush=True)
        elif isinstance(event, RunFinished):
            if event.status == "failed":
                print(f"{labels[i]} failed: {event.message}", file=out, flush=True)
            show(table.end(labels[i]))

    runner = prepost_runner(settings)
    run_with_sigint(runner, on_event)
    results = results_from_runner(settings, runner)
    verdict = prepost_words(results, settings.epochs, settings.lr, settings.warmup_until)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    if args.json:
        print_result(result_table(settings, results, seconds, cpu), verdict)
    else:
        print_words(verdict, f"({seconds:.0f} s wall, {cpu:.0f} CPU-s)")
    failed = any(r.status == "failed" for r in results)
    return 1 if failed and verdict.outcome == "no_verdict" else 0


def _profile_text(profile) -> str:
    norms = profile.norms
    if len(norms) <= 8:
        return " ".join(f"{v:.3g}" for v in norms)
    return (f"first {norms[0]:.3g}, last {norms[-1]:.3g}, min {norms.min():.3g}, max {norms.max():.3g} "
            f"({len(norms)} blocks)")
