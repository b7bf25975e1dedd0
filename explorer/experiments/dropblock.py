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
from .jobs import Job


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
    top5: float | None = None  # top-5 accuracy without this block (networks with more than 5 classes)
    subset_accuracy: float | None = None  # top-1 among the data's classes only (imagenette's ten)

    def to_dict(self) -> dict:
        return {"position": self.position + 1, "block": self.label, "residual": self.residual,
                "accuracy": self.accuracy, "top5": self.top5, "subset_accuracy": self.subset_accuracy,
                "reason": self.reason, "changes_shape": self.changes_shape}

    @classmethod
    def from_dict(cls, d: dict) -> "BlockDrop":
        def opt(key):
            return None if d.get(key) is None else _fraction(d[key], key)

        return cls(int(d["position"]) - 1, str(d["block"]), bool(d["residual"]), opt("accuracy"),
                   str(d.get("reason", "")), bool(d.get("changes_shape", False)), opt("top5"), opt("subset_accuracy"))


@dataclass
class DropResult:
    name: str
    baseline: float  # test accuracy with every block
    drops: list[BlockDrop] = field(default_factory=list)
    stopped: bool = False
    baseline_top5: float | None = None
    total_blocks: int | None = None  # blocks in the network (more than ``drops`` when only some are asked for)
    images: int = 0  # test images measured on
    baseline_subset: float | None = None  # top-1 among the data's classes only (imagenette's ten of 1000)
    subset_size: int | None = None  # how many classes that is
    classes: int | None = None  # classes of the test data (chance is 1/classes)

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

    @property
    def selected(self) -> bool:
        """Only some of the network's blocks were asked for."""
        return self.total_blocks is not None and self.total_blocks > len(self.drops) and not self.stopped

    def to_dict(self) -> dict:
        return {"network": self.name, "baseline_accuracy": self.baseline, "baseline_top5": self.baseline_top5,
                "baseline_subset_accuracy": self.baseline_subset, "subset_classes": self.subset_size,
                "images": self.images, "classes": self.classes, "total_blocks": self.total_blocks,
                "stopped": self.stopped, "blocks": [d.to_dict() for d in self.drops]}

    @classmethod
    def from_dict(cls, d: dict) -> "DropResult":
        """A result as ``to_dict`` wrote it (``experiment report`` reads a saved ``--json`` this way)."""
        def opt(key, kind):
            return None if d.get(key) is None else kind(d[key], key)

        def count(x, key):
            if isinstance(x, bool) or not isinstance(x, int) or x < 0:
                raise ValueError(f"{key} is not a count: {x!r}")
            return x

        return cls(str(d["network"]), _fraction(d["baseline_accuracy"], "baseline_accuracy"),
                   [BlockDrop.from_dict(b) for b in d["blocks"]], bool(d.get("stopped", False)),
                   opt("baseline_top5", _fraction), opt("total_blocks", count), count(d.get("images") or 0, "images"),
                   opt("baseline_subset_accuracy", _fraction), opt("subset_classes", count), opt("classes", count))


def _fraction(x, key: str) -> float:
    """An accuracy read back from a saved result: a number from 0 to 1 (ValueError names the field)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0.0 <= float(x) <= 1.0:
        raise ValueError(f"{key} is not an accuracy from 0 to 1: {x!r}")
    return float(x)


def eval_source(spec: NetworkSpec, data: ImageData, device: torch.device, batch_size: int | None = None,
                normalisation=None) -> BatchSource:
    """The test split prepared as in training: the net's input size, and the normalisation the
    weights were trained with (``finetune.Normalisation``; None: the training split's mean and std)."""
    data, _ = conform_channels(data, spec.input_shape[0])
    h, w = spec.input_shape[1:]
    if batch_size is None:  # keep a batch's activations modest at ImageNet sizes
        batch_size = 256 if h * w <= 64 * 64 else 32
    norm = None if normalisation is None or not normalisation.mean else (normalisation.mean, normalisation.std)
    return BatchSource(data, device=device, input_hw=(h, w), batch_size=batch_size, augment=False, seed=0,
                       eval_batch_size=batch_size, normalisation=norm)


@torch.no_grad()
def accuracies(model, source: BatchSource, subset: tuple[int, ...] | None = None
               ) -> tuple[float, float | None] | tuple[float, float | None, float]:
    """Top-1 and top-5 accuracy on the test split (top-5 None for 5 classes or fewer). With
    ``subset`` (class indices the data draws from), a third value: top-1 among those classes
    only (the largest output of the subset's columns), e.g. imagenette's ten of ImageNet's 1000."""
    correct = correct5 = total = correct_sub = 0
    columns = torch.tensor(subset) if subset else None
    for x, y in source.test_batches():
        out = model(x)
        if columns is not None:
            cols = columns.to(out.device)
            correct_sub += int((cols[out[:, cols].argmax(1)] == y).sum())
        if out.shape[1] > 5:
            top = out.topk(5, dim=1).indices
            correct5 += int((top == y[:, None]).any(dim=1).sum())
            correct += int((top[:, 0] == y).sum())
        else:
            correct += int((out.argmax(1) == y).sum())
        total += len(y)
    if total == 0:
        raise TrainingError("the test split is empty: nothing to measure accuracy on")
    top5 = correct5 / total if out.shape[1] > 5 else None
    return (correct / total, top5) if columns is None else (correct / total, top5, correct_sub / total)


def check_classes(data: ImageData, spec: NetworkSpec) -> None:
    """TrainingError when the test data has another number of classes than the net's head."""
    if data.num_classes != spec.head.num_classes:
        raise TrainingError(f"{data.name} has {data.num_classes} classes but {spec.name}'s head has "
                            f"{spec.head.num_classes} outputs: these weights were not trained on it")


def accuracy(model, source: BatchSource) -> float:
    return accuracies(model, source)[0]


def parse_blocks(text: str, spec: NetworkSpec) -> list[tuple[int, int]]:
    """``"3.2,1.1"`` (stage.block, 1-based as on the bars) -> ``[(2, 1), (0, 0)]``; ``SpecError`` names
    a block the network does not have."""
    from ..spec import SpecError
    from ..spec.params import whole_number

    counts = [len(stage.blocks) for stage in spec.stages]
    picked = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        stage_text, dot, block_text = part.partition(".")
        stage, block = whole_number(stage_text), whole_number(block_text)  # ASCII digits only ('²' is not 2)
        if not dot or stage is None or block is None:
            raise SpecError(f"{part!r} is not STAGE.BLOCK, e.g. 3.2 for stage 3, block 2", where="--blocks")
        if not 1 <= stage <= len(counts):
            raise SpecError(f"{part}: {spec.name} has stages 1 to {len(counts)}", where="--blocks")
        if not 1 <= block <= counts[stage - 1]:
            raise SpecError(f"{part}: stage {stage} of {spec.name} has blocks 1 to {counts[stage - 1]}",
                            where="--blocks")
        if (stage - 1, block - 1) not in picked:
            picked.append((stage - 1, block - 1))
    if not picked:
        raise SpecError("no block given; write them as STAGE.BLOCK, e.g. 3.2,1.1", where="--blocks")
    return picked


def drop_each_block(spec: NetworkSpec, state: dict, data: ImageData, device: str | torch.device = "cpu",
                    on_block=None, should_stop=None, blocks: list[tuple[int, int]] | None = None,
                    normalisation=None) -> DropResult:
    """Test accuracy of the trained ``spec`` + ``state`` with each single block removed in turn.

    ``on_block(drop, result)`` is called after each block (``result.baseline`` is known by
    then); ``should_stop()`` ends early (the result then holds the blocks measured so far
    and ``stopped``). ``blocks`` (0-based ``(stage, index)`` pairs) measures only those;
    ``normalisation`` prepares inputs as the weights were trained (see ``eval_source``).
    """
    check_classes(data, spec)
    device = torch.device(device)
    info = analyse(spec)
    model = build(spec, info)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).splitlines()[1:2] or [str(err)]
        raise TrainingError(f"the weights do not fit {spec.name}: {first[0].strip()}") from None
    model.to(device).eval()
    source = eval_source(spec, data, device, normalisation=normalisation)
    subset = getattr(data, "subset", None)
    if subset and spec.head.num_classes <= max(subset):
        subset = None
    measured = accuracies(model, source, subset)
    result = DropResult(spec.name, measured[0], baseline_top5=measured[1], total_blocks=len(info.blocks),
                        images=source.test_size, baseline_subset=measured[2] if subset else None,
                        subset_size=len(subset) if subset else None,
                        classes=data.num_classes)
    wanted = set(blocks) if blocks is not None else None
    for position, (block, binfo) in enumerate(zip(model.blocks(), info.blocks)):
        if wanted is not None and (binfo.stage, binfo.index) not in wanted:
            continue
        if should_stop is not None and should_stop():
            result.stopped = True
            break
        replacement, reason = removal_of(block, binfo)
        changes = tuple(binfo.in_shape) != tuple(binfo.out_shape)
        acc = acc5 = None
        if replacement is not None:
            with removed(model, binfo.stage, binfo.index, replacement.to(device)):
                acc, acc5, *sub = accuracies(model, source, subset)
        drop = BlockDrop(position, binfo.label, bool(block.skip), acc, reason, changes, acc5,
                         sub[0] if replacement is not None and sub else None)
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
    normalisation: object = None  # ``finetune.Normalisation`` the weights were trained with (None: unknown)


def same_layers(a: NetworkSpec, b: NetworkSpec) -> bool:
    """Same stem and blocks (skips, names, input size and head size aside)."""
    return a.with_skips(True).stages == b.with_skips(True).stages and a.stem == b.stem


def read_weights_named(path: str):
    """``(path, weights)`` of a weights file, or of a name fetched by ``get`` (resnet50 stands for its
    file); TrainingError names a missing file or one that cannot be read."""
    import os

    from ..downloads import resolve_weights
    from ..nn.weights_file import WeightsError, read_weights_to_load

    try:
        path = resolve_weights(path)
    except FileNotFoundError as err:
        raise TrainingError(str(err)) from None
    if not os.path.exists(path):
        raise TrainingError(f"weights file {path} does not exist")
    try:
        return path, read_weights_to_load(path)
    except WeightsError as err:
        raise TrainingError(str(err)) from None


def load_trained(path: str, net: NetworkSpec | None = None) -> TrainedNet:
    """Trained weights: a checkpoint written by ``train --checkpoint`` or ``experiment degradation
    --save-dir``, a weights file from ``import-weights``, or a torchvision-style state_dict.

    The network stored in a file is the one evaluated (it knows the input size it was
    trained at); ``net``, when given, must have the same layers. A bare state_dict says
    nothing about its network, so ``net`` is needed and every key must fit it.
    Torchvision-style weights were trained on ImageNet-normalised inputs; a checkpoint
    says how its inputs were normalised.
    """
    from ..nn.weights_file import WeightsError, check_state_dict, read_weights_to_load
    from ..spec import SpecError
    from ..train.finetune import Normalisation

    path, weights = read_weights_named(path)
    extras = weights.extras
    if "settings" in extras:  # a trainer checkpoint: every field is checked once, here
        from ..train.checkpoint import validate_checkpoint

        validate_checkpoint({**extras, "model": weights.state_dict}, path)
    if weights.spec is None:
        if net is None:
            raise TrainingError(f"{weights.path.name} is a bare state_dict: it does not say which network it "
                                "belongs to; name the network (e.g. resnet50)")
        try:
            check_state_dict(build(net), weights.state_dict, weights.path.name)
        except WeightsError as err:
            raise TrainingError(str(err)) from None
        return TrainedNet(net, weights.state_dict, None, normalisation=Normalisation.imagenet())
    spec = weights.spec
    if net is not None and not same_layers(spec, net):
        from ..nn.weights_file import spec_difference

        difference = spec_difference(net, spec) or "their layers differ"
        raise SpecError(f"{path} holds weights for {spec.name!r}, whose layers differ from {net.name!r}: "
                        f"{difference}; pass the network it was trained as", where="drop-block")
    if "settings" not in extras:  # a weights file from import-weights: torchvision's weights
        return TrainedNet(spec, weights.state_dict, None, normalisation=Normalisation.imagenet())
    settings = extras["settings"]
    return TrainedNet(spec, weights.state_dict, settings.get("dataset"), settings.get("train_size"),
                      settings.get("test_size"), Normalisation.from_dict(extras.get("normalisation")))


# -- running it as a job (stop, error) ----------------------------------------------------

@dataclass
class DropJob:
    """One network to measure: its trained spec and weights, and its test data (or how to load it)."""

    spec: NetworkSpec
    state: dict
    data: ImageData | None = None
    dataset: str | None = None  # loaded by the runner when ``data`` is None
    train_size: int | None = None
    test_size: int | None = None
    normalisation: object = None  # as the weights were trained (None: the data's own)
    blocks: list[tuple[int, int]] | None = None  # only these (0-based stage, index); None: every block

    @classmethod
    def from_trained(cls, trained: TrainedNet, dataset: str | None = None, test_size: int | None = None,
                     blocks: list[tuple[int, int]] | None = None) -> "DropJob":
        name = dataset or trained.dataset
        if not name:
            raise TrainingError(f"{trained.spec.name}: the weights file does not say what it was trained on; "
                                "name the test data")
        return cls(trained.spec, trained.state, None, name, trained.train_size,
                   test_size if test_size is not None else trained.test_size, trained.normalisation, blocks)

    def load_data(self) -> ImageData:
        if self.data is not None:
            return self.data
        from ..train.datasets import load_dataset
        from ..train.datasets.streaming import held_in_memory

        h, w = self.spec.input_shape[1:]
        data = load_dataset(self.dataset, train_size=self.train_size, test_size=self.test_size, image_size=(h, w),
                            head_classes=self.spec.head.num_classes)
        return held_in_memory(data, 0, None, "measure fewer test images (Test images)")


class DropRunner(Job):
    """Measures each job's networks in the thread that calls ``run``; the interface of ``ArmRunner``
    (run, stop, stopped, error), so the GUI and the CLI drive both the same way; ``stop`` ends it
    after the block being measured. Events are ``(job_index, (BlockDrop, baseline_accuracy))``."""

    def __init__(self, jobs: list[DropJob], device: str = "auto", thread_init=None):
        super().__init__(thread_init)
        self.jobs = list(jobs)
        self.device = device
        self.results: list[DropResult | None] = [None] * len(self.jobs)

    def run(self, on_event=None) -> list[DropResult | None]:
        """Measure every job's network, block by block; the results (None for a job not reached)."""
        return super().run(on_event)

    def _result(self) -> list[DropResult | None]:
        return self.results

    def _work(self, sink) -> None:
        from ..train.device import resolve_device

        try:
            self._thread_init()
            device = resolve_device(self.device)
            for i, job in enumerate(self.jobs):
                if self.stopped:
                    break
                on_block = lambda drop, res, i=i: sink(i, (drop, res.baseline))  # noqa: E731
                if hasattr(job, "measure"):  # a network that is not a block diagram (dropblock_vgg.VggDropJob)
                    self.results[i] = job.measure(device, on_block=on_block, should_stop=lambda: self.stopped)
                    continue
                self.results[i] = drop_each_block(job.spec, job.state, job.load_data(), device,
                                                  on_block=on_block, should_stop=lambda: self.stopped,
                                                  blocks=job.blocks, normalisation=job.normalisation)
        except (TrainingError, ValueError) as exc:
            self.error = str(exc)
        except Exception as exc:  # a bug: say so, keep the caller alive
            import traceback
            traceback.print_exc()
            self.error = f"measuring stopped by an unexpected error: {type(exc).__name__}: {exc}"
