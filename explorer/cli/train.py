"""``train``: the GUI's trainer from the command line, on one device or under torchrun.

Progress goes to stderr (a bar that redraws in place on a terminal), one line per
epoch to stdout, with ``--metrics-csv`` a CSV with one row per epoch and with
``--tensorboard DIR`` TensorBoard scalars. Under ``torchrun`` every rank trains its
shard and only rank 0 prints and writes files; a rank that fails (out of memory, a
bug) prints why and exits, and torchrun stops the others.
Ctrl+C once stops after the current step (and still writes the checkpoint and CSV),
exit status 130; twice, or once before the first step, says "interrupted" and ends at the
next safe point with status 130 (``spec/interrupt.py``).
"""
from __future__ import annotations

import contextlib
import os
import sys
import time

from ..train.clock import clock
from . import CliError, _is_main_rank, terminal_safe
from ..spec import interrupt
from .common import check_output, resolve_network, write_or_rescue

# the settings train takes as options, in the order --help lists them (train/settings.py declares each)
TRAIN_OPTIONS = ("dataset", "epochs", "max_steps", "batch_size", "lr", "optimizer", "schedule", "momentum",
                 "nesterov", "weight_decay", "warmup_epochs", "warmup_until", "label_smoothing", "augment", "train_size",
                 "test_size", "device", "amp", "channels_last", "compile", "seed", "metrics_every", "grad_every",
                 "init_weights", "freeze", "normalise", "unreadable_images")


def register(sub) -> None:
    p = sub.add_parser("train", help="train a network (the same trainer as the app; works under torchrun)",
                       description="Train NET (a preset name or a network JSON file) on a dataset.")
    p.add_argument("net", metavar="NET", nargs="?",
                   help="preset name or network file (optional with --resume: the checkpoint's network)")
    from ..train.recipes import DEFAULT_RECIPE, apply
    from .settings_options import add_recipe_option, add_setting_options

    add_recipe_option(p, DEFAULT_RECIPE, "the optimiser, epochs and data", data=True)
    add_setting_options(p, TRAIN_OPTIONS, defaults=apply(DEFAULT_RECIPE))
    p.add_argument("--metrics-csv", metavar="FILE", help="write one row per epoch to FILE")
    p.add_argument("--tensorboard", metavar="DIR",
                   help="write TensorBoard scalars (loss, lr, images/s, epoch metrics, gradient norms) "
                        "under DIR (needs: pip install tensorboard)")
    p.add_argument("--checkpoint", metavar="FILE", help="save a checkpoint to FILE after every epoch and at the end")
    p.add_argument("--resume", metavar="FILE", help="continue the run saved in FILE")
    p.add_argument("--progress", choices=["auto", "bar", "none"], default="auto",
                   help="progress bar on stderr (auto: only on a terminal)")
    p.set_defaults(func=cmd_train)


def settings_from_args(args):
    """TrainSettings from the checkpoint (with --resume) or the recipe (default: the quick run,
    the window's Start), then the options given. A --dataset other than the recipe's keeps the
    recipe's optimiser and epochs but not its data sizes (they were chosen for its dataset)."""
    from ..train.api import TrainSettings
    from ..train.checkpoint import checkpoint_settings, checkpoint_spec, read_checkpoint
    from ..train.recipes import DEFAULT_RECIPE, apply, recipe
    from .settings_options import setting_changes

    ckpt = None
    if args.resume and args.init_weights:
        raise CliError("--init-weights starts a new run from weights, --resume continues a saved run: "
                       "give one of them")
    if args.resume and args.recipe:
        raise CliError("--recipe starts a new run, --resume continues a saved run with its own settings: "
                       "give one of them")
    changes = setting_changes(args, TRAIN_OPTIONS)
    if args.resume:
        ckpt = read_checkpoint(args.resume)
        base = checkpoint_settings(ckpt)
        spec = resolve_network(args.net) if args.net else checkpoint_spec(ckpt, args.resume)
    else:
        if not args.net:
            raise CliError("train needs NET (a preset name or a network file), or --resume FILE")
        name = args.recipe or DEFAULT_RECIPE
        own_data = "dataset" not in changes or changes["dataset"] == recipe(name).data().get("dataset")
        base = apply(name, data=own_data)
        spec = resolve_network(args.net)
    base = base.to_dict()
    base.update(changes)
    if args.epochs is not None and args.max_steps is None:
        base["max_steps"] = None  # --epochs given alone on resume: epochs decide again
    return spec, TrainSettings.from_dict(base), ckpt


class Progress:
    """A one-line bar on stderr (tqdm): epoch, percent, steps, loss, lr, images/s and the trainer's
    ETA (which leaves out pauses). tqdm fits the line to the terminal's width, so a narrow window
    never wraps it into a trail of half-lines."""

    BAR = "{desc} [{bar}] {percentage:3.0f}% {n_fmt}/{total_fmt}{postfix}"

    def __init__(self, stream, enabled: bool):
        self.stream = stream
        self.enabled = enabled
        self._bar = None

    def update(self, m) -> None:
        if not self.enabled:
            return
        desc = f"epoch {m.epoch}"
        postfix = (f"loss {m.loss[-1]:.4f}  lr {m.lr[-1]:.4g}  {m.images_per_s:,.0f} img/s  "
                   f"ETA {clock(m.eta_s, unknown='--:--')}")
        if self._bar is None:  # made with the first values, so its first drawing is already right
            from tqdm import tqdm

            self._bar = tqdm(total=m.total_steps, initial=int(m.steps[-1]), desc=desc, postfix=postfix,
                             file=self.stream, bar_format=self.BAR, dynamic_ncols=True, leave=False, ascii=" #")
            return
        bar = self._bar
        bar.total = m.total_steps
        bar.n = int(m.steps[-1])
        bar.set_description_str(desc, refresh=False)
        bar.set_postfix_str(postfix, refresh=False)
        bar.refresh()

    def clear(self) -> None:
        """Take the bar off the line (before an epoch's line is printed, and at the end)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def write_csv(path: str, epochs) -> None:
    from ..train.metrics_csv import write_epochs  # the app's CSV export writes the same file

    write_epochs(path, epochs)


class RankError(CliError):
    """An error one rank found after the process group started; every rank that finds it says so."""

    every_rank = True


def cmd_train(args) -> int:
    from ..spec import SpecError
    from ..train import distributed
    from ..train.api import TrainingError

    if _is_main_rank():  # under torchrun only rank 0 writes files (maybe on another node)
        check_output(args.metrics_csv, "--metrics-csv")
        check_output(args.checkpoint, "--checkpoint")
    if args.metrics_csv and args.checkpoint and os.path.abspath(args.metrics_csv) == os.path.abspath(args.checkpoint):
        raise CliError("--metrics-csv and --checkpoint name the same file")
    try:
        spec, settings, ckpt = settings_from_args(args)
    except TrainingError as err:
        raise CliError(str(err)) from None
    try:
        with distributed.launch(settings.device) as dist:
            try:
                return _train(args, dist, spec, settings, ckpt)
            except (CliError, SpecError) as err:
                if dist.enabled and dist.rank:  # found by this rank while the group runs (its data, its
                    # device): said by this rank too, naming it; argument errors stay rank 0's alone
                    raise RankError(f"rank {dist.rank} of {dist.world_size}: {err}") from None
                raise
    except distributed.RankFailure as err:
        # only under torchrun: this rank has left the group; exiting non-zero makes
        # torchrun stop the other ranks, which are waiting for this one
        _report_rank_failure(err)
        return 1


def _train(args, dist, spec, settings, ckpt) -> int:
    from ..train.api import EpochMetrics, GradColumn, RunFinished, StepMetrics, TrainControl, TrainingError
    from ..train.trainer import Trainer

    main = dist.is_main
    board = _tensorboard_sink(args.tensorboard, spec) if main and args.tensorboard else None
    control = TrainControl()
    warned: set[str] = set()  # files whose write failed during the run (said once)
    board_failed: list[Exception] = []
    trainer = Trainer(spec, settings, control=control, resume=ckpt, dist=dist)
    try:
        trainer.prepare()
    except TrainingError as err:
        raise CliError(str(err)) from None
    if main:
        _print_header(trainer, dist, args)
    tty = sys.stderr.isatty()
    progress = Progress(sys.stderr, main and (args.progress == "bar" or (args.progress == "auto" and tty)))

    def on_event(event) -> None:
        if not main:
            return
        if board is not None and not board_failed:
            try:
                board(event)
            except Exception as err:  # noqa: BLE001 - a full disk, a removed folder: the run goes on
                board_failed.append(err)
                reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                print(f"warning: TensorBoard logging stopped ({reason}); training goes on",
                      file=sys.stderr, flush=True)
        if isinstance(event, StepMetrics):
            progress.update(event)
        elif isinstance(event, EpochMetrics):
            progress.clear()
            print(f"epoch {event.epoch:>3}/{trainer.total_epochs}  step {event.step:>6}  "
                  f"train loss {event.train_loss:.4f} error {event.train_error:6.2%}  "
                  f"test loss {event.test_loss:.4f} error {event.test_error:6.2%}  "
                  f"lr {event.lr:.4g}  {event.images_per_s:,.0f} img/s  {event.seconds:.1f}s", flush=True)
            if args.metrics_csv:
                _write_during_run(lambda p: write_csv(p, trainer.record.epochs), args.metrics_csv, event.epoch,
                                  warned)
            if args.checkpoint:
                interrupt.phase("saving the checkpoint")
                _write_during_run(trainer.save_checkpoint, args.checkpoint, event.epoch, warned)
        elif isinstance(event, RunFinished):
            progress.clear()
        elif isinstance(event, GradColumn):
            pass  # gradient columns go to TensorBoard (and the app's heatmap); the CSV holds epochs only

    # the first Ctrl+C stops after the step; under torchrun the ranks agree on rank 0's stop
    stoppable = interrupt.stop_first(control.stop) if main or not dist.enabled else contextlib.nullcontext()
    started = time.perf_counter()
    notes_shown = len(trainer.notes)
    try:
        with stoppable:
            record = trainer.run(on_event)
    finally:
        progress.clear()
        if board is not None:
            try:
                board.close()
            except Exception:  # noqa: BLE001 - said once above when it failed during the run
                pass
    if not main:
        return 0 if record.status != "failed" else 1
    for note in trainer.notes[notes_shown:]:  # found while training (the data loader's waits)
        print(f"note: {terminal_safe(note)}", flush=True)
    if record.status == "failed":
        print(f"error: {record.message}", file=sys.stderr)
        return 1
    print(f"{record.message} in {time.perf_counter() - started:.1f}s", flush=True)
    saved = True
    if args.checkpoint:
        # the run is done: a file that cannot be written now goes somewhere that works;
        # a Ctrl+C now does not keep the run's checkpoint from being written
        interrupt.phase("saving the checkpoint")
        saved = write_or_rescue(trainer.save_checkpoint, args.checkpoint, "checkpoint")
        if saved:
            print(f"checkpoint: {args.checkpoint}")
    if args.metrics_csv and record.epochs:
        saved = write_or_rescue(lambda p: write_csv(p, record.epochs), args.metrics_csv, "metrics CSV") and saved
    if not saved:
        return 2
    return 0 if record.status == "finished" else 130


def _write_during_run(write, path: str, epoch: int, warned: set) -> None:
    """An epoch's file: a failure (a full disk) is reported once and training goes on; the
    end of the run writes the file again and, if that fails too, puts it somewhere else."""
    try:
        write(path)
    except OSError as err:
        if path not in warned:
            warned.add(path)
            print(f"warning: after epoch {epoch}: {err}; training goes on and tries again at the end",
                  file=sys.stderr, flush=True)


def _tensorboard_sink(folder: str, spec):
    """The TensorBoard sink for rank 0, after checking what would otherwise fail only at
    the first step (or print a writer thread's traceback): the package and the folder."""
    from ..train.tb_log import TensorBoardSink

    try:
        import tensorboard  # noqa: F401 - only to tell a missing package apart
    except ImportError:
        raise CliError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
    check_output(folder, "--tensorboard", folder=True)
    labels = [f"stage {si + 1}, block {bi + 1}" for si, bi, _ in spec.iter_blocks()]  # the app's heatmap rows
    return TensorBoardSink(folder, labels)


def _report_rank_failure(err) -> None:
    """One line on stderr from the failing rank; call while handling ``err``. torchrun's
    failure summary then shows the same text with the traceback, read from the error file
    PyTorch's elastic error handler writes."""
    from torch.distributed.elastic.multiprocessing.errors import get_error_handler

    print(f"error: {err}; torchrun stops the other ranks", file=sys.stderr, flush=True)
    get_error_handler().record_exception(err)  # no-op unless torchrun set TORCHELASTIC_ERROR_FILE


def _settings_source(args) -> str:
    """Where the settings came from, for the header line that echoes them all."""
    from ..train.recipes import DEFAULT_RECIPE

    if args.resume:
        return "settings (the checkpoint's, with the options given)"
    name = args.recipe or DEFAULT_RECIPE
    return f"settings (the {name} recipe{', with the options given' if _gave_settings(args) else ''})"


def _gave_settings(args) -> bool:
    from .settings_options import setting_changes

    return bool(setting_changes(args, TRAIN_OPTIONS))


def _print_header(trainer, dist, args) -> None:
    s = trainer.settings
    from ..spec import analyse
    from ..train.settings import describe
    info = analyse(trainer.spec)
    amp = "bf16" if trainer.amp is not None else "fp32"
    layout = "channels_last" if trainer.channels_last else "contiguous"
    from ..train.finetune import is_linear_probe

    frozen = (f", {trainer.trainable_params:,} of them train" if trainer.trainable_params != info.params else "")
    if is_linear_probe(s.freeze, len(trainer.spec.stages)):
        frozen = f"; linear probing: only the head's {trainer.trainable_params:,} train"
    print(f"training {trainer.spec.name} ({info.params:,} parameters{frozen}) on {trainer.data.describe()}",
          flush=True)
    if getattr(trainer.source, "streamed", False):
        place = f"streamed from disk by {trainer.source.workers} loader processes"
    else:
        place = "on the device" if trainer.source.on_device else "in host memory"
    print(f"device {trainer.device}, world size {dist.world_size}"
          f"{f' ({dist.backend})' if dist.enabled else ''}, {amp}, {layout}, data {place}; "
          f"{s.optimizer} lr {s.lr:g} {s.schedule}, batch {s.batch_size}"
          f"{' per process' if dist.enabled else ''}, {trainer.total_steps} steps "
          f"({trainer.source.steps_per_epoch} per epoch){', compiled' if s.compile else ''}", flush=True)
    print(f"{_settings_source(args)}: {describe(s)}", flush=True)
    if args.resume:
        print(f"resuming from {args.resume} at step {trainer.step}", flush=True)
    for note in trainer.notes:
        print(f"note: {terminal_safe(note)}", flush=True)
