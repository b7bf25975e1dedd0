"""Drop a Block from the page with files a user already has: a torchvision-format state_dict, an ImageNet
validation folder, a chosen network and chosen blocks."""
from __future__ import annotations

import numpy as np
import torch  # noqa: F401  (torch before PySide6)
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from explorer.nn import build
from explorer.spec import preset
from explorer.ui.experiments.dropblock_page import DropBlockPage


def test_a_torchvision_state_dict_on_imagenet_folders_with_two_chosen_blocks(qtbot, tmp_path, monkeypatch):
    weights = tmp_path / "resnet18-f37072fd.pth"
    torch.save(build(preset("resnet18"), seed=0).state_dict(), weights)
    root = tmp_path / "val"
    rng = np.random.default_rng(0)
    for i, wnid in enumerate(("n01440764", "n02123045")):
        (root / wnid).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)).save(root / wnid / f"{i}.png")
    page = DropBlockPage()
    qtbot.addWidget(page)
    page.resnet_file.setText(str(weights))
    assert not page.run()  # a bare state_dict does not say which network it is
    assert "name the network" in page.status.text()
    page.network.setCurrentIndex(page.network.findData("resnet18"))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(root))
    page.imagenet_button.click()
    assert page.dataset.text() == f"imagenet-val:{root}"
    page.blocks.setText("4.9")
    assert not page.run()
    assert "stage 4 of resnet18 has blocks 1 to 2" in page.status.text()
    page.blocks.setText("3.2, 1.1")
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        assert page.run()
    assert done.args[0] is not None, page.status.text()
    result = page.results[0]
    assert [d.label for d in result.drops] == ["stage 1, block 1", "stage 3, block 2"]
    assert result.images == 2 and result.baseline_top5 is not None
    assert len(page.bars.lost(0)) == 2
    assert "2 of the 8 blocks measured" in page.words_label.text()


def test_vgg16_as_the_plain_twin_is_measured_layer_by_layer_beside_the_resnet(qtbot, tmp_path, monkeypatch):
    from dataclasses import replace

    from explorer.nn.vgg import build_vgg
    from explorer.ui.experiments import dropblock_page

    weights = tmp_path / "resnet18.pth"
    torch.save(build(preset("resnet18"), seed=0).state_dict(), weights)
    g = torch.Generator().manual_seed(0)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in build_vgg("vgg16").state_dict().items()}
    vgg = tmp_path / "vgg16.pth"  # small storage: a random row broadcast to each shape
    torch.save({k: (torch.randn(s[-1], generator=g) * 0.05).expand(s) for k, s in shapes.items()}, vgg)
    load = dropblock_page.load_vgg
    monkeypatch.setattr(dropblock_page, "load_vgg", lambda path, name: replace(load(path, name), input_size=32))
    root = tmp_path / "val"
    rng = np.random.default_rng(0)
    for i, wnid in enumerate(("n01440764", "n02123045")):
        (root / wnid).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / wnid / f"{i}.png")
    page = DropBlockPage()
    qtbot.addWidget(page)
    page.resnet_file.setText(str(weights))
    page.network.setCurrentIndex(page.network.findData("resnet18"))
    page.plain_file.setText(str(vgg))
    page.twin_network.setCurrentIndex(page.twin_network.findData("vgg16"))
    page.blocks.setText("1.1")
    assert not page.run()  # no test data named: VGG's weights do not say
    assert "name the test data" in page.status.text()
    page.dataset.setText(f"imagenet-val:{root}")
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        assert page.run()
    assert done.args[0] is not None, page.status.text()
    vgg_result = page.results[1]
    assert vgg_result.name == "vgg16" and len(vgg_result.drops) == 13 and len(vgg_result.removable()) == 9
    assert "vgg16" in page.words_label.text() and "resnet18" in page.words_label.text()
