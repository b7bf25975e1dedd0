"""VGG-16 and VGG-16 with BatchNorm, built exactly as torchvision builds them (Simonyan and Zisserman 2015).

The lessons end with a question: why is dropping one residual block far less catastrophic
than dropping one layer of a plain network such as VGG? These are that plain ImageNet
network, module for module as torchvision's ``vgg16`` and ``vgg16_bn`` (configuration "D"):
the same ``state_dict`` names in the same order and the same parameter counts (138,357,544
and 138,365,992), so torchvision's ImageNet weights load into them unchanged. They are not
block diagrams (the editor builds residual networks); drop-a-block measures them layer by
layer (``experiments/dropblock_vgg.py``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..spec.reference_nets import VGG_NETS, is_vgg  # noqa: F401  (the table, torch-free)

# configuration "D" of the paper: output channels of each 3x3 convolution, "M" a 2x2 max-pool
CONFIG_D = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


class VGG(nn.Module):
    """torchvision's VGG: ``features`` (convolutions, ReLUs, pools), ``avgpool`` to 7x7, ``classifier``."""

    def __init__(self, batch_norm: bool, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for v in CONFIG_D:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                continue
            layers.append(nn.Conv2d(channels, v, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            channels = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


@dataclass(frozen=True)
class ConvLayer:
    """One convolution of ``features`` and the modules that go with it (its BN and ReLU)."""
    number: int  # 1-based, input side first
    name: str  # the paper's: conv3_2 (block 3, second convolution)
    indices: tuple[int, ...]  # positions in ``features`` of the conv, [BN,] ReLU
    in_channels: int
    out_channels: int

    @property
    def label(self) -> str:
        return f"{self.name} (features.{self.indices[0]})"

    @property
    def keeps_shape(self) -> bool:
        """3x3, stride 1, padding 1: the shape is kept when the channel count is."""
        return self.in_channels == self.out_channels


def conv_layers(model: VGG) -> list[ConvLayer]:
    out = []
    block, within = 1, 0
    mods = list(model.features)
    for i, m in enumerate(mods):
        if isinstance(m, nn.MaxPool2d):
            block, within = block + 1, 0
        elif isinstance(m, nn.Conv2d):
            within += 1
            span = [i]
            j = i + 1
            while j < len(mods) and isinstance(mods[j], (nn.BatchNorm2d, nn.ReLU)):
                span.append(j)
                j += 1
            out.append(ConvLayer(len(out) + 1, f"conv{block}_{within}", tuple(span), m.in_channels, m.out_channels))
    return out


def build_vgg(name: str, num_classes: int = 1000) -> VGG:
    if name not in VGG_NETS:
        raise KeyError(name)
    return VGG(VGG_NETS[name].batch_norm, num_classes)
