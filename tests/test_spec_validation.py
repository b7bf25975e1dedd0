"""Shape inference and validation of designs built in code (the editor's path)."""
from dataclasses import replace

import pytest

from explorer.spec import (BlockKind, BlockSpec, NetworkSpec, ShortcutKind, SpecError, StageSpec,
                           StemKind, StemSpec, analyse, preset, problems, try_analyse)


def test_shapes_through_resnet50():
    info = analyse(preset("resnet50"))
    assert info.stem_shape == (64, 56, 56)
    first = info.blocks[0]
    assert (first.in_shape, first.out_shape, first.shortcut) == ((64, 56, 56), (256, 56, 56),
                                                                 ShortcutKind.PROJECTION)
    assert info.blocks[1].shortcut is ShortcutKind.IDENTITY
    assert info.blocks[3].out_shape == (512, 28, 28)
    assert info.feature_shape == (2048, 7, 7)
    assert info.blocks[-1].label == "stage 4, block 3"


def test_identity_across_a_shape_change_names_block_and_shapes():
    spec = preset("resnet18")
    spec = spec.with_block(2, 0, replace(spec.block(2, 0), shortcut=ShortcutKind.IDENTITY))
    with pytest.raises(SpecError) as info:
        analyse(spec)
    assert info.value.stage == 2 and info.value.block == 0
    assert str(info.value).startswith("stage 3, block 1:")
    assert "128x28x28" in str(info.value) and "256x14x14" in str(info.value)


def test_problems_reports_every_broken_block_in_one_pass():
    spec = preset("resnet20")
    spec = spec.with_block(1, 0, replace(spec.block(1, 0), shortcut=ShortcutKind.IDENTITY))
    spec = spec.with_block(2, 0, replace(spec.block(2, 0), shortcut=ShortcutKind.IDENTITY))
    spec = spec.with_block(0, 2, replace(spec.block(0, 2), width=0))
    found = problems(spec)
    assert [(e.stage, e.block) for e in found] == [(0, 2), (1, 0), (2, 0)]
    info, errors = try_analyse(spec)
    assert info is None and len(errors) == 3
    assert problems(preset("resnet20")) == []


@pytest.mark.parametrize("mutate,expected", [
    (lambda s: s.with_block(0, 0, replace(s.block(0, 0), width=-3)), "width"),
    (lambda s: s.with_block(0, 0, replace(s.block(0, 0), stride=0)), "stride"),
    (lambda s: s.with_block(0, 0, replace(s.block(0, 0), kind="transformer")), "unknown block kind"),
    (lambda s: s.with_block(0, 0, replace(s.block(0, 0), shortcut="tunnel")), "unknown shortcut"),
    (lambda s: s.with_stage(1, StageSpec(blocks=())), "at least one block"),
    (lambda s: replace(s, input_shape=(3, 0, 32)), "height and width"),
    (lambda s: replace(s, input_shape=(3, 32)), "three whole numbers"),
    (lambda s: replace(s, stem=StemSpec(width=0)), "stem width"),
    (lambda s: replace(s, head=replace(s.head, num_classes=0)), "classes"),
])
def test_impossible_designs_raise_the_domain_error(mutate, expected):
    with pytest.raises(SpecError, match=expected):
        analyse(mutate(preset("resnet20")))


def test_a_stride_that_would_shrink_the_map_below_one_pixel():
    spec = replace(preset("resnet20"), input_shape=(3, 4, 4))
    spec = spec.with_block(2, 0, replace(spec.block(2, 0), stride=4))
    with pytest.raises(SpecError, match="below 1x1") as info:
        analyse(spec)
    assert (info.value.stage, info.value.block) == (2, 0)


def test_mixing_pre_and_post_activation_is_a_warning_not_an_error():
    spec = preset("resnet20")
    spec = spec.with_block(0, 1, replace(spec.block(0, 1), kind=BlockKind.PREACT_BASIC))
    info = analyse(spec)
    assert any("mixes pre- and post-activation" in str(w) for w in info.warnings)
    assert str(info.warnings[0]).startswith("stage 1:")


def test_stemless_network_and_custom_design():
    spec = NetworkSpec(
        name="tiny", input_shape=(1, 28, 28), stem=StemSpec(kind=StemKind.NONE),
        stages=(StageSpec(blocks=(BlockSpec(BlockKind.BASIC, 8, 1), BlockSpec(BlockKind.BOTTLENECK, 4, 2))),))
    info = analyse(spec)
    assert info.stem_shape == (1, 28, 28)
    assert info.blocks[0].shortcut is ShortcutKind.PROJECTION  # 1 -> 8 channels
    assert info.blocks[1].out_shape == (16, 14, 14)
    assert info.depth == 2 + 3 + 1


def test_skip_flags_are_data():
    spec = preset("resnet56").with_skips(False)
    info = analyse(spec)
    assert not any(b.skip_active for b in info.blocks)
    assert spec.with_skips(True) == preset("resnet56")
