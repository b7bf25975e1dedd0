"""The training loop: plain PyTorch, no Qt, driven as described in ``api.py``.

Per step the loop only queues work on the device: the loss goes into a device buffer
and the epoch's loss and correct-count sums stay device tensors. Every
``metrics_every`` steps one read brings the buffer to the host (the only sync), checks
it for NaN/inf and emits a ``StepMetrics``. After each epoch the sums are read, the
test split is evaluated and an ``EpochMetrics`` is emitted. Under torchrun the same
loop runs DDP, every rank on its shard, and the read values are averaged over ranks.

The loop is a generator (``Trainer.steps``): it hands control back to its caller after
every step, so one thread can drive several trainers in turn (the experiments' arms,
``experiments/runner.py``); ``Trainer.run`` drives it to the end. Checkpoints and the
resume are in ``resume.py``. A Ctrl+C in the CLI is acted on at the trainer's safe points
(``spec/interrupt.py``): before reading the data, before building the model, before each
step and before each test batch.
"""
from __future__ import annotations

import math
import time
from collections.abc import Generator
from contextlib import nullcontext
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from ..analysis.gradflow_recorder import GradientRecorder
from ..nn import build
from ..spec import NetworkSpec, analyse, interrupt
from ..spec.fileformat import to_dict
from .api import (DeviceOutOfMemory, EpochMetrics, EventSink, NonFiniteLoss, RunFinished, RunRecord,
                  StepMetrics, TrainControl, TrainingError, TrainSettings)
from .checkpoint import read_checkpoint
from .datasets import DatasetError, ImageData, conform_channels, load_dataset, subsample
from .device import (amp_dtype, free_cached_memory, is_out_of_memory, resolve_device,
                     use_channels_last)
from .distributed import DistContext, RankFailure
from .limits import activation_bytes, check_fits, device_memory
from .finetune import count_trainable, keep_frozen_bn_in_eval, read_init_weights, run_normalisation, start_from
from .loader import BatchSource
from .stream_loader import data_wait_note
from .optim import ErrorWarmUp, check_settings, make_optimizer, make_scheduler
from .epoch_sums import EpochSums
from .pauses import ActiveClock, PausedTime
from .resume import Checkpointing

# what Trainer.steps yields (the steps done so far) and returns (the record)
Steps = Generator[int, None, RunRecord]


def run_name(spec: NetworkSpec, s: TrainSettings) -> str:
    return f"{spec.name} · {s.dataset} · {s.optimizer} lr {s.lr:g} · batch {s.batch_size}"


def drive(steps: Steps) -> RunRecord:
    """Run a ``Trainer.steps`` generator (or anything shaped like it) to its end; its record."""
    while True:
        try:
            next(steps)
        except StopIteration as end:
            return end.value


class Trainer(Checkpointing):
    """One training run. ``prepare()`` (called by ``steps``/``run`` if needed) loads the data
    and builds the model and raises ``SpecError``/``TrainingError`` for anything wrong
    before the first step; ``steps`` then trains one step per ``next`` and returns the
    ``RunRecord``, and ``run`` does all of it in one call."""

    def __init__(self, spec: NetworkSpec, settings: TrainSettings | None = None,
                 control: TrainControl | None = None, resume=None, *,
                 data: ImageData | None = None, dist: DistContext | None = None):
        self.requested_spec = spec
        self.spec = spec  # the spec actually trained (head resized to the dataset's classes)
        self.settings = settings or TrainSettings()
        self.control = control or TrainControl()
        self.resume = resume  # a checkpoint path or an already loaded checkpoint dict
        self.dist = dist or DistContext.current()
        self.model = None
        self.record = RunRecord(name=run_name(spec, self.settings), spec_json=to_dict(spec),
                                settings=self.settings)
        self.notes = self.record.notes  # conversions made for this run, for people
        self._data = data
        self._prepared = False
        self.resume_path = None  # the checkpoint file resumed from, for messages
        self.step = 0  # steps done
        self.epochs_done = 0
        self.batch_in_epoch = 0

    # -- set-up ----------------------------------------------------------------------
    def prepare(self) -> None:
        """Load the data, build the model on the device, make the optimizer; raises
        ``TrainingError`` (``DeviceOutOfMemory`` when the device is too small) or ``SpecError``."""
        if self._prepared:
            return
        try:
            self._prepare()
        except Exception as err:
            if not is_out_of_memory(err):
                raise
            self.model = None
            free_cached_memory(self.device)
            params = analyse(self.spec).params
            raise DeviceOutOfMemory(
                f"{self.device} ran out of memory while setting up the run ({self.spec.name}, "
                f"{params:,} parameters, before the first step); free memory on the device, "
                f"or train a smaller network or on another device") from None

    def _prepare(self) -> None:
        s = self.settings
        check_settings(s)
        info = analyse(self.spec)  # raises SpecError naming the stage and block
        self.device = resolve_device(s.device, self.dist.local_rank if self.dist.enabled else None)
        check_fits(activation_bytes(info, s.batch_size), f"one training step on batches of {s.batch_size:,} images",
                   device_memory(self.device), "this machine" if self.device.type == "cpu" else str(self.device))
        if self.resume is not None and not isinstance(self.resume, dict):
            self.resume_path = self.resume
            self.resume = read_checkpoint(self.resume)
        init = read_init_weights(s.init_weights) if s.init_weights and self.resume is None else None
        c, h, w = self.spec.input_shape
        interrupt.check("reading the data")
        if self._data is not None:  # already loaded by the caller (the app reuses it between runs)
            data = subsample(self._data, s.train_size, s.test_size)
        else:
            data = load_dataset(s.dataset, train_size=s.train_size, test_size=s.test_size, image_size=(h, w))
        if getattr(data, "streamed", False):  # what an image that cannot be read does (api.TrainSettings)
            data = replace(data, unreadable_policy=s.unreadable_images, unreadable={})
        data, note = conform_channels(data, c)
        if note:
            self.notes.append(note)
        if tuple(data.image_shape[1:]) != (h, w):
            self.notes.append(f"{data.name} images are {data.image_shape[1]}x{data.image_shape[2]}; "
                              f"resized to the network's {h}x{w} on the fly")
        if data.num_classes != self.spec.head.num_classes:
            if init is None:  # with pretrained weights the note comes when the head is replaced
                self.notes.append(f"{data.name} has {data.num_classes} classes but the network's head has "
                                  f"{self.spec.head.num_classes} outputs; training a copy with a "
                                  f"{data.num_classes}-class head")
            self.spec = replace(self.spec, head=replace(self.spec.head, num_classes=data.num_classes))
        if not getattr(data, "streamed", False) and len(data.y_train) == 0:
            raise TrainingError(f"{data.name} has no training images: imagenet-val:PATH holds validation images "
                                f"for evaluation (experiment drop-block); train on folder:PATH")
        self.data = data
        self.record.spec_json = to_dict(self.spec)
        self.amp = amp_dtype(s.amp, self.device)
        if s.amp == "bf16" and self.amp is None:
            self.notes.append(f"bf16 autocast is not used on {self.device.type}; training in full precision")
        self._acc = torch.float32 if self.device.type == "mps" else torch.float64  # MPS has no float64
        self.channels_last = use_channels_last(s.channels_last, self.device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        torch.manual_seed(s.seed)
        self.normalisation = run_normalisation(s.normalise, init, self.resume, c, data, self.notes)
        self.record.normalisation = self.normalisation.to_dict()
        make_source = BatchSource
        if getattr(data, "streamed", False):  # too big for memory: DataLoader workers decode from disk
            from .stream_loader import StreamSource as make_source
        self.source = make_source(data, device=self.device, input_hw=(h, w), batch_size=s.batch_size,
                                  augment=s.augment, seed=s.seed, rank=self.dist.rank,
                                  world_size=self.dist.world_size, channels_last=self.channels_last,
                                  normalisation=(self.normalisation.mean, self.normalisation.std))
        if self.source.steps_per_epoch < 1:
            raise TrainingError(f"{data.name}: {self.source.train_size} training images are too few "
                                f"for {self.dist.world_size} processes")
        spe = self.source.steps_per_epoch
        self.total_steps = s.max_steps if s.max_steps is not None else s.epochs * spe
        self.total_epochs = math.ceil(self.total_steps / spe)
        interrupt.check("building the model")
        model = build(self.spec, seed=s.seed)
        self._frozen = start_from(model, init, s.freeze, len(self.spec.stages), self.notes)
        self.trainable_params, self.total_params = count_trainable(model)
        model.to(self.device)
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        self.model = model
        self.optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], s)
        self.warm = ErrorWarmUp(s.warmup_until)
        self.scheduler = make_scheduler(self.optimizer, s, self.total_steps, spe, self.warm)
        self.recorder = None
        if s.grad_every > 0:
            self.recorder = GradientRecorder(model, s.grad_every)
        self._net = model
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel as DDP
            ids = [self.device.index] if self.device.type == "cuda" else None
            self._net = DDP(model, device_ids=ids, find_unused_parameters=self._has_idle_params(model))
        if s.compile:
            self._net = torch.compile(self._net)
        self.criterion = torch.nn.CrossEntropyLoss(label_smoothing=s.label_smoothing)
        self._buf = torch.zeros(s.metrics_every, dtype=torch.float32, device=self.device)
        self.sums = EpochSums(self.device, self._acc)
        self._warm_mark = (0, 0)  # (correct, seen) at the warm-up's last look
        if self.resume is not None:
            self._load_resume(self.resume)
        interrupt.check("prepared")
        self._prepared = True

    @staticmethod
    def _has_idle_params(model) -> bool:
        """Blocks whose skip is off leave their projection's weights without gradients."""
        return any(not b.skip and any(True for _ in b.downsample.parameters())
                   for b in model.blocks() if getattr(b, "downsample", None) is not None)

    # -- what a checkpoint reads and restores (train/resume.py) ---------------------------
    @property
    def prepared(self) -> bool:
        return self._prepared

    def epoch_sums(self) -> list:
        """The epoch so far: [summed loss, correct, images seen, active seconds]."""
        return self.sums.to_list()

    def restore_epoch_sums(self, loss: float, correct: float, seen: int, seconds: float) -> None:
        self.sums.restore(loss, correct, seen, seconds)

    # -- the loop ---------------------------------------------------------------------
    def run(self, on_event: EventSink | None = None) -> RunRecord:
        """Train to the end (or to a stop) and return the record."""
        return drive(self.steps(on_event))

    def steps(self, on_event: EventSink | None = None) -> Steps:
        """The run as a generator, all its state in this object. Each ``next`` runs one step,
        its metrics read and any epoch end that follows it, and yields the steps done so far;
        ``TrainControl.checkpoint`` (stop, pause, calls between steps) runs at the start of the
        next one. The run ends with ``StopIteration`` carrying the ``RunRecord``, after
        ``RunFinished`` was emitted. Time spent suspended counts as paused (it is not in the
        speeds, the ETA or the epoch's seconds). Closing the generator early releases the
        recorder's hooks and the loader, and leaves the record unfinished."""
        emit = on_event or (lambda event: None)
        self.prepare()
        self._pending_steps: list[int] = []
        self._pending_lrs: list[float] = []
        self.paused = PausedTime()  # in control.checkpoint, or suspended between steps
        self._since_read = self.paused.clock()  # active time since the last metrics read
        self._s_per_step = None
        self._eval_s = 0.0
        status, message = "finished", ""
        run_clock = self.paused.clock()
        try:
            status = yield from self._train(emit)
            message = self._finish_message(status)
        except NonFiniteLoss as err:
            # under DDP every rank checks the same all-reduced losses, so all of them fail here together
            status, message = "failed", str(err)
        except DatasetError as err:  # a streamed folder: the images of a whole batch unreadable, or policy "stop"
            if self.dist.enabled:
                raise self._rank_failure(err) from err
            status, message = "failed", str(err)
        except Exception as err:  # OOM surfaces as several exception types
            if self.dist.enabled:
                raise self._rank_failure(err) from err
            if not is_out_of_memory(err):
                raise
            self._drop_step_state()
            free_cached_memory(self.device)
            status = "failed"
            message = str(DeviceOutOfMemory(self._out_of_memory_message()))
        finally:
            if self.recorder is not None:
                self.recorder.close()
            if hasattr(self.source, "close"):  # a streamed folder's loader processes
                self.source.close()
        wait = data_wait_note(self.source, run_clock.seconds())
        if wait:
            self.notes.append(wait)
        skipped = self.data.unreadable_note() if hasattr(self.data, "unreadable_note") else None
        if skipped:
            self.notes.append(skipped)
        self.record.status, self.record.message = status, message
        self.record.model_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        emit(RunFinished(status=status, message=message, step=self.step,
                         epoch=self.epochs_done + (1 if self.batch_in_epoch else 0)))
        return self.record

    def _out_of_memory_message(self) -> str:
        bs = self.settings.batch_size
        per = " per process" if self.dist.enabled else ""
        return (f"{self.device} ran out of memory at batch size {bs}{per} (step {self.step + 1}); "
                f"try a smaller batch size, e.g. {max(1, bs // 2)}")

    def _rank_failure(self, err: Exception) -> RankFailure:
        """Under DDP a failure on this rank cannot become a "failed" record: the other ranks
        wait for it in a collective. The caller leaves the group and exits non-zero."""
        where = f"rank {self.dist.rank} of {self.dist.world_size}"
        if is_out_of_memory(err):
            return RankFailure(f"{where}: {self._out_of_memory_message()}")
        return RankFailure(f"{where} ({self.device}, batch size {self.settings.batch_size} per process) "
                           f"failed at step {self.step + 1}: {type(err).__name__}: {err}")

    def _finish_message(self, status: str) -> str:
        last = self.record.epochs[-1] if self.record.epochs else None
        tail = (f": test error {last.test_error:.1%}, training error {last.train_error:.1%}"
                if last else "")
        if status == "stopped":
            return f"stopped at step {self.step} of {self.total_steps}{tail}"
        return f"finished {self.step} steps ({self.epochs_done} epochs){tail}"

    def _train(self, emit) -> Generator[int, None, str]:
        spe = self.source.steps_per_epoch
        self._stop_asked = False
        self._net.train()
        keep_frozen_bn_in_eval(self._frozen)
        stepped = False
        while self.step < self.total_steps:
            epoch = self.epochs_done
            epoch_clock = self.paused.clock()
            order = self.source.epoch_indices(epoch)
            while self.batch_in_epoch < spe and self.step < self.total_steps:
                if stepped:  # the previous step is done, with its read and any epoch end
                    yield from self._hand_over()
                interrupt.check(f"step {self.step + 1}")  # Ctrl+C in the CLI (spec/interrupt.py)
                with self.paused.counting():
                    go = self.control.checkpoint(self.model)
                self._stop_asked |= not go
                if self._stop_asked and not self.dist.enabled:
                    return self._stop(emit, epoch_clock)
                x, y = self.source.batch(order, self.batch_in_epoch)
                self._train_step(x, y)
                stepped = True
                if len(self._pending_steps) == self.settings.metrics_every:
                    self._read_steps(emit)
                    if self._ranks_agree_to_stop():
                        return self._stop(emit, epoch_clock)
            self._read_steps(emit)
            if self._ranks_agree_to_stop():
                return self._stop(emit, epoch_clock)
            self.sums.seconds += epoch_clock.seconds()
            complete = self.batch_in_epoch >= spe
            self._end_epoch(emit, complete)
        if stepped:
            yield from self._hand_over()
        return "finished"

    def _hand_over(self) -> Generator[int, None, None]:
        """Yield to the caller between two steps; the time until it comes back counts as paused."""
        with self.paused.counting():
            yield self.step

    def _stop(self, emit, epoch_clock: ActiveClock) -> str:
        self._read_steps(emit)
        self.sums.seconds += epoch_clock.seconds()
        return "stopped"

    def _ranks_agree_to_stop(self) -> bool:
        """Under DDP a stop asked on any rank stops every rank at the same step (at a
        metrics read, where the ranks meet anyway), so none waits forever in an all-reduce."""
        return self.dist.enabled and self.dist.any_(self._stop_asked, self.device)

    def _train_step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        number = self.step + 1
        armed = self.recorder.arm(number) if self.recorder is not None else False
        self._pending_lrs.append(self.optimizer.param_groups[0]["lr"])
        with self._autocast():
            out = self._net(x)
            loss = self.criterion(out, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if armed:
            self.recorder.collect(number)
        self.optimizer.step()
        self.scheduler.step()
        detached = loss.detach()
        self._buf[len(self._pending_steps)] = detached
        self.sums.add(detached, out, y)
        self._pending_steps.append(number)
        self.step = number
        self.batch_in_epoch += 1

    def _autocast(self):
        if self.amp is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp)

    def _drop_step_state(self) -> None:
        if self.model is not None:
            self.optimizer.zero_grad(set_to_none=True)

    # -- metrics ------------------------------------------------------------------------
    def _read_steps(self, emit) -> None:
        """One host read of the buffered losses; emits StepMetrics (and gradient columns)."""
        n = len(self._pending_steps)
        if n == 0:
            return
        losses_t = self.dist.mean_(self._buf[:n].clone())
        losses = losses_t.cpu().double().numpy()  # the sync
        elapsed = max(self._since_read.seconds(), 1e-9)
        self._since_read.restart()
        steps, lrs = self._pending_steps, self._pending_lrs
        self._pending_steps, self._pending_lrs = [], []
        bad = np.flatnonzero(~np.isfinite(losses))
        if len(bad):
            i = int(bad[0])
            self._record_steps(steps[:i], losses[:i], lrs[:i])
            kind = "NaN" if math.isnan(losses[i]) else "infinite"
            raise NonFiniteLoss(
                f"the training loss became {kind} at step {steps[i]} (learning rate {lrs[i]:.3g}); "
                f"training cannot recover from that. Try a lower learning rate, e.g. "
                f"{self.settings.lr / 10:g}, or a longer warm-up")
        self._record_steps(steps, losses, lrs)
        if self.warm.active:
            self._look_at_warm_up()
        per_step = elapsed / n
        self._s_per_step = per_step if self._s_per_step is None else 0.7 * self._s_per_step + 0.3 * per_step
        left = self.total_steps - self.step
        evals_left = self.total_epochs - self.epochs_done
        images = n * self.settings.batch_size * self.dist.world_size
        emit(StepMetrics(steps=np.asarray(steps, dtype=np.int64), loss=losses,
                         lr=np.asarray(lrs, dtype=np.float64), total_steps=self.total_steps,
                         epoch=self.epochs_done + 1, images_per_s=images / elapsed,
                         eta_s=left * self._s_per_step + evals_left * self._eval_s))
        if self.recorder is not None:
            for column in self.recorder.drain():
                self.record.grad_columns.append(column)
                emit(column)

    def _look_at_warm_up(self) -> None:
        """The training error since the last look ends the warm-up once it is below its bar (every
        rank sees the same summed counts, so under DDP all switch at the same step)."""
        correct, seen = self.dist.sum_(self.sums.counts()).tolist()
        c0, s0 = self._warm_mark
        self._warm_mark = (correct, seen)
        if seen > s0:
            error = 1.0 - (correct - c0) / (seen - s0)
            if self.warm.observe(self.step, error):
                self.notes.append(f"warm-up at a tenth of the learning rate ended after step {self.step}: "
                                  f"training error {100 * error:.1f}% over the last steps, below "
                                  f"{100 * self.warm.until:.0f}%")

    def _record_steps(self, steps, losses, lrs) -> None:
        self.record.steps.extend(int(s) for s in steps)
        self.record.losses.extend(float(v) for v in losses)
        self.record.lrs.extend(float(v) for v in lrs)

    def _end_epoch(self, emit, complete: bool) -> None:
        loss_sum, correct, seen = self.dist.sum_(self.sums.totals()).tolist()
        t0 = time.perf_counter()
        test_loss, test_error = self.evaluate()
        self._eval_s = time.perf_counter() - t0
        seconds = self.sums.seconds
        metrics = EpochMetrics(
            epoch=self.epochs_done + 1, step=self.step,
            train_loss=loss_sum / max(seen, 1), train_error=1.0 - correct / max(seen, 1),
            test_loss=test_loss, test_error=test_error,
            lr=self.optimizer.param_groups[0]["lr"],
            images_per_s=seen / max(seconds, 1e-9), seconds=seconds)
        if self.record.epochs and self.record.epochs[-1].epoch == metrics.epoch:
            self.record.epochs[-1] = metrics  # a partial epoch completed after a resume
        else:
            self.record.epochs.append(metrics)
        if complete:  # advance before emitting so that a checkpoint taken now resumes cleanly
            self.epochs_done += 1
            self.batch_in_epoch = 0
            self.sums.new_epoch()
            self._warm_mark = (0, 0)
        self._since_read.restart()
        emit(metrics)

    @torch.no_grad()
    def evaluate(self) -> tuple[float, float]:
        """Loss and error on this rank's share of the test split, averaged over ranks."""
        model = self.model
        was_training = model.training
        model.eval()
        loss_sum = torch.zeros((), dtype=self._acc, device=self.device)
        wrong = torch.zeros((), dtype=self._acc, device=self.device)
        count = 0
        try:
            for x, y in self.source.test_batches():
                interrupt.check()
                with self._autocast():
                    out = model(x)
                loss_sum += F.cross_entropy(out.float(), y, reduction="sum").to(self._acc)
                wrong += (out.argmax(1) != y).sum().to(self._acc)
                count += len(y)
        finally:
            model.train(was_training)
            if was_training:
                keep_frozen_bn_in_eval(self._frozen)
        sums = torch.stack([loss_sum, wrong, torch.tensor(float(count), dtype=self._acc, device=self.device)])
        loss_sum, wrong, count = self.dist.sum_(sums).tolist()
        if count == 0:
            return float("nan"), float("nan")
        return loss_sum / count, wrong / count
