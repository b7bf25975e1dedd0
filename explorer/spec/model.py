"""The network as plain, immutable data.

A network spec is a tree of frozen dataclasses. Edits make a new spec with
``dataclasses.replace`` (or the helpers at the bottom of this module), so an
undo step can keep the old spec as it was and equality is structural.
Nothing here imports torch or Qt.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum


class BlockKind(str, Enum):
    """What sits in a block's learned branch, and where the activations go."""

    BASIC = "basic"  # post-activation, two 3x3 convs (ResNet-18/34, CIFAR nets)
    BOTTLENECK = "bottleneck"  # post-activation, 1x1 > 3x3 > 1x1 (x4 expansion)
    PREACT_BASIC = "preact_basic"  # BN-ReLU before each conv, clean identity path
    PREACT_BOTTLENECK = "preact_bottleneck"
    PLAIN = "plain"  # the basic branch with no shortcut at all

    @property
    def expansion(self) -> int:
        return 4 if self in (BlockKind.BOTTLENECK, BlockKind.PREACT_BOTTLENECK) else 1

    @property
    def preactivation(self) -> bool:
        return self in (BlockKind.PREACT_BASIC, BlockKind.PREACT_BOTTLENECK)

    @property
    def bottleneck(self) -> bool:
        return self.expansion == 4

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    BlockKind.BASIC: "Basic",
    BlockKind.BOTTLENECK: "Bottleneck",
    BlockKind.PREACT_BASIC: "Pre-act basic",
    BlockKind.PREACT_BOTTLENECK: "Pre-act bottleneck",
    BlockKind.PLAIN: "Plain",
}


class ShortcutKind(str, Enum):
    """How the block's input reaches the addition."""

    AUTO = "auto"  # identity when shapes match, projection otherwise
    IDENTITY = "identity"
    PROJECTION = "projection"  # 1x1 conv with the block's stride (+ BN), "option B"
    ZERO_PAD = "zero_pad"  # subsample and pad new channels with zeros, "option A"
    NONE = "none"


class PadPlacement(str, Enum):
    """Where a zero-pad shortcut puts the new, all-zero channels.

    The 2015 paper does not say; both layouts are in use, and a trained network only
    works with the one it was trained with.
    """

    END = "end"  # after the input's channels
    BOTH = "both"  # half before and half after (the widely used PyTorch CIFAR ResNet code)


class StemKind(str, Enum):
    CIFAR = "cifar"  # conv3x3, stride 1
    IMAGENET = "imagenet"  # conv7x7 stride 2, then maxpool 3x3 stride 2
    NONE = "none"


class StridePlacement(str, Enum):
    """Where a bottleneck puts its stride: torchvision's 3x3 ("v1.5") or the paper's first 1x1."""

    CONV3X3 = "conv3x3"
    CONV1X1 = "conv1x1"


class Norm(str, Enum):
    BATCH = "batch"
    NONE = "none"


class InitKind(str, Enum):
    HE = "he"  # Kaiming normal, fan-out, as torchvision
    GAUSSIAN = "gaussian"  # N(0, std^2) for every conv and linear weight


@dataclass(frozen=True)
class BlockSpec:
    kind: BlockKind = BlockKind.BASIC
    width: int = 16  # the branch's inner width; a bottleneck outputs 4x this
    stride: int = 1
    shortcut: ShortcutKind = ShortcutKind.AUTO
    skip: bool = True  # the shortcut's run-time switch; off makes the block plain
    stride_placement: StridePlacement = StridePlacement.CONV3X3
    zero_init: bool | None = None  # None: follow NetworkSpec.zero_init_residual
    pad_placement: PadPlacement = PadPlacement.END  # zero-pad shortcuts only

    @property
    def out_channels(self) -> int:
        return self.width * self.kind.expansion


@dataclass(frozen=True)
class StageSpec:
    blocks: tuple[BlockSpec, ...] = ()
    name: str = ""

    @property
    def width(self) -> int:
        return self.blocks[0].width if self.blocks else 0

    @property
    def stride(self) -> int:
        return self.blocks[0].stride if self.blocks else 1


@dataclass(frozen=True)
class StemSpec:
    kind: StemKind = StemKind.CIFAR
    width: int = 16
    # BN + ReLU after the stem conv; pre-activation nets leave it to the first block.
    activate: bool = True


@dataclass(frozen=True)
class HeadSpec:
    num_classes: int = 10
    # BN + ReLU before pooling: pre-activation nets need it, their sums are never normalised otherwise.
    pre_norm: bool = False


@dataclass(frozen=True)
class InitSpec:
    kind: InitKind = InitKind.HE
    std: float = 0.01  # used by GAUSSIAN


@dataclass(frozen=True)
class NetworkSpec:
    name: str = "network"
    input_shape: tuple[int, int, int] = (3, 32, 32)  # C, H, W
    stem: StemSpec = field(default_factory=StemSpec)
    stages: tuple[StageSpec, ...] = ()
    head: HeadSpec = field(default_factory=HeadSpec)
    norm: Norm = Norm.BATCH
    init: InitSpec = field(default_factory=InitSpec)
    zero_init_residual: bool = False

    # -- navigation -------------------------------------------------------
    def iter_blocks(self):
        """Yield ``(stage_index, block_index, block)`` in depth order (0-based)."""
        for si, stage in enumerate(self.stages):
            for bi, block in enumerate(stage.blocks):
                yield si, bi, block

    @property
    def num_blocks(self) -> int:
        return sum(len(s.blocks) for s in self.stages)

    def block(self, stage: int, index: int) -> BlockSpec:
        return self.stages[stage].blocks[index]

    def block_zero_init(self, block: BlockSpec) -> bool:
        return self.zero_init_residual if block.zero_init is None else block.zero_init

    # -- edits (each returns a new spec) ----------------------------------
    def with_block(self, stage: int, index: int, block: BlockSpec) -> "NetworkSpec":
        blocks = list(self.stages[stage].blocks)
        blocks[index] = block
        return self.with_stage(stage, replace(self.stages[stage], blocks=tuple(blocks)))

    def with_stage(self, stage: int, new: StageSpec) -> "NetworkSpec":
        stages = list(self.stages)
        stages[stage] = new
        return replace(self, stages=tuple(stages))

    def with_skips(self, on: bool, where=None) -> "NetworkSpec":
        """Every skip (or those at the ``(stage, block)`` pairs in ``where``) set to ``on``."""
        chosen = None if where is None else set(where)
        stages = []
        for si, stage in enumerate(self.stages):
            blocks = tuple(
                replace(b, skip=on) if chosen is None or (si, bi) in chosen else b
                for bi, b in enumerate(stage.blocks)
            )
            stages.append(replace(stage, blocks=blocks))
        return replace(self, stages=tuple(stages))


def uniform_stage(kind: BlockKind, count: int, width: int, stride: int, **block_options) -> StageSpec:
    """A stage of ``count`` identical blocks whose first block carries the stride."""
    first = BlockSpec(kind=kind, width=width, stride=stride, **block_options)
    rest = replace(first, stride=1)
    return StageSpec(blocks=(first,) + (rest,) * (count - 1))


def replace_shortcuts(spec: NetworkSpec, shortcut: ShortcutKind) -> NetworkSpec:
    """The same network with every residual block's shortcut set to ``shortcut``."""
    stages = tuple(
        replace(stage, blocks=tuple(b if b.kind is BlockKind.PLAIN else replace(b, shortcut=shortcut)
                                    for b in stage.blocks))
        for stage in spec.stages)
    return replace(spec, stages=stages)


def with_pad_placement(spec: NetworkSpec, placement: PadPlacement) -> NetworkSpec:
    """The same network with every zero-pad shortcut putting its new channels at ``placement``."""
    stages = tuple(
        replace(stage, blocks=tuple(replace(b, pad_placement=placement) if b.shortcut is ShortcutKind.ZERO_PAD
                                    else b for b in stage.blocks))
        for stage in spec.stages)
    return replace(spec, stages=stages)
