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

KINDS = ("plain", "resnet", "preact")
KIND_NAMES = {"plain": "plain", "resnet": "ResNet", "preact": "pre-act ResNet"}
_TEMPLATES = {"plain": "plain20", "resnet": "resnet20"}  # rows whose layout every depth shares


def valid_depth(depth: int) -> bool:
    return depth >= 8 and (depth - 2) % 6 == 0


def cifar_net(kind: str, depth: int, input_shape: tuple[int, int, int] | None = None) -> NetworkSpec:
    """The CIFAR ``kind`` net ("plain", "resnet" or "preact") with ``depth`` = 6n+2 weighted layers."""
    if kind not in KINDS:
        raise SpecError(f"unknown network kind {kind!r}; expected plain, resnet or preact", where="experiment")
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
        try:
            depth = int(part)
        except ValueError:
            raise SpecError(f"depths: {part!r} is not a whole number (write them like 20,56)",
                            where="experiment") from None
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

    @property
    def label(self) -> str:
        return f"{KIND_NAMES[self.kind]}-{self.depth}"

    @property
    def residual(self) -> bool:
        return self.kind != "plain"

    def spec(self, input_shape: tuple[int, int, int] | None = None) -> NetworkSpec:
        return cifar_net(self.kind, self.depth, input_shape)
