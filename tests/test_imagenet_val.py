"""ImageNet validation images from disk, and dropping blocks of a torchvision-format ResNet-50 on them.

The class indices are torchvision's (the sorted WordNet ids): known entries are checked
by hand (0 tench n01440764, 1 goldfish n01443537, 281 tabby n02123045, 999 toilet tissue
n15075141). The ResNet-50 "torchvision" file is our own model's state_dict: the builder
uses torchvision's module names, so keys and shapes are torchvision's.
"""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.cli import main
from explorer.train.datasets import DatasetError, load_dataset
from explorer.train.datasets.imagenet import evaluation_transform, imagenet_wnids
from explorer.train.finetune import Normalisation
from explorer.train.loader import BatchSource

KNOWN = {"n01440764": 0, "n01443537": 1, "n02123045": 281, "n15075141": 999}


def _jpeg(path, colour=(124, 116, 104), size=(64, 48)):
    Image.new("RGB", size, colour).save(path, quality=95)


def test_wordnet_ids_map_to_torchvision_indices():
    wnids = imagenet_wnids()
    assert len(wnids) == 1000 and len(set(wnids)) == 1000
    for wnid, index in KNOWN.items():
        assert wnids[index] == wnid


def test_class_folders_named_by_wordnet_id(tmp_path):
    for wnid in ("n15075141", "n01443537", "n02123045"):
        (tmp_path / wnid).mkdir()
        for i in range(2):
            _jpeg(tmp_path / wnid / f"ILSVRC2012_val_{wnid}_{i}.JPEG")
    data = load_dataset(f"imagenet-val:{tmp_path}")
    assert data.num_classes == 1000 and len(data.y_train) == 0
    assert sorted(data.y_test.tolist()) == [1, 1, 281, 281, 999, 999]
    assert data.x_test.shape == (6, 3, 224, 224)
    (tmp_path / "cats").mkdir()
    with pytest.raises(DatasetError, match="class folder .*cats: 'cats' is not one of the 1000 ImageNet WordNet ids"):
        load_dataset(f"imagenet-val:{tmp_path}")


def test_validation_images_cannot_be_trained_on(tmp_path, capsys):
    (tmp_path / "n01440764").mkdir()
    _jpeg(tmp_path / "n01440764" / "a.png")
    code = main(["train", "resnet18", "--dataset", f"imagenet-val:{tmp_path}", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "has no training images: imagenet-val:PATH holds validation images" in err


def test_a_flat_folder_with_a_labels_file(tmp_path):
    for name in ("a.JPEG", "b.JPEG", "c.png"):
        _jpeg(tmp_path / name)
    (tmp_path / "labels.txt").write_text("# file label\na.JPEG n01440764\n\nb.JPEG 281\nc.png n15075141\n")
    data = load_dataset(f"imagenet-val:{tmp_path}")
    assert data.y_test.tolist() == [0, 281, 999]  # sorted by file name
    assert load_dataset(f"imagenet-val:{tmp_path}", test_size=2).y_test.tolist() == [0, 999]  # spread: first, last
    (tmp_path / "labels.txt").write_text("a.JPEG 1000\n")
    with pytest.raises(DatasetError, match="labels.txt line 1: class index 1000 is outside 0..999"):
        load_dataset(f"imagenet-val:{tmp_path}")
    (tmp_path / "labels.txt").write_text("a.JPEG n01440764\nmissing.JPEG n01440764\n")
    with pytest.raises(DatasetError, match="line 2: missing.JPEG is not in"):
        load_dataset(f"imagenet-val:{tmp_path}")
    (tmp_path / "labels.txt").unlink()
    with pytest.raises(DatasetError, match="neither class folders named by WordNet id .* nor a labels.txt"):
        load_dataset(f"imagenet-val:{tmp_path}")


@pytest.mark.parametrize("width,height,top,left", [(768, 512, 16, 80), (512, 768, 80, 16)])
def test_the_standard_transform_resizes_to_256_and_crops_the_centre_224(tmp_path, width, height, top, left):
    """A 768x512 picture becomes 384x256 (exactly half), then rows 16.. and columns 80.. are kept.
    An 8x8 white square at rows 100..107, columns 300..307 lands centred on 51.5, 151.5 after
    halving, so on 35.5, 71.5 after the crop (swapped for the portrait picture)."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    r, c = (100, 300) if width > height else (300, 100)
    pixels[r:r + 8, c:c + 8] = 255
    Image.fromarray(pixels).save(tmp_path / "square.png")
    out = evaluation_transform(str(tmp_path / "square.png"))
    assert out.shape == (3, 224, 224)
    grey = out[0].astype(np.float64)
    rows, cols = np.nonzero(grey)
    centre = ((rows * grey[rows, cols]).sum() / grey.sum(), (cols * grey[rows, cols]).sum() / grey.sum())
    expected = (r / 2 + 1.5 - top, c / 2 + 1.5 - left)
    assert centre == pytest.approx(expected, abs=1e-6)
    er, ec = int(expected[0]), int(expected[1])
    assert (out[:, er - 0:er + 2, ec:ec + 2] == 255).all()  # the 2x2 fully inside the square stays white


def test_imagenet_normalisation_of_a_plain_colour(tmp_path):
    (tmp_path / "n01440764").mkdir()
    _jpeg(tmp_path / "n01440764" / "x.png", (124, 116, 104))
    data = load_dataset(f"imagenet-val:{tmp_path}")
    norm = Normalisation.imagenet()
    source = BatchSource(data, device=torch.device("cpu"), input_hw=(224, 224), batch_size=8, augment=False,
                         seed=0, normalisation=(norm.mean, norm.std))
    x, y = next(source.test_batches())
    # (124/255 - 0.485) / 0.229, (116/255 - 0.456) / 0.224, (104/255 - 0.406) / 0.225
    expected = [0.005566, -0.004902, 0.008192]
    assert x[0].mean(dim=(1, 2)).tolist() == pytest.approx(expected, abs=2e-5)
    assert y.tolist() == [0]


# -- drop-block on a pretrained ResNet-50 ------------------------------------------------

def _by_hand(file):
    """Resize the shorter side to 256 and crop the centre 224 written out for a 320x240 picture:
    320x240 -> 341x256 (int(256 * 320 / 240)); the crop starts at row 16, column round(58.5) = 58."""
    with Image.open(file) as im:
        im = im.convert("RGB").resize((341, 256), Image.BILINEAR).crop((58, 16, 58 + 224, 16 + 224))
    x = torch.from_numpy(np.asarray(im, dtype=np.float32) / 255).permute(2, 0, 1)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    return (x - mean) / std


def test_drop_block_on_a_torchvision_resnet50_file_and_imagenet_folders(tmp_path, capsys, one_torch_thread):
    from explorer.nn import build
    from explorer.spec import preset

    model = build(preset("resnet50"), seed=1).eval()
    weights = tmp_path / "tv_resnet50.pth"
    torch.save(model.state_dict(), weights)
    rng = np.random.default_rng(2)
    pictures = []
    for i in range(3):
        pixels = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
        pictures.append(Image.fromarray(pixels))
        pictures[-1].save(tmp_path / f"p{i}.png")
    with torch.no_grad():
        predicted = model(torch.stack([_by_hand(tmp_path / f"p{i}.png") for i in range(3)])).argmax(1).tolist()
    wnids = imagenet_wnids()
    root = tmp_path / "val"
    for i, picture in enumerate(pictures):  # each picture filed under the class the model predicts for it
        (root / wnids[predicted[i]]).mkdir(parents=True, exist_ok=True)
        picture.save(root / wnids[predicted[i]] / f"ILSVRC2012_val_{i:08d}.png")
    code = main(["experiment", "drop-block", "resnet50", "--checkpoint", str(weights), "--dataset",
                 f"imagenet-val:{root}", "--blocks", "3.2,1.1", "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "3 test images of imagenet-val:val" in captured.err
    assert "normalised with ImageNet's mean (0.485, 0.456, 0.406)" in captured.err
    result = json.loads(captured.out)["networks"][0]
    assert result["baseline_accuracy"] == 1.0 and result["baseline_top5"] == 1.0  # the transform matches by hand
    assert [b["block"] for b in result["blocks"]] == ["stage 1, block 1", "stage 3, block 2"]
    assert result["total_blocks"] == 16 and result["images"] == 3
    assert all(b["top5"] is not None for b in result["blocks"])
    sentences = json.loads(captured.out)["sentences"]
    assert sentences[0].startswith("The costliest measured removal from resnet50 is stage ")
    assert "2 of the 16 blocks measured" in sentences[1] and "lessons" not in " ".join(map(str, sentences))
    code = main(["experiment", "drop-block", "resnet50", "--checkpoint", str(weights), "--dataset",
                 f"imagenet-val:{root}", "--blocks", "3.7", "--device", "cpu"])
    assert code == 2 and "3.7: stage 3 of resnet50 has blocks 1 to 6" in capsys.readouterr().err
    code = main(["experiment", "drop-block", "resnet18", "--checkpoint", str(weights), "--dataset",
                 f"imagenet-val:{root}", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "bottleneck-block network with 3-4-6-3 blocks" in err
