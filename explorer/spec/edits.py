"""Every edit rule as a pure function: old spec in, new spec and undo text out.

The diagram (skip toggles, drops, moves, delete, duplicate), its context menu and the
inspector (fields of a block, a stage, the stem, the head and the network) all edit
through these functions; the widgets only turn a result into one ``document.edit``
call (one undo step). Pure Python, no Qt, so each rule is tested directly
(``tests/test_edits.py``). Indices are 0-based; undo texts count from 1.
"""
from __future__ import annotations

from dataclasses import replace

from .model import BlockKind, BlockSpec, NetworkSpec, ShortcutKind, StageSpec, StemKind


def toggle_skip(spec: NetworkSpec, si: int, bi: int) -> tuple[NetworkSpec, str]:
    block = spec.block(si, bi)
    new = replace(block, skip=not block.skip)
    state = "on" if new.skip else "off"
    return spec.with_block(si, bi, new), f"Skip {state}: stage {si + 1}, block {bi + 1}"


def new_block_for(spec: NetworkSpec, si: int, index: int, kind: BlockKind) -> BlockSpec:
    """A block of ``kind`` to insert at ``index`` of stage ``si``: its neighbour's width, stride 1."""
    blocks = spec.stages[si].blocks
    if blocks:
        neighbour = blocks[index - 1] if index > 0 else blocks[0]
        width = neighbour.width
    else:
        width = channels_before(spec, si)
    return BlockSpec(kind=kind, width=width, stride=1)


def insert_block(spec: NetworkSpec, si: int, index: int, kind: BlockKind) -> tuple[NetworkSpec, str]:
    stage = spec.stages[si]
    index = max(0, min(index, len(stage.blocks)))
    block = new_block_for(spec, si, index, kind)
    blocks = stage.blocks[:index] + (block,) + stage.blocks[index:]
    new = spec.with_stage(si, replace(stage, blocks=blocks))
    return new, f"Add {kind.label.lower()} block: stage {si + 1}, block {index + 1}"


def channels_before(spec: NetworkSpec, si: int) -> int:
    """Channels entering stage ``si``: the previous non-empty stage's output, else the
    stem's output, else (no stem) the input's channels."""
    for stage in reversed(spec.stages[:si]):
        if stage.blocks:
            return stage.blocks[-1].out_channels
    return spec.input_shape[0] if spec.stem.kind is StemKind.NONE else spec.stem.width


def add_stage(spec: NetworkSpec, index: int) -> tuple[NetworkSpec, str]:
    """A new one-block stage at ``index`` that keeps the shape it receives.

    The block takes the kind of the stage before it (basic at the very start, or
    after a plain-only stage keeps plain) and a width whose output equals the
    incoming channels, so the network stays valid and the user widens it after.
    """
    index = max(0, min(index, len(spec.stages)))
    kind = BlockKind.BASIC
    for stage in reversed(spec.stages[:index]):
        if stage.blocks:
            kind = stage.blocks[-1].kind
            break
    channels = channels_before(spec, index)
    width = max(1, channels // kind.expansion)
    stage = StageSpec(blocks=(BlockSpec(kind=kind, width=width, stride=1),))
    stages = spec.stages[:index] + (stage,) + spec.stages[index:]
    return replace(spec, stages=stages), f"Add stage {index + 1}"


def delete_block(spec: NetworkSpec, si: int, bi: int) -> tuple[NetworkSpec, str]:
    """Delete one block; deleting a stage's last block deletes the stage (an empty stage is invalid)."""
    stage = spec.stages[si]
    if len(stage.blocks) <= 1:
        new, _ = delete_stage(spec, si)
        return new, f"Delete stage {si + 1} (its only block)"
    blocks = stage.blocks[:bi] + stage.blocks[bi + 1:]
    return spec.with_stage(si, replace(stage, blocks=blocks)), f"Delete block: stage {si + 1}, block {bi + 1}"


def delete_stage(spec: NetworkSpec, si: int) -> tuple[NetworkSpec, str]:
    stages = spec.stages[:si] + spec.stages[si + 1:]
    return replace(spec, stages=stages), f"Delete stage {si + 1}"


def duplicate_block(spec: NetworkSpec, si: int, bi: int) -> tuple[NetworkSpec, str]:
    """A copy right after the block; the copy has stride 1 so it does not downsample a second time."""
    stage = spec.stages[si]
    copy = replace(stage.blocks[bi], stride=1)
    blocks = stage.blocks[:bi + 1] + (copy,) + stage.blocks[bi + 1:]
    return (spec.with_stage(si, replace(stage, blocks=blocks)),
            f"Duplicate block: stage {si + 1}, block {bi + 1}")


def duplicate_stage(spec: NetworkSpec, si: int) -> tuple[NetworkSpec, str]:
    stages = spec.stages[:si + 1] + (spec.stages[si],) + spec.stages[si + 1:]
    return replace(spec, stages=stages), f"Duplicate stage {si + 1}"


def move_block(spec: NetworkSpec, si: int, bi: int, to_stage: int, to_index: int
               ) -> tuple[NetworkSpec, str, tuple[int, int]] | None:
    """Move block (si, bi) so it lands before position ``to_index`` of ``to_stage``.

    ``to_index`` counts positions in the target stage as it is before the move (as
    the drop indicator shows them). Returns the new spec, the undo text and where
    the block landed, or None when the block would not move.
    Moving a stage's only block out of it removes the emptied stage.
    """
    block = spec.stages[si].blocks[bi]
    if to_stage == si:
        if to_index in (bi, bi + 1):
            return None
        blocks = list(spec.stages[si].blocks)
        del blocks[bi]
        blocks.insert(to_index - 1 if to_index > bi else to_index, block)
        new = spec.with_stage(si, replace(spec.stages[si], blocks=tuple(blocks)))
        final = to_index - 1 if to_index > bi else to_index
        return new, f"Move block: stage {si + 1}, block {bi + 1} to block {final + 1}", (si, final)
    target = spec.stages[to_stage]
    to_index = max(0, min(to_index, len(target.blocks)))
    spec2 = spec.with_stage(to_stage, replace(target, blocks=target.blocks[:to_index] + (block,)
                                              + target.blocks[to_index:]))
    source = spec2.stages[si]
    rest = source.blocks[:bi] + source.blocks[bi + 1:]
    landed = (to_stage, to_index)
    if rest:
        spec2 = spec2.with_stage(si, replace(source, blocks=rest))
    else:
        spec2 = replace(spec2, stages=spec2.stages[:si] + spec2.stages[si + 1:])
        if to_stage > si:
            landed = (to_stage - 1, to_index)
    return (spec2, f"Move block: stage {si + 1}, block {bi + 1} to stage {to_stage + 1}, "
                   f"block {to_index + 1}", landed)


def set_stage_skips(spec: NetworkSpec, si: int, on: bool) -> tuple[NetworkSpec, str]:
    """Every skip of stage ``si`` on or off."""
    where = [(si, bi) for bi in range(len(spec.stages[si].blocks))]
    return spec.with_skips(on, where), f"Skips {'on' if on else 'off'}: stage {si + 1}"


# -- the inspector's fields ----------------------------------------------------------------

_BLOCK_FIELD_WORDS = {"stride_placement": "stride placement", "zero_init": "zero-init",
                      "pad_placement": "zero-channel placement"}


def set_block_field(spec: NetworkSpec, si: int, bi: int, name: str, value) -> tuple[NetworkSpec, str]:
    """One field of a block (width, stride, shortcut, skip, stride_placement, zero_init, pad_placement)."""
    block = spec.block(si, bi)
    label = _BLOCK_FIELD_WORDS.get(name, name)
    return (spec.with_block(si, bi, replace(block, **{name: value})),
            f"Set {label} of stage {si + 1}, block {bi + 1}")


def set_block_kind(spec: NetworkSpec, si: int, bi: int, kind: BlockKind) -> tuple[NetworkSpec, str]:
    """Change a block's kind. A plain block cannot keep an explicit shortcut, so it gets
    "auto" back; a plain block that had "none" turns residual with "auto" as well."""
    block = spec.block(si, bi)
    new = replace(block, kind=kind)
    if kind is BlockKind.PLAIN and block.shortcut not in (ShortcutKind.AUTO, ShortcutKind.NONE):
        new = replace(new, shortcut=ShortcutKind.AUTO)
    if kind is not BlockKind.PLAIN and block.kind is BlockKind.PLAIN and block.shortcut is ShortcutKind.NONE:
        new = replace(new, shortcut=ShortcutKind.AUTO)
    return spec.with_block(si, bi, new), f"Make stage {si + 1}, block {bi + 1} {kind.label.lower()}"


def set_stage_count(spec: NetworkSpec, si: int, count: int) -> tuple[NetworkSpec, str]:
    """Stage ``si`` with ``count`` blocks: cut from the end, or repeat its last block.

    A copy of a stage's only block gets stride 1 (it must not shrink the map a second
    time). An empty stage (possible in a file) fills with basic blocks at the channels
    it receives (``channels_before``), so it stays valid.
    """
    stage = spec.stages[si]
    blocks = list(stage.blocks)
    if count < len(blocks):
        blocks = blocks[:count]
    elif blocks:
        last = blocks[-1]
        copy = replace(last, stride=1) if len(blocks) == 1 else last
        blocks += [copy] * (count - len(blocks))
    else:
        blocks = [BlockSpec(width=channels_before(spec, si))] * count
    return spec.with_stage(si, replace(stage, blocks=tuple(blocks))), f"Set stage {si + 1} to {count} blocks"


def set_stage_width(spec: NetworkSpec, si: int, width: int) -> tuple[NetworkSpec, str]:
    """Every block of stage ``si`` at branch width ``width``."""
    stage = spec.stages[si]
    blocks = tuple(replace(b, width=width) for b in stage.blocks)
    return spec.with_stage(si, replace(stage, blocks=blocks)), f"Set width of stage {si + 1}"


def set_stage_stride(spec: NetworkSpec, si: int, stride: int) -> tuple[NetworkSpec, str]:
    """The stride of stage ``si`` (its first block's); an empty stage is left as it is."""
    stage = spec.stages[si]
    if not stage.blocks:
        return spec, f"Set stride of stage {si + 1}"
    blocks = (replace(stage.blocks[0], stride=stride),) + stage.blocks[1:]
    return spec.with_stage(si, replace(stage, blocks=blocks)), f"Set stride of stage {si + 1}"


def set_stem_field(spec: NetworkSpec, name: str, value) -> tuple[NetworkSpec, str]:
    """One field of the stem (kind, width, activate)."""
    return replace(spec, stem=replace(spec.stem, **{name: value})), f"Set stem {name}"


_HEAD_FIELD_WORDS = {"num_classes": "classes", "pre_norm": "pre-norm"}


def set_head_field(spec: NetworkSpec, name: str, value) -> tuple[NetworkSpec, str]:
    """One field of the head (num_classes, pre_norm)."""
    return replace(spec, head=replace(spec.head, **{name: value})), f"Set head {_HEAD_FIELD_WORDS[name]}"


_NETWORK_FIELD_WORDS = {"name": "network name", "input_shape": "input shape", "norm": "normalisation",
                        "zero_init_residual": "zero-init residual"}


def set_network_field(spec: NetworkSpec, name: str, value) -> tuple[NetworkSpec, str]:
    """One network-wide field (name, input_shape, norm, zero_init_residual)."""
    if name == "input_shape":
        value = tuple(value)
    return replace(spec, **{name: value}), f"Set {_NETWORK_FIELD_WORDS[name]}"


def set_init(spec: NetworkSpec, *, kind=None, std: float | None = None) -> tuple[NetworkSpec, str]:
    """The initialisation's kind, or its standard deviation (Gaussian initialisation)."""
    if kind is not None:
        return replace(spec, init=replace(spec.init, kind=kind)), "Set initialisation"
    return replace(spec, init=replace(spec.init, std=std)), "Set initialisation std"
