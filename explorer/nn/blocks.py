"""Residual blocks with a run-time skip switch.

Every block keeps its shortcut module whether the skip is on or off, so switching a
skip never touches weights or rebuilds the model: ``block.skip = False`` and the next
forward runs the branch alone. Submodule names follow torchvision (``conv1``, ``bn1``,
..., ``downsample``) so that ImageNet presets load torchvision checkpoints as they are.

The modules are written to stay compatible with ``torch.jit.script`` and
``torch.export``: plain attributes, no Python-only control flow in ``forward``.
"""

import torch
import torch.nn.functional as F
from torch import nn


def conv(in_c: int, out_c: int, kernel: int, stride: int = 1, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(in_c, out_c, kernel, stride=stride, padding=kernel // 2, bias=bias)


def norm(channels: int, use_bn: bool) -> nn.Module:
    return nn.BatchNorm2d(channels) if use_bn else nn.Identity()


class ZeroPadShortcut(nn.Module):
    """The paper's option A: subsample by the stride, add all-zero channels. No parameters.

    ``before`` of the ``extra_channels`` new channels go in front of the input's, the rest
    after it: 0 appends them all (our default), ``extra_channels // 2`` splits them evenly,
    as the widely used PyTorch CIFAR ResNet code does.
    """

    def __init__(self, stride: int, extra_channels: int, before: int = 0):
        super().__init__()
        if not 0 <= before <= extra_channels:
            raise ValueError(f"before={before} must be between 0 and extra_channels={extra_channels}")
        self.stride = stride
        self.extra_channels = extra_channels
        self.before = before

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        if self.extra_channels > 0:
            x = F.pad(x, (0, 0, 0, 0, self.before, self.extra_channels - self.before))
        return x

    def extra_repr(self) -> str:
        return f"stride={self.stride}, extra_channels={self.extra_channels}, before={self.before}"


def projection(in_c: int, out_c: int, stride: int, use_bn: bool, with_norm: bool = True) -> nn.Module:
    """Option B: a strided 1x1 conv, followed by BN in post-activation blocks."""
    layers = [nn.Conv2d(in_c, out_c, 1, stride=stride, bias=not use_bn)]
    if with_norm and use_bn:
        layers.append(nn.BatchNorm2d(out_c))
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """Shared switch handling; subclasses define the branch and ``forward``.

    ``skip`` is the effective switch (False whenever there is no shortcut);
    ``has_shortcut`` says whether turning it on is possible at all. Subclasses build
    their branch first and then call ``attach_shortcut``, so the state_dict lists the
    branch's weights before ``downsample``'s, in torchvision's order.
    """

    skip: bool
    has_shortcut: bool

    def attach_shortcut(self, downsample: nn.Module | None) -> None:
        self.has_shortcut = downsample is not None
        self.skip = self.has_shortcut
        # Identity shortcuts are an nn.Identity so that the state_dict matches torchvision
        # (no keys) while forward stays free of Optional checks.
        self.downsample = downsample if downsample is not None else nn.Identity()

    @torch.jit.unused
    def set_skip(self, on: bool) -> None:
        if on and not self.has_shortcut:
            raise ValueError("this block has no shortcut to switch on")
        self.skip = bool(on)

    @torch.jit.unused
    def zero_init_branch(self) -> None:
        """Make the branch output zero at initialisation, so the block starts as its shortcut.

        Goyal et al. 2017 zero the last BN's gamma; where the branch ends in a conv
        (pre-activation, or no normalisation) that conv's weights are zeroed instead.
        """
        last = self.branch_end()
        nn.init.zeros_(last.weight)
        if isinstance(last, nn.Conv2d) and last.bias is not None:
            nn.init.zeros_(last.bias)


class BasicBlock(ResidualBlock):
    """Post-activation: conv3x3 > BN > ReLU > conv3x3 > BN, add, ReLU."""

    def __init__(self, in_c: int, width: int, stride: int, downsample: nn.Module | None, use_bn: bool):
        super().__init__()
        self.conv1 = conv(in_c, width, 3, stride, bias=not use_bn)
        self.bn1 = norm(width, use_bn)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv(width, width, 3, bias=not use_bn)
        self.bn2 = norm(width, use_bn)
        self.attach_shortcut(downsample)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.skip:
            out = out + self.downsample(x)
        return self.relu(out)

    @torch.jit.unused
    def branch_end(self) -> nn.Module:
        return self.bn2 if isinstance(self.bn2, nn.BatchNorm2d) else self.conv2


class Bottleneck(ResidualBlock):
    """Post-activation: 1x1 > BN > ReLU > 3x3 > BN > ReLU > 1x1 (x4) > BN, add, ReLU."""

    expansion = 4

    def __init__(self, in_c: int, width: int, stride: int, downsample: nn.Module | None, use_bn: bool,
                 stride_on_3x3: bool = True):
        super().__init__()
        s1, s3 = (1, stride) if stride_on_3x3 else (stride, 1)
        self.conv1 = conv(in_c, width, 1, s1, bias=not use_bn)
        self.bn1 = norm(width, use_bn)
        self.conv2 = conv(width, width, 3, s3, bias=not use_bn)
        self.bn2 = norm(width, use_bn)
        self.conv3 = conv(width, width * 4, 1, bias=not use_bn)
        self.bn3 = norm(width * 4, use_bn)
        self.relu = nn.ReLU(inplace=True)
        self.attach_shortcut(downsample)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.skip:
            out = out + self.downsample(x)
        return self.relu(out)

    @torch.jit.unused
    def branch_end(self) -> nn.Module:
        return self.bn3 if isinstance(self.bn3, nn.BatchNorm2d) else self.conv3


class PreActBasicBlock(ResidualBlock):
    """Pre-activation: BN > ReLU > conv3x3 > BN > ReLU > conv3x3, add (nothing after).

    A projection shortcut reads the pre-activated input, as in He et al. 2016, so the
    identity path from block to block stays a pure identity.
    """

    def __init__(self, in_c: int, width: int, stride: int, downsample: nn.Module | None, use_bn: bool):
        super().__init__()
        self.bn1 = norm(in_c, use_bn)
        self.conv1 = conv(in_c, width, 3, stride, bias=not use_bn)
        self.bn2 = norm(width, use_bn)
        self.conv2 = conv(width, width, 3, bias=not use_bn)
        self.relu = nn.ReLU(inplace=False)
        self.project_preactivated = isinstance(downsample, nn.Sequential)
        self.attach_shortcut(downsample)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu(self.bn1(x))
        out = self.conv1(pre)
        out = self.conv2(self.relu(self.bn2(out)))
        if self.skip:
            out = out + self.downsample(pre if self.project_preactivated else x)
        return out

    @torch.jit.unused
    def branch_end(self) -> nn.Module:
        return self.conv2


class PreActBottleneck(ResidualBlock):
    """Pre-activation: BN > ReLU > 1x1 > BN > ReLU > 3x3 > BN > ReLU > 1x1 (x4), add."""

    expansion = 4

    def __init__(self, in_c: int, width: int, stride: int, downsample: nn.Module | None, use_bn: bool,
                 stride_on_3x3: bool = True):
        super().__init__()
        s1, s3 = (1, stride) if stride_on_3x3 else (stride, 1)
        self.bn1 = norm(in_c, use_bn)
        self.conv1 = conv(in_c, width, 1, s1, bias=not use_bn)
        self.bn2 = norm(width, use_bn)
        self.conv2 = conv(width, width, 3, s3, bias=not use_bn)
        self.bn3 = norm(width, use_bn)
        self.conv3 = conv(width, width * 4, 1, bias=not use_bn)
        self.relu = nn.ReLU(inplace=False)
        self.project_preactivated = isinstance(downsample, nn.Sequential)
        self.attach_shortcut(downsample)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu(self.bn1(x))
        out = self.conv1(pre)
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        if self.skip:
            out = out + self.downsample(pre if self.project_preactivated else x)
        return out

    @torch.jit.unused
    def branch_end(self) -> nn.Module:
        return self.conv3
