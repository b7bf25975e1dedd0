"""Residual size: ||F(x)||/||s(x)|| and cos(F(x), s(x)) per block, checked on hand-built blocks."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from explorer.analysis.gradflow import probe, residual_sizes, seeded_batch
from explorer.analysis.residual import OK, PLAIN, SKIP_OFF
from explorer.nn import build
from explorer.nn.blocks import BasicBlock
from explorer.spec import preset


def identity_kernel(channels: int, scale: float) -> torch.Tensor:
    w = torch.zeros(channels, channels, 3, 3)
    for c in range(channels):
        w[c, c, 1, 1] = scale
    return w


def hand_block(a: float, shortcut: nn.Module | None) -> BasicBlock:
    """No BN; conv1 = identity, conv2 = a * identity, so for x >= 0 the branch is F(x) = a * x."""
    block = BasicBlock(3, 3, 1, shortcut, use_bn=False)
    with torch.no_grad():
        block.conv1.weight.copy_(identity_kernel(3, 1.0))
        block.conv2.weight.copy_(identity_kernel(3, a))
        block.conv1.bias.zero_()
        block.conv2.bias.zero_()
    return block


@pytest.fixture
def x():
    return torch.rand(5, 3, 6, 6, generator=torch.Generator().manual_seed(0)) + 0.1  # positive: ReLU keeps it


@pytest.mark.parametrize("a", [0.25, -0.5, 2.0])
def test_identity_shortcut_ratio_and_cosine_are_the_branch_scale(x, a):
    result = residual_sizes(nn.Sequential(hand_block(a, nn.Identity())), x, images=True)
    assert result.status == [OK]
    assert result.ratio[0] == pytest.approx(abs(a), rel=1e-5)
    assert result.cosine[0] == pytest.approx(np.sign(a), abs=1e-5)
    images = result.images[0]
    mean = x[0].mean(0).numpy()
    np.testing.assert_allclose(images.input, mean, rtol=1e-5)
    np.testing.assert_allclose(images.branch, a * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(images.total, (1 + a) * mean, rtol=1e-5, atol=1e-6)


def test_a_projection_shortcut_is_compared_with_its_output_not_the_input(x):
    projection = nn.Conv2d(3, 3, 1, bias=False)
    with torch.no_grad():
        projection.weight.copy_(2.0 * torch.eye(3).reshape(3, 3, 1, 1))  # s(x) = 2x
    result = residual_sizes(nn.Sequential(hand_block(0.5, projection)), x)
    assert result.ratio[0] == pytest.approx(0.25, rel=1e-5) and result.cosine[0] == pytest.approx(1.0, abs=1e-5)


def test_the_ratio_is_averaged_over_images():
    block = hand_block(0.5, nn.Identity())
    x = torch.rand(2, 3, 4, 4) + 0.1
    ratio = residual_sizes(nn.Sequential(block), x).ratio[0]
    assert ratio == pytest.approx(0.5, rel=1e-5)
    with torch.no_grad():  # F = 0.5 x + 1: the ratio now differs from image to image
        block.conv2.bias.fill_(1.0)
    per_image = []
    for i in range(2):
        f = 0.5 * x[i] + 1.0
        per_image.append(float(f.norm() / x[i].norm()))
    assert residual_sizes(nn.Sequential(block), x).ratio[0] == pytest.approx(np.mean(per_image), rel=1e-5)


def test_plain_blocks_and_switched_off_skips_are_undefined(x):
    plain = hand_block(0.5, None)
    off = hand_block(0.5, nn.Identity())
    off.set_skip(False)
    result = residual_sizes(nn.Sequential(plain, off), x, images=True)
    assert result.status == [PLAIN, SKIP_OFF]
    assert np.isnan(result.ratio).all() and np.isnan(result.cosine).all()
    assert result.to_rows(["b1", "b2"])[0] == {"label": "b1", "ratio": None, "cosine": None,
                                                "undefined_because": "plain block"}
    # the images still show the block: the "sum" is F(x) alone, since no shortcut is added
    np.testing.assert_allclose(result.images[0].total, result.images[0].branch)


def test_the_probe_measures_the_same_in_its_own_forward_and_restores_the_model():
    spec = preset("resnet20")
    model = build(spec, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = seeded_batch(spec.input_shape, 10, 8)
    from_probe = probe(model, x, y, residual=True).residual
    alone = residual_sizes(model, x)
    np.testing.assert_allclose(from_probe.ratio, alone.ratio, rtol=1e-5)
    np.testing.assert_allclose(from_probe.cosine, alone.cosine, rtol=1e-4, atol=1e-6)
    assert from_probe.batch == 8
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_channels_last_memory_gives_the_same_sizes_as_the_usual_order():
    """The panel probes in channels_last order; each image's sums do not depend on it."""
    spec = preset("resnet20")
    x, _ = seeded_batch(spec.input_shape, 10, 4)
    usual = residual_sizes(build(spec, seed=0), x)
    last = residual_sizes(build(spec, seed=0).to(memory_format=torch.channels_last),
                          x.contiguous(memory_format=torch.channels_last))
    assert np.isfinite(usual.ratio).all()
    np.testing.assert_allclose(last.ratio, usual.ratio, rtol=1e-5)
    np.testing.assert_allclose(last.cosine, usual.cosine, rtol=1e-4, atol=1e-6)
