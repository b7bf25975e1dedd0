"""PyTorch source (``.py`` + ``.pth``): a standalone module a student can read and reuse.

The generated file imports only torch. It holds the block classes the network uses,
the architecture as a table (one row per block, stage by stage), a ``ResNet`` class
whose ``forward`` reads top to bottom with the shapes in comments, and ``load()``,
which rebuilds the network and loads the ``.pth`` next to it with ``strict=True``.
Module names match the app's (torchvision's), so the ``.pth`` is the live model's
state_dict, less the shortcut weights of blocks whose skip is switched off: those
blocks are written without a shortcut.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import torch

from .. import __version__
from ..nn import ResNet
from ..spec import BlockKind, NetworkInfo, NetworkSpec, Norm, PadPlacement, ShortcutKind, StemKind, StridePlacement, fmt_shape
from ..spec.atomic import write_new
from . import source_text as T

RUN_LENGTH_TO_COMPRESS = 8  # longer runs of identical rows are written as `*[row] * n`


def block_type(kind: BlockKind, placement: StridePlacement) -> str:
    paper = placement is StridePlacement.CONV1X1 and kind.bottleneck
    return {
        BlockKind.BASIC: "basic", BlockKind.PLAIN: "basic",
        BlockKind.BOTTLENECK: "bottleneck_paper" if paper else "bottleneck",
        BlockKind.PREACT_BASIC: "preact_basic",
        BlockKind.PREACT_BOTTLENECK: "preact_bottleneck_paper" if paper else "preact_bottleneck",
    }[kind]


def shortcut_name(block_info, skip_on: bool, pad_placement: PadPlacement = PadPlacement.END) -> str | None:
    """The shortcut as the generated code names it; None for no shortcut (or a switched-off one)."""
    kind = block_info.shortcut
    if kind is ShortcutKind.NONE or not skip_on:
        return None
    if kind is ShortcutKind.ZERO_PAD and block_info.in_shape[0] == block_info.out_shape[0] \
            and block_info.in_shape[1:] == block_info.out_shape[1:]:
        return "identity"  # nothing to subsample or pad: the builder uses a plain identity too
    if kind is ShortcutKind.ZERO_PAD and pad_placement is PadPlacement.BOTH:
        return "zero_pad_both"
    return kind.value


def _rows(spec: NetworkSpec, info: NetworkInfo, model: ResNet) -> list[list[tuple[tuple, str]]]:
    """Per stage, the (row, comment) of each block, with the skip state the model has now."""
    skips = model.skips()
    stages: list[list[tuple[tuple, str]]] = [[] for _ in spec.stages]
    for (si, bi, block), binfo, skip in zip(spec.iter_blocks(), info.blocks, skips):
        shortcut = shortcut_name(binfo, skip, block.pad_placement)
        comment = ""
        if binfo.kind is BlockKind.PLAIN or binfo.shortcut is ShortcutKind.NONE:
            comment = "plain block: no shortcut"
        elif not skip:
            comment = "skip switched off when exported"
        row = (block_type(binfo.kind, block.stride_placement), block.width, block.stride, shortcut)
        stages[si].append((row, comment))
    return stages


def _row_text(row: tuple) -> str:
    kind, width, stride, shortcut = row
    return f"({kind!r}, {width}, {stride}, {shortcut!r})".replace("'", '"')


def _stage_table(stages, info: NetworkInfo) -> str:
    lines = ["STAGES = ["]
    first = 0
    for si, rows in enumerate(stages):
        if not rows:
            lines.append(f"    [],  # stage {si + 1}: empty")
            continue
        b0, b1 = info.blocks[first], info.blocks[first + len(rows) - 1]
        first += len(rows)
        lines.append(f"    # stage {si + 1}: {fmt_shape(b0.in_shape)} -> {fmt_shape(b1.out_shape)}")
        lines.append("    [")
        i = 0
        while i < len(rows):
            j = i
            while j < len(rows) and rows[j] == rows[i]:
                j += 1
            row, comment = rows[i]
            note = f"  # {comment}" if comment else ""
            if j - i >= RUN_LENGTH_TO_COMPRESS:
                lines.append(f"        *[{_row_text(row)}] * {j - i},{note}")
            else:
                lines.extend(f"        {_row_text(row)},{note}" for _ in range(j - i))
            i = j
        lines.append("    ],")
    lines.append("]")
    return "\n".join(lines)


def _clean(text: str, empty: str = "network") -> str:
    """A name safe inside a docstring, a comment and a string literal: quotes, backslashes,
    control characters, line breaks and unpaired surrogates become spaces or '?', so no
    name (of the network or of a file the user typed) can end the text and become code."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\"'\\\u2028\u2029]", " ", text)
    text = re.sub(r"[\ud800-\udfff]", "?", text).strip()
    return text or empty


def _model_class(spec: NetworkSpec, info: NetworkInfo) -> str:
    use_bn = spec.norm is Norm.BATCH
    c_in, h, w = spec.input_shape
    init, fwd = [], []
    stem = spec.stem
    channels = str(c_in)
    if stem.kind is not StemKind.NONE:
        k, s = (3, 1) if stem.kind is StemKind.CIFAR else (7, 2)
        init.append(f"# stem: {fmt_shape(info.input_shape)} -> {fmt_shape(info.stem_shape)}")
        init.append(f"self.conv1 = conv({c_in}, {stem.width}, {k}" + (f", stride={s})" if s != 1 else ")"))
        step = "self.conv1(x)"
        if stem.activate:
            init.append(f"self.bn1 = norm({stem.width})")
            init.append("self.relu = nn.ReLU(inplace=True)")
            step = f"self.relu(self.bn1({step}))"
        if stem.kind is StemKind.IMAGENET:
            init.append("self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)")
            step = f"self.maxpool({step})"
        fwd.append(f"x = {step}  # {fmt_shape(info.stem_shape)}")
        channels = str(stem.width)
    init.append(f"channels = {channels}")
    first = 0
    for si, stage in enumerate(spec.stages):
        n = len(stage.blocks)
        out = info.blocks[first + n - 1].out_shape if n else None
        first += n
        init.append(f"self.layer{si + 1}, channels = make_stage(STAGES[{si}], channels)")
        fwd.append(f"x = self.layer{si + 1}(x)" + (f"  # {fmt_shape(out)}" if out else ""))
    if spec.head.pre_norm:
        init.append("# the sums of pre-activation blocks are never normalised inside them, so once here")
        if use_bn:
            init.append("self.final_bn = norm(channels)")
        init.append("self.final_relu = nn.ReLU(inplace=True)")
        fwd.append("x = self.final_relu(self.final_bn(x))" if use_bn else "x = self.final_relu(x)")
    init.append("self.avgpool = nn.AdaptiveAvgPool2d(1)")
    init.append("self.fc = nn.Linear(channels, num_classes)")
    fwd.append(f"x = self.avgpool(x)  # {fmt_shape(info.feature_shape[:1] + (1, 1))}")
    fwd.append(f"return self.fc(torch.flatten(x, 1))  # {fmt_shape(info.output_shape)}")
    pad = " " * 8
    return T.MODEL_CLASS.format(init="\n".join(pad + line for line in init),
                                forward="\n".join(pad + line for line in fwd))


def generate_source(spec: NetworkSpec, info: NetworkInfo, model: ResNet, module_name: str,
                    weights_name: str, params: int) -> str:
    stages = _rows(spec, info, model)
    rows = [row for stage in stages for row, _ in stage]
    kinds = {row[0] for row in rows}
    shortcuts = {row[3] for row in rows}
    name = _clean(spec.name)
    c, h, w = spec.input_shape
    switched_off = [f"stage {b.stage + 1} block {b.index + 1}"
                    for b, skip in zip(info.blocks, model.skips()) if b.has_shortcut and not skip]
    skip_line = ("\n    skips switched off (exported without a shortcut): " + ", ".join(switched_off)
                 if switched_off else "")
    usage_import = (f"from {module_name} import load" if module_name.isidentifier() and module_name.isascii()
                    else f"load = ...  # the load() function of this file ({_clean(module_name, 'module')}.py)")
    weights_name = _clean(weights_name, "weights.pth")
    parts = [T.HEADER.format(name=name, version=__version__, params=params, depth=info.depth,
                             shape=fmt_shape(spec.input_shape), classes=spec.head.num_classes,
                             skip_line=skip_line, weights=weights_name, usage_import=usage_import,
                             c=c, h=h, w=w)]
    zero_pad = bool(shortcuts & {"zero_pad", "zero_pad_both"})
    parts.append(T.IMPORTS_WITH_F if zero_pad else T.IMPORTS)
    parts.append(T.CONSTANTS.format(c=c, h=h, w=w, classes=spec.head.num_classes))
    parts.append(T.TABLE_INTRO + _stage_table(stages, info) + "\n")
    parts.append(T.HELPERS_BN if spec.norm is Norm.BATCH else T.HELPERS_NO_NORM)
    parts.append(T.shortcut_factory(shortcuts))
    if zero_pad:
        parts.append(T.ZERO_PAD)
    used_classes = []
    for kind, cls_name in T.BLOCK_CLASS_OF.items():
        if kind in kinds and cls_name not in used_classes:
            used_classes.append(cls_name)
    for cls_name in used_classes:
        parts.append(T.BLOCK_CLASSES[cls_name])
    for kind in sorted(kinds):
        if kind.endswith("_paper"):
            parts.append(T.PAPER_FACTORIES[kind])
    parts.append(T.block_types([k for k in T.BLOCK_CLASS_OF if k in kinds]))
    parts.append(T.MAKE_STAGE)
    parts.append(_model_class(spec, info))
    parts.append(T.FOOTER)
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


def exported_state_dict(model: ResNet) -> dict:
    """The model's state_dict without the shortcut weights of switched-off blocks."""
    dropped = [f"{name}.downsample." for name, block in zip(model.block_names(), model.blocks())
               if block.has_shortcut and not block.skip]
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if not any(k.startswith(prefix) for prefix in dropped)}


def write_source(model: ResNet, spec: NetworkSpec, info: NetworkInfo, path: Path, weights_path: Path,
                 final_path: Path) -> list[str]:
    """Write the module to ``path`` and its weights to ``weights_path``.

    ``final_path`` is where the module ends up (``path`` may be a temporary name); the
    text refers to the final names.
    """
    state = exported_state_dict(model)
    params = sum(v.numel() for k, v in state.items() if k in dict(model.named_parameters()))
    text = generate_source(spec, info, model, final_path.stem, final_path.with_suffix(".pth").name, params)
    buffer = io.BytesIO()  # serialised in memory, then one checked write (a full disk is an OSError)
    torch.save(state, buffer)
    write_new(weights_path, buffer.getbuffer())
    write_new(path, text.encode("utf-8"))
    notes = [f"a standalone module ({len(text.splitlines())} lines, imports only torch) and its weights, "
             f"{final_path.with_suffix('.pth').name}"]
    dropped = len(model.state_dict()) - len(state)
    if dropped:
        notes.append(f"{dropped} shortcut tensors of switched-off blocks were left out of the .pth")
    return notes
