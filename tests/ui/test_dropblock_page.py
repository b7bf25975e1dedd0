"""Experiments > Drop a Block: weights from the degradation run or from files, bars and words."""
from __future__ import annotations

import pytest
import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtCore import QSettings

import json
from html import escape

from explorer.cli import main as cli_main
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
    assert words.startswith("The costliest removal from resnet8 is stage ")
    assert "2 of the 3 measured blocks of plain8 cannot be removed (stage 2, block 1; stage 3, block 1)" in words
    assert page.bars.names == ["ResNet-8", "plain-8"]
    assert all(v is not None for v in page.bars.lost(0))  # every residual block can lose its branch
    assert [v is None for v in page.bars.lost(1)] == [False, True, True]
    assert "The costliest removal from resnet8 is stage " in page.words_label.text()
    assert menu.shutdown(5.0)
    bench.shutdown()
    win.close()


def _checkpoint(tmp_path, kind: str, dataset: str = "shapes") -> str:
    trainer = Trainer(cifar_net(kind, 8, (3, 8, 8)),
                      TrainSettings(dataset=dataset, train_size=64, test_size=32, batch_size=32, epochs=1,
                                    device="cpu"))
    trainer.run()
    path = tmp_path / f"{kind}8.pt"
    trainer.save_checkpoint(path)
    return str(path)


def test_weights_from_checkpoint_files_show_every_sentence_the_cli_prints(qtbot, tmp_path, capsys,
                                                                          one_torch_thread):
    resnet, plain = _checkpoint(tmp_path, "resnet"), _checkpoint(tmp_path, "plain")
    page = DropBlockPage()
    qtbot.addWidget(page)
    assert page.from_files.isChecked() and not page.from_run.isEnabled()  # no degradation run to offer
    assert not page.run()
    assert "choose the ResNet's checkpoint file" in page.status.text()
    page.resnet_file.setText(str(tmp_path / "missing.pt"))
    assert not page.run()
    assert "missing.pt does not exist" in page.status.text()
    page.resnet_file.setText(resnet)
    page.plain_file.setText(plain)
    with qtbot.waitSignal(page.finished, timeout=60_000) as done:
        assert page.run()
    assert done.args[0].startswith("The costliest removal from resnet8 is stage ")
    assert len(page.bars.lost(0)) == 3
    assert cli_main(["experiment", "drop-block", "resnet8", "--checkpoint", resnet, "--twin", "plain8",
                     "--twin-checkpoint", plain, "--device", "cpu", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert page.result_words.to_dict() == {k: report[k] for k in ("sentences", "claims")}
    shown = page.words_label.text()
    texts = [s if isinstance(s, str) else s["text"] for s in report["sentences"]]
    assert any("plain8" in t for t in texts[1:]) and any("resnet8" in t for t in texts[1:])
    for text in texts:  # the second net's sentences too
        assert escape(text) in shown, text


def test_weights_trained_on_other_classes_are_refused_from_files_as_on_the_command_line(qtbot, tmp_path):
    page = DropBlockPage()
    qtbot.addWidget(page)
    from PIL import Image
    for name, colour in (("cats", (255, 0, 0)), ("dogs", (0, 0, 255))):  # 2 classes; the net has 10 outputs
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8), colour).save(tmp_path / "pets" / name / f"{i}.png")
    page.resnet_file.setText(_checkpoint(tmp_path, "resnet", "shapes"))
    page.dataset.setText(f"folder:{tmp_path / 'pets'}")
    with qtbot.waitSignal(page.finished, timeout=60_000) as done:
        assert page.run()
    assert done.args[0] is None
    assert "has 2 classes but resnet8's head has 10 outputs" in page.status.text()
    assert page.results == [] and page.result_words is None


def test_a_removal_that_raises_the_accuracy_is_drawn_below_zero(qtbot):
    import pyqtgraph as pg

    from explorer.experiments.dropblock import BlockDrop
    from explorer.ui.experiments.dropblock_page import DropBars

    bars = DropBars()
    qtbot.addWidget(bars)
    bars.reset(["resnet8"])
    for i, acc in enumerate((0.70, 0.85, 0.80)):  # with every block: 0.80
        bars.add(0, BlockDrop(i, f"stage 1, block {i + 1}", True, acc), 0.80)
    item = next(it for it in bars.plot.items if isinstance(it, pg.BarGraphItem))
    heights = list(item.opts["height"])
    assert heights == pytest.approx([10.0, -5.0, 0.0])  # the gain of 5 points is not drawn as nothing
