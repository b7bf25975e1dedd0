"""Spec to ``nn.Module``.

The model is an ``nn.Sequential`` whose children carry torchvision's names
(``conv1``, ``bn1``, ``relu``, ``maxpool``, ``layer1`` ... ``layerN``, ``avgpool``,
``flatten``, ``fc``), so its state_dict keys are torchvision's and it scripts,
exports and runs channels_last with no special handling.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ..spec import (BlockKind, InitKind, NetworkSpec, Norm, PadPlacement, ShortcutKind, StemKind, StridePlacement,
                    analyse)
from ..spec.infer import NetworkInfo
from .blocks import (BasicBlock, Bottleneck, PreActBasicBlock, PreActBottleneck, ResidualBlock,
                     ZeroPadShortcut, projection)


class ResNet(nn.Sequential):
    """A built network. ``blocks()`` lists the residual blocks in depth order."""

    def blocks(self) -> list[ResidualBlock]:
        return [m for m in self.modules() if isinstance(m, ResidualBlock)]

    def block_names(self) -> list[str]:
        return [name for name, m in self.named_modules() if isinstance(m, ResidualBlock)]

    def block_at(self, stage: int, index: int) -> ResidualBlock:
        return getattr(self, f"layer{stage + 1}")[index]

    def skips(self) -> list[bool]:
        return [b.skip for b in self.blocks()]

    def set_skips(self, states) -> None:
        """Switch every block's skip; ``states`` is one bool per block in depth order."""
        blocks = self.blocks()
        states = list(states)
        if len(states) != len(blocks):
            raise ValueError(f"{len(states)} skip states for {len(blocks)} blocks")
        for block, on in zip(blocks, states):
            if on and not block.has_shortcut:
                continue  # a block without a shortcut stays plain
            block.set_skip(on)

    def apply_spec_skips(self, spec: NetworkSpec) -> None:
        """Bring the run-time switches in line with the spec's ``skip`` flags."""
        self.set_skips([b.skip for _, _, b in spec.iter_blocks()])


def _shortcut(info, stride: int, use_bn: bool, pad_placement: PadPlacement = PadPlacement.END) -> nn.Module | None:
    kind = info.shortcut
    in_c, out_c = info.in_shape[0], info.out_shape[0]
    if kind is ShortcutKind.NONE:
        return None
    if kind is ShortcutKind.IDENTITY:
        return nn.Identity()
    if kind is ShortcutKind.ZERO_PAD:
        if stride == 1 and in_c == out_c:
            return nn.Identity()
        extra = out_c - in_c
        return ZeroPadShortcut(stride, extra, before=extra // 2 if pad_placement is PadPlacement.BOTH else 0)
    return projection(in_c, out_c, stride, use_bn, with_norm=not info.kind.preactivation)


def _make_block(block_spec, info, use_bn: bool) -> ResidualBlock:
    in_c = info.in_shape[0]
    width = block_spec.width
    stride = block_spec.stride
    down = _shortcut(info, stride, use_bn, block_spec.pad_placement)
    kind = info.kind
    on_3x3 = block_spec.stride_placement is StridePlacement.CONV3X3
    if kind in (BlockKind.BASIC, BlockKind.PLAIN):
        block = BasicBlock(in_c, width, stride, down, use_bn)
    elif kind is BlockKind.BOTTLENECK:
        block = Bottleneck(in_c, width, stride, down, use_bn, on_3x3)
    elif kind is BlockKind.PREACT_BASIC:
        block = PreActBasicBlock(in_c, width, stride, down, use_bn)
    else:
        block = PreActBottleneck(in_c, width, stride, down, use_bn, on_3x3)
    if block.has_shortcut:
        block.set_skip(block_spec.skip)
    return block


def build(spec: NetworkSpec, info: NetworkInfo | None = None, seed: int | None = None) -> ResNet:
    """Build ``spec`` (validated first; raises ``SpecError``). ``seed`` makes init repeatable."""
    info = info or analyse(spec)
    use_bn = spec.norm is Norm.BATCH
    bias = not use_bn
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    in_c = spec.input_shape[0]
    stem = spec.stem
    if stem.kind is not StemKind.NONE:
        k, s = (3, 1) if stem.kind is StemKind.CIFAR else (7, 2)
        layers["conv1"] = nn.Conv2d(in_c, stem.width, k, stride=s, padding=k // 2, bias=bias)
        if stem.activate:
            if use_bn:
                layers["bn1"] = nn.BatchNorm2d(stem.width)
            layers["relu"] = nn.ReLU(inplace=True)
        if stem.kind is StemKind.IMAGENET:
            layers["maxpool"] = nn.MaxPool2d(3, stride=2, padding=1)
    infos = iter(info.blocks)
    for si, stage in enumerate(spec.stages):
        layers[f"layer{si + 1}"] = nn.Sequential(*[_make_block(b, next(infos), use_bn) for b in stage.blocks])
    feat_c = info.feature_shape[0]
    if spec.head.pre_norm:
        if use_bn:
            layers["final_bn"] = nn.BatchNorm2d(feat_c)
        layers["final_relu"] = nn.ReLU(inplace=True)
    layers["avgpool"] = nn.AdaptiveAvgPool2d(1)
    layers["flatten"] = nn.Flatten(1)
    layers["fc"] = nn.Linear(feat_c, spec.head.num_classes)
    model = ResNet(layers)
    initialise(model, spec, seed)
    return model


def initialise(model: ResNet, spec: NetworkSpec, seed: int | None = None) -> None:
    """He (torchvision's choice) or small-Gaussian weights; optional zero-init of each branch's end."""
    gen = None
    if seed is not None:
        gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                if spec.init.kind is InitKind.HE:
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=gen)
                else:
                    nn.init.normal_(m.weight, 0.0, spec.init.std, generator=gen)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                if spec.init.kind is InitKind.GAUSSIAN:
                    nn.init.normal_(m.weight, 0.0, spec.init.std, generator=gen)
                    nn.init.zeros_(m.bias)
                else:
                    bound = 1.0 / m.in_features ** 0.5  # PyTorch's default Linear init
                    nn.init.uniform_(m.weight, -bound, bound, generator=gen)
                    nn.init.uniform_(m.bias, -bound, bound, generator=gen)
        for block_spec, block in zip((b for _, _, b in spec.iter_blocks()), model.blocks()):
            if spec.block_zero_init(block_spec):
                block.zero_init_branch()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
