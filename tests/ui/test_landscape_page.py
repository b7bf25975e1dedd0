"""Experiments > Loss Landscape: weights from files or the editor's runs, heatmaps that refine, words, stop and close."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QMessageBox

from explorer.experiments.arms import cifar_net
from explorer.experiments.landscape import result_dict
from explorer.experiments.reports import render
from explorer.train.api import TrainSettings
from explorer.train.trainer import Trainer

from experiment_window import experiment_window  # tests/ui is on sys.path (rootdir-relative imports)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """A ResNet-8 and its plain twin, a few steps trained on shapes at 8x8."""
    folder = tmp_path_factory.mktemp("landscape")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    settings = TrainSettings(dataset="shapes", train_size=64, test_size=16, batch_size=32, max_steps=2,
                             augment=False, device="cpu")
    paths = {}
    for kind in ("resnet", "plain"):
        trainer = Trainer(cifar_net(kind, 8, (3, 8, 8)), settings)
        trainer.run()
        paths[kind] = str(folder / f"{kind}8.pt")
        trainer.save_checkpoint(paths[kind])
    torch.set_num_threads(threads)
    return paths


@pytest.fixture
def window(qtbot, tmp_path):
    yield from experiment_window(tmp_path)


def open_page(window, checkpoints, grid: int = 1, images: int = 16):
    menu = window.workbench.experiments
    action = next(a for a in menu.menu.actions() if a.text() == "Loss &Landscape…")
    action.trigger()
    page = menu.windows["landscape"].page
    assert page.from_files.isChecked()  # no degradation run, no trained run yet
    page.resnet_file.setText(checkpoints["resnet"])
    page.plain_file.setText(checkpoints["plain"])
    page.grid.setCurrentIndex(grid)
    page.images.setValue(images)
    return page


def test_a_measurement_fills_both_heatmaps_on_one_colour_scale_and_ends_in_words(qtbot, window, checkpoints,
                                                                                  one_torch_thread):
    page = open_page(window, checkpoints)  # 5 then 13 points per side
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        assert page.run()
        assert not page.run_button.isEnabled() and page.stop_button.isEnabled()
    words = done.args[0]
    assert words is not None and words.outcome != "nothing"
    view = page.view
    assert view.labels == ["ResNet-8", "plain-8"]
    assert all(s is not None and s.shape == (13, 13) and not np.isnan(s).any() for s in view.shown)
    lo, hi = view.levels  # one colour scale spans both nets' losses
    logs = np.log10(np.concatenate([s.ravel() for s in view.shown]))
    assert lo == pytest.approx(logs.min()) and hi == pytest.approx(logs.max())
    assert all(image.levels is not None and tuple(image.levels) == pytest.approx((lo, hi)) for image in view.images)
    for image in view.images:  # each grid point's pixel is centred on its coordinates: 13 points over -1..1
        drawn = image.mapRectToParent(image.boundingRect())
        half = 1.0 / 12  # half a grid step
        assert (drawn.left(), drawn.right()) == pytest.approx((-1 - half, 1 + half))
        assert (drawn.top(), drawn.bottom()) == pytest.approx((-1 - half, 1 + half))
    x, y = view.slice_items[0].xData, view.slice_items[0].yData  # the data, not its log-scale drawing
    assert len(x) == 13 and y[6] == pytest.approx(view.shown[0][6, 6])  # the slice passes through the centre
    # every sentence the CLI would print for these grids (experiment report of the page's result), in order
    saved = json.loads(json.dumps(result_dict(page.runner, 1.0), default=float))
    assert render(saved).texts == words.texts
    doc = QTextDocument()
    doc.setHtml(page.words_label.text())
    assert doc.toPlainText().split("\n") == [words.headline, " ".join(words.texts[1:])]
    assert "<i>" in page.words_label.text()  # the lessons' text set apart
    assert "13x13 grid" in words.text and page.status.text().startswith("Done after")
    assert page.run_button.isEnabled() and not page.stop_button.isEnabled()


def test_a_missing_file_is_named_and_nothing_starts(qtbot, window, checkpoints, tmp_path):
    page = open_page(window, checkpoints)
    page.resnet_file.setText(str(tmp_path / "nowhere.pt"))
    assert not page.run()
    assert "nowhere.pt does not exist" in page.status.text()
    assert not page.is_running()


def test_runs_trained_in_the_editor_are_offered(qtbot, window, checkpoints):
    from explorer.train.api import RunRecord
    from explorer.train.checkpoint import read_checkpoint
    records = []
    for kind in ("resnet", "plain"):
        data = read_checkpoint(checkpoints[kind])
        records.append(RunRecord(name=f"{kind}8 · shapes", spec_json=data["spec"],
                                 settings=TrainSettings.from_dict(data["settings"]), status="finished",
                                 model_state=data["model"]))
    window.workbench.training.run_records = lambda: records
    menu = window.workbench.experiments
    menu.landscape_action.trigger()
    page = menu.windows["landscape"].page
    assert page.from_editor.isChecked()
    assert [page.run_a.itemText(i) for i in range(page.run_a.count())] == ["1. resnet8 · shapes", "2. plain8 · shapes"]
    assert (page.run_a.currentData(), page.run_b.currentData()) == (0, 1)
    nets = page._nets()
    assert [n.label for n in nets] == ["ResNet-8", "plain-8"]


def test_closing_mid_run_asks_and_stops_within_a_point(qtbot, window, checkpoints, monkeypatch, one_torch_thread,
                                                       patient_close, work_after_stop):
    page = open_page(window, checkpoints, grid=2, images=64)  # 9 then 49 points per side: long enough
    assert page.run()
    qtbot.waitUntil(lambda: page.view.shown and page.view.shown[1] is not None, timeout=60_000)  # coarse shown
    assert np.isnan(page.runner.surfaces[1].values).any()  # still refining
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *args: answers.pop(0))
    experiment_window = page.window()
    assert not experiment_window.close()
    assert page.is_running()
    runner = page.runner
    from explorer.analysis.landscape import LossSurface
    work_after_stop.watch(LossSurface, "loss_at")  # one point of the grid
    work_after_stop.asked = lambda: runner.stopped
    assert experiment_window.close()
    assert work_after_stop.count <= 1  # counted, not timed
    assert not page.is_running() and runner.stopped


def test_stop_keeps_the_points_measured_and_the_words_say_the_grid_is_incomplete(qtbot, window, checkpoints,
                                                                                  one_torch_thread, work_after_stop):
    page = open_page(window, checkpoints, grid=2, images=64)
    assert page.run()
    qtbot.waitUntil(lambda: page.view.shown and page.view.shown[1] is not None, timeout=60_000)
    from explorer.analysis.landscape import LossSurface
    work_after_stop.watch(LossSurface, "loss_at")  # one point of the grid
    runner = page.runner
    work_after_stop.asked = lambda: runner.stopped
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        page.stop_button.click()
    assert work_after_stop.count <= 1  # it ends within a point: counted, not timed
    words = done.args[0]
    assert "The grid is not complete" in words.text
    assert page.status.text().startswith("Stopped after")
    page.grid.setCurrentIndex(1)  # and it measures again, from scratch
    page.images.setValue(16)
    with qtbot.waitSignal(page.finished, timeout=120_000) as again:
        assert page.run()
    assert again.args[0].outcome != "nothing" and page.view.shown[0].shape == (13, 13)
    assert "The grid is not complete" not in again.args[0].text


def test_one_network_alone_is_measured_and_the_words_ask_for_its_twin(qtbot, window, checkpoints, one_torch_thread):
    page = open_page(window, checkpoints)
    page.plain_file.setText("")
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        assert page.run()
    words = done.args[0]
    assert words.outcome == "single" and "Compare a ResNet with its plain twin" in words.text
    assert page.view.labels == ["ResNet-8"] and len(page.view.shown) == 1
    assert page.view.maps[1].isVisible()  # the colour scale beside it stays in view


def test_the_degradation_runs_weights_are_offered_and_measured(qtbot, window, one_torch_thread):
    from explorer.experiments.degradation import DegradationSettings, degradation_runner
    settings = DegradationSettings(dataset="shapes", depths=(8, 14), epochs=1, train_size=64, test_size=32,
                                   batch_size=32, image_size=8, device="cpu")
    runner = degradation_runner(settings)
    runner.run()
    assert not runner.error
    menu = window.workbench.experiments
    menu.degradation_result = lambda: (settings, runner)  # as if the degradation page had just finished
    menu.landscape_action.trigger()
    page = menu.windows["landscape"].page
    assert page.from_run.isChecked()
    assert [page.depth.itemData(i) for i in range(page.depth.count())] == [("degradation", 8), ("degradation", 14)]
    page.depth.setCurrentIndex(1)
    page.grid.setCurrentIndex(1)
    page.images.setValue(16)
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        assert page.run()
    assert done.args[0] is not None
    assert page.view.labels == ["ResNet-14", "plain-14"]
    assert page.runner.dataset.startswith("shapes") and page.runner.images == 16


def test_a_depth_sweeps_weights_are_offered_from_its_first_seed(qtbot, window, one_torch_thread):
    from explorer.experiments.depth_sweep import SweepSettings, sweep_runner
    settings = SweepSettings(dataset="shapes", depths=(8, 14), seeds=(3, 4), epochs=1, train_size=64, test_size=32,
                             batch_size=32, image_size=8, device="cpu")
    runner = sweep_runner(settings)
    runner.run()
    assert not runner.error
    menu = window.workbench.experiments
    menu.sweep_result = lambda: (settings, runner)  # as if the depth-sweep page had just finished
    menu.landscape_action.trigger()
    page = menu.windows["landscape"].page
    assert page.from_run.isChecked()
    assert [page.depth.itemText(i) for i in range(page.depth.count())] == [
        "ResNet-8 and plain-8 (depth sweep)", "ResNet-14 and plain-14 (depth sweep)"]
    page.depth.setCurrentIndex(0)
    nets = page._nets()
    assert [n.label for n in nets] == ["ResNet-8", "plain-8"] and nets[0].source == "depth sweep"
    i = next(i for i, (a, seed) in enumerate(settings.runs()) if (a.kind, a.depth, seed) == ("resnet", 8, 3))
    expected = runner.outcomes[i].record.model_state
    assert all(torch.equal(nets[0].state[k], expected[k]) for k in expected)  # seed 3's ResNet-8, not seed 4's
