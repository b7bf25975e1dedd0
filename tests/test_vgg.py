"""VGG-16 and VGG-16 with BN exactly as torchvision builds them, and drop-a-layer on them beside a
ResNet (the lessons' question: why is dropping a residual block less catastrophic?)."""
import json

import pytest
import torch

from explorer.cli import main as cli_main
from explorer.experiments import claims as C
from explorer.experiments.dropblock_vgg import TrainedVgg, drop_each_layer, load_vgg
from explorer.nn.vgg import VGG_NETS, build_vgg, conv_layers
from explorer.train.api import TrainingError
from explorer.train.datasets.base import ImageData
from explorer.train.finetune import Normalisation

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# torchvision's vgg16 state_dict, in order: the convolutions' positions in `features`
VGG16_CONV_INDICES = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
VGG16_BN_CONV_INDICES = [0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40]


@pytest.fixture(scope="module")
def vgg16():
    """vgg16's state_dict with small real storage: each tensor a random row broadcast to its shape (a file of
    a few kilobytes instead of 553 MB; the layers still compute different things)."""
    g = torch.Generator().manual_seed(0)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in build_vgg("vgg16").state_dict().items()}
    return {k: (torch.randn(s[-1], generator=g) * 0.05).expand(s) for k, s in shapes.items()}


@pytest.mark.parametrize("name, indices, bn", [("vgg16", VGG16_CONV_INDICES, False),
                                                ("vgg16_bn", VGG16_BN_CONV_INDICES, True)])
def test_the_layout_is_torchvisions_name_for_name(name, indices, bn):
    with torch.device("meta"):
        model = build_vgg(name)
    keys = list(model.state_dict())
    per_conv = ["weight", "bias"] + (["weight", "bias", "running_mean", "running_var", "num_batches_tracked"] if bn else [])
    expected = []
    for i in indices:
        expected += [f"features.{i}.weight", f"features.{i}.bias"]
        if bn:
            expected += [f"features.{i + 1}.{p}" for p in per_conv[2:]]
    expected += [f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")]
    assert keys == expected
    assert sum(p.numel() for p in model.parameters()) == VGG_NETS[name].parameters
    assert VGG_NETS["vgg16"].parameters == 138_357_544 and VGG_NETS["vgg16_bn"].parameters == 138_365_992
    layers = conv_layers(model)
    assert [c.name for c in layers if c.keeps_shape] == ["conv1_2", "conv2_2", "conv3_2", "conv3_3", "conv4_2",
                                                         "conv4_3", "conv5_1", "conv5_2", "conv5_3"]


def tiny_imagenet_like(n=6):
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(n, 3, 32, 32, generator=g) * 255).to(torch.uint8)
    y = torch.arange(n) % 1000
    return ImageData("tiny", [f"class {i}" for i in range(1000)], x, y, x, y)


def test_each_shape_keeping_layer_is_dropped_and_the_rest_say_why(vgg16, tmp_path):
    path = tmp_path / "vgg16.pth"
    torch.save(vgg16, path)
    trained = load_vgg(str(path), "vgg16")
    trained_small = TrainedVgg("vgg16", trained.state, Normalisation.imagenet(), input_size=32)  # fast: 32x32
    seen = []
    result = drop_each_layer(trained_small, tiny_imagenet_like(), "cpu", on_block=lambda d, r: seen.append(d.label))
    assert len(result.drops) == 13 and len(result.removable()) == 9 and seen[0] == "conv1_1 (features.0)"
    blocked = [d for d in result.drops if d.accuracy is None]
    assert all("changes the channels" in d.reason for d in blocked) and not any(d.residual for d in result.drops)


def test_weights_of_another_network_are_named(vgg16, tmp_path):
    state = dict(vgg16)
    state["features.0.weight"] = state["features.0.weight"].clone()
    state["features.0.weight"][0, 0, 0, 0] = float("nan")
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(TrainingError, match="'features.0.weight' holds 1 NaN value"):
        load_vgg(str(path), "vgg16")
    torch.save({k: v for k, v in vgg16.items() if not k.startswith("classifier")}, path)
    with pytest.raises(TrainingError, match="is not vgg16's weights: 'classifier.0.weight' is missing"):
        load_vgg(str(path), "vgg16")


def test_the_words_set_a_resnet_beside_its_plain_imagenet_twin(vgg16, tmp_path):
    from explorer.experiments.dropblock import BlockDrop, DropResult
    from explorer.experiments.dropblock_words import drop_verdict

    trained = TrainedVgg("vgg16", load_vgg(_save(vgg16, tmp_path), "vgg16").state, Normalisation.imagenet(),
                         input_size=32)
    plain = drop_each_layer(trained, tiny_imagenet_like(), "cpu")
    resnet = DropResult("resnet50", 0.76, [BlockDrop(i, f"stage {1 + i // 4}, block {1 + i % 4}", True, 0.75 - 0.002 * i)
                                           for i in range(16)], images=6, classes=1000)
    verdict = drop_verdict([resnet, plain])
    assert C.check(json.loads(json.dumps(verdict.words.to_dict()))) == []
    assert "vgg16" in verdict.text and "resnet50" in verdict.text


def _save(state, tmp_path):
    path = tmp_path / "vgg16.pth"
    torch.save(state, path)
    return str(path)


@pytest.mark.parametrize("argv, words", [
    (["vgg16", "--checkpoint", "MISSING"], "--dataset"),
    (["vgg16", "--checkpoint", "MISSING", "--dataset", "shapes"], "does not exist"),
    (["vgg16", "--checkpoint", "MISSING", "--dataset", "shapes", "--blocks", "1.1"], "--blocks"),
])
def test_the_cli_names_what_is_wrong_in_one_line(capsys, tmp_path, argv, words):
    argv = [str(tmp_path / "none.pth") if a == "MISSING" else a for a in argv]
    assert cli_main(["experiment", "drop-block", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
