"""The gradient probe: one forward/backward at the current weights, nothing changed.

``probe(model, inputs, targets)`` measures, for every residual block in depth order,
the norm of the loss gradient with respect to the block's input activation,
``||dL/dx_l||``, and the norm of every conv/linear weight gradient. It runs in train
mode (BN uses batch statistics, as during training) and leaves the model exactly as it
found it: parameters, BN running statistics and ``num_batches_tracked``, existing
``.grad`` fields, train/eval flags, ``requires_grad`` flags and the global RNG state
(CPU and CUDA) are all bit-identical afterwards.

The gradients come from ``torch.autograd.grad`` with the captured block inputs as
``inputs``, so no ``.grad`` field is written and no hook outlives the call.

Big networks: every block keeps its activations for the backward, so memory grows
with depth times batch. ``choose_batch`` picks the largest batch (a power of two, at
most 32) whose estimated activations fit ``ACTIVATION_BUDGET``; ``probe`` can report
progress block by block and stop between blocks (``ProbeCancelled``), and
``release_memory`` hands freed memory back to the operating system afterwards
(``release_memory_later`` once no probe has followed for a second).
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..nn.blocks import ResidualBlock
from .residual import ResidualResult, ResidualTap
from ..spec import NetworkInfo, StemKind
from ..spec.params import whole_number

DEFAULT_BATCH = 32
DEFAULT_SEED = 0
# What the probe's saved activations may take (estimated, float32). 768 MiB gives
# ResNet-1202 a batch of 4, which peaks near 0.9 GB resident with torch itself and the
# weights (bench/bench_probe_memory.py), well under the 1.5 GB the app allows a probe.
ACTIVATION_BUDGET = 768 * 2 ** 20
RELEASE_DELAY_S = 1.0  # release_memory_later: how long no probe must start before the pages go back


class ProbeCancelled(Exception):
    """Raised inside ``probe`` when its ``should_stop()`` said so; the model is restored."""


def activation_bytes_per_image(info: NetworkInfo, stem: StemKind = StemKind.CIFAR) -> int:
    """A generous estimate of what one image's forward keeps for the backward, in bytes.

    A block saves about six tensors of its output's size (convolution and BN outputs,
    ReLU results, the sum) plus its input and the probe's copy of it; the stem a few of
    its output's (four times larger before an ImageNet stem's max-pool). Measured on
    ResNet-1202 the estimate is about 1.75x the real figure.
    """
    def elems(shape) -> int:
        n = 1
        for d in shape:
            n *= int(d)
        return n

    total = 0
    if info.blocks:
        first = elems(info.blocks[0].in_shape)
        total += (12 if stem is StemKind.IMAGENET else 3) * first
    for b in info.blocks:
        total += 6 * elems(b.out_shape) + 2 * elems(b.in_shape)
    return 4 * total


def choose_batch(info: NetworkInfo, stem: StemKind = StemKind.CIFAR, largest: int = DEFAULT_BATCH,
                 budget: int | None = None) -> int:
    """The probe batch: the largest power of two up to ``largest`` whose activations fit
    ``budget`` (default ``ACTIVATION_BUDGET``)."""
    budget = ACTIVATION_BUDGET if budget is None else budget
    per_image = max(1, activation_bytes_per_image(info, stem))
    batch = 1
    while batch * 2 <= largest and batch * 2 * per_image <= budget:
        batch *= 2
    return batch


def release_memory() -> None:
    """Give freed heap memory back to the OS (glibc keeps it otherwise); a no-op elsewhere.

    Tensors are freed by reference counting as soon as the probe returns; this only
    returns the pages. No garbage collection here: it may run on a worker thread.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # musl or another libc without malloc_trim
        pass


_release_lock = threading.Lock()
_release_timer: threading.Timer | None = None


def release_memory_later(delay: float = RELEASE_DELAY_S) -> None:
    """``release_memory`` once ``delay`` seconds pass without a new probe starting.

    Giving the pages back has its price at the next probe, which has to fault every one
    of them in again (for ResNet-56 at batch 32 that costs 70 ms of CPU, a third of the
    probe); so while probes follow each other (skip toggles, undo and redo) the memory
    stays, and it goes back once they stop. The timer thread needs no interpreter lock
    for the trim itself; ``probe`` cancels a pending one as it starts.
    """
    global _release_timer
    timer = threading.Timer(delay, release_memory)
    timer.daemon = True
    with _release_lock:
        if _release_timer is not None:
            _release_timer.cancel()
        _release_timer = timer
    timer.start()


def _cancel_release() -> None:
    global _release_timer
    with _release_lock:
        if _release_timer is not None:
            _release_timer.cancel()
            _release_timer = None


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module under DistributedDataParallel / DataParallel / torch.compile wrappers."""
    seen = 0
    while seen < 8:
        seen += 1
        if hasattr(model, "_orig_mod") and isinstance(model._orig_mod, nn.Module):  # torch.compile
            model = model._orig_mod
        elif isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
            model = model.module
        else:
            break
    return model


def find_blocks(model: nn.Module) -> list[tuple[str, ResidualBlock]]:
    """``(qualified name, block)`` for every residual block, in depth (registration) order."""
    base = unwrap(model)
    return [(name, m) for name, m in base.named_modules() if isinstance(m, ResidualBlock)]


def block_labels(model: nn.Module) -> list[str]:
    """"stage 1, block 2" style labels; names like ``layer2.0`` give the stage and index."""
    labels = []
    for i, (name, _) in enumerate(find_blocks(model)):
        parts = name.split(".")
        stage = whole_number(parts[0][5:]) if len(parts) == 2 and parts[0].startswith("layer") else None
        block = whole_number(parts[1]) if stage is not None else None
        if block is not None:
            labels.append(f"stage {stage}, block {block + 1}")
        else:
            labels.append(f"block {i + 1}")
    return labels


@dataclass
class ProbeResult:
    """What one probe measured. Arrays are float64 in depth order."""

    labels: list[str]  # one per block, "stage 1, block 2"
    block_norms: np.ndarray  # ||dL/dx_l|| at each block's input
    skips: list[bool]  # each block's skip switch as it was during the probe
    layer_names: list[str] = field(default_factory=list)  # conv/linear weights, module order
    layer_norms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    loss: float = float("nan")
    batch: int = 0
    batch_source: str = "seeded"  # "seeded" (fixed random batch) or "given"
    shortcuts: list[bool] = field(default_factory=list)  # whether each block has a shortcut at all
    residual: ResidualResult | None = None  # ||F(x)||/||s(x)|| and cosines, when asked for

    @property
    def ratio(self) -> float:
        """First block's input-gradient norm over the last block's (inf/nan when the last is 0)."""
        if len(self.block_norms) == 0:
            return float("nan")
        first, last = float(self.block_norms[0]), float(self.block_norms[-1])
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.float64(first) / np.float64(last))

    def to_dict(self) -> dict:
        return {
            "loss": self.loss,
            "batch": self.batch,
            "batch_source": self.batch_source,
            "ratio_first_to_last": _json_float(self.ratio),
            "blocks": [{"label": lab, "norm": _json_float(n), "skip": s}
                       for lab, n, s in zip(self.labels, self.block_norms, self.skips)],
            "layers": [{"name": name, "weight_grad_norm": _json_float(n)}
                       for name, n in zip(self.layer_names, self.layer_norms)],
        }


def _json_float(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def seeded_batch(input_shape, num_classes: int, batch: int = DEFAULT_BATCH, seed: int = DEFAULT_SEED,
                 device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed probe batch: N(0, 1) images and uniform labels from a private generator.

    The global RNG is not touched, so the same seed gives the same batch everywhere.
    """
    if batch < 1:
        raise ValueError(f"the probe batch must hold at least one image, got {batch}")
    gen = torch.Generator().manual_seed(int(seed))
    x = torch.randn((batch, *input_shape), generator=gen)
    y = torch.randint(0, max(1, int(num_classes)), (batch,), generator=gen)
    return x.to(device), y.to(device)


def _weighted_layers(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    out = []
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)) and isinstance(getattr(m, "weight", None), nn.Parameter):
            out.append((name, m.weight))
    return out


@contextlib.contextmanager
def preserved_state(model: nn.Module):
    """Restore buffers, .grad fields, flags and RNG exactly on exit (also after an error)."""
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    params = list(model.parameters())
    grads = [p.grad for p in params]
    requires = [p.requires_grad for p in params]
    modes = [(m, m.training) for m in model.modules()]
    cpu_rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        for p, g, r in zip(params, grads, requires):
            p.grad = g
            p.requires_grad_(r)
        for m, mode in modes:
            m.training = mode
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)


def probe(model: nn.Module, inputs: torch.Tensor | None = None, targets: torch.Tensor | None = None, *,
          input_shape=None, num_classes: int | None = None, batch: int = DEFAULT_BATCH,
          seed: int = DEFAULT_SEED, weights: bool = True,
          progress: Callable[[str, int, int], None] | None = None,
          should_stop: Callable[[], bool] | None = None, residual: bool = False,
          images: bool = False) -> ProbeResult:
    """Measure per-block input-gradient norms (and per-layer weight-gradient norms).

    ``progress(phase, done, total)`` is called as each block's forward starts
    ("forward") and as the backward reaches each block's input ("backward").
    ``should_stop()`` is asked at the same moments; True raises ``ProbeCancelled``.
    ``residual`` also measures each block's correction in the same forward
    (``ResidualTap``: ``||F(x)||/||s(x)||`` and the cosine); ``images`` keeps the first
    image's channel-mean maps of every block's input, branch output and sum.

    Pass ``inputs`` and ``targets`` (class indices), or leave them out to use
    ``seeded_batch`` with ``input_shape`` (C, H, W) and ``num_classes``; when those are
    missing they are read from the model (its first conv's in-channels and last
    Linear's out-features need a spatial size, so ``input_shape`` is required then).
    """
    _cancel_release()  # the pages a pending release would give back are about to be used again
    base = unwrap(model)
    blocks = find_blocks(base)
    params = list(base.parameters())
    device = params[0].device if params else torch.device("cpu")
    source = "given"
    if inputs is None:
        if input_shape is None:
            raise ValueError("probe needs inputs or an input_shape (C, H, W) for the seeded batch")
        if num_classes is None:
            linears = [m for m in base.modules() if isinstance(m, nn.Linear)]
            num_classes = linears[-1].out_features if linears else 10
        inputs, targets = seeded_batch(input_shape, num_classes, batch, seed, device)
        source = "seeded"
    elif targets is None:
        raise ValueError("probe was given inputs without targets")
    layers = _weighted_layers(base) if weights else []
    captured: list[torch.Tensor | None] = [None] * len(blocks)
    n_blocks = len(blocks)
    reached = [0]

    def check(phase: str, done: int) -> None:
        if should_stop is not None and should_stop():
            raise ProbeCancelled(f"stopped during the {phase} pass at block {done} of {n_blocks}")
        if progress is not None:
            progress(phase, done, n_blocks)

    def backward_hook(grad):
        reached[0] += 1
        check("backward", reached[0])

    def make_hook(i):
        def hook(module, args):
            check("forward", i + 1)
            x = args[0]
            if not x.requires_grad:  # the raw input reaching a block directly
                x = x.detach().requires_grad_(True)
            captured[i] = x
            if progress is not None or should_stop is not None:
                x.register_hook(backward_hook)
            # The block gets a copy, so an in-place op inside it cannot change the
            # tensor we differentiate with respect to (its gradient passes unchanged).
            return (x.clone(), *args[1:])
        return hook

    with preserved_state(base):
        base.train()
        for p in params:
            p.requires_grad_(True)
        handles = [blk.register_forward_pre_hook(make_hook(i)) for i, (_, blk) in enumerate(blocks)]
        tap = ResidualTap([blk for _, blk in blocks], images=images) if residual else None
        try:
            with torch.enable_grad():
                x = inputs.to(device)
                out = base(x)
                loss = nn.functional.cross_entropy(out.float(), targets.to(device))
                wrt = [t for t in captured if t is not None] + [w for _, w in layers]
                grads = torch.autograd.grad(loss, wrt, allow_unused=True) if wrt else []
            residual_result = tap.result() if tap is not None else None
        finally:
            for h in handles:
                h.remove()
            if tap is not None:
                tap.close()
        grads = list(grads)
        block_grads = []
        for t in captured:
            block_grads.append(grads.pop(0) if t is not None else None)
        layer_grads = grads
        block_norms = _norms(block_grads)
        layer_norms = _norms(layer_grads)
        loss_value = float(loss.detach())
    return ProbeResult(
        labels=block_labels(base), block_norms=block_norms,
        skips=[bool(blk.skip) for _, blk in blocks], shortcuts=[bool(blk.has_shortcut) for _, blk in blocks],
        layer_names=[name for name, _ in layers], layer_norms=layer_norms,
        loss=loss_value, batch=int(inputs.shape[0]), batch_source=source, residual=residual_result)


def residual_sizes(model: nn.Module, inputs: torch.Tensor, images: bool = False) -> ResidualResult:
    """Each block's ``||F(x)||/||s(x)||`` and cosine from one forward in train mode (no backward);
    the model (BN statistics, flags, RNG) is left as it was."""
    base = unwrap(model)
    blocks = [b for _, b in find_blocks(base)]
    params = list(base.parameters())
    device = params[0].device if params else torch.device("cpu")
    with preserved_state(base), ResidualTap(blocks, images=images) as tap, torch.no_grad():
        base.train()
        base(inputs.to(device))
        return tap.result()


def _norms(grads) -> np.ndarray:
    """One host transfer for all norms; a missing gradient (unused tensor) counts as 0."""
    present = [g for g in grads if g is not None]
    values = iter(torch.stack(torch._foreach_norm([g.float() for g in present])).cpu().double().numpy()
                  if present else [])
    return np.array([next(values) if g is not None else 0.0 for g in grads], dtype=np.float64)


class GradientProbe:
    """A probe bound to a model and a fixed batch, for repeated measurements.

    ``GradientProbe(model, input_shape, num_classes)`` makes the seeded batch once;
    each ``run()`` measures the model's current weights and skip switches.
    """

    def __init__(self, model: nn.Module, input_shape, num_classes: int, batch: int = DEFAULT_BATCH,
                 seed: int = DEFAULT_SEED, inputs: torch.Tensor | None = None,
                 targets: torch.Tensor | None = None):
        self.model = model
        if inputs is None:
            params = list(unwrap(model).parameters())
            device = params[0].device if params else "cpu"
            inputs, targets = seeded_batch(input_shape, num_classes, batch, seed, device)
            self.batch_source = "seeded"
        else:
            self.batch_source = "given"
        self.inputs, self.targets = inputs, targets

    def run(self, weights: bool = True) -> ProbeResult:
        result = probe(self.model, self.inputs, self.targets, weights=weights)
        result.batch_source = self.batch_source
        return result
