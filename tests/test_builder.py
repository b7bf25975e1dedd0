"""The torch builder: counts, torchvision layout, run-time skips, scripting and export."""
import re
from dataclasses import replace

import pytest
import torch

from explorer.nn import build, count_parameters
from explorer.spec import (PRESETS, BlockKind, InitKind, InitSpec, Norm, StridePlacement, analyse,
                           preset)


@pytest.mark.parametrize("name", list(PRESETS))
def test_built_model_has_the_counted_parameters(name):
    spec = preset(name)
    model = build(spec, seed=0)
    assert count_parameters(model) == analyse(spec).params
    assert len(model.blocks()) == spec.num_blocks


def _torchvision_layout(counts, bottleneck):
    """The state_dict keys and shapes torchvision's resnet builder produces, derived by rule."""
    expected = {"conv1.weight": (64, 3, 7, 7)}
    expected.update(_bn("bn1", 64))
    in_c = 64
    for layer, (n, width) in enumerate(zip(counts, (64, 128, 256, 512)), start=1):
        out_c = width * (4 if bottleneck else 1)
        for i in range(n):
            p = f"layer{layer}.{i}"
            if bottleneck:
                convs = [(width, in_c, 1), (width, width, 3), (out_c, width, 1)]
            else:
                convs = [(width, in_c, 3), (width, width, 3)]
            for j, (o, c, k) in enumerate(convs, start=1):
                expected[f"{p}.conv{j}.weight"] = (o, c, k, k)
                expected.update(_bn(f"{p}.bn{j}", o))
            if i == 0 and (layer > 1 or in_c != out_c):
                expected[f"{p}.downsample.0.weight"] = (out_c, in_c, 1, 1)
                expected.update(_bn(f"{p}.downsample.1", out_c))
            in_c = out_c
    expected["fc.weight"] = (1000, in_c)
    expected["fc.bias"] = (1000,)
    return expected


def _bn(prefix, c):
    return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,),
            f"{prefix}.running_var": (c,), f"{prefix}.num_batches_tracked": ()}


@pytest.mark.parametrize("name,counts,bottleneck", [
    ("resnet18", (2, 2, 2, 2), False), ("resnet34", (3, 4, 6, 3), False),
    ("resnet50", (3, 4, 6, 3), True), ("resnet101", (3, 4, 23, 3), True)])
def test_state_dict_matches_torchvision_names_shapes_and_order(name, counts, bottleneck):
    """Order too: tools that map weights by position (ONNX initialisers, other frameworks) rely on it.
    In torchvision a block lists conv1, bn1, conv2, bn2[, conv3, bn3], then downsample.0 and .1."""
    state = build(preset(name)).state_dict()
    got = [(k, tuple(v.shape)) for k, v in state.items()]
    assert got == list(_torchvision_layout(counts, bottleneck).items())
    params = [k for k, _ in build(preset(name)).named_parameters()]
    assert params == [k for k in _torchvision_layout(counts, bottleneck) if not k.endswith(("running_mean",
                      "running_var", "num_batches_tracked"))]


def _torchvision_forward(sd, x, counts, bottleneck):
    """torchvision's ResNet forward, written out with functional ops on a bare state_dict:
    stem conv 7x7/2, max-pool, blocks (a bottleneck's stride on its 3x3, "v1.5"), ReLU after
    the sum, global average pool, fc. Independent of the app's modules."""
    F = torch.nn.functional

    def bn(t, p):
        return F.batch_norm(t, sd[f"{p}.running_mean"], sd[f"{p}.running_var"], sd[f"{p}.weight"],
                            sd[f"{p}.bias"], training=False, eps=1e-5)

    def conv(t, p, stride=1):
        w = sd[f"{p}.weight"]
        return F.conv2d(t, w, stride=stride, padding=w.shape[-1] // 2)

    x = F.max_pool2d(F.relu(bn(conv(x, "conv1", 2), "bn1")), 3, 2, 1)
    for layer, n in enumerate(counts, start=1):
        for i in range(n):
            p, stride = f"layer{layer}.{i}", (2 if layer > 1 and i == 0 else 1)
            if bottleneck:
                out = F.relu(bn(conv(x, f"{p}.conv1"), f"{p}.bn1"))
                out = F.relu(bn(conv(out, f"{p}.conv2", stride), f"{p}.bn2"))
                out = bn(conv(out, f"{p}.conv3"), f"{p}.bn3")
            else:
                out = F.relu(bn(conv(x, f"{p}.conv1", stride), f"{p}.bn1"))
                out = bn(conv(out, f"{p}.conv2"), f"{p}.bn2")
            shortcut = (bn(conv(x, f"{p}.downsample.0", stride), f"{p}.downsample.1")
                        if f"{p}.downsample.0.weight" in sd else x)
            x = F.relu(out + shortcut)
    return F.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1), sd["fc.weight"], sd["fc.bias"])


@pytest.mark.parametrize("name,counts,bottleneck", [("resnet18", (2, 2, 2, 2), False),
                                                    ("resnet50", (3, 4, 6, 3), True)])
def test_a_torchvision_file_computes_what_torchvision_computes(tmp_path, name, counts, bottleneck):
    """Weights in torchvision's layout, imported the way the app imports them, give the outputs
    torchvision's forward gives with the same weights (BN statistics made non-trivial)."""
    from explorer.export import import_torchvision_weights

    gen = torch.Generator().manual_seed(3)
    state = {}
    for key, value in build(preset(name), seed=1).state_dict().items():
        if key.endswith("running_mean") or key.endswith(".bias") and "bn" in key:
            value = 0.1 * torch.randn(value.shape, generator=gen)
        elif key.endswith("running_var"):
            value = 0.5 + torch.rand(value.shape, generator=gen)
        state[key] = value
    path = tmp_path / f"{name}.pth"
    torch.save(state, path)

    model = import_torchvision_weights(preset(name), path).eval()
    x = torch.randn(2, 3, 64, 64, generator=gen)
    with torch.no_grad():
        got = model(x)
        want = _torchvision_forward(torch.load(path, weights_only=True), x, counts, bottleneck)
    assert got.shape == (2, 1000)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_skip_toggle_changes_output_and_toggling_back_restores_it_exactly():
    torch.manual_seed(0)
    model = build(preset("resnet20"), seed=0).eval()
    x = torch.randn(4, 3, 32, 32)
    before = model(x)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    block = model.block_at(1, 0)  # the zero-pad transition block
    block.set_skip(False)
    off = model(x)
    assert (off - before).abs().max() > 1e-3
    block.set_skip(True)
    assert torch.equal(model(x), before)
    assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())


def test_spec_skips_switch_the_live_model():
    spec = preset("resnet20").with_skips(False, where=[(0, 1), (2, 2)])
    model = build(preset("resnet20"))
    model.apply_spec_skips(spec)
    assert model.skips() == [True, False, True, True, True, True, True, True, False]


def test_plain_blocks_cannot_get_a_skip():
    model = build(preset("plain20"))
    assert not any(model.skips())
    with pytest.raises(ValueError):
        model.blocks()[0].set_skip(True)


def test_zero_init_makes_every_block_start_as_its_shortcut():
    spec = replace(preset("resnet20"), zero_init_residual=True)
    model = build(spec, seed=0).eval()
    block = model.block_at(0, 1)
    x = torch.randn(2, 16, 32, 32).relu()  # a post-ReLU input, as blocks see
    assert torch.allclose(block(x), x)
    pre = build(replace(preset("preact_resnet164"), zero_init_residual=True), seed=0).eval()
    b = pre.block_at(1, 3)
    y = torch.randn(2, 128, 16, 16)
    assert torch.equal(b(y), y)


def test_norm_none_and_gaussian_init():
    spec = replace(preset("plain20"), norm=Norm.NONE, init=InitSpec(InitKind.GAUSSIAN, 0.01))
    model = build(spec, seed=0)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert count_parameters(model) == analyse(spec).params
    w = model.block_at(0, 0).conv1.weight
    assert abs(w.std().item() - 0.01) < 0.002
    assert all(m.bias is not None for m in model.modules() if isinstance(m, torch.nn.Conv2d))


def test_stride_placement_moves_the_stride_not_the_shapes():
    spec = preset("resnet50")
    paper = spec.with_block(1, 0, replace(spec.block(1, 0), stride_placement=StridePlacement.CONV1X1))
    a, b = analyse(spec), analyse(paper)
    assert a.blocks[3].out_shape == b.blocks[3].out_shape
    assert a.params == b.params and a.macs != b.macs
    block = build(paper).block_at(1, 0)
    assert block.conv1.stride == (2, 2) and block.conv2.stride == (1, 1)


@pytest.mark.parametrize("name", ["resnet20", "preact_resnet18", "plain20"])
def test_scripts_exports_and_runs_channels_last_and_bf16(name):
    spec = preset(name)
    spec = spec.with_skips(False, where=[(0, 0)])
    model = build(spec, seed=0).eval()
    model.apply_spec_skips(spec)
    x = torch.randn(2, *spec.input_shape)
    ref = model(x)
    scripted = torch.jit.script(model)
    assert torch.allclose(scripted(x), ref, atol=1e-5)
    batch = torch.export.Dim("batch", min=1, max=64)
    exported = torch.export.export(model, (x,), dynamic_shapes=({0: batch},))
    assert torch.allclose(exported.module()(torch.cat([x, x])), torch.cat([ref, ref]), atol=1e-5)
    cl = model.to(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = cl(x.to(memory_format=torch.channels_last))
    assert out.dtype == torch.bfloat16
    assert torch.allclose(out.float(), ref, atol=0.1 * ref.abs().max().item() + 0.05)


def test_block_structure_supports_hooks_on_inputs_and_outputs():
    model = build(preset("resnet20"), seed=0)
    seen = []
    handles = [b.register_forward_hook(lambda m, i, o: seen.append((i[0].shape, o.shape)))
               for b in model.blocks()]
    model(torch.randn(1, 3, 32, 32))
    for h in handles:
        h.remove()
    assert [tuple(o) for _, o in seen] == [(1,) + b.out_shape for b in analyse(preset("resnet20")).blocks]
    assert all(re.fullmatch(r"layer\d\.\d+", n) for n in model.block_names())


@pytest.mark.parametrize("placement,before", [("end", 0), ("both", 8)])
def test_zero_pad_placement_puts_the_new_channels_where_it_says(placement, before):
    """16 -> 32 channels, stride 2: the input's channels sit at [before, before + 16), zeros elsewhere."""
    from explorer.spec import PadPlacement, ShortcutKind, with_pad_placement

    spec = with_pad_placement(preset("resnet20"), PadPlacement(placement))
    shortcut = build(spec, seed=0).layer2[0].downsample
    x = torch.randn(2, 16, 8, 8)
    out = shortcut(x)
    assert out.shape == (2, 32, 4, 4)
    assert torch.equal(out[:, before:before + 16], x[:, :, ::2, ::2])
    assert out[:, :before].abs().sum() == 0 and out[:, before + 16:].abs().sum() == 0
    assert spec.block(1, 0).shortcut is ShortcutKind.ZERO_PAD
