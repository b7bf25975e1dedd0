"""Reference networks that are not block diagrams: VGG-16 and VGG-16 with BN (torchvision's).

A pure table (no torch), so ``presets`` can list them without loading torch; the modules are
built by ``explorer/nn/vgg.py``. They serve drop-a-block's plain ImageNet twin.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VggInfo:
    name: str
    batch_norm: bool
    parameters: int  # torchvision's count, checked by tests/test_vgg.py
    input_shape: tuple[int, int, int] = (3, 224, 224)
    num_classes: int = 1000

    @property
    def title(self) -> str:
        return "VGG-16 with BatchNorm" if self.batch_norm else "VGG-16"


VGG_NETS = {
    "vgg16": VggInfo("vgg16", False, 138_357_544),
    "vgg16_bn": VggInfo("vgg16_bn", True, 138_365_992),
}


def is_vgg(name: str) -> bool:
    return name in VGG_NETS
