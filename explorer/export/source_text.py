"""The text pieces of the generated PyTorch source (see ``source.py``).

Kept apart so that the generated code can be read here as code. Templates filled with
``str.format`` are marked; their literal braces are doubled.
"""
from __future__ import annotations

# str.format: name, version, params, depth, shape, classes, skip_line, weights, usage_import, c, h, w
HEADER = '''\
"""{name}, written out by ResNet Explorer {version}.

    parameters: {params:,}
    depth:      {depth} weighted layers
    input:      {shape} images (other heights and widths work too, if they survive the strides)
    output:     {classes} class scores (logits){skip_line}

Only PyTorch is needed. The trained weights are in {weights}, next to this file:

    import torch
    {usage_import}

    model = load("{weights}")  # every key must match; the model comes back in eval mode
    with torch.no_grad():
        logits = model(torch.randn(1, {c}, {h}, {w}))

build() gives the same network with fresh weights, to train it yourself.
"""'''

IMPORTS = '''\
import torch
from torch import nn'''

IMPORTS_WITH_F = '''\
import torch
import torch.nn.functional as F
from torch import nn'''

# str.format: c, h, w, classes
CONSTANTS = '''\
INPUT_SHAPE = ({c}, {h}, {w})  # channels, height, width
NUM_CLASSES = {classes}'''

TABLE_INTRO = '''\
# The architecture, stage by stage, one row per residual block:
#   kind      which block class builds it (see BLOCK_TYPES)
#   width     channels inside the block; a bottleneck outputs 4 x width
#   stride    2 halves the height and width at this block
#   shortcut  "identity", "projection" (a strided 1x1 conv), "zero_pad" (keep every
#             stride-th pixel, append zero channels), "zero_pad_both" (the same, with
#             the zero channels split evenly before and after) or None (no shortcut at all)
'''

HELPERS_BN = '''\
def conv(in_channels, out_channels, kernel_size, stride=1):
    """A convolution padded to keep the size (up to its stride). No bias: the BatchNorm after it shifts."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2, bias=False)


def norm(channels):
    return nn.BatchNorm2d(channels)'''

HELPERS_NO_NORM = '''\
def conv(in_channels, out_channels, kernel_size, stride=1):
    """A convolution padded to keep the size (up to its stride), with a bias: this network has no BatchNorm."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2, bias=True)


def norm(channels):
    return nn.Identity()  # this network uses no normalisation'''


def shortcut_factory(used: set) -> str:
    lines = [
        "def shortcut(kind, in_channels, out_channels, stride, normalise=True):",
        '    """The path from a block\'s input to its addition; None when the block has none."""',
        "    if kind is None:",
        "        return None",
    ]
    if "identity" in used:
        lines += ['    if kind == "identity":', "        return nn.Identity()"]
    if "projection" in used:
        lines += [
            '    if kind == "projection":',
            "        # Pre-activation blocks project their already-normalised input: no BatchNorm after the conv.",
            "        layers = [conv(in_channels, out_channels, 1, stride)]",
            "        if normalise:",
            "            layers.append(norm(out_channels))",
            "        return nn.Sequential(*layers)",
        ]
    if "zero_pad" in used:
        lines += ['    if kind == "zero_pad":', "        return ZeroPadShortcut(stride, out_channels - in_channels)"]
    if "zero_pad_both" in used:
        lines += ['    if kind == "zero_pad_both":', "        extra = out_channels - in_channels",
                  "        return ZeroPadShortcut(stride, extra, before=extra // 2)"]
    lines.append('    raise ValueError(f"unknown shortcut {kind!r}")')
    return "\n".join(lines)


ZERO_PAD = '''\
class ZeroPadShortcut(nn.Module):
    """The 2015 paper's option A: keep every stride-th pixel, then add zero channels. No weights.

    ``before`` of the new channels go in front of the input's, the rest after it.
    """

    def __init__(self, stride, extra_channels, before=0):
        super().__init__()
        self.stride = stride
        self.extra_channels = extra_channels
        self.before = before

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        # pads the channel dimension
        return F.pad(x, (0, 0, 0, 0, self.before, self.extra_channels - self.before))'''

BASIC = '''\
class BasicBlock(nn.Module):
    """conv3x3 > BN > ReLU > conv3x3 > BN, add the shortcut, then ReLU."""

    def __init__(self, in_channels, width, stride, shortcut_kind):
        super().__init__()
        self.out_channels = width
        self.conv1 = conv(in_channels, width, 3, stride)
        self.bn1 = norm(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv(width, width, 3)
        self.bn2 = norm(width)
        self.downsample = shortcut(shortcut_kind, in_channels, width, stride)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            out = out + self.downsample(x)
        return self.relu(out)'''

BOTTLENECK = '''\
class Bottleneck(nn.Module):
    """1x1 > BN > ReLU > 3x3 > BN > ReLU > 1x1 (4 x width) > BN, add the shortcut, then ReLU."""

    def __init__(self, in_channels, width, stride, shortcut_kind, stride_on_3x3=True):
        super().__init__()
        # torchvision strides the 3x3 conv; the 2015 paper strided the first 1x1.
        stride_1x1, stride_3x3 = (1, stride) if stride_on_3x3 else (stride, 1)
        self.out_channels = width * 4
        self.conv1 = conv(in_channels, width, 1, stride_1x1)
        self.bn1 = norm(width)
        self.conv2 = conv(width, width, 3, stride_3x3)
        self.bn2 = norm(width)
        self.conv3 = conv(width, width * 4, 1)
        self.bn3 = norm(width * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = shortcut(shortcut_kind, in_channels, width * 4, stride)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            out = out + self.downsample(x)
        return self.relu(out)'''

PREACT_BASIC = '''\
class PreActBlock(nn.Module):
    """BN > ReLU > conv3x3 > BN > ReLU > conv3x3, add the shortcut; nothing after the addition."""

    def __init__(self, in_channels, width, stride, shortcut_kind):
        super().__init__()
        self.out_channels = width
        self.bn1 = norm(in_channels)
        self.conv1 = conv(in_channels, width, 3, stride)
        self.bn2 = norm(width)
        self.conv2 = conv(width, width, 3)
        self.relu = nn.ReLU()
        # A projection reads the normalised input; an identity passes x itself, untouched.
        self.projects = shortcut_kind == "projection"
        self.downsample = shortcut(shortcut_kind, in_channels, width, stride, normalise=False)

    def forward(self, x):
        pre = self.relu(self.bn1(x))
        out = self.conv1(pre)
        out = self.conv2(self.relu(self.bn2(out)))
        if self.downsample is not None:
            out = out + self.downsample(pre if self.projects else x)
        return out'''

PREACT_BOTTLENECK = '''\
class PreActBottleneck(nn.Module):
    """BN > ReLU > 1x1 > BN > ReLU > 3x3 > BN > ReLU > 1x1 (4 x width), add the shortcut."""

    def __init__(self, in_channels, width, stride, shortcut_kind, stride_on_3x3=True):
        super().__init__()
        stride_1x1, stride_3x3 = (1, stride) if stride_on_3x3 else (stride, 1)
        self.out_channels = width * 4
        self.bn1 = norm(in_channels)
        self.conv1 = conv(in_channels, width, 1, stride_1x1)
        self.bn2 = norm(width)
        self.conv2 = conv(width, width, 3, stride_3x3)
        self.bn3 = norm(width)
        self.conv3 = conv(width, width * 4, 1)
        self.relu = nn.ReLU()
        self.projects = shortcut_kind == "projection"
        self.downsample = shortcut(shortcut_kind, in_channels, width * 4, stride, normalise=False)

    def forward(self, x):
        pre = self.relu(self.bn1(x))
        out = self.conv1(pre)
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        if self.downsample is not None:
            out = out + self.downsample(pre if self.projects else x)
        return out'''

BLOCK_CLASSES = {"BasicBlock": BASIC, "Bottleneck": BOTTLENECK, "PreActBlock": PREACT_BASIC,
                 "PreActBottleneck": PREACT_BOTTLENECK}

# table kind -> what builds it (a class, or a function for the paper's stride placement)
BLOCK_CLASS_OF = {"basic": "BasicBlock", "bottleneck": "Bottleneck", "bottleneck_paper": "Bottleneck",
                  "preact_basic": "PreActBlock", "preact_bottleneck": "PreActBottleneck",
                  "preact_bottleneck_paper": "PreActBottleneck"}
BUILDER_OF = {"basic": "BasicBlock", "bottleneck": "Bottleneck", "bottleneck_paper": "paper_bottleneck",
              "preact_basic": "PreActBlock", "preact_bottleneck": "PreActBottleneck",
              "preact_bottleneck_paper": "paper_preact_bottleneck"}

PAPER_FACTORIES = {
    "bottleneck_paper": '''\
def paper_bottleneck(in_channels, width, stride, shortcut_kind):
    """A bottleneck with its stride on the first 1x1, as in the 2015 paper."""
    return Bottleneck(in_channels, width, stride, shortcut_kind, stride_on_3x3=False)''',
    "preact_bottleneck_paper": '''\
def paper_preact_bottleneck(in_channels, width, stride, shortcut_kind):
    """A pre-activation bottleneck with its stride on the first 1x1."""
    return PreActBottleneck(in_channels, width, stride, shortcut_kind, stride_on_3x3=False)''',
}


def block_types(kinds: list[str]) -> str:
    lines = ["BLOCK_TYPES = {"]
    lines += [f'    "{kind}": {BUILDER_OF[kind]},' for kind in kinds]
    lines.append("}")
    return "\n".join(lines)


MAKE_STAGE = '''\
def make_stage(rows, in_channels):
    """The blocks of one stage, in order, and the number of channels the stage outputs."""
    blocks = []
    for kind, width, stride, shortcut_kind in rows:
        block = BLOCK_TYPES[kind](in_channels, width, stride, shortcut_kind)
        blocks.append(block)
        in_channels = block.out_channels
    return nn.Sequential(*blocks), in_channels'''

# str.format: init, forward (already indented)
MODEL_CLASS = '''\
class ResNet(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES):
        super().__init__()
{init}

    def forward(self, x):
{forward}'''

FOOTER = '''\
def build():
    """The network with fresh, untrained weights."""
    return ResNet()


def load(weights_path, map_location="cpu"):
    """The network with the weights saved in ``weights_path`` (strict: every key must match), in eval mode."""
    model = ResNet()
    state = torch.load(weights_path, map_location=map_location, weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


if __name__ == "__main__":
    # python this_file.py: load the weights saved beside it and classify one random image.
    model = load(__file__[: -len(".py")] + ".pth")
    with torch.no_grad():
        logits = model(torch.randn(1, *INPUT_SHAPE))
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters, output shape {tuple(logits.shape)}")'''
