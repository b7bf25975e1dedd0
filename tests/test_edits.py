"""The edit rules (explorer.spec.edits), called directly: what each edit makes of a network.

The diagram, its menu and the inspector only hand these results to the document, so the
rules a user meets are all here. Most cases also check that the edited network is still
valid (``analyse`` accepts it) when the edit promises that.
"""
from dataclasses import replace

import pytest

from explorer.spec import (BlockKind, BlockSpec, InitKind, Norm, ShortcutKind, StageSpec, StemKind, analyse, edits,
                           preset)


@pytest.fixture
def r20():
    return preset("resnet20")  # three stages of three basic blocks, 16/32/64 wide


def widths(spec):
    return [[b.width for b in stage.blocks] for stage in spec.stages]


def no_stem(spec, stem_width=16):
    """The same network without a stem; the stem keeps a width field that no longer counts."""
    return replace(spec, stem=replace(spec.stem, kind=StemKind.NONE, width=stem_width))


# -- skips -------------------------------------------------------------------------------

def test_toggle_skip_flips_one_block_and_says_which(r20):
    new, text = edits.toggle_skip(r20, 1, 2)
    assert not new.block(1, 2).skip
    assert sum(not b.skip for _, _, b in new.iter_blocks()) == 1
    assert text == "Skip off: stage 2, block 3"
    back, text = edits.toggle_skip(new, 1, 2)
    assert back == r20 and text == "Skip on: stage 2, block 3"


def test_stage_skips_switch_one_stage_only(r20):
    new, text = edits.set_stage_skips(r20, 0, False)
    assert [b.skip for b in new.stages[0].blocks] == [False] * 3
    assert all(b.skip for s in new.stages[1:] for b in s.blocks)
    assert text == "Skips off: stage 1"


# -- insert, add, delete, duplicate ----------------------------------------------------

def test_insert_block_takes_its_neighbours_width_and_stride_one(r20):
    new, text = edits.insert_block(r20, 1, 0, BlockKind.BASIC)
    assert widths(new)[1] == [32, 32, 32, 32]
    assert new.block(1, 0).stride == 1
    assert text == "Add basic block: stage 2, block 1"


def test_insert_block_clamps_the_position_to_the_stage(r20):
    new, _ = edits.insert_block(r20, 0, 99, BlockKind.BASIC)
    assert len(new.stages[0].blocks) == 4 and new.stages[0].blocks[:3] == r20.stages[0].blocks


def test_add_stage_keeps_the_network_valid_and_takes_the_previous_kind(r20):
    new, text = edits.add_stage(r20, 3)
    analyse(new)
    assert len(new.stages) == 4 and text == "Add stage 4"
    added = new.stages[3].blocks
    assert len(added) == 1 and added[0].kind is BlockKind.BASIC and added[0].width == 64


def test_add_stage_after_bottlenecks_keeps_the_channels():
    spec = preset("resnet50")
    new, _ = edits.add_stage(spec, len(spec.stages))
    analyse(new)
    added = new.stages[-1].blocks[0]
    assert added.kind is BlockKind.BOTTLENECK and added.out_channels == spec.stages[-1].blocks[-1].out_channels


def test_a_first_stage_without_a_stem_receives_the_input_channels(r20):
    """Without a stem the first stage receives the image's channels, whatever the stem's
    (unused) width field says: adding a stage there keeps the network valid."""
    spec = no_stem(r20)
    assert edits.channels_before(spec, 0) == 3
    assert edits.channels_before(r20, 0) == 16
    new, _ = edits.add_stage(spec, 0)
    analyse(new)
    assert new.stages[0].blocks[0].width == 3


def test_delete_block_and_the_stage_its_last_block_leaves(r20):
    new, text = edits.delete_block(r20, 2, 1)
    assert widths(new)[2] == [64, 64] and text == "Delete block: stage 3, block 2"
    one = r20.with_stage(1, StageSpec(blocks=(r20.block(1, 0),)))
    new, text = edits.delete_block(one, 1, 0)
    assert len(new.stages) == 2 and text == "Delete stage 2 (its only block)"


def test_duplicating_a_downsampling_block_does_not_downsample_twice(r20):
    new, text = edits.duplicate_block(r20, 1, 0)
    assert [b.stride for b in new.stages[1].blocks] == [2, 1, 1, 1]
    assert analyse(new).output_shape == analyse(r20).output_shape
    assert text == "Duplicate block: stage 2, block 1"


def test_duplicate_and_delete_stage(r20):
    new, text = edits.duplicate_stage(r20, 2)
    assert len(new.stages) == 4 and new.stages[3] == r20.stages[2] and text == "Duplicate stage 3"
    new, text = edits.delete_stage(new, 3)
    assert new == r20 and text == "Delete stage 4"


# -- move -----------------------------------------------------------------------------------

@pytest.mark.parametrize("to_index, order, landed", [
    (0, [2, 0, 1], 0),   # last block to the front
    (1, [0, 2, 1], 1),
    (2, None, None),     # before itself: no move
    (3, None, None),     # after itself: no move
])
def test_move_within_a_stage(r20, to_index, order, landed):
    # tell the blocks apart by width
    stage = StageSpec(blocks=tuple(BlockSpec(width=w) for w in (16, 17, 18)))
    spec = r20.with_stage(0, stage)
    result = edits.move_block(spec, 0, 2, 0, to_index)
    if order is None:
        assert result is None
        return
    new, text, where = result
    assert [b.width for b in new.stages[0].blocks] == [(16, 17, 18)[i] for i in order]
    assert where == (0, landed)
    assert text == f"Move block: stage 1, block 3 to block {landed + 1}"


def test_move_to_another_stage(r20):
    new, text, where = edits.move_block(r20, 2, 2, 0, 1)
    assert [len(s.blocks) for s in new.stages] == [4, 3, 2]
    assert new.block(0, 1) == r20.block(2, 2)
    assert where == (0, 1)
    assert text == "Move block: stage 3, block 3 to stage 1, block 2"


def test_moving_a_stages_only_block_forward_removes_the_stage_and_counts_it(r20):
    spec = r20.with_stage(0, StageSpec(blocks=(r20.block(0, 0),)))
    new, _, where = edits.move_block(spec, 0, 0, 2, 3)
    assert len(new.stages) == 2
    assert where == (1, 3)  # stage 3 became stage 2
    assert new.block(*where) == spec.block(0, 0)


# -- the inspector's fields ----------------------------------------------------------------

def test_block_field_edits_one_block(r20):
    new, text = edits.set_block_field(r20, 0, 1, "width", 24)
    assert widths(new)[0] == [16, 24, 16] and text == "Set width of stage 1, block 2"
    _, text = edits.set_block_field(r20, 0, 1, "stride_placement", r20.block(0, 1).stride_placement)
    assert text == "Set stride placement of stage 1, block 2"


@pytest.mark.parametrize("before, kind, after", [
    (ShortcutKind.PROJECTION, BlockKind.PLAIN, ShortcutKind.AUTO),  # plain cannot keep a projection
    (ShortcutKind.NONE, BlockKind.PLAIN, ShortcutKind.NONE),
    (ShortcutKind.PROJECTION, BlockKind.BOTTLENECK, ShortcutKind.PROJECTION),
])
def test_block_kind_and_its_shortcut(r20, before, kind, after):
    spec = r20.with_block(0, 0, replace(r20.block(0, 0), shortcut=before))
    new, text = edits.set_block_kind(spec, 0, 0, kind)
    assert new.block(0, 0).kind is kind and new.block(0, 0).shortcut is after
    assert text == f"Make stage 1, block 1 {kind.label.lower()}"


def test_a_plain_block_without_shortcut_made_residual_gets_auto(r20):
    spec = r20.with_block(0, 0, replace(r20.block(0, 0), kind=BlockKind.PLAIN, shortcut=ShortcutKind.NONE))
    new, _ = edits.set_block_kind(spec, 0, 0, BlockKind.BASIC)
    assert new.block(0, 0).shortcut is ShortcutKind.AUTO


def test_stage_count_cuts_and_repeats_the_last_block(r20):
    new, text = edits.set_stage_count(r20, 1, 5)
    assert [b.stride for b in new.stages[1].blocks] == [2, 1, 1, 1, 1] and text == "Set stage 2 to 5 blocks"
    new, _ = edits.set_stage_count(r20, 1, 1)
    assert new.stages[1].blocks == (r20.block(1, 0),)
    analyse(new)


def test_growing_a_one_block_stage_copies_it_without_its_stride(r20):
    spec = r20.with_stage(1, StageSpec(blocks=(r20.block(1, 0),)))
    new, _ = edits.set_stage_count(spec, 1, 3)
    assert [b.stride for b in new.stages[1].blocks] == [2, 1, 1]
    analyse(new)


@pytest.mark.parametrize("stem", ["cifar", "none"])
def test_an_empty_stage_fills_at_the_channels_it_receives(r20, stem):
    """The inspector's fill and the diagram's insert agree, with and without a stem."""
    spec = r20 if stem == "cifar" else no_stem(r20)
    spec = spec.with_stage(0, StageSpec(blocks=()))
    new, _ = edits.set_stage_count(spec, 0, 2)
    expected = 16 if stem == "cifar" else 3
    assert [b.width for b in new.stages[0].blocks] == [expected, expected]
    assert edits.new_block_for(spec, 0, 0, BlockKind.BASIC).width == expected


def test_stage_width_and_stride(r20):
    new, text = edits.set_stage_width(r20, 2, 48)
    assert widths(new)[2] == [48, 48, 48] and text == "Set width of stage 3"
    new, text = edits.set_stage_stride(r20, 2, 1)
    assert [b.stride for b in new.stages[2].blocks] == [1, 1, 1] and text == "Set stride of stage 3"
    assert analyse(new).output_shape == analyse(r20).output_shape
    empty = r20.with_stage(2, StageSpec(blocks=()))
    assert edits.set_stage_stride(empty, 2, 2)[0] == empty


def test_stem_head_network_and_init_fields(r20):
    new, text = edits.set_stem_field(r20, "width", 32)
    assert new.stem.width == 32 and text == "Set stem width"
    new, text = edits.set_head_field(r20, "num_classes", 100)
    assert new.head.num_classes == 100 and text == "Set head classes"
    new, text = edits.set_network_field(r20, "input_shape", [1, 28, 28])
    assert new.input_shape == (1, 28, 28) and text == "Set input shape"
    new, text = edits.set_network_field(r20, "norm", Norm.NONE)
    assert new.norm is Norm.NONE and text == "Set normalisation"
    new, text = edits.set_init(r20, kind=InitKind.GAUSSIAN)
    assert new.init.kind is InitKind.GAUSSIAN and text == "Set initialisation"
    new, text = edits.set_init(new, std=0.01)
    assert new.init.std == 0.01 and new.init.kind is InitKind.GAUSSIAN and text == "Set initialisation std"
