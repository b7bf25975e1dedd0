"""Fine-tuning: training starts from pretrained weights, with a new head, frozen layers and the
normalisation the weights were trained with.

torchvision cannot be installed here, so the "torchvision" files are our own ResNet-18's
state_dict saved bare: the builder uses torchvision's module names, so keys and shapes
are torchvision's by construction.
"""
from dataclasses import replace

import numpy as np
import pytest
import torch

from explorer.nn import build
from explorer.spec import preset, save
from explorer.train.api import TrainingError, TrainSettings
from explorer.train.finetune import IMAGENET_MEAN, IMAGENET_STD
from explorer.train.trainer import Trainer


def small_resnet18(classes=1000):
    """ResNet-18 (torchvision's layout and key names) at 32x32 so that a step takes milliseconds."""
    spec = preset("resnet18")
    return replace(spec, input_shape=(3, 32, 32), head=replace(spec.head, num_classes=classes))


@pytest.fixture(scope="module")
def tv_file(tmp_path_factory):
    """A torchvision-format ResNet-18 state_dict file (1000-class head) and the model it came from."""
    path = tmp_path_factory.mktemp("tv") / "resnet18-f37072fd.pth"
    source = build(preset("resnet18"), seed=3)
    with torch.no_grad():  # running statistics a fresh build would not have, so loading them shows
        for i, m in enumerate(source.modules()):
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2, generator=torch.Generator().manual_seed(i))
                m.running_var.uniform_(0.5, 1.5, generator=torch.Generator().manual_seed(i + 1))
    torch.save(source.state_dict(), path)
    return str(path), source.eval()


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """Three classes of small coloured pictures: a ResNet-18 trains a step on them in well under a second."""
    from PIL import Image

    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for c, name in enumerate(("ants", "bees", "wasps")):
        (root / name).mkdir()
        for i in range(6):
            pixels = rng.integers(0, 256, (24, 28, 3), dtype=np.uint8)
            pixels[..., c] = 255
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return str(root)


def settings(folder, **kw):
    base = dict(dataset=f"folder:{folder}", batch_size=6, epochs=1, max_steps=2, device="cpu", lr=0.05,
                metrics_every=1, augment=False)
    base.update(kw)
    return TrainSettings(**base)


def trunk(model, x):
    """Everything before the classifier: the pooled features."""
    model.eval()
    with torch.no_grad():
        for name, module in model.named_children():
            if name == "fc":
                return x
            x = module(x)
    raise AssertionError("no fc")


def test_a_torchvision_file_starts_the_run_with_its_trunk_and_a_new_head(tv_file, photo_folder, one_torch_thread):
    path, source = tv_file
    trainer = Trainer(small_resnet18(), settings(photo_folder, init_weights=path))
    trainer.prepare()
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    assert torch.equal(trunk(trainer.model, x), trunk(source, x))  # identical before the first step
    assert trainer.model.fc.out_features == 3 and trainer.spec.head.num_classes == 3
    assert not torch.equal(trainer.model.fc.weight, source.fc.weight[:3])  # fresh, not the first 3 rows
    notes = " ".join(trainer.notes)
    assert f"started from {path} (a torchvision-style state_dict)" in notes
    assert "1000-class head; replaced by a freshly initialised 3-class head" in notes
    # torchvision weights were trained on ImageNet-normalised inputs: the run uses the same
    assert trainer.normalisation.kind == "imagenet"
    assert "ImageNet's mean (0.485, 0.456, 0.406)" in notes
    x_batch, _ = next(trainer.source.test_batches())
    raw = trainer.data.x_test[:len(x_batch)].float() / 255
    expected = (raw - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    assert torch.allclose(x_batch, expected, atol=1e-5)


def test_frozen_layers_do_not_change_and_their_batch_norm_stays_in_eval(tv_file, photo_folder,
                                                                        one_torch_thread):
    path, _ = tv_file
    trainer = Trainer(small_resnet18(), settings(photo_folder, init_weights=path, freeze="stage2", max_steps=3))
    trainer.prepare()
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    frozen_params = sum(p.numel() for n, p in trainer.model.named_parameters()
                        if n.split(".")[0] in ("conv1", "bn1", "layer1", "layer2"))
    assert trainer.trainable_params == trainer.total_params - frozen_params
    assert f"{trainer.trainable_params:,} of {trainer.total_params:,} parameters train" in " ".join(trainer.notes)
    record = trainer.run()
    assert record.status == "finished" and trainer.step == 3
    after = trainer.model.state_dict()
    for key, value in before.items():
        part = key.split(".")[0]
        if part in ("conv1", "bn1", "layer1", "layer2"):  # weights and running statistics alike
            assert torch.equal(after[key], value), key
    assert not torch.equal(after["layer3.0.conv1.weight"], before["layer3.0.conv1.weight"])
    assert not torch.equal(after["layer4.1.bn2.running_mean"], before["layer4.1.bn2.running_mean"])
    assert not torch.equal(after["fc.weight"], before["fc.weight"])
    assert not trainer.model.layer2[1].bn1.training and trainer.model.layer3[0].bn1.training


def test_checkpoint_keeps_the_normalisation_and_a_new_run_from_it_follows(tv_file, photo_folder, tmp_path,
                                                                          one_torch_thread):
    path, _ = tv_file
    first = Trainer(small_resnet18(), settings(photo_folder, init_weights=path))
    first.run()
    ckpt = tmp_path / "tuned.pt"
    first.save_checkpoint(ckpt)
    saved = torch.load(ckpt, weights_only=True)
    assert saved["normalisation"]["kind"] == "imagenet"
    assert saved["normalisation"]["mean"] == pytest.approx(IMAGENET_MEAN)
    # a new run from the checkpoint: its weights (head included: 3 classes fit), a fresh optimizer
    second = Trainer(small_resnet18(), settings(photo_folder, init_weights=str(ckpt)))
    second.prepare()
    assert second.step == 0 and not second.optimizer.state
    assert torch.equal(second.model.fc.weight, first.model.fc.weight)
    assert second.normalisation.kind == "imagenet"
    assert "a training checkpoint; its weights only, the optimizer starts fresh" in " ".join(second.notes)
    # asked for the data's own statistics: the training images' mean, not ImageNet's
    third = Trainer(small_resnet18(), settings(photo_folder, init_weights=path, normalise="data"))
    third.prepare()
    own = third.data.x_train.float().mean(dim=(0, 2, 3)) / 255
    assert third.normalisation.kind == "data"
    assert third.normalisation.mean == pytest.approx(own.tolist(), abs=1e-4)


def test_a_run_from_scratch_still_uses_the_data_statistics(photo_folder, one_torch_thread):
    trainer = Trainer(small_resnet18(3), settings(photo_folder))
    trainer.prepare()
    assert trainer.normalisation.kind == "data"
    assert not any("normalised" in n for n in trainer.notes)


def test_weights_of_another_network_are_refused_with_the_import_check_message(photo_folder, tmp_path):
    other = tmp_path / "resnet34.pth"
    torch.save(build(preset("resnet34"), seed=0).state_dict(), other)
    trainer = Trainer(small_resnet18(), settings(photo_folder, init_weights=str(other)))
    with pytest.raises(TrainingError, match=r"--init-weights: resnet34.pth has 'layer1.2.conv1.weight'.*"
                                            r"3-4-6-3 blocks per stage \(resnet34\)"):
        trainer.prepare()
    with pytest.raises(TrainingError, match="--freeze 'stage7': expected one of stem, stage1, stage2, stage3, stage4"):
        Trainer(small_resnet18(), settings(photo_folder, freeze="stage7")).prepare()


def test_train_cli_fine_tunes_from_a_torchvision_file(tv_file, photo_folder, tmp_path, capsys):
    from explorer.cli import main

    path, _ = tv_file
    net = tmp_path / "resnet18-32.json"
    save(small_resnet18(), net)
    ckpt = tmp_path / "out.pt"
    code = main(["train", str(net), "--dataset", f"folder:{photo_folder}", "--init-weights", path,
                 "--freeze", "stage3", "--steps", "1", "--batch-size", "6", "--device", "cpu",
                 "--checkpoint", str(ckpt)])
    out = capsys.readouterr().out
    assert code == 0, out
    model = build(small_resnet18(3))
    trainable = sum(p.numel() for n, p in model.named_parameters() if n.split(".")[0] in ("layer4", "fc"))
    assert f"of them train" in out and f"{trainable:,} of them train" in out
    assert "note: inputs normalised with ImageNet's mean" in out
    assert torch.load(ckpt, weights_only=True)["settings"]["init_weights"] == path
    # export reads how the inputs were normalised from the checkpoint and says it
    tuned = tmp_path / "resnet18-32-3.json"
    save(small_resnet18(3), tuned)
    code = main(["export", str(tuned), "-f", "json", "-o", str(tmp_path / "out.json"), "--checkpoint", str(ckpt)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert ("inputs normalised with ImageNet's mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), "
            "as in training") in out
    code = main(["train", "--resume", str(ckpt), "--init-weights", path])
    assert code == 2
    assert "give one of them" in capsys.readouterr().err


def test_freezing_the_last_stage_is_linear_probing_and_the_head_trains(tv_file, photo_folder, tmp_path, capsys,
                                                                       one_torch_thread):
    """--freeze of the last stage once ended in "optimizer got an empty parameter list": the head was
    frozen with the trunk. The head always trains; the run's first line says that only it does."""
    from explorer.cli import main

    path, _ = tv_file
    trainer = Trainer(small_resnet18(), settings(photo_folder, init_weights=path, freeze="stage4", max_steps=2))
    trainer.prepare()
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    head = sum(p.numel() for p in trainer.model.fc.parameters())
    assert trainer.trainable_params == head == 512 * 3 + 3
    assert "the whole trunk is frozen and only the head trains" in " ".join(trainer.notes)
    assert trainer.run().status == "finished"
    after = trainer.model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items() if not k.startswith("fc."))
    assert not torch.equal(after["fc.weight"], before["fc.weight"])
    net = tmp_path / "resnet18-32.json"
    save(small_resnet18(), net)
    code = main(["train", str(net), "--dataset", f"folder:{photo_folder}", "--init-weights", path,
                 "--freeze", "stage4", "--steps", "1", "--batch-size", "6", "--device", "cpu", "--progress", "none"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0].startswith(f"training resnet18 (11,178,051 parameters; linear probing: only the "
                                          f"head's {head:,} train)")
