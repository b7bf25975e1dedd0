"""Weights files: torchvision-style state_dicts into ImageNet presets, trainer checkpoints, bad files.

torchvision cannot be installed here, so the "torchvision" files are our own models'
state_dicts: the builder uses torchvision's module names, so the keys and shapes are
the same by construction (tests/test_builder.py checks the layout against torchvision's
rules). Comparing with a real torchvision download needs a machine that has one.
"""
import pytest
import torch

from explorer.export import WeightsError, import_torchvision_weights, load_weights_for, read_weights_file
from explorer.nn import build
from explorer.spec import preset
from explorer.spec.fileformat import to_dict


@pytest.fixture(scope="module")
def resnet18_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tv") / "resnet18-weights.pth"
    state = build(preset("resnet18"), seed=7).state_dict()
    torch.save(state, path)
    return path, state


def test_a_torchvision_style_file_loads_strictly_and_reproduces_the_outputs(resnet18_file):
    path, state = resnet18_file
    model = import_torchvision_weights(preset("resnet18"), path).eval()
    reference = build(preset("resnet18"), seed=7).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))


def test_files_without_batchnorm_counters_still_load(resnet18_file, tmp_path):
    _, state = resnet18_file  # older torchvision files have no num_batches_tracked entries
    trimmed = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    torch.save({"state_dict": trimmed}, tmp_path / "old.pth")  # and a common wrapping
    model = import_torchvision_weights(preset("resnet18"), tmp_path / "old.pth").eval()
    reference = build(preset("resnet18"), seed=7).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))


def _broken(state, tmp_path, edit):
    state = dict(state)
    edit(state)
    path = tmp_path / "broken.pth"
    torch.save(state, path)
    return path


def test_a_missing_key_is_named_with_the_expected_shape(resnet18_file, tmp_path):
    path = _broken(resnet18_file[1], tmp_path, lambda s: s.pop("layer3.1.bn2.running_var"))
    with pytest.raises(WeightsError, match=r"broken\.pth has no 'layer3\.1\.bn2\.running_var' "
                                           r"\(the network expects 256\)"):
        import_torchvision_weights(preset("resnet18"), path)


def test_a_wrong_shape_names_the_key_and_both_shapes(resnet18_file, tmp_path):
    def ten_classes(s):
        s["fc.weight"] = torch.zeros(10, 512)
        s["fc.bias"] = torch.zeros(10)

    path = _broken(resnet18_file[1], tmp_path, ten_classes)
    with pytest.raises(WeightsError, match=r"'fc\.weight' is 10x512 in broken\.pth, but the network expects "
                                           r"1000x512"):
        import_torchvision_weights(preset("resnet18"), path)


def test_an_unexpected_key_is_named(resnet18_file, tmp_path):
    path = _broken(resnet18_file[1], tmp_path, lambda s: s.update({"head.extra": torch.zeros(3)}))
    with pytest.raises(WeightsError, match=r"broken\.pth has 'head\.extra' \(3\), which the network does not have"):
        import_torchvision_weights(preset("resnet18"), path)


def test_the_wrong_architecture_says_what_the_file_looks_like(tmp_path):
    torch.save(build(preset("resnet50"), seed=0).state_dict(), tmp_path / "r50.pth")
    with pytest.raises(WeightsError) as err:
        import_torchvision_weights(preset("resnet18"), tmp_path / "r50.pth")
    message = str(err.value)
    assert message.startswith("'layer1.0.conv1.weight' is 64x64x1x1 in r50.pth, but the network expects 64x64x3x3")
    assert "bottleneck-block network with 3-4-6-3 blocks per stage (resnet50)" in message


@pytest.mark.parametrize("content,expected", [
    (b"", "is empty"),
    (b"not a weights file at all\n", "is not a PyTorch weights file"),
])
def test_files_that_are_not_torch_files_are_refused(tmp_path, content, expected):
    path = tmp_path / "x.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=expected):
        read_weights_file(path)


def test_a_truncated_file_is_reported_as_damaged(resnet18_file, tmp_path):
    data = resnet18_file[0].read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 3])
    with pytest.raises(WeightsError, match=r"cut\.pth is damaged or truncated"):
        read_weights_file(tmp_path / "cut.pth")


def test_a_pickled_module_is_refused_without_running_it(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "whole.pth")
    with pytest.raises(WeightsError, match="holds Python objects, not just tensors"):
        read_weights_file(tmp_path / "whole.pth")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(WeightsError, match="no such file"):
        read_weights_file(tmp_path / "nope.pth")
    with pytest.raises(WeightsError, match="is a folder"):
        read_weights_file(tmp_path)


def test_a_trainer_checkpoint_is_read_with_its_spec(tmp_path):
    spec = preset("resnet20")
    state = build(spec, seed=1).state_dict()
    torch.save({"spec": to_dict(spec), "model": state, "optimizer": {}, "step": 3}, tmp_path / "run.pt")
    weights = read_weights_file(tmp_path / "run.pt")
    assert weights.spec == spec and weights.kind == "checkpoint"
    # the same layout with different skip switches is fine
    loaded, label = load_weights_for(spec.with_skips(False), tmp_path / "run.pt")
    assert label == "checkpoint run.pt" and loaded.keys() == state.keys()


def test_a_checkpoint_of_another_network_says_what_it_was_trained_on(tmp_path):
    spec = preset("resnet32")
    torch.save({"spec": to_dict(spec), "model": build(spec, seed=1).state_dict()}, tmp_path / "run.pt")
    with pytest.raises(WeightsError, match=r"has '.*' .*which the network does not have.*trained on 'resnet32'"):
        load_weights_for(preset("resnet20"), tmp_path / "run.pt")
