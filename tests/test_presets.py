"""Preset counts against the published figures (torchvision's model tables and He et al. 2015): exact parameters, MACs within 1%."""
import pytest

from explorer.spec import PRESETS, BlockKind, ShortcutKind, analyse, preset, replace_shortcuts

IMAGENET = {
    # name: (params with 1000 classes, GMACs at 224x224)
    "resnet18": (11_689_512, 1.81),
    "resnet34": (21_797_672, 3.66),
    "resnet50": (25_557_032, 4.09),
    "resnet101": (44_549_160, 7.80),
    "resnet152": (60_192_808, 11.51),
}

CIFAR = {
    # name: (params with zero-pad shortcuts, with projections where the shape changes)
    "resnet20": (269_722, 272_474),
    "resnet32": (464_154, 466_906),
    "resnet44": (658_586, 661_338),
    "resnet56": (853_018, 855_770),
    "resnet110": (1_727_962, 1_730_714),
    "resnet1202": (19_421_274, 19_424_026),
}


@pytest.mark.parametrize("name", IMAGENET)
def test_imagenet_counts_match_torchvision(name):
    params, gmacs = IMAGENET[name]
    info = analyse(preset(name))
    assert info.params == params
    assert info.macs / 1e9 == pytest.approx(gmacs, rel=0.01)
    assert info.output_shape == (1000,)
    assert info.feature_shape[1:] == (7, 7)


@pytest.mark.parametrize("name", CIFAR)
def test_cifar_counts_match_paper(name):
    zero_pad, projection = CIFAR[name]
    spec = preset(name)
    assert analyse(spec).params == zero_pad
    assert analyse(replace_shortcuts(spec, ShortcutKind.AUTO)).params == projection
    info = analyse(spec)
    assert info.depth == int(name.removeprefix("resnet"))
    # zero-pad only where the shape changes; identity elsewhere
    kinds = [b.shortcut for b in info.blocks]
    assert kinds.count(ShortcutKind.ZERO_PAD) == 2
    assert set(kinds) == {ShortcutKind.ZERO_PAD, ShortcutKind.IDENTITY}


@pytest.mark.parametrize("depth", [20, 56, 110])
def test_plain_nets_have_the_same_weights_and_no_shortcuts(depth):
    plain = analyse(preset(f"plain{depth}"))
    res = analyse(preset(f"resnet{depth}"))
    assert plain.params == res.params  # zero-pad shortcuts carry no parameters
    assert plain.depth == depth
    assert all(not b.has_shortcut for b in plain.blocks)


def test_preact_nets():
    r164 = analyse(preset("preact_resnet164"))
    r1001 = analyse(preset("preact_resnet1001"))
    assert r164.depth == 164 and r1001.depth == 1001
    assert round(r164.params / 1e6, 1) == 1.7
    assert 10.2e6 <= r1001.params <= 10.4e6
    assert all(b.kind is BlockKind.PREACT_BOTTLENECK for b in r164.blocks)
    assert preset("preact_resnet164").head.pre_norm


def test_every_preset_is_valid_and_warning_free():
    for name in PRESETS:
        info = analyse(preset(name))
        assert not info.warnings, (name, info.warnings)
        assert info.params > 0 and info.macs > 0
