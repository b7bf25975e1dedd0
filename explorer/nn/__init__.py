"""The torch layer: residual blocks and the spec-to-module builder (no Qt)."""
from .blocks import (BasicBlock, Bottleneck, PreActBasicBlock, PreActBottleneck, ResidualBlock,
                     ZeroPadShortcut)
from .build import ResNet, build, count_parameters, initialise

__all__ = ["BasicBlock", "Bottleneck", "PreActBasicBlock", "PreActBottleneck", "ResidualBlock",
           "ZeroPadShortcut", "ResNet", "build", "count_parameters", "initialise"]
