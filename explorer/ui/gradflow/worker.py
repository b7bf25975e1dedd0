"""Runs the gradient probe off the GUI thread; the newest request wins and cancels the rest.

``ProbeRunner`` lives on the GUI thread; each probe is one run of a ``BackgroundTask``
(``ui/background.py``) at normal priority, on a thread the task keeps between probes
(so each probe finds its memory arena and OpenMP pool warm). ``request(spec, weights)`` never blocks: when
no probe runs the request starts at once; otherwise the probe in flight is cancelled (it
checks between blocks, forward and backward) and the request waits in a single slot that
later requests overwrite. Each request carries a serial number and only the outcome
of the newest one is reported (``finished``); ``progress`` reports how far the newest
has got. ``shutdown()`` cancels the probe in flight the same way and waits for it.

The batch is chosen per network (``probe_batch_size``: at most 32 images, fewer when
the activations would not fit the probe's memory budget, at most 4 for ImageNet-sized
inputs to stay interactive). After a probe the worker hands freed memory back to the
system, and it drops its model before building a different one, so a big network's
probe does not leave the app big.

The runner keeps the last model it built (``_ProbeCache``, used by one probe at a time
since probes run one after another): a skip toggle (same weight layout, same weights)
only flips switches on it, so the refresh is one forward/backward.

Progressive probes: a request whose batch is larger than ``FIRST_LOOK_IMAGES`` runs in
two stages, each one run of the task. The first probes the first ``FIRST_LOOK_IMAGES``
images of the batch (for ResNet-56 a sixth of the full probe's time) and is reported as
``firstLook(ProbeOutcome)`` with ``first_look`` set; the second probes the whole batch
and is reported as ``finished``. The runner starts the second stage (on the same kept
thread) as the first one's end reaches it, before it reports the first look, so the full
batch is measured while the GUI draws the first look. A newer request cancels either stage the same way, and a stage that
ends after a newer request came is never reported.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch  # before PySide6 (docs/ARCHITECTURE.md, "Import order")
from PySide6.QtCore import QObject, Signal, Slot

from ...analysis.gradflow import (DEFAULT_BATCH, ProbeCancelled, ProbeResult, activation_bytes_per_image,
                               choose_batch, probe, release_memory, release_memory_later,
                               seeded_batch)
from ...nn import build
from ...spec import NetworkInfo, NetworkSpec, analyse
from ..background import BackgroundTask, TaskOutcome
from .weights import FRESH_SEED, Weights, fresh_words, network_key

PROBE_SEED = 0
FIRST_LOOK_IMAGES = 4  # images of the first, quick stage of a progressive probe (the batch's first ones)
INTERACTIVE_LARGE_BATCH = 4  # images per probe when the input is larger than 64x64
PROGRESS_INTERVAL_S = 0.1  # at most ten progress reports a second
PROGRESS_INTERVAL_MS = int(PROGRESS_INTERVAL_S * 1000)  # and the GUI takes them as often
# Probes whose activations may pass this many bytes give the freed pages back afterwards.
RELEASE_AFTER_BYTES = 64 * 2 ** 20


def probe_batch_size(spec: NetworkSpec, info: NetworkInfo | None = None) -> tuple[int, int, str]:
    """The batch, its estimated activation bytes and why it is smaller than 32 (or "").

    Up to 32 images for CIFAR-sized inputs (4 for ImageNet-sized ones, to stay
    interactive), fewer when the network's activations would not fit the memory budget.
    ``info``: ``analyse(spec)`` when the caller has it already (the document keeps it).
    """
    _, h, w = spec.input_shape
    largest = DEFAULT_BATCH if h * w <= 64 * 64 else INTERACTIVE_LARGE_BATCH
    if info is None:
        info = analyse(spec)
    batch = choose_batch(info, spec.stem.kind, largest=largest)
    if batch < largest:
        reason = f"fewer than {largest}, so that the probe's memory stays bounded"
    elif largest < DEFAULT_BATCH:
        reason = f"fewer than {DEFAULT_BATCH}, so that a probe of images this large stays quick"
    else:
        reason = ""
    return batch, batch * activation_bytes_per_image(info, spec.stem.kind), reason


@dataclass
class ProbeOutcome:
    serial: int
    spec: NetworkSpec
    result: ProbeResult | None
    weights: str  # where the weights came from, in words
    seconds: float  # the probe itself (build + forward/backward)
    error: str = ""
    cancelled: bool = False
    batch: int = 0  # the request's full batch (``result.batch``: the images this result rests on)
    batch_reason: str = ""  # why the batch is smaller than usual, in words ("" when it is not)
    first_look: bool = False  # the first stage of a progressive probe: the full batch follows


@dataclass
class _Request:
    serial: int
    spec: NetworkSpec
    weights: Weights | None
    batch: int
    activation_bytes: int
    batch_reason: str

    @property
    def first_look(self) -> int:
        """Images of the first look (0: the batch is small enough to probe whole at once)."""
        return FIRST_LOOK_IMAGES if self.batch > FIRST_LOOK_IMAGES else 0


class _ProbeCache:
    """The last model and batch the probe used; ``run`` is a probe task's function body."""

    def __init__(self):
        self._model = None
        self._key = None
        self._weights_ref = None
        self._weights_words = ""
        self._batch_key = None
        self._batch = None

    def run(self, req: _Request, emit, cancelled, images: int = 0) -> ProbeOutcome:
        """Probe ``req`` (on the task's thread); progress goes to ``emit`` as (serial, phase, done, total).

        ``images``: probe only the batch's first ``images`` (a first look); 0: the whole batch.
        """
        start = time.perf_counter()
        last_report = [0.0]

        def report(phase: str, done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last_report[0] >= PROGRESS_INTERVAL_S or done == total:
                last_report[0] = now
                emit((req.serial, phase, done, total))

        result, error, cancelled_, words = None, "", False, ""
        try:
            if cancelled():
                raise ProbeCancelled("superseded before it started")
            words = self._model_for(req.spec, req.weights)
            self._model.apply_spec_skips(req.spec)
            key = (req.spec.input_shape, req.spec.head.num_classes, req.batch)
            if key != self._batch_key:
                self._batch = None
                x, y = seeded_batch(req.spec.input_shape, req.spec.head.num_classes, req.batch, PROBE_SEED)
                self._batch = (x.contiguous(memory_format=torch.channels_last), y)
                self._batch_key = key
            # Block inputs only: autograd then skips every weight-gradient kernel (a third
            # less work than a training backward); channels_last is faster on CPU too.
            x, y = self._batch if not images else (self._batch[0][:images], self._batch[1][:images])
            result = probe(self._model, x, y, weights=False, progress=report, should_stop=cancelled,
                           residual=True, images=True)
            result.batch_source = "seeded"
        except ProbeCancelled:
            cancelled_ = True
        except Exception as err:  # noqa: BLE001 - reported in the panel, never lost in a thread
            self._model = self._key = None
            error = f"{type(err).__name__}: {err}"
        if (req.activation_bytes > RELEASE_AFTER_BYTES or cancelled_ or error) and not (images and result):
            release_memory_later()  # not while probes follow each other: each would fault it all in again
        return ProbeOutcome(req.serial, req.spec, result, words, time.perf_counter() - start,
                            error=error, cancelled=cancelled_, batch=req.batch, batch_reason=req.batch_reason,
                            first_look=bool(images))

    def _model_for(self, spec: NetworkSpec, weights: Weights | None) -> str:
        key = network_key(spec)
        fresh = fresh_words(spec, FRESH_SEED)
        if self._model is not None and key == self._key and weights is self._weights_ref:
            return self._weights_words
        if key != self._key and self._model is not None:
            # Another network: let the old model go (and its pages) before building the new one.
            self._model = self._key = self._weights_ref = None
            release_memory()
        model = build(spec, seed=FRESH_SEED)
        words = fresh
        if weights is not None:
            try:
                model.load_state_dict(weights.state, strict=True)
                words = weights.words
            except (RuntimeError, KeyError, ValueError):
                model = build(spec, seed=FRESH_SEED)  # a partial load may have happened
                words = f"{fresh}; the weights of {weights.words} do not fit this layout"
        self._model = model.to(memory_format=torch.channels_last)
        # keep the Weights object alive so its identity cannot be reused by another one
        self._key, self._weights_ref, self._weights_words = key, weights, words
        return words


class ProbeRunner(QObject):
    """GUI-side handle: ``request()``, ``firstLook`` and ``finished(ProbeOutcome)``, ``progress``, ``busy``,
    ``shutdown()``."""

    firstLook = Signal(object)  # ProbeOutcome of the newest request's first stage (a few images)
    finished = Signal(object)  # ProbeOutcome of the newest request (its full batch)
    busyChanged = Signal(bool)
    progress = Signal(int, str, int, int)  # serial, phase ("forward"/"backward"), done, total

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._cache = _ProbeCache()
        self._task = BackgroundTask(self, name="gradient-probe", interval_ms=PROGRESS_INTERVAL_MS, keep_thread=True)
        self._task.eventsReady.connect(self._on_progress)
        self._task.finished.connect(self._on_done)
        self._serial = 0
        self._in_flight: _Request | None = None
        self._waiting: _Request | None = None
        self._closed = False
        self.last_request: _Request | None = None

    @property
    def busy(self) -> bool:
        return self._in_flight is not None

    @property
    def latest_serial(self) -> int:
        return self._serial

    def request(self, spec: NetworkSpec, weights: Weights | None, info: NetworkInfo | None = None) -> int:
        """Queue a probe of ``spec`` at ``weights`` (None: fresh); returns its serial.

        ``info``: ``spec``'s analysis when the caller has it (else it is worked out here, on
        the GUI thread). A probe still running for an older request is told to stop at its next block.
        """
        if self._closed:
            return -1
        self._serial += 1
        req = self.last_request = _Request(self._serial, spec, weights, *probe_batch_size(spec, info))
        if self._in_flight is None:
            self._send(req)
        else:
            self._waiting = req  # replaces any older waiting request
            self._task.cancel()
        return self._serial

    def _send(self, req: _Request, images: int | None = None) -> None:
        """Start ``req``'s first stage (``images`` None: its first look, if it has one), or its full batch (0)."""
        was_busy = self.busy
        self._in_flight = req
        cache = self._cache
        images = req.first_look if images is None else images
        self._task.start(lambda emit, cancelled: cache.run(req, emit, cancelled, images))
        if not was_busy:
            self.busyChanged.emit(True)

    @Slot(list)
    def _on_progress(self, reports: list) -> None:
        newest = [r for r in reports if r[0] == self._serial]
        if newest and not self._closed:
            self.progress.emit(*newest[-1])

    @Slot(object)
    def _on_done(self, ended: TaskOutcome) -> None:
        req, self._in_flight = self._in_flight, None
        outcome = ended.result
        if ended.failed:  # _ProbeCache.run reports its own errors; this is a bug in it
            self._cache = _ProbeCache()  # its state is unknown: start afresh
            outcome = ProbeOutcome(req.serial, req.spec, None, "", 0.0, error=ended.error_text,
                                   batch=req.batch, batch_reason=req.batch_reason)
        newest = outcome.serial == self._serial and not self._closed and not outcome.cancelled
        if self._waiting is not None and not self._closed:
            waiting, self._waiting = self._waiting, None
            self._send(waiting)
        elif newest and outcome.first_look and outcome.result is not None:
            self._send(req, images=0)  # the full batch starts before the first look is drawn
        else:
            self.busyChanged.emit(False)
        if newest:
            (self.firstLook if outcome.first_look and outcome.result is not None else self.finished).emit(outcome)

    def shutdown(self) -> None:
        """Stop the probe in flight (between two blocks), drop the waiting one, wait for it to end."""
        self._closed = True
        self._waiting = None
        self._task.shutdown(None)
