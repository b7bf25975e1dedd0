"""Reference architectures as data rows and one builder.

Each row says which stem, which block kind, how many blocks per stage and at what
widths; ``preset(name)`` turns a row into a ``NetworkSpec``. The ImageNet rows follow
torchvision's ResNets (stride on the bottleneck's 3x3, projection shortcuts), the CIFAR
rows follow He et al. 2015 section 4.2 (three stages of n blocks, zero-pad shortcuts), the
pre-activation bottleneck rows follow the authors' released code for He et al. 2016
(stride on the first 1x1). docs/PRESETS.md lists each preset's reference and the test
that checks it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import SpecError
from .model import (BlockKind, HeadSpec, NetworkSpec, ShortcutKind, StemKind, StemSpec, StridePlacement,
                    uniform_stage)


@dataclass(frozen=True)
class PresetRow:
    name: str
    stem: StemKind
    stem_width: int
    kind: BlockKind
    counts: tuple[int, ...]
    widths: tuple[int, ...]
    strides: tuple[int, ...]
    shortcut: ShortcutKind
    input_shape: tuple[int, int, int]
    num_classes: int
    summary: str
    stride_placement: StridePlacement = StridePlacement.CONV3X3  # bottlenecks only

    @property
    def preact(self) -> bool:
        return self.kind.preactivation


_IMAGENET = dict(stem=StemKind.IMAGENET, stem_width=64, widths=(64, 128, 256, 512),
                 strides=(1, 2, 2, 2), shortcut=ShortcutKind.AUTO, input_shape=(3, 224, 224),
                 num_classes=1000)
_CIFAR = dict(stem=StemKind.CIFAR, stem_width=16, widths=(16, 32, 64), strides=(1, 2, 2),
              input_shape=(3, 32, 32), num_classes=10)


def _imagenet(name, kind, counts):
    depth = name.removeprefix("resnet")
    return PresetRow(name=name, kind=kind, counts=counts,
                     summary=f"ImageNet ResNet-{depth}, torchvision layout", **_IMAGENET)


def _cifar(name, kind, n, shortcut=ShortcutKind.ZERO_PAD):
    depth = 6 * n + 2
    family = "plain net" if kind is BlockKind.PLAIN else "ResNet"
    return PresetRow(name=name, kind=kind, counts=(n, n, n), shortcut=shortcut,
                     summary=f"CIFAR {family}-{depth} (He et al. 2015)", **_CIFAR)


def _preact_cifar(name, kind, n):
    depth = 9 * n + 2
    return PresetRow(name=name, kind=kind, counts=(n, n, n), shortcut=ShortcutKind.AUTO,
                     stride_placement=StridePlacement.CONV1X1,
                     summary=f"CIFAR pre-activation ResNet-{depth} (He et al. 2016, the authors' code)", **_CIFAR)


PRESETS: dict[str, PresetRow] = {row.name: row for row in [
    _imagenet("resnet18", BlockKind.BASIC, (2, 2, 2, 2)),
    _imagenet("resnet34", BlockKind.BASIC, (3, 4, 6, 3)),
    _imagenet("resnet50", BlockKind.BOTTLENECK, (3, 4, 6, 3)),
    _imagenet("resnet101", BlockKind.BOTTLENECK, (3, 4, 23, 3)),
    _imagenet("resnet152", BlockKind.BOTTLENECK, (3, 8, 36, 3)),
    _cifar("resnet20", BlockKind.BASIC, 3),
    _cifar("resnet32", BlockKind.BASIC, 5),
    _cifar("resnet44", BlockKind.BASIC, 7),
    _cifar("resnet56", BlockKind.BASIC, 9),
    _cifar("resnet110", BlockKind.BASIC, 18),
    _cifar("resnet1202", BlockKind.BASIC, 200),
    _cifar("plain20", BlockKind.PLAIN, 3, ShortcutKind.AUTO),
    _cifar("plain56", BlockKind.PLAIN, 9, ShortcutKind.AUTO),
    _cifar("plain110", BlockKind.PLAIN, 18, ShortcutKind.AUTO),
    PresetRow(name="preact_resnet18", stem=StemKind.CIFAR, stem_width=64, kind=BlockKind.PREACT_BASIC,
              counts=(2, 2, 2, 2), widths=(64, 128, 256, 512), strides=(1, 2, 2, 2),
              shortcut=ShortcutKind.AUTO, input_shape=(3, 32, 32), num_classes=10,
              summary="CIFAR pre-activation ResNet-18 (basic blocks, 4 stages)"),
    _preact_cifar("preact_resnet164", BlockKind.PREACT_BOTTLENECK, 18),
    _preact_cifar("preact_resnet1001", BlockKind.PREACT_BOTTLENECK, 111),
]}

DEFAULT_PRESET = "resnet20"


def preset_names() -> list[str]:
    return list(PRESETS)


def preset(name: str) -> NetworkSpec:
    """The named reference network as an editable spec."""
    try:
        row = PRESETS[name]
    except KeyError:
        raise SpecError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}",
                        where="preset") from None
    stages = tuple(uniform_stage(row.kind, count, width, stride, shortcut=row.shortcut,
                                 stride_placement=row.stride_placement)
                   for count, width, stride in zip(row.counts, row.widths, row.strides))
    return NetworkSpec(
        name=row.name,
        input_shape=row.input_shape,
        stem=StemSpec(kind=row.stem, width=row.stem_width, activate=not row.preact),
        stages=stages,
        head=HeadSpec(num_classes=row.num_classes, pre_norm=row.preact),
    )
