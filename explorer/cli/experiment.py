"""``experiment``: the classroom experiments from the command line (the same code as the app).

``experiment degradation`` trains plain nets and ResNets of two or more depths side by
side, prints one line per epoch with every arm's training error, and ends with what
the run shows in words. ``experiment drop-block`` removes one block at a time from a
trained network and prints the test accuracy each removal leaves.
"""
from __future__ import annotations

import os
from dataclasses import replace
import sys
import time

from ..spec import interrupt
from . import CliError
from .common import (add_json_option, check_output, print_result, print_words, run_with_sigint,
                     write_or_rescue)
from .experiment_common import (ALL_DATASETS, EpochTable, add_common_options, common_changes,  # noqa: F401
                                parse_image_size)
from .settings_options import add_recipe_option


def register(sub) -> None:
    from ..experiments.catalogue import commands, tools

    p = sub.add_parser("experiment", help=f"run a classroom experiment ({', '.join(commands())}), or "
                                          f"{' / '.join(tools())} a saved result's words",
                       description="Run one of the classroom experiments and print the result in words.")
    exp = p.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    exp.required = True
    p.set_defaults(short_openmp_spin=True)  # the work runs on the main thread: see common.short_openmp_spin

    from ..train.recipes import RECIPES

    paper = RECIPES["paper"].text(data=False, depths=False)
    d = exp.add_parser(
        "degradation", help="plain nets vs ResNets of two depths: deeper plain nets train worse",
        description=f"Train a plain net and a ResNet at each depth with the same recipe (by default the "
                    f"paper's: {paper}), one step each in turn, and compare their training error at the end "
                    f"(He et al. 2016).")
    add_common_options(d, epochs_default=30)
    d.add_argument("--depths", metavar="LIST", help="depths 6n+2 to compare, comma-separated (default 20,56)")
    add_recipe_option(d, "paper", "the optimiser, epochs and depths", depths=True)
    d.add_argument("--augment", action="store_true", default=None,
                   help="random crop and flip (off by default: training error on the images themselves)")
    d.add_argument("--save-dir", metavar="DIR",
                   help="write each arm's checkpoint to DIR (plain20.pt, resnet56.pt, ...), "
                        "e.g. for experiment drop-block")
    add_json_option(d)
    d.set_defaults(func=cmd_degradation)

    b = exp.add_parser(
        "drop-block", help="remove one block at a time from a trained net and measure test accuracy",
        description="Evaluate a trained network's test accuracy with each single block removed (Veit et al. "
                    "2016): a residual block loses its branch and keeps its shortcut; a plain block is taken "
                    "out where its input and output shapes match. Give a ResNet and its plain twin to compare.")
    b.add_argument("net", metavar="NET", help="preset name or network file the checkpoint was trained as")
    b.add_argument("--checkpoint", metavar="FILE", required=True,
                   help="its trained weights: from train --checkpoint or experiment degradation --save-dir, "
                        "a weights file from import-weights, a torchvision state_dict, or the name of weights "
                        "fetched with `get` (resnet50)")
    b.add_argument("--twin", metavar="NET", help="a second network to compare, e.g. the plain twin; vgg16 or "
                                                 "vgg16_bn for the lessons' plain ImageNet twin of resnet50 "
                                                 "(its shape-keeping convolutions are dropped one at a time)")
    b.add_argument("--twin-checkpoint", metavar="FILE", help="the second network's trained weights")
    b.add_argument("--dataset", metavar="D",
                   help="test data (default: what the checkpoint was trained on); imagenet-val:PATH for ImageNet "
                        "validation images in WordNet-id class folders or with a labels.txt")
    b.add_argument("--blocks", metavar="LIST",
                   help="only these blocks, as STAGE.BLOCK, comma-separated (e.g. 3.2,1.1); default every block")
    b.add_argument("--test-size", type=int, metavar="N", help="use N test images (spread over the set)")
    b.add_argument("--device", metavar="D", default="auto", help="auto (default) | cpu | cuda | cuda:N | mps")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(func=cmd_drop_block)

    from . import experiment_identity, experiment_landscape, experiment_prepost
    experiment_identity.register(exp)
    experiment_landscape.register(exp)
    experiment_prepost.register(exp)

    from . import experiment_sweep
    experiment_sweep.register(exp)

    from . import experiment_report
    experiment_report.register(exp)


def degradation_settings(args):
    from ..experiments.degradation import DegradationSettings

    settings = DegradationSettings()
    if getattr(args, "recipe", None):
        settings = settings.with_recipe(args.recipe)
    return replace(settings, **common_changes(args))


def cmd_degradation(args) -> int:
    from ..experiments.degradation import conclude, result_table, results_from_outcomes
    from ..experiments.degradation import degradation_runner
    from ..train.api import EpochMetrics, RunFinished

    settings = degradation_settings(args)
    from ..train.api import TrainingError
    from ..train.optim import check_settings
    try:
        check_settings(settings.train_settings())  # every arm's recipe, before anything is printed
    except TrainingError as err:
        raise CliError(str(err)) from None
    if args.save_dir:
        _make_save_dir(args.save_dir)
    check_output(args.save_dir, "--save-dir", folder=True)
    arms = settings.arms()
    labels = [a.label for a in arms]
    out = sys.stderr if args.json else sys.stdout
    size = f"{settings.image_size}x{settings.image_size}" if settings.image_size else "32x32"
    print(f"degradation: {', '.join(labels)} on {settings.dataset} ({size}), {settings.epochs} epochs each, "
          f"{settings.recipe_text()} ({settings.recipe} recipe); the arms take turns one step at a time",
          file=out, flush=True)
    table = EpochTable(labels)
    started = time.perf_counter()

    def show(rows) -> None:
        for epoch, row in rows:
            cells = "  ".join(f"{label} {100 * row[label]:5.1f}%" if label in row else f"{label}   --  "
                              for label in labels)
            print(f"epoch {epoch:>3}/{settings.epochs}  training error  {cells}  "
                  f"({time.perf_counter() - started:.0f} s)", file=out, flush=True)

    def on_event(i: int, event) -> None:
        if isinstance(event, EpochMetrics):
            show(table.add(labels[i], event.epoch, event.train_error))
        elif isinstance(event, RunFinished):
            if event.status == "failed":
                print(f"{labels[i]} failed: {event.message}", file=out, flush=True)
            show(table.end(labels[i]))

    runner = degradation_runner(settings)
    outcomes = run_with_sigint(runner, on_event)
    saved = True
    if args.save_dir:
        for arm, trainer in zip(arms, runner.trainers):
            path = os.path.join(args.save_dir, f"{arm.kind}{arm.depth}.pt")
            if write_or_rescue(trainer.save_checkpoint, path, f"{arm.label} checkpoint"):
                print(f"checkpoint: {path}", file=out, flush=True)
            else:
                saved = False
    results = results_from_outcomes(settings, outcomes)
    verdict = conclude(results, settings.epochs, settings)
    seconds = time.perf_counter() - started
    if args.json:
        print_result(result_table(settings, results, seconds), verdict)
    else:
        print_final_errors(results, out)
        print_words(verdict, f"({seconds:.0f} s)")
    failed = any(r.status == "failed" for r in results)
    if not saved:
        return 2
    return 1 if failed and verdict.outcome == "no_verdict" else 0


def print_final_errors(results, out) -> None:
    """Each arm's last training error and test accuracy (the lessons' recipe compares test accuracy)."""
    print("\nafter the last epoch:", file=out)
    width = max(len(r.label) for r in results)
    for r in results:
        if not r.train_errors:
            print(f"  {r.label:<{width}}  no epoch finished ({r.status})", file=out)
            continue
        print(f"  {r.label:<{width}}  training error {100 * r.train_errors[-1]:5.1f}%  "
              f"test accuracy {100 * (1 - r.test_errors[-1]):5.1f}%  ({r.epochs_done} epoch{'' if r.epochs_done == 1 else 's'})", file=out)


def _make_save_dir(path: str) -> None:
    """Create ``--save-dir`` (and its parents) when missing; one clear error when that cannot be done."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise CliError(f"--save-dir {path}: a file of that name exists; name a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise CliError(f"--save-dir {path}: cannot create the folder ({err.strerror or err})") from None


def _drop_one(net: str, path: str, dataset: str | None, device, out, blocks: str | None = None,
              test_size: int | None = None):
    from ..experiments.dropblock import check_classes, drop_each_block, load_trained, parse_blocks
    from ..nn.vgg import is_vgg
    from ..train.datasets import load_dataset
    from ..train.datasets.streaming import held_in_memory

    if is_vgg(net):
        return _drop_vgg(net, path, dataset, device, out, blocks, test_size)
    trained = load_trained(path, _network(net))
    name = dataset or trained.dataset
    if not name:
        raise CliError(f"{path} does not say what it was trained on; name the test data with --dataset")
    chosen = parse_blocks(blocks, trained.spec) if blocks else None
    h, w = trained.spec.input_shape[1:]
    started = time.perf_counter()
    data = load_dataset(name, train_size=trained.train_size,
                        test_size=test_size if test_size is not None else trained.test_size, image_size=(h, w),
                        head_classes=trained.spec.head.num_classes)
    data = held_in_memory(data, 0, None, "measure fewer test images (--test-size)")
    check_classes(data, trained.spec)  # TrainingError: the page's runner checks the same
    norm = trained.normalisation.describe() if trained.normalisation and trained.normalisation.mean else \
        "the training images' own mean and std"
    print(f"{trained.spec.name}: {len(data.y_test)} test images of {data.name} (read in "
          f"{time.perf_counter() - started:.1f} s), input {h}x{w}, normalised with {norm}", file=out, flush=True)
    subset = getattr(data, "subset", None)
    if subset and trained.spec.head.num_classes > max(subset):
        print(f"  accuracy is top-1 over all {trained.spec.head.num_classes} classes; 'among the {len(subset)}': "
              f"top-1 among the {len(subset)} classes these images come from", file=out, flush=True)

    def pct(value) -> str:
        return f"{100 * value:5.1f}%"

    def show(drop, result) -> None:
        if drop.accuracy is None:
            acc = "cannot be removed"
        else:
            acc = f"accuracy {pct(drop.accuracy)}" + (f"  top-5 {pct(drop.top5)}" if drop.top5 is not None else "")
        if drop.subset_accuracy is not None:
            acc += f"  among the {result.subset_size} {pct(drop.subset_accuracy)}"
        print(f"  without {drop.label:<18} {acc}", file=out, flush=True)
        interrupt.check()  # Ctrl+C (spec/interrupt.py): "interrupted" and 130 after this block's evaluation

    started = time.perf_counter()
    result = drop_each_block(trained.spec, trained.state, data, device, on_block=show, blocks=chosen,
                             normalisation=trained.normalisation)
    top5 = f"  top-5 {pct(result.baseline_top5)}" if result.baseline_top5 is not None else ""
    if result.baseline_subset is not None:
        top5 += f"  among the {result.subset_size} {pct(result.baseline_subset)}"
    print(f"  with every block          accuracy {pct(result.baseline)}{top5}  "
          f"({len(result.drops) + 1} evaluations of {result.images} images in {time.perf_counter() - started:.1f} s)",
          file=out, flush=True)
    return result


def _drop_vgg(net: str, path: str, dataset: str | None, device, out, blocks: str | None, test_size: int | None):
    """drop-block on VGG-16 (with or without BN): each shape-keeping convolution removed in turn."""
    from ..experiments.dropblock_vgg import drop_each_layer, load_vgg
    from ..train.datasets import load_dataset

    if blocks:
        raise CliError(f"--blocks picks blocks of a ResNet; {net} is measured layer by layer, every one")
    if not dataset:
        raise CliError(f"{net}'s weights do not say what they were trained on; name the test data with --dataset "
                       "(e.g. imagenette, or imagenet-val:PATH)")
    trained = load_vgg(path, net)
    h, w = trained.input_shape[1:]
    started = time.perf_counter()
    data = load_dataset(dataset, test_size=test_size, image_size=(h, w), head_classes=trained.num_classes)
    print(f"{net}: {len(data.y_test)} test images of {data.name} (read in {time.perf_counter() - started:.1f} s), "
          f"input {h}x{w}, normalised with {trained.normalisation.describe()}", file=out, flush=True)

    def show(drop, result) -> None:
        acc = "cannot be removed" if drop.accuracy is None else f"accuracy {100 * drop.accuracy:5.1f}%"
        if drop.subset_accuracy is not None:
            acc += f"  among the {result.subset_size} {100 * drop.subset_accuracy:5.1f}%"
        print(f"  without {drop.label:<22} {acc}", file=out, flush=True)

    started = time.perf_counter()
    result = drop_each_layer(trained, data, device, on_block=show)
    print(f"  with every layer           accuracy {100 * result.baseline:5.1f}%  ({len(result.removable()) + 1} "
          f"evaluations of {result.images} images in {time.perf_counter() - started:.1f} s)", file=out, flush=True)
    return result


def _network(net: str):
    """A preset or network file, or any CIFAR depth as plainN / resnetN (plain14, resnet8)."""
    import re

    from ..experiments.arms import cifar_net, valid_depth
    from ..spec import PRESETS
    from .common import resolve_network

    match = re.fullmatch(r"(plain|resnet)(\d+)", net.strip().lower())
    if net not in PRESETS and match and valid_depth(int(match.group(2))):
        return cifar_net(match.group(1), int(match.group(2)))
    return resolve_network(net)


def cmd_drop_block(args) -> int:
    from ..experiments.dropblock_words import drop_verdict
    from ..train.api import TrainingError
    from ..train.device import resolve_device

    if bool(args.twin) != bool(args.twin_checkpoint):
        raise CliError("--twin and --twin-checkpoint go together: the second network and its weights")
    if args.test_size is not None:  # before any file is read (spec.params: the one rule for numbers)
        from ..spec.params import check_number
        from ..train.settings import MAX_IMAGES

        check_number(args.test_size, "--test-size", 1, MAX_IMAGES, integer=True)
    out = sys.stderr if args.json else sys.stdout
    try:
        device = resolve_device(args.device)
        results = [_drop_one(args.net, args.checkpoint, args.dataset, device, out, args.blocks, args.test_size)]
        if args.twin:
            results.append(_drop_one(args.twin, args.twin_checkpoint, args.dataset, device, out, args.blocks,
                                     args.test_size))
    except TrainingError as err:
        raise CliError(str(err)) from None
    verdict = drop_verdict(results)
    if args.json:
        print_result({"experiment": "drop-block", "networks": [r.to_dict() for r in results]}, verdict)
    else:
        print_words(verdict)
    return 0
