"""The diagram's structural edits as pure functions: old spec in, new spec and undo text out.

Kept free of Qt so they are easy to reason about; the view turns each result into
one ``document.edit`` call (one undo step). Indices are 0-based; texts count from 1.
"""
from __future__ import annotations

from dataclasses import replace

from ...spec import BlockKind, BlockSpec, NetworkSpec, StageSpec


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
        width = _channels_before(spec, si)
    return BlockSpec(kind=kind, width=width, stride=1)


def insert_block(spec: NetworkSpec, si: int, index: int, kind: BlockKind) -> tuple[NetworkSpec, str]:
    stage = spec.stages[si]
    index = max(0, min(index, len(stage.blocks)))
    block = new_block_for(spec, si, index, kind)
    blocks = stage.blocks[:index] + (block,) + stage.blocks[index:]
    new = spec.with_stage(si, replace(stage, blocks=blocks))
    return new, f"Add {kind.label.lower()} block: stage {si + 1}, block {index + 1}"


def _channels_before(spec: NetworkSpec, si: int) -> int:
    """Channels entering stage ``si``: the previous non-empty stage's output, else the stem's."""
    for stage in reversed(spec.stages[:si]):
        if stage.blocks:
            return stage.blocks[-1].out_channels
    return spec.stem.width if spec.stem.width else spec.input_shape[0]


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
    channels = _channels_before(spec, index)
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
