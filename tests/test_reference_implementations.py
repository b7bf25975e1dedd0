"""The presets against the reference implementations they follow (docs/PRESETS.md).

None of the reference codes can be installed here, so each test carries a small
functional re-implementation of the reference's forward pass, written from that code's
published structure (which layer, which stride, where the shortcut reads and pads), and
runs it on the preset's own weights under the reference's key names. A preset that put a
stride, a pad or a normalisation anywhere else would give other outputs.

- torchvision ``models/resnet.py``: ResNet-18 and ResNet-50.
- akamaster/pytorch_resnet_cifar10 ``resnet.py``: ResNet-20 ... 1202 (option A pads the
  new channels equally on both sides), read by ``import-weights`` from that code's
  checkpoint format ({'state_dict': DataParallel keys, 'best_prec1': ...}).
- KaimingHe/resnet-1k-layers ``resnet-pre-act.lua``: pre-activation ResNet-164 (stride on
  the first 1x1; the first unit of a stage shares its BN-ReLU with the projection).
"""
import pytest
import torch
import torch.nn.functional as F

from explorer.cli import main
from explorer.export import WeightsError, import_weights, load_weights_for
from explorer.nn import build
from explorer.spec import PadPlacement, ShortcutKind, load, preset

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _bn(state, prefix, x):
    return F.batch_norm(x, state[f"{prefix}.running_mean"], state[f"{prefix}.running_var"],
                        state[f"{prefix}.weight"], state[f"{prefix}.bias"], training=False, eps=1e-5)


def _conv(state, key, x, stride=1):
    weight = state[key]
    return F.conv2d(x, weight, stride=stride, padding=weight.shape[-1] // 2)


def _randomise(model, seed):
    """Weights and BatchNorm statistics far from their initial values, so every layer matters."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
            elif name.endswith(("running_mean", "bias")):
                tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.1)
            elif name.endswith("weight") and tensor.dim() == 1:  # BN scale
                tensor.copy_(torch.rand(tensor.shape, generator=gen) * 0.5 + 0.5)
            else:
                fan_in = tensor[0].numel()
                tensor.copy_(torch.randn(tensor.shape, generator=gen) * (1.0 / fan_in) ** 0.5)
    return model.eval()


# -- torchvision ----------------------------------------------------------------------

def torchvision_forward(state, x, counts, bottleneck):
    """torchvision's ResNet: 7x7/2 stem, BN, ReLU, 3x3/2 max-pool; stride on the basic block's
    first 3x3 and on the bottleneck's 3x3; a 1x1 strided conv + BN where the shape changes."""
    x = F.relu(_bn(state, "bn1", _conv(state, "conv1.weight", x, 2)))
    x = F.max_pool2d(x, 3, stride=2, padding=1)
    for layer, n in enumerate(counts, start=1):
        for i in range(n):
            p = f"layer{layer}.{i}"
            stride = 2 if i == 0 and layer > 1 else 1
            if bottleneck:
                out = F.relu(_bn(state, f"{p}.bn1", _conv(state, f"{p}.conv1.weight", x)))
                out = F.relu(_bn(state, f"{p}.bn2", _conv(state, f"{p}.conv2.weight", out, stride)))
                out = _bn(state, f"{p}.bn3", _conv(state, f"{p}.conv3.weight", out))
            else:
                out = F.relu(_bn(state, f"{p}.bn1", _conv(state, f"{p}.conv1.weight", x, stride)))
                out = _bn(state, f"{p}.bn2", _conv(state, f"{p}.conv2.weight", out))
            if f"{p}.downsample.0.weight" in state:
                identity = _bn(state, f"{p}.downsample.1", _conv(state, f"{p}.downsample.0.weight", x, stride))
            else:
                identity = x
            x = F.relu(out + identity)
    x = F.adaptive_avg_pool2d(x, 1).flatten(1)
    return F.linear(x, state["fc.weight"], state["fc.bias"])


@pytest.mark.parametrize("name,counts,bottleneck", [("resnet18", (2, 2, 2, 2), False),
                                                    ("resnet50", (3, 4, 6, 3), True)])
def test_imagenet_presets_compute_what_torchvision_computes(name, counts, bottleneck):
    model = _randomise(build(preset(name), seed=0), seed=1)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(model(x), torchvision_forward(model.state_dict(), x, counts, bottleneck),
                                   rtol=1e-4, atol=1e-4)


# -- akamaster/pytorch_resnet_cifar10 ------------------------------------------------------

CIFAR_DEPTHS = {"resnet20": 3, "resnet32": 5, "resnet44": 7, "resnet56": 9, "resnet110": 18, "resnet1202": 200}


def cifar_reference_forward(state, x, n):
    """That code's ResNet: conv3x3 16, BN, ReLU; three stages of n basic blocks (16, 32, 64
    channels); option A: x[:, :, ::2, ::2] padded with planes//4 zero channels on each side;
    global average pool; 'linear'."""
    out = F.relu(_bn(state, "bn1", _conv(state, "conv1.weight", x)))
    in_planes = 16
    for layer, planes in enumerate((16, 32, 64), start=1):
        for i in range(n):
            p = f"layer{layer}.{i}"
            stride = 2 if i == 0 and layer > 1 else 1
            y = F.relu(_bn(state, f"{p}.bn1", _conv(state, f"{p}.conv1.weight", out, stride)))
            y = _bn(state, f"{p}.bn2", _conv(state, f"{p}.conv2.weight", y))
            if stride != 1 or in_planes != planes:
                shortcut = F.pad(out[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4))
            else:
                shortcut = out
            out = F.relu(y + shortcut)
            in_planes = planes
    out = F.avg_pool2d(out, out.shape[3]).flatten(1)
    return F.linear(out, state["linear.weight"], state["linear.bias"])


def reference_checkpoint(name, path, seed=3):
    """A checkpoint as that code's trainer writes it: DataParallel keys in its names, no BN counters.
    (``seed=None``: the fresh weights as they are, for tests of the keys alone.)"""
    model = build(preset(name), seed=0)
    if seed is not None:
        _randomise(model, seed)
    state = {}
    for key, value in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        state[key.replace("fc.", "linear.", 1) if key.startswith("fc.") else key] = value.clone()
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}, "best_prec1": 91.25}, path)
    return state


@pytest.mark.parametrize("name", ["resnet20", "resnet110"])
def test_cifar_reference_checkpoints_import_with_matching_outputs(name, tmp_path):
    path = tmp_path / f"{name}.th"
    reference_state = reference_checkpoint(name, path)
    imported = import_weights(preset(name), path)
    assert all(b.pad_placement is PadPlacement.BOTH for _, _, b in imported.spec.iter_blocks()
               if b.shortcut is ShortcutKind.ZERO_PAD)
    assert any("split the new channels evenly" in note for note in imported.notes)
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = cifar_reference_forward(reference_state, x, CIFAR_DEPTHS[name])
        torch.testing.assert_close(imported.model.eval()(x), expected, rtol=1e-4, atol=1e-4)
        # the same weights with the new channels appended (our default) compute something else
        appended = build(preset(name), seed=0).eval()
        appended.load_state_dict(imported.model.state_dict())
        assert (appended(x) - expected).abs().max() > 1e-2


@pytest.mark.parametrize("name", ["resnet32", "resnet44", "resnet56", "resnet1202"])
def test_every_cifar_depth_reads_that_codes_key_names(name, tmp_path):
    path = tmp_path / f"{name}.th"
    reference_checkpoint(name, path, seed=None)
    imported = import_weights(preset(name), path)
    assert imported.model.fc.weight.shape == (10, 64)
    assert sum(p.numel() for p in imported.model.parameters()) == {
        "resnet32": 464_154, "resnet44": 658_586, "resnet56": 853_018, "resnet1202": 19_421_274}[name]


def test_the_cli_writes_the_network_with_its_pad_placement_and_export_refuses_the_wrong_one(tmp_path, capsys):
    source = tmp_path / "resnet20-ref.th"
    reference_checkpoint("resnet20", source)
    out = tmp_path / "r20"
    assert main(["import-weights", "resnet20", str(source), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "dropped the 'module.' prefix" in printed and "its 'linear' is our 'fc'" in printed
    assert f"use it with: export {tmp_path / 'r20.json'} --checkpoint {tmp_path / 'r20.pt'}" in printed
    network = load(tmp_path / "r20.json")
    assert {b.pad_placement for _, _, b in network.iter_blocks() if b.shortcut is ShortcutKind.ZERO_PAD} \
        == {PadPlacement.BOTH}
    state, _ = load_weights_for(network, tmp_path / "r20.pt")  # the saved pair fits
    with pytest.raises(WeightsError, match="put the new channels at 'both', this network's at 'end'"):
        load_weights_for(preset("resnet20"), tmp_path / "r20.pt")
    with pytest.raises(WeightsError, match="whose zero-pad shortcuts put half the new channels before"):
        load_weights_for(preset("resnet20"), source)


# -- KaimingHe/resnet-1k-layers --------------------------------------------------------------

def preact_reference_forward(state, x, n):
    """The authors' pre-activation bottleneck net: conv3x3 16; three stages of n units with 64,
    128, 256 outputs; a unit that keeps its shape is BN-ReLU-1x1, BN-ReLU-3x3, BN-ReLU-1x1 plus
    the identity; the first unit of a stage applies BN-ReLU once, then both the branch (its
    first 1x1 strided) and a strided 1x1 projection read it; BN, ReLU, average pool, linear."""
    x = _conv(state, "conv1.weight", x)
    for layer, _out in enumerate((64, 128, 256), start=1):
        for i in range(n):
            p = f"layer{layer}.{i}"
            stride = 2 if i == 0 and layer > 1 else 1
            pre = F.relu(_bn(state, f"{p}.bn1", x))
            y = _conv(state, f"{p}.conv1.weight", pre, stride)
            y = _conv(state, f"{p}.conv2.weight", F.relu(_bn(state, f"{p}.bn2", y)))
            y = _conv(state, f"{p}.conv3.weight", F.relu(_bn(state, f"{p}.bn3", y)))
            shortcut = _conv(state, f"{p}.downsample.0.weight", pre, stride) if i == 0 else x
            x = y + shortcut
    x = F.relu(_bn(state, "final_bn", x))
    x = F.adaptive_avg_pool2d(x, 1).flatten(1)
    return F.linear(x, state["fc.weight"], state["fc.bias"])


def test_preact_resnet164_computes_what_the_authors_code_computes():
    model = _randomise(build(preset("preact_resnet164"), seed=0), seed=5)
    assert model.layer2[0].conv1.stride == (2, 2) and model.layer2[0].conv2.stride == (1, 1)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        torch.testing.assert_close(model(x), preact_reference_forward(model.state_dict(), x, 18),
                                   rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_imported_reference_weights_export_as_standalone_source_with_the_same_outputs(tmp_path):
    """The generated module pads both sides too ("zero_pad_both"): verified in a fresh process."""
    from explorer.export import export_network

    source = tmp_path / "resnet20-ref.th"
    reference_state = reference_checkpoint("resnet20", source)
    imported = import_weights(preset("resnet20"), source)
    result = export_network(imported.spec, "python", tmp_path / "r20", state_dict=imported.model.state_dict())
    assert result.verified and result.max_diff < result.tolerance, result.verification
    text = (tmp_path / "r20.py").read_text()
    assert '"zero_pad_both"' in text and "before=extra // 2" in text
    namespace = {}
    exec(compile(text, "r20.py", "exec"), namespace)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        torch.testing.assert_close(namespace["load"](str(tmp_path / "r20.pth"))(x),
                                   cifar_reference_forward(reference_state, x, 3), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("argv", [["gradflow", "resnet20", "--checkpoint"],
                                  ["experiment", "drop-block", "resnet20", "--checkpoint"],
                                  ["train", "resnet20", "--steps", "1", "--init-weights"]])
def test_other_readers_send_a_reference_checkpoint_through_import_weights_first(argv, tmp_path, capsys):
    """Only import-weights gives the network that code's pad placement; loading the file
    elsewhere as it is would compute something else, so each reader says what to do."""
    source = tmp_path / "resnet20-ref.th"
    reference_checkpoint("resnet20", source, seed=None)
    assert main([*argv, str(source)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "import it first (import-weights NET resnet20-ref.th -o W.pt)" in err
