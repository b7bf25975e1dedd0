"""Experiments > Drop a Block: weights from the degradation run or from files, bars and words."""
from __future__ import annotations

import pytest
import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtCore import QSettings

from explorer.experiments.arms import cifar_net
from explorer.experiments.degradation import DegradationSettings, degradation_runner
from explorer.spec import preset
from explorer.train.api import TrainSettings
from explorer.train.trainer import Trainer
from explorer.ui.document import Document
from explorer.ui.experiments.dropblock_page import DropBlockPage
from explorer.ui.app_window import build_window

from fakes import FakeDialogs  # tests/ui is on sys.path (rootdir-relative imports)


@pytest.fixture(scope="module")
def finished_run():
    """A tiny degradation run that has ended, as the degradation page keeps it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    settings = DegradationSettings(dataset="shapes", depths=(8, 14), epochs=1, train_size=64, test_size=32,
                                   batch_size=32, image_size=8, device="cpu")
    runner = degradation_runner(settings)
    runner.run()
    torch.set_num_threads(threads)
    assert not runner.error
    return settings, runner


def test_the_menu_offers_the_degradation_runs_weights_and_measures_every_block(qtbot, tmp_path, finished_run):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win, bench = build_window(Document(preset("resnet20")), settings=settings, dialogs=FakeDialogs())
    win.show()
    menu = bench.experiments
    menu.degradation_result = lambda: finished_run  # as if the degradation page had just finished
    assert [a.text() for a in menu.menu.actions()][:2] == ["&Degradation…", "Drop a &Block…"]
    menu.drop_block_action.trigger()
    page = menu.windows["drop_block"].page
    assert page.from_run.isChecked()
    assert [page.depth.itemData(i) for i in range(page.depth.count())] == [8, 14]
    with qtbot.waitSignal(page.finished, timeout=60_000) as done:
        assert page.run()
    words = done.args[0]
    assert words.startswith("Removing one residual block of resnet8 typically costs")
    assert "at worst (without stage " in words
    assert "2 of plain8's blocks cannot be removed (stage 2, block 1; stage 3, block 1)" in words
    assert page.bars.names == ["ResNet-8", "plain-8"]
    assert all(v is not None for v in page.bars.lost(0))  # every residual block can lose its branch
    assert [v is None for v in page.bars.lost(1)] == [False, True, True]
    assert "Removing one residual block of resnet8" in page.words_label.text()
    assert menu.shutdown(5.0)
    bench.shutdown()
    win.close()


def test_weights_from_checkpoint_files(qtbot, tmp_path):
    trainer = Trainer(cifar_net("resnet", 8, (3, 8, 8)),
                      TrainSettings(dataset="shapes", train_size=64, test_size=32, batch_size=32, epochs=1,
                                    device="cpu"))
    trainer.run()
    path = tmp_path / "resnet8.pt"
    trainer.save_checkpoint(path)
    page = DropBlockPage()
    qtbot.addWidget(page)
    assert page.from_files.isChecked() and not page.from_run.isEnabled()  # no degradation run to offer
    assert not page.run()
    assert "choose the ResNet's checkpoint file" in page.status.text()
    page.resnet_file.setText(str(tmp_path / "missing.pt"))
    assert not page.run()
    assert "missing.pt does not exist" in page.status.text()
    page.resnet_file.setText(str(path))
    with qtbot.waitSignal(page.finished, timeout=60_000) as done:
        assert page.run()
    assert done.args[0].startswith("Removing one residual block of resnet8")
    assert len(page.bars.lost(0)) == 3
