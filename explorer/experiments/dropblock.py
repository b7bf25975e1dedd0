"""Drop a block (Veit et al. 2016): remove one block of a trained net and measure what is left.

A residual block computes ``F(x) + s(x)``. Removing it here means removing the
branch ``F`` and keeping the shortcut ``s``: the block passes its input on (subsampled
and padded, or projected, where it changes the shape). A trained ResNet barely notices
the loss of any one block: its blocks behave like an ensemble of paths of many lengths,
and most paths avoid any given block. A plain net is one path: take a block out and
the layers after it receive inputs they never saw.

A plain block has no shortcut, so it can only be removed where its input and output
shapes match (it is then replaced by nothing at all); a block that changes the shape
(a stride or a new channel count) cannot be taken out without changing the network.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..nn import PreActBasicBlock, PreActBottleneck, ResidualBlock, build
from ..spec import NetworkSpec, analyse, fmt_shape
from ..train.api import TrainingError
from ..train.datasets import ImageData, conform_channels
from ..train.loader import BatchSource
from .dropblock_words import drop_summary, drop_words  # noqa: F401  (the experiment's words)
from .jobs import BackgroundJob


class WithoutBranch(nn.Module):
    """A residual block with its branch removed: only the shortcut (and the block's final ReLU)."""

    def __init__(self, block: ResidualBlock):
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.block
        if isinstance(b, (PreActBasicBlock, PreActBottleneck)):  # nothing after the add
            return b.downsample(b.relu(b.bn1(x)) if b.project_preactivated else x)
        return F.relu(b.downsample(x))  # post-activation: the ReLU after the add stays


def removal_of(block: ResidualBlock, info) -> tuple[nn.Module | None, str]:
    """What replaces ``block`` when it is removed, or None and why it cannot be."""
    if block.skip:
        return WithoutBranch(block), ""
    if tuple(info.in_shape) == tuple(info.out_shape):
        return nn.Identity(), ""
    return None, (f"no shortcut, and it changes the shape from {fmt_shape(info.in_shape)} to "
                  f"{fmt_shape(info.out_shape)}: the block after it would get an input of the wrong shape")


@contextmanager
def removed(model, stage: int, index: int, replacement: nn.Module):
    """``model`` with block ``index`` of ``stage`` swapped for ``replacement``; restored afterwards."""
    layer = getattr(model, f"layer{stage + 1}")
    original = layer[index]
    layer[index] = replacement
    try:
        yield model
    finally:
        layer[index] = original


@dataclass
class BlockDrop:
    position: int  # 0-based, depth order
    label: str  # "stage 2, block 1"
    residual: bool  # removed as a residual block (branch only) or as a plain one (whole block)
    accuracy: float | None  # test accuracy without this block (None: cannot be removed)
    reason: str = ""  # why it cannot be removed
    changes_shape: bool = False

    def to_dict(self) -> dict:
        return {"position": self.position + 1, "block": self.label, "residual": self.residual,
                "accuracy": self.accuracy, "reason": self.reason, "changes_shape": self.changes_shape}


@dataclass
class DropResult:
    name: str
    baseline: float  # test accuracy with every block
    drops: list[BlockDrop] = field(default_factory=list)
    stopped: bool = False

    @property
    def residual(self) -> bool:
        """True when most blocks have an active shortcut."""
        return sum(d.residual for d in self.drops) * 2 > len(self.drops)

    def removable(self) -> list[BlockDrop]:
        return [d for d in self.drops if d.accuracy is not None]

    def costs(self) -> list[float]:
        """Accuracy lost by each removable block, in points (fractions of 1)."""
        return [self.baseline - d.accuracy for d in self.removable()]

    def worst(self) -> BlockDrop | None:
        blocks = self.removable()
        return min(blocks, key=lambda d: d.accuracy) if blocks else None

    def to_dict(self) -> dict:
        return {"network": self.name, "baseline_accuracy": self.baseline, "stopped": self.stopped,
                "blocks": [d.to_dict() for d in self.drops]}


def eval_source(spec: NetworkSpec, data: ImageData, device: torch.device, batch_size: int = 256) -> BatchSource:
    """The test split prepared as in training (the training split's mean and std, the net's input size)."""
    data, _ = conform_channels(data, spec.input_shape[0])
    return BatchSource(data, device=device, input_hw=tuple(spec.input_shape[1:]), batch_size=batch_size,
                       augment=False, seed=0)


@torch.no_grad()
def accuracy(model, source: BatchSource) -> float:
    correct = total = 0
    for x, y in source.test_batches():
        correct += int((model(x).argmax(1) == y).sum())
        total += len(y)
    if total == 0:
        raise TrainingError("the test split is empty: nothing to measure accuracy on")
    return correct / total


def drop_each_block(spec: NetworkSpec, state: dict, data: ImageData, device: str | torch.device = "cpu",
                    on_block=None, should_stop=None) -> DropResult:
    """Test accuracy of the trained ``spec`` + ``state`` with each single block removed in turn.

    ``on_block(drop, result)`` is called after each block (``result.baseline`` is known by
    then); ``should_stop()`` ends early (the result then holds the blocks measured so far
    and ``stopped``).
    """
    device = torch.device(device)
    info = analyse(spec)
    model = build(spec, info)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).splitlines()[1:2] or [str(err)]
        raise TrainingError(f"the weights do not fit {spec.name}: {first[0].strip()}") from None
    model.to(device).eval()
    source = eval_source(spec, data, device)
    result = DropResult(spec.name, accuracy(model, source))
    for position, (block, binfo) in enumerate(zip(model.blocks(), info.blocks)):
        if should_stop is not None and should_stop():
            result.stopped = True
            break
        replacement, reason = removal_of(block, binfo)
        changes = tuple(binfo.in_shape) != tuple(binfo.out_shape)
        acc = None
        if replacement is not None:
            with removed(model, binfo.stage, binfo.index, replacement.to(device)):
                acc = accuracy(model, source)
        drop = BlockDrop(position, binfo.label, bool(block.skip), acc, reason, changes)
        result.drops.append(drop)
        if on_block is not None:
            on_block(drop, result)
    return result


# -- trained weights --------------------------------------------------------------------

@dataclass
class TrainedNet:
    spec: NetworkSpec  # as trained (its input size and classes)
    state: dict
    dataset: str | None  # what it was trained on, when the file says
    train_size: int | None = None
    test_size: int | None = None


def same_layers(a: NetworkSpec, b: NetworkSpec) -> bool:
    """Same stem and blocks (skips, names, input size and head size aside)."""
    return a.with_skips(True).stages == b.with_skips(True).stages and a.stem == b.stem


def load_trained(path: str, net: NetworkSpec | None = None) -> TrainedNet:
    """A checkpoint written by ``train --checkpoint`` or ``experiment degradation --save-dir``.

    The network stored in the file is the one evaluated (it knows the input size it was
    trained at); ``net``, when given, must have the same layers.
    """
    from ..spec import SpecError
    from ..train.checkpoint import checkpoint_spec, read_checkpoint

    data = read_checkpoint(path)
    spec = checkpoint_spec(data, path)
    if net is not None and not same_layers(spec, net):
        raise SpecError(f"{path} holds weights for {spec.name!r}, whose layers differ from {net.name!r}; "
                        "pass the network it was trained as", where="drop-block")
    settings = data.get("settings") or {}
    return TrainedNet(spec, data["model"], settings.get("dataset"), settings.get("train_size"),
                      settings.get("test_size"))


# -- running it off the caller's thread ---------------------------------------------------

@dataclass
class DropJob:
    """One network to measure: its trained spec and weights, and its test data (or how to load it)."""

    spec: NetworkSpec
    state: dict
    data: ImageData | None = None
    dataset: str | None = None  # loaded on the worker thread when ``data`` is None
    train_size: int | None = None
    test_size: int | None = None

    @classmethod
    def from_trained(cls, trained: TrainedNet, dataset: str | None = None) -> "DropJob":
        name = dataset or trained.dataset
        if not name:
            raise TrainingError(f"{trained.spec.name}: the checkpoint does not say what it was trained on; "
                                "name the test data")
        return cls(trained.spec, trained.state, None, name, trained.train_size, trained.test_size)

    def load_data(self) -> ImageData:
        if self.data is not None:
            return self.data
        from ..train.datasets import load_dataset
        h, w = self.spec.input_shape[1:]
        return load_dataset(self.dataset, train_size=self.train_size, test_size=self.test_size, image_size=(h, w))


class DropRunner(BackgroundJob):
    """Measures each job's networks on one thread; the interface of ``ArmRunner`` (start, stop, join,
    done, stopped, error), so the GUI drives both the same way. Events are
    ``(job_index, (BlockDrop, baseline_accuracy))``."""

    thread_name = "drop-block"

    def __init__(self, jobs: list[DropJob], device: str = "auto", thread_init=None):
        super().__init__()
        self.jobs = list(jobs)
        self.device = device
        self.results: list[DropResult | None] = [None] * len(self.jobs)
        self.error = ""
        self._thread_init = thread_init or (lambda: None)

    def run(self, on_event=None) -> list[DropResult | None]:
        """Start and wait (the CLI's way); Ctrl+C stops after the block being measured."""
        self.wait(on_event)
        return self.results

    def _work(self, sink) -> None:
        from ..train.device import resolve_device

        try:
            self._thread_init()
            device = resolve_device(self.device)
            for i, job in enumerate(self.jobs):
                if self.stopped:
                    break
                self.results[i] = drop_each_block(job.spec, job.state, job.load_data(), device,
                                                  on_block=lambda drop, res, i=i: sink(i, (drop, res.baseline)),
                                                  should_stop=lambda: self.stopped)
        except (TrainingError, ValueError) as exc:
            self.error = str(exc)
        except Exception as exc:  # a bug: say so, keep the caller alive
            import traceback
            traceback.print_exc()
            self.error = f"measuring stopped by an unexpected error: {type(exc).__name__}: {exc}"
