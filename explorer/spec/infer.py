"""Shape inference, validation, parameter and MAC counts for a network spec.

``analyse(spec)`` walks the network once, in depth order, and either returns a
``NetworkInfo`` or raises the first ``SpecError``. ``problems(spec)`` walks the
same way but keeps going after an error (assuming the block produced the shape it
was meant to), so the editor can mark every broken block at once.

MACs count multiply-accumulates of convolutions and the final linear layer, the
convention behind the usual "1.8 GMACs for ResNet-18" figures; BN, ReLU, pooling
and additions are not counted.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import SpecError, SpecWarning
from .model import (BlockKind, BlockSpec, InitKind, NetworkSpec, Norm, ShortcutKind,
                    StemKind, StridePlacement)

Shape = tuple[int, int, int]

# Limits that keep a file from asking for something that cannot be built here.
MAX_BLOCKS = 4096
MAX_WIDTH = 8192
MAX_INPUT_SIDE = 4096
MAX_INPUT_CHANNELS = 64
MAX_CLASSES = 100_000
MAX_STRIDE = 8
MAX_PARAMS = 2_000_000_000


def fmt_shape(shape) -> str:
    return "x".join(str(d) for d in shape)


@dataclass(frozen=True)
class BlockInfo:
    stage: int
    index: int  # within the stage
    position: int  # in depth order over the whole network
    kind: BlockKind
    in_shape: Shape
    out_shape: Shape
    shortcut: ShortcutKind  # resolved: never AUTO
    skip: bool  # the switch as set
    params: int
    macs: int
    layers: int  # weighted layers on the main path

    @property
    def has_shortcut(self) -> bool:
        return self.shortcut is not ShortcutKind.NONE

    @property
    def skip_active(self) -> bool:
        return self.skip and self.has_shortcut

    @property
    def label(self) -> str:
        return f"stage {self.stage + 1}, block {self.index + 1}"


@dataclass(frozen=True)
class NetworkInfo:
    name: str
    input_shape: Shape
    stem_shape: Shape
    stem_params: int
    stem_macs: int
    blocks: tuple[BlockInfo, ...]
    head_params: int
    head_macs: int
    feature_shape: Shape  # what the head pools
    output_shape: tuple[int]
    params: int
    macs: int
    depth: int  # weighted layers on the main path (the "20" of ResNet-20)
    warnings: tuple[SpecWarning, ...] = ()


# -- small counting helpers -------------------------------------------------

def _conv_out(side: int, kernel: int, stride: int, pad: int) -> int:
    return (side + 2 * pad - kernel) // stride + 1


def _conv(shape: Shape, out_c: int, kernel: int, stride: int, bias: bool) -> tuple[Shape, int, int]:
    c, h, w = shape
    pad = kernel // 2
    oh, ow = _conv_out(h, kernel, stride, pad), _conv_out(w, kernel, stride, pad)
    params = c * out_c * kernel * kernel + (out_c if bias else 0)
    macs = oh * ow * out_c * c * kernel * kernel
    return (out_c, oh, ow), params, macs


def _bn(channels: int, norm: Norm) -> int:
    return 2 * channels if norm is Norm.BATCH else 0


class _Walker:
    """One pass over the spec; ``collect`` keeps going after errors."""

    def __init__(self, spec: NetworkSpec, collect: bool):
        self.spec = spec
        self.collect = collect
        self.errors: list[SpecError] = []
        self.warnings: list[SpecWarning] = []
        self.blocks: list[BlockInfo] = []  # filled as the walk goes, kept even when it fails
        self._source: str | None = None  # the block whose output the next block receives

    def fail(self, message: str, **loc) -> None:
        err = SpecError(message, **loc)
        if not self.collect:
            raise err
        self.errors.append(err)

    # -- the whole network --------------------------------------------------
    def run(self) -> NetworkInfo | None:
        spec = self.spec
        bias = spec.norm is Norm.NONE
        shape = self._check_input()
        if shape is None:
            return None
        self._check_options()
        stem_shape, stem_params, stem_macs = self._stem(shape, bias)
        if stem_shape is None:
            return None
        if spec.num_blocks > MAX_BLOCKS:
            self.fail(f"{spec.num_blocks} blocks is more than the {MAX_BLOCKS} this tool builds",
                      where="network")
            return None
        blocks = self.blocks
        shape = stem_shape
        position = 0
        for si, stage in enumerate(spec.stages):
            if not stage.blocks:
                self.fail("a stage needs at least one block (delete the stage instead)", stage=si)
                continue
            kinds = {b.kind.preactivation for b in stage.blocks
                     if isinstance(b.kind, BlockKind) and b.kind is not BlockKind.PLAIN}
            if len(kinds) > 1:
                self.warnings.append(SpecWarning(
                    "mixes pre- and post-activation blocks; activations will be applied twice "
                    "or not at all at the boundaries", stage=si))
            for bi, block in enumerate(stage.blocks):
                info = self._block(si, bi, position, block, shape, bias)
                blocks.append(info)
                shape = info.out_shape
                self._source = f"stage {si + 1}, block {bi + 1}"  # what feeds the next block
                position += 1
        if not spec.stages:
            self.warnings.append(SpecWarning("the network has no stages: the head sits on the stem"))
        head = spec.head
        if not isinstance(head.num_classes, int) or not 1 <= head.num_classes <= MAX_CLASSES:
            self.fail(f"number of classes must be between 1 and {MAX_CLASSES}, not {head.num_classes!r}",
                      where="head")
            return None
        if blocks and blocks[-1].kind.preactivation and not head.pre_norm and spec.norm is Norm.BATCH:
            self.warnings.append(SpecWarning(
                "the last block is pre-activation but the head has no BN-ReLU before pooling; "
                "the final sum is never normalised"))
        head_params = shape[0] * head.num_classes + head.num_classes + (
            _bn(shape[0], spec.norm) if head.pre_norm else 0)
        head_macs = shape[0] * head.num_classes
        params = stem_params + sum(b.params for b in blocks) + head_params
        macs = stem_macs + sum(b.macs for b in blocks) + head_macs
        if params > MAX_PARAMS:
            self.fail(f"{params:,} parameters is more than the {MAX_PARAMS:,} this tool builds",
                      where="network")
            return None
        depth = (1 if spec.stem.kind is not StemKind.NONE else 0) + sum(b.layers for b in blocks) + 1
        if self.errors:
            return None
        return NetworkInfo(
            name=spec.name, input_shape=tuple(spec.input_shape), stem_shape=stem_shape,
            stem_params=stem_params, stem_macs=stem_macs, blocks=tuple(blocks),
            head_params=head_params, head_macs=head_macs, feature_shape=shape,
            output_shape=(head.num_classes,), params=params, macs=macs, depth=depth,
            warnings=tuple(self.warnings))

    def _check_input(self) -> Shape | None:
        shape = self.spec.input_shape
        ok = (isinstance(shape, tuple) and len(shape) == 3
              and all(isinstance(d, int) and not isinstance(d, bool) for d in shape))
        if not ok:
            self.fail(f"input shape must be three whole numbers C, H, W, not {shape!r}", where="input shape")
            return None
        c, h, w = shape
        if not 1 <= c <= MAX_INPUT_CHANNELS:
            self.fail(f"input channels must be between 1 and {MAX_INPUT_CHANNELS}, not {c}", where="input shape")
            return None
        if not (1 <= h <= MAX_INPUT_SIDE and 1 <= w <= MAX_INPUT_SIDE):
            self.fail(f"input height and width must be between 1 and {MAX_INPUT_SIDE}, not {h}x{w}",
                      where="input shape")
            return None
        return shape

    def _check_options(self) -> None:
        init = self.spec.init
        if init.kind is InitKind.GAUSSIAN and not (0 < init.std <= 10):
            self.fail(f"the Gaussian initialisation needs a standard deviation in (0, 10], not {init.std}",
                      where="initialisation")

    def _stem(self, shape: Shape, bias: bool):
        stem = self.spec.stem
        if stem.kind is StemKind.NONE:
            return shape, 0, 0
        if not _valid_width(stem.width):
            self.fail(f"stem width must be between 1 and {MAX_WIDTH}, not {stem.width!r}", where="stem")
            return None, 0, 0
        # Followed by BN (its own, or the first pre-activation block's): no bias.
        conv_bias = bias
        if stem.kind is StemKind.CIFAR:
            out, params, macs = _conv(shape, stem.width, 3, 1, conv_bias)
        else:
            out, params, macs = _conv(shape, stem.width, 7, 2, conv_bias)
            c, h, w = out
            out = (c, _conv_out(h, 3, 2, 1), _conv_out(w, 3, 2, 1))
        if stem.activate:
            params += _bn(stem.width, self.spec.norm)
        return out, params, macs

    # -- one block ------------------------------------------------------------
    def _block(self, si: int, bi: int, position: int, block: BlockSpec, shape: Shape, bias: bool) -> BlockInfo:
        spec = self.spec
        loc = dict(stage=si, block=bi)
        kind = block.kind
        errors_before = len(self.errors)
        if not isinstance(kind, BlockKind):
            self.fail(f"unknown block kind {kind!r}", **loc)
            kind = BlockKind.BASIC
        width = block.width if _valid_width(block.width) else None
        if width is None:
            self.fail(f"width must be a whole number between 1 and {MAX_WIDTH}, not {block.width!r}", **loc)
            width = max(1, shape[0] // kind.expansion)  # carry on as if the block kept the channels
        stride = block.stride
        if not isinstance(stride, int) or isinstance(stride, bool) or not 1 <= stride <= MAX_STRIDE:
            self.fail(f"stride must be a whole number between 1 and {MAX_STRIDE}, not {stride!r}", **loc)
            stride = 1
        c, h, w = shape
        if stride > min(h, w):
            self.fail(f"stride {stride} is larger than the {fmt_shape(shape)} map it would shrink "
                      f"(the map would fall below 1x1)", **loc)
            stride = 1
        out_c = width * kind.expansion
        oh, ow = _conv_out(h, 3, stride, 1), _conv_out(w, 3, stride, 1)
        out_shape = (out_c, oh, ow)
        params, macs, layers = _branch_counts(kind, shape, width, stride, block.stride_placement,
                                              spec.norm, bias)
        if len(self.errors) > errors_before:
            shortcut = ShortcutKind.NONE  # one message per block: the first problem
        else:
            shortcut = self._resolve_shortcut(block, kind, shape, out_shape, loc)
        if shortcut is ShortcutKind.PROJECTION:
            _, p, m = _conv(shape, out_c, 1, stride, bias)
            params += p + (0 if kind.preactivation else _bn(out_c, spec.norm))
            macs += m
        return BlockInfo(stage=si, index=bi, position=position, kind=kind, in_shape=shape,
                         out_shape=out_shape, shortcut=shortcut, skip=bool(block.skip),
                         params=params, macs=macs, layers=layers)

    def _resolve_shortcut(self, block, kind, in_shape, out_shape, loc) -> ShortcutKind:
        sc = block.shortcut
        if not isinstance(sc, ShortcutKind):
            self.fail(f"unknown shortcut kind {sc!r}", **loc)
            return ShortcutKind.NONE
        if kind is BlockKind.PLAIN:
            if sc not in (ShortcutKind.AUTO, ShortcutKind.NONE):
                self.fail(f"a plain block has no shortcut, so it cannot have a {sc.value} one; "
                          "choose a residual block kind or shortcut 'none'", **loc)
            return ShortcutKind.NONE
        same = in_shape == out_shape
        if sc is ShortcutKind.AUTO:
            return ShortcutKind.IDENTITY if same else ShortcutKind.PROJECTION
        # The input may be what a block just inserted before this one gives it: name that block
        # too, so the message uses the numbers the user just saw in the undo history.
        origin = f" (its {fmt_shape(in_shape)} input comes from {self._source})" if self._source else ""
        if sc is ShortcutKind.IDENTITY and not same:
            self.fail(f"an identity shortcut cannot carry {fmt_shape(in_shape)} to {fmt_shape(out_shape)}: "
                      f"the addition needs equal shapes; use a projection or zero-pad shortcut{origin}", **loc)
        if sc is ShortcutKind.ZERO_PAD:
            if out_shape[0] < in_shape[0]:
                self.fail(f"a zero-pad shortcut can only add channels, but this block goes from "
                          f"{fmt_shape(in_shape)} to {fmt_shape(out_shape)}; use a projection{origin}", **loc)
            if same:
                return ShortcutKind.IDENTITY  # nothing to subsample or pad
        return sc


def _valid_width(width) -> bool:
    return isinstance(width, int) and not isinstance(width, bool) and 1 <= width <= MAX_WIDTH


def _branch_counts(kind: BlockKind, shape: Shape, width: int, stride: int,
                   placement: StridePlacement, norm: Norm, bias: bool) -> tuple[int, int, int]:
    """Parameters, MACs and weighted layers of a block's learned branch."""
    params = macs = 0
    pre = kind.preactivation
    if pre:
        params += _bn(shape[0], norm)
    if kind.bottleneck:
        s1, s3 = (stride, 1) if placement is StridePlacement.CONV1X1 else (1, stride)
        steps = [(width, 1, s1), (width, 3, s3), (width * 4, 1, 1)]
    else:
        steps = [(width, 3, stride), (width, 3, 1)]
    cur = shape
    for i, (oc, k, s) in enumerate(steps):
        cur, p, m = _conv(cur, oc, k, s, bias)
        params += p
        macs += m
        last = i == len(steps) - 1
        # post-act: BN after every conv; pre-act: BN before every conv but the first
        if not pre or not last:
            params += _bn(oc, norm)
    return params, macs, len(steps)


def analyse(spec: NetworkSpec) -> NetworkInfo:
    """Shapes, counts and warnings for ``spec``; raises ``SpecError`` at the first problem."""
    info = _Walker(spec, collect=False).run()
    assert info is not None
    return info


def problems(spec: NetworkSpec) -> list[SpecError]:
    """Every error found in one pass (empty when the design is valid)."""
    walker = _Walker(spec, collect=True)
    try:
        walker.run()
    except SpecError as err:  # pragma: no cover - collect mode does not raise
        walker.errors.append(err)
    return walker.errors


def partial_blocks(spec: NetworkSpec) -> tuple[BlockInfo, ...]:
    """Per-block shapes and counts as far as a walk gets, even for an invalid design.

    A broken block is taken to produce the shape it was meant to (as ``problems``
    does), so an editor can still show shapes around it; empty when the input or
    stem is broken.
    """
    walker = _Walker(spec, collect=True)
    walker.run()
    return tuple(walker.blocks)


def try_analyse(spec: NetworkSpec) -> tuple[NetworkInfo | None, list[SpecError]]:
    """Info when valid, plus every error found; one pass when the spec is valid."""
    walker = _Walker(spec, collect=True)
    info = walker.run()
    return info, walker.errors
