"""Short explanations shown in the inspector, one per block kind, shortcut, stem and option.

Written for this project in plain words for students; the facts follow the papers
(He et al. 2015 and 2016, Goyal et al. 2017) and torchvision's ResNet layout.
Each entry is a title and a few sentences of HTML-safe text.
"""
from __future__ import annotations

from ..spec import BlockKind, InitKind, Norm, PadPlacement, ShortcutKind, StemKind, StridePlacement

BLOCK_KINDS: dict[BlockKind, str] = {
    BlockKind.BASIC: (
        "Two 3x3 convolutions, each followed by batch norm; a ReLU sits between them. The "
        "block's input is added to the result and one more ReLU follows the sum (the 2015 "
        "\"post-activation\" order). Used by ResNet-18/34 and the CIFAR ResNets. If the stride "
        "is 2 it sits on the first convolution."),
    BlockKind.BOTTLENECK: (
        "A 1x1 convolution narrows the channels to the block's width, a 3x3 convolution works "
        "at that width, and a second 1x1 widens to four times the width; each is followed by "
        "batch norm, with ReLUs in between and after the sum. Cheaper than two 3x3 convolutions "
        "at full width, which is why ResNet-50/101/152 use it. The output has 4 x width channels."),
    BlockKind.PREACT_BASIC: (
        "The 2016 \"pre-activation\" order: batch norm and ReLU come before each 3x3 "
        "convolution, and nothing is applied after the addition. The shortcut path is then a "
        "pure identity from block to block, so the signal and its gradient pass through "
        "untouched. The head needs its own BN-ReLU before pooling (see Head)."),
    BlockKind.PREACT_BOTTLENECK: (
        "The bottleneck (1x1, 3x3, 1x1 with 4x output channels) in pre-activation order: "
        "BN-ReLU before every convolution, nothing after the addition. This is the block of "
        "PreAct ResNet-164 and ResNet-1001, which train at that depth because the identity "
        "path stays clean."),
    BlockKind.PLAIN: (
        "The basic block's two 3x3 convolutions with no shortcut at all: the output is only "
        "the learned branch. Stacking many of these gives the \"plain\" networks of the "
        "degradation experiment, which train worse as they get deeper, even on the training set."),
}

SHORTCUTS: dict[ShortcutKind, str] = {
    ShortcutKind.AUTO: (
        "Chosen from the shapes: an identity when the block keeps its input shape, a "
        "projection when the stride or the channel count changes (torchvision's choice)."),
    ShortcutKind.IDENTITY: (
        "The input is added as it is, with no parameters. Only possible when the input and "
        "output shapes are equal; across a stride or a channel change the addition cannot work."),
    ShortcutKind.PROJECTION: (
        "A 1x1 convolution with the block's stride, followed by batch norm, reshapes the input "
        "to the output's shape (\"option B\" in the paper). Adds parameters but works for any change."),
    ShortcutKind.ZERO_PAD: (
        "The input is subsampled by the stride and the extra channels are filled with zeros "
        "(\"option A\", the paper's CIFAR networks). No parameters; it can add channels but "
        "never remove them."),
    ShortcutKind.NONE: (
        "No shortcut: the block is only its learned branch, like a plain network's layer."),
}

STEMS: dict[StemKind, str] = {
    StemKind.CIFAR: (
        "One 3x3 convolution with stride 1, then batch norm and ReLU: small images such as "
        "32x32 CIFAR pictures keep their full resolution into the first stage."),
    StemKind.IMAGENET: (
        "A 7x7 convolution with stride 2, batch norm, ReLU and a 3x3 max-pool with stride 2: "
        "a 224x224 image reaches the first stage at 56x56, a quarter of its side."),
    StemKind.NONE: (
        "No stem: the first stage sees the raw input. Its first block must then cope with the "
        "input's channel count (a projection or zero-pad shortcut)."),
}

STRIDE_PLACEMENTS: dict[StridePlacement, str] = {
    StridePlacement.CONV3X3: (
        "The stride sits on the 3x3 convolution (torchvision, often called ResNet v1.5): "
        "slightly more accurate, slightly more compute."),
    StridePlacement.CONV1X1: (
        "The stride sits on the first 1x1 convolution, as in the 2015 paper: that 1x1 then "
        "skips three of every four positions."),
}

PAD_PLACEMENTS: dict[PadPlacement, str] = {
    PadPlacement.END: (
        "The new all-zero channels come after the input's, so the input's channels keep their "
        "numbers. The 2015 paper does not say where they go; this is the app's default."),
    PadPlacement.BOTH: (
        "Half of the new all-zero channels come before the input's and half after, as in the "
        "widely used PyTorch CIFAR ResNet code (akamaster/pytorch_resnet_cifar10); its trained "
        "weights only work this way."),
}

NORMS: dict[Norm, str] = {
    Norm.BATCH: "Batch normalisation after (or, pre-activation, before) every convolution.",
    Norm.NONE: ("No normalisation layers; convolutions get a bias instead. Deep nets become "
                "much harder to train without it, which is worth seeing once."),
}

INITS: dict[InitKind, str] = {
    InitKind.HE: ("He (Kaiming) normal initialisation scaled by each layer's fan-out, as "
                  "torchvision does: keeps activations at a steady size through ReLU layers."),
    InitKind.GAUSSIAN: ("Every convolution and linear weight drawn from a normal distribution "
                        "with the standard deviation given. Too small and a deep plain net's "
                        "signal fades layer after layer."),
}

OPTIONS: dict[str, str] = {
    "width": ("The number of channels inside the block's branch. Basic and plain blocks output "
              "this many channels; bottlenecks output four times as many."),
    "stride": ("2 halves the feature map's height and width (usually in a stage's first "
               "block); 1 keeps them."),
    "skip": ("The shortcut's switch. Off turns the block into a plain one without touching its "
             "weights, so you can compare gradient flow with and without the skip."),
    "zero_init": ("Set the last batch-norm scale of the branch to zero at initialisation, so the "
                  "block starts out as an identity (Goyal et al. 2017). \"Inherit\" follows the "
                  "network's setting."),
    "zero_init_residual": ("Start every residual branch at zero (its last batch-norm scale), so "
                           "the whole network begins as a chain of identities; blocks can override it."),
    "pre_norm": ("Batch norm and ReLU before global pooling. Pre-activation networks need it, "
                 "because their final sum is never normalised otherwise."),
    "classes": "How many outputs the final linear layer has: one score per class.",
    "stem_activate": ("Batch norm and ReLU after the stem convolution. Pre-activation networks "
                      "leave this to their first block."),
    "stage": ("A stage is a run of blocks at one width. Its first block usually halves the "
              "resolution (stride 2) and changes the width; the others keep the shape, so their "
              "shortcuts are identities."),
    "head": ("Global average pooling turns each channel's map into one number; a linear "
             "layer turns those into class scores."),
    "network": ("Settings for the whole network. Select a block, stage, the stem or the head "
                "in the diagram to edit it."),
}


def block_text(kind: BlockKind) -> str:
    return BLOCK_KINDS[kind]


def shortcut_text(kind: ShortcutKind) -> str:
    return SHORTCUTS[kind]
