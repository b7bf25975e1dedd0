"""Runs the gradient probe off the GUI thread, latest request wins.

``ProbeRunner`` lives on the GUI thread and owns a ``QThread`` with a ``_ProbeWorker``
in it. ``request(spec, state)`` never blocks: when the worker is idle the request goes
straight to it; when it is busy the request waits in a single slot that later
requests overwrite, so a burst of edits costs at most one extra probe. Each request
carries a serial number and only the result of the newest request is reported
(``finished``), older ones are dropped. ``shutdown()`` stops the thread and waits.

The worker keeps the last model it built: a skip toggle (same weight layout, same
weights source) only flips switches on it, so the refresh is one forward/backward.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch  # before PySide6 (docs/ARCHITECTURE.md, "Import order")
from PySide6.QtCore import QObject, QThread, Signal, Slot

from ...analysis.probe import ProbeResult, probe, seeded_batch
from ...nn import build
from ...spec import InitKind, NetworkSpec

FRESH_SEED = 0
PROBE_SEED = 0


def probe_batch_size(spec: NetworkSpec) -> int:
    """32 images for CIFAR-sized inputs; fewer for ImageNet-sized ones so a probe stays interactive."""
    _, h, w = spec.input_shape
    return 32 if h * w <= 64 * 64 else 4


@dataclass
class ProbeOutcome:
    serial: int
    spec: NetworkSpec
    result: ProbeResult | None
    weights: str  # where the weights came from, in words
    seconds: float  # the probe itself (build + forward/backward)
    error: str = ""


@dataclass
class _Request:
    serial: int
    spec: NetworkSpec
    state: dict | None


class _ProbeWorker(QObject):
    done = Signal(object)  # ProbeOutcome

    def __init__(self):
        super().__init__()
        self._model = None
        self._layout = None
        self._state_id = None
        self._fresh = True
        self._batch_key = None
        self._batch = None

    @Slot(object)
    def run(self, req: _Request) -> None:
        start = time.perf_counter()
        try:
            weights = self._model_for(req.spec, req.state)
            self._model.apply_spec_skips(req.spec)
            key = (req.spec.input_shape, req.spec.head.num_classes)
            if key != self._batch_key:
                x, y = seeded_batch(req.spec.input_shape, req.spec.head.num_classes,
                                    probe_batch_size(req.spec), PROBE_SEED)
                self._batch = (x.contiguous(memory_format=torch.channels_last), y)
                self._batch_key = key
            # Block inputs only: autograd then skips every weight-gradient kernel (a third
            # less work than a training backward); channels_last is faster on CPU too.
            result = probe(self._model, *self._batch, weights=False)
            result.batch_source = "seeded"
            outcome = ProbeOutcome(req.serial, req.spec, result, weights, time.perf_counter() - start)
        except Exception as err:  # noqa: BLE001 - reported in the panel, never lost in a thread
            self._model = None
            outcome = ProbeOutcome(req.serial, req.spec, None, "", time.perf_counter() - start,
                                   error=f"{type(err).__name__}: {err}")
        self.done.emit(outcome)

    def _model_for(self, spec: NetworkSpec, state: dict | None) -> str:
        layout = spec.with_skips(True)
        init = "He" if spec.init.kind is InitKind.HE else f"N(0, {spec.init.std:g}²)"
        fresh_words = f"fresh {init} weights (seed {FRESH_SEED})"
        if self._model is not None and layout == self._layout and id(state) == self._state_id:
            return fresh_words if self._fresh else "the trained weights"
        model = build(spec, seed=FRESH_SEED)
        fresh = True
        words = fresh_words
        if state is not None:
            try:
                model.load_state_dict(state, strict=True)
                fresh = False
                words = "the trained weights"
            except (RuntimeError, KeyError, ValueError):
                model = build(spec, seed=FRESH_SEED)  # a partial load may have happened
                words = fresh_words + "; the trained weights do not fit this layout"
        model = model.to(memory_format=torch.channels_last)
        self._model, self._layout, self._state_id, self._fresh = model, layout, id(state), fresh
        # keep the state object alive so its id cannot be reused by a different dict
        self._state_ref = state
        return words


class ProbeRunner(QObject):
    """GUI-side handle: ``request()``, ``finished(ProbeOutcome)``, ``busy``, ``shutdown()``."""

    finished = Signal(object)  # ProbeOutcome of the newest request
    busyChanged = Signal(bool)
    _submit = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("gradient-probe")
        self._worker = _ProbeWorker()
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.run)
        self._worker.done.connect(self._on_done)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start()
        self._serial = 0
        self._in_flight: int | None = None
        self._waiting: _Request | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        return self._in_flight is not None

    @property
    def latest_serial(self) -> int:
        return self._serial

    def request(self, spec: NetworkSpec, state: dict | None) -> int:
        """Queue a probe of ``spec`` at ``state`` (None: fresh weights); returns its serial."""
        if self._closed:
            return -1
        self._serial += 1
        req = _Request(self._serial, spec, state)
        if self._in_flight is None:
            self._send(req)
        else:
            self._waiting = req  # replaces any older waiting request
        return self._serial

    def _send(self, req: _Request) -> None:
        was_busy = self.busy
        self._in_flight = req.serial
        self._submit.emit(req)
        if not was_busy:
            self.busyChanged.emit(True)

    @Slot(object)
    def _on_done(self, outcome: ProbeOutcome) -> None:
        self._in_flight = None
        if self._waiting is not None and not self._closed:
            req, self._waiting = self._waiting, None
            self._send(req)
        else:
            self.busyChanged.emit(False)
        if outcome.serial == self._serial and not self._closed:
            self.finished.emit(outcome)

    def shutdown(self) -> None:
        """Finish the probe in flight, drop the waiting one, stop the thread and wait for it."""
        self._closed = True
        self._waiting = None
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()
