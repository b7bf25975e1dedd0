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
