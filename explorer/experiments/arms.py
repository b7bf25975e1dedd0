"""The networks an experiment compares: CIFAR plain nets and ResNets of any depth 6n+2.

A third kind, "preact", is the ResNet's pre-activation twin (He et al. 2016, "Identity
Mappings"): the same stages, widths and zero-pad shortcuts, with BN and ReLU moved before
each convolution, the stem's BN and ReLU left to the first block and one BN + ReLU before
the pooling, so the path from block to block is a pure identity.

The presets hold the paper's depths (20, 32, 44, 56, 110, ...); experiments and tests
also want others (8 and 14 train in a second). ``cifar_net`` builds any of them from
the same preset rows, so ``cifar_net("plain", 56)`` is exactly ``preset("plain56")``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..spec import PRESETS, NetworkSpec, SpecError, preset
from ..spec.model import BlockKind, uniform_stage
from ..spec.infer import MAX_BLOCKS
from ..spec.params import check_number, whole_number

KINDS = ("plain", "resnet", "preact")
KIND_NAMES = {"plain": "plain", "resnet": "ResNet", "preact": "pre-act ResNet"}
_TEMPLATES = {"plain": "plain20", "resnet": "resnet20"}  # rows whose layout every depth shares


BLOCKS = ("basic", "bottleneck")
PAPER_BOTTLENECK_DEPTHS = (164, 1001)  # He et al. 2016's bottleneck CIFAR ResNets


MAX_DEPTH = 2 * MAX_BLOCKS + 2  # three stages of basic blocks within the editor's block limit


def valid_depth(depth: int, block: str = "basic") -> bool:
    """6n+2 for basic blocks (two layers each), 9n+2 for bottleneck blocks (three layers each)."""
    if block == "bottleneck":
        return depth >= 11 and (depth - 2) % 9 == 0
    return depth >= 8 and (depth - 2) % 6 == 0


def default_block(depth: int) -> str:
    """The block the paper's net of this depth has: bottleneck for 164 and 1001 and for depths only 9n+2
    can make, basic otherwise."""
    if depth in PAPER_BOTTLENECK_DEPTHS or (valid_depth(depth, "bottleneck") and not valid_depth(depth)):
        return "bottleneck"
    return "basic"


def _bottleneck_net(kind: str, depth: int, input_shape) -> NetworkSpec:
    """He et al. 2016's CIFAR bottleneck nets (9n+2 layers: widths 16/32/64 inside, 64/128/256 out, the
    stride on the first 1x1 as the authors' code has it): ``preact`` is preset preact_resnet164's
    layout at any depth, ``resnet`` its post-activation twin."""
    if kind == "plain":
        raise SpecError("plain nets are built from basic blocks only; bottleneck depths (9n+2) are for ResNets",
                        where="experiment")
    if not valid_depth(depth, "bottleneck"):
        raise SpecError(f"depth {depth} is not 9n+2 with n >= 1 (bottleneck CIFAR nets have 3 stages of n "
                        f"blocks of 3 layers): try 164 or 1001", where="experiment")
    row = PRESETS["preact_resnet164"]
    n = (depth - 2) // 9
    base = preset(row.name)
    block_kind = row.kind if kind == "preact" else BlockKind.BOTTLENECK
    stages = tuple(uniform_stage(block_kind, n, width, stride, shortcut=row.shortcut,
                                 stride_placement=row.stride_placement)
                   for width, stride in zip(row.widths, row.strides))
    if kind == "resnet":
        base = replace(base, stem=replace(base.stem, activate=True), head=replace(base.head, pre_norm=False))
    return replace(base, name=f"{kind}{depth}", stages=stages,
                   input_shape=tuple(input_shape) if input_shape else base.input_shape)


def cifar_net(kind: str, depth: int, input_shape: tuple[int, int, int] | None = None,
              block: str = "basic") -> NetworkSpec:
    """The CIFAR ``kind`` net ("plain", "resnet" or "preact") with ``depth`` = 6n+2 weighted layers of
    basic blocks, or 9n+2 of bottleneck blocks (``block``)."""
    if kind not in KINDS:
        raise SpecError(f"unknown network kind {kind!r}; expected plain, resnet or preact", where="experiment")
    if block == "bottleneck":
        return _bottleneck_net(kind, depth, input_shape)
    if not valid_depth(depth):
        raise SpecError(f"depth {depth} is not 6n+2 with n >= 1 (CIFAR nets have 3 stages of n blocks "
                        f"of 2 layers, plus the stem and the classifier): try 8, 14, 20, 32, 44, 56 or 110",
                        where="experiment")
    row = PRESETS[_TEMPLATES["resnet" if kind == "preact" else kind]]
    n = (depth - 2) // 6
    base = preset(row.name)
    block_kind = BlockKind.PREACT_BASIC if kind == "preact" else row.kind
    stages = tuple(uniform_stage(block_kind, n, width, stride, shortcut=row.shortcut)
                   for width, stride in zip(row.widths, row.strides))
    if kind == "preact":
        base = replace(base, stem=replace(base.stem, activate=False), head=replace(base.head, pre_norm=True))
    return replace(base, name=f"{kind}{depth}", stages=stages,
                   input_shape=tuple(input_shape) if input_shape else base.input_shape)


def parse_depths(text: str) -> tuple[int, ...]:
    """``"20,56"`` -> ``(20, 56)``: sorted, distinct, each 6n+2; raises SpecError naming the bad one."""
    depths = []
    for part in str(text).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        depth = whole_number(part)  # ASCII digits only
        if depth is None:
            raise SpecError(f"depths: {part!r} is not a whole number (write them like 20,56)",
                            where="experiment")
        check_number(depth, "depths", 8, MAX_DEPTH, integer=True, where="experiment")
        if not valid_depth(depth):
            raise SpecError(f"depths: {depth} is not 6n+2 with n >= 1; try 8, 14, 20, 32, 44, 56 or 110",
                            where="experiment")
        depths.append(depth)
    depths = sorted(set(depths))
    if len(depths) < 2:
        raise SpecError("depths: give at least two different depths to compare, like 20,56", where="experiment")
    return tuple(depths)


@dataclass(frozen=True)
class Arm:
    """One network of an experiment."""

    kind: str  # plain | resnet | preact
    depth: int
    block: str = "basic"  # basic | bottleneck

    @property
    def label(self) -> str:
        return f"{KIND_NAMES[self.kind]}-{self.depth}"

    @property
    def residual(self) -> bool:
        return self.kind != "plain"

    def spec(self, input_shape: tuple[int, int, int] | None = None) -> NetworkSpec:
        return cifar_net(self.kind, self.depth, input_shape, self.block)
