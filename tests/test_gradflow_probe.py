"""The gradient probe: exact numbers, untouched state, and how the spread of gradient norms across
the blocks at initialisation grows with depth (largest block norm over the smallest)."""
import copy
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from explorer.analysis.gradflow import (GradientProbe, ProbeCancelled, activation_bytes_per_image, choose_batch, probe,
                                     seeded_batch)
from explorer.experiments.gradflow import summarise
from explorer.nn import build
from explorer.spec import analyse as analyse_spec
from explorer.spec import (BlockKind, InitKind, InitSpec, NetworkSpec, Norm, ShortcutKind, StemKind,
                           StemSpec, preset, replace_shortcuts, uniform_stage)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py: tiny CPU passes, one thread


def tiny_spec(kind=BlockKind.BASIC, stem=StemKind.CIFAR, norm=Norm.BATCH) -> NetworkSpec:
    return NetworkSpec(name="tiny", input_shape=(3, 8, 8), stem=StemSpec(kind=stem, width=4),
                       stages=(uniform_stage(kind, 1, 4, 1), uniform_stage(kind, 1, 8, 2)), norm=norm)


def _reference(model, x, t):
    """dL/dx at both block inputs and the conv/linear weight-gradient norms, by hand."""
    m = copy.deepcopy(model).train()
    stem = m.relu(m.bn1(m.conv1(x))) if hasattr(m, "conv1") else x.clone().requires_grad_(True)
    x1 = stem
    x2 = m.layer1[0](x1)
    out = m.layer2[0](x2)
    logits = m.fc(m.flatten(m.avgpool(out)))
    loss = nn.functional.cross_entropy(logits, t)
    weights = [(n, mod.weight) for n, mod in m.named_modules() if isinstance(mod, (nn.Conv2d, nn.Linear))]
    grads = torch.autograd.grad(loss, [x1, x2] + [w for _, w in weights])
    return loss.item(), [g.norm().item() for g in grads[:2]], {n: g.norm().item() for (n, _), g in
                                                             zip(weights, grads[2:])}


@pytest.mark.parametrize("kind", [BlockKind.BASIC, BlockKind.PREACT_BASIC, BlockKind.BOTTLENECK,
                                  BlockKind.PLAIN])
def test_probe_matches_a_hand_written_autograd_computation(kind):
    spec = tiny_spec(kind)
    model = build(spec, seed=3)
    x, t = seeded_batch(spec.input_shape, 10, batch=6, seed=11)
    loss, block_norms, layer_norms = _reference(model, x, t)
    result = probe(model, x, t)
    assert result.labels == ["stage 1, block 1", "stage 2, block 1"]
    assert result.loss == pytest.approx(loss, rel=1e-6)
    np.testing.assert_allclose(result.block_norms, block_norms, rtol=1e-5)
    assert dict(zip(result.layer_names, result.layer_norms)) == pytest.approx(layer_norms, rel=1e-5)
    assert result.batch_source == "given" and result.batch == 6


def test_probe_measures_the_raw_input_when_there_is_no_stem():
    spec = tiny_spec(BlockKind.PREACT_BASIC, stem=StemKind.NONE)
    spec = replace(spec, stem=StemSpec(kind=StemKind.NONE, width=3))
    model = build(spec, seed=0)
    x, t = seeded_batch(spec.input_shape, 10, batch=4, seed=2)
    _, block_norms, _ = _reference(model, x, t)
    np.testing.assert_allclose(probe(model, x, t).block_norms, block_norms, rtol=1e-5)


def test_switching_a_skip_off_changes_the_measured_gradient():
    spec = tiny_spec()
    model = build(spec, seed=1)
    x, t = seeded_batch(spec.input_shape, 10, batch=8, seed=1)
    on = probe(model, x, t)
    model.block_at(1, 0).set_skip(False)
    off = probe(model, x, t)
    assert off.skips == [True, False] and on.skips == [True, True]
    assert not np.allclose(on.block_norms[0], off.block_norms[0])


def _snapshot(model):
    return {
        "state": {k: v.clone() for k, v in model.state_dict().items()},
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "requires": [p.requires_grad for p in model.parameters()],
        "modes": [m.training for m in model.modules()],
        "rng": torch.get_rng_state(),
    }


def test_probe_leaves_the_model_bit_identical():
    spec = preset("resnet20")
    model = build(spec, seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):  # real running stats, real .grad fields
        x, t = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), t).backward()
        opt.step()
    params = list(model.parameters())
    params[0].grad = None  # a mix of None and existing gradients
    params[3].requires_grad_(False)
    model.eval()
    model.layer2.train()  # mixed flags, restored one by one
    torch.manual_seed(1234)
    before = _snapshot(model)
    grad_objects = [p.grad for p in params]
    result = probe(model, input_shape=spec.input_shape)
    after = _snapshot(model)
    assert result.batch_source == "seeded" and result.batch == 32
    for key in before["state"]:
        assert torch.equal(before["state"][key], after["state"][key]), key
    assert any("num_batches_tracked" in k for k in before["state"])
    for g0, g1, obj, p in zip(before["grads"], after["grads"], grad_objects, params):
        assert (g0 is None) == (g1 is None)
        if g0 is not None:
            assert torch.equal(g0, g1) and p.grad is obj
    assert before["requires"] == after["requires"]
    assert before["modes"] == after["modes"]
    assert torch.equal(before["rng"], after["rng"])
    # the train-mode forward changed BN statistics while it ran: prove they were restored, not untouched
    again = probe(model, input_shape=spec.input_shape)
    np.testing.assert_array_equal(again.block_norms, result.block_norms)


def test_the_seeded_batch_does_not_depend_on_the_global_rng():
    torch.manual_seed(0)
    a = seeded_batch((3, 8, 8), 10, 4, seed=5)
    torch.manual_seed(99)
    b = seeded_batch((3, 8, 8), 10, 4, seed=5)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], seeded_batch((3, 8, 8), 10, 4, seed=6)[0])


def test_gradient_probe_object_reuses_its_batch():
    spec = tiny_spec()
    model = build(spec, seed=0)
    gp = GradientProbe(model, spec.input_shape, 10, batch=5, seed=3)
    r1, r2 = gp.run(), gp.run()
    np.testing.assert_array_equal(r1.block_norms, r2.block_norms)
    assert r1.batch == 5 and r1.batch_source == "seeded"


def _ratio(spec, seed=0):
    return probe(build(spec, seed=seed), input_shape=spec.input_shape, seed=seed).ratio


@pytest.mark.parametrize("name,expected", [("resnet20", 9), ("resnet56", 90), ("resnet110", 370)])
def test_residual_spread_at_initialisation_grows_with_depth(name, expected):
    # The expected spreads are with projection shortcuts at the stage changes (AUTO); over
    # four seeds this probe measured 9.5, 96 and about 500. A factor of 3 either way.
    ratio = _ratio(replace_shortcuts(preset(name), ShortcutKind.AUTO))
    assert expected / 3 < ratio < expected * 3


def test_plain_nets_explode_towards_the_input_with_bn():
    r20, r56, r110 = (_ratio(preset(n)) for n in ("plain20", "plain56", "plain110"))
    assert 19 / 3 < r20 < 19 * 3
    assert 5e2 < r56 < 5e4  # expected about 5,000; measured 0.9e4 to 1.2e4 over four seeds
    assert 2.4e6 < r110 < 2.4e8  # expected about 2.4e7; measured 1.7e7 to 1.1e8
    # and far beyond the residual nets of the same depth (zero-pad shortcuts, the paper's presets)
    res = [_ratio(preset(n)) for n in ("resnet20", "resnet56", "resnet110")]
    assert res[0] < res[1] < res[2] < 300
    assert r56 > 100 * res[1] and r110 > 1e5 * res[2]
    words = summarise(probe(build(preset("plain56"), seed=0), input_shape=(3, 32, 32)).block_norms,
                      skips=[False] * 27, batch_norm=True).text
    assert "explode" in words


def test_without_bn_and_with_small_weights_plain_gradients_vanish():
    spec = replace(preset("plain20"), norm=Norm.NONE, init=InitSpec(InitKind.GAUSSIAN, 0.01))
    result = probe(build(spec, seed=0), input_shape=spec.input_shape)
    assert 0 < result.ratio < 1e-6
    summary = summarise(result.block_norms, result.labels, result.skips, batch_norm=False)
    assert summary.verdict == "vanishes" and "vanish" in summary.text


@pytest.mark.parametrize("seed", [0, 1])
def test_without_bn_he_initialised_plain_gradients_fade(seed):
    spec = replace(preset("plain56"), norm=Norm.NONE)
    result = probe(build(spec, seed=seed), input_shape=spec.input_shape, seed=seed)
    assert result.ratio < 0.7
    words = summarise(result.block_norms, result.labels, result.skips, batch_norm=False).text
    assert "it fades on its way back" in words


def test_bn_undoes_a_small_gaussian_init_so_plain_nets_still_explode():
    # Measured, and shown honestly: BN rescales each layer, so N(0, 0.01) weights
    # behave like He weights once normalised.
    spec = replace(preset("plain56"), init=InitSpec(InitKind.GAUSSIAN, 0.01))
    assert _ratio(spec) > 1e3


def test_probe_on_a_wrapped_model_measures_the_underlying_blocks():
    spec = tiny_spec()
    model = build(spec, seed=0)
    x, t = seeded_batch(spec.input_shape, 10, batch=4, seed=0)
    plain = probe(model, x, t)
    wrapped = probe(nn.DataParallel(model), x, t)
    np.testing.assert_array_equal(plain.block_norms, wrapped.block_norms)


def test_probe_needs_a_batch_or_a_shape():
    model = build(tiny_spec(), seed=0)
    with pytest.raises(ValueError, match="input_shape"):
        probe(model)
    with pytest.raises(ValueError, match="targets"):
        probe(model, torch.zeros(1, 3, 8, 8))


# -- the words -----------------------------------------------------------------------

@pytest.mark.parametrize("value,text", [(9.46, "9.5"), (96.2, "96"), (4987, "5,000"), (1e4, "10,000"),
                                        (2.5e5, "250,000"), (2.43e7, "2.4 × 10⁷"), (1e8, "10⁸"), (0.33, "0.33")])
def test_factors_read_naturally(value, text):
    from explorer.experiments.gradflow import format_factor
    assert format_factor(value) == text


def test_words_name_the_regime_and_the_place():
    labels = [f"stage {s}, block {b}" for s in (1, 2, 3) for b in (1, 2, 3)]
    carried = summarise(np.geomspace(9, 1, 9), labels, [True] * 9, batch_norm=True)
    assert carried.verdict == "modest"
    assert carried.text.startswith("The gradient reaching the first block is 9x the one at the last block")
    assert "here it does not vanish: the first block gets 9x the last block's" in carried.text
    exploding = summarise(np.geomspace(1e6, 1, 9), labels, [False] * 9, batch_norm=True)
    assert exploding.verdict == "explodes" and "10⁶ times larger" in exploding.text
    # 5.6x per block: 31.6x at stage 3, block 1 and 178x at stage 2, block 3, the first past 100x
    assert "already 100x at stage 2, block 3" in exploding.text
    vanishing = summarise(np.geomspace(1e-5, 1, 9), labels, [False] * 9, batch_norm=False)
    assert vanishing.verdict == "vanishes" and "1/100,000 of the one at the last block" in vanishing.text
    assert "without skips the gradient shrinks on its way back to the input; here it does" in vanishing.text


def test_words_for_dead_and_broken_gradients():
    dead = summarise(np.zeros(4), skips=[False] * 4)
    assert dead.verdict == "dead" and "exactly zero" in dead.text
    cut = summarise(np.array([0.0, 0.0, 0.5, 1.0]), [f"b{i}" for i in range(4)], [False] * 4)
    assert cut.verdict == "vanishes" and "exactly zero at half of the blocks (2 of 4), from the first block up to b1" \
        in cut.text
    overflow = summarise(np.array([np.inf, 1.0]), ["first", "last"], [False, False])
    assert overflow.verdict == "explodes" and "first" in overflow.text


def test_the_probe_batch_shrinks_for_networks_whose_activations_would_not_fit():
    sizes = {name: activation_bytes_per_image(analyse_spec(preset(name))) for name in ("resnet20", "resnet110", "resnet1202")}
    assert sizes["resnet20"] < sizes["resnet110"] < sizes["resnet1202"]  # grows with depth
    assert choose_batch(analyse_spec(preset("resnet110"))) == 32
    assert choose_batch(analyse_spec(preset("resnet1202"))) == 4
    assert choose_batch(analyse_spec(preset("resnet20")), budget=sizes["resnet20"] * 5) == 4  # a power of two that fits
    assert choose_batch(analyse_spec(preset("resnet20")), budget=1) == 1  # never zero images


def test_a_probe_can_be_stopped_between_blocks_and_leaves_the_model_untouched():
    spec = preset("resnet20")
    model = build(spec, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    seen = []
    with pytest.raises(ProbeCancelled):
        probe(model, input_shape=spec.input_shape, progress=lambda phase, done, total: seen.append((phase, done)),
              should_stop=lambda: len(seen) >= 12)
    assert seen[:9] == [("forward", i) for i in range(1, 10)] and seen[9:] == [("backward", 1), ("backward", 2),
                                                                               ("backward", 3)]
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k  # BN statistics restored after the stop


def test_memory_goes_back_once_no_probe_follows(monkeypatch):
    import threading

    import explorer.analysis.gradflow as gradflow

    released = threading.Event()
    monkeypatch.setattr(gradflow, "release_memory", released.set)
    gradflow.release_memory_later(delay=0.01)
    assert released.wait(timeout=30)


def test_a_probe_cancels_the_release_it_would_undo(monkeypatch):
    import explorer.analysis.gradflow as gradflow

    calls = []
    monkeypatch.setattr(gradflow, "release_memory", lambda: calls.append("released"))
    gradflow.release_memory_later(delay=600)  # pending while probes follow each other
    pending = gradflow._release_timer
    model = build(preset("resnet20"), seed=0)
    probe(model, input_shape=(3, 32, 32), batch=2)
    assert pending.finished.is_set() and gradflow._release_timer is None and calls == []
