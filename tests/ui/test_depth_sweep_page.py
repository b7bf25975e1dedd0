"""Experiments > Depth sweep in the window: a tiny sweep ends in words, the cache reopens it, closing stops it."""
from __future__ import annotations


import pytest
import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from explorer.experiments import sweep_cache
from explorer.experiments.degradation import ArmResult
from explorer.experiments.depth_sweep import SweepResult, SweepSettings
from explorer.ui.experiments.depth_sweep_page import DepthSweepPage

from experiment_window import experiment_window, stop_within_a_step  # tests/ui is on sys.path

TINY = SweepSettings(train_size=64, test_size=32, batch_size=32, metrics_every=1, device="cpu")


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def window(qtbot, tmp_path):
    yield from experiment_window(tmp_path, (1400, 850))


def tiny_form(page: DepthSweepPage, epochs: int = 2) -> None:
    page.base_settings = TINY
    page.form.depths.setText("8, 14")
    page.form.epochs.setValue(epochs)
    page.form.dataset.set_name("shapes")
    page.form.image_size.setCurrentIndex(page.form.image_size.findData(8))


def open_page(window) -> DepthSweepPage:
    menu = window.workbench.experiments
    action = next(a for a in menu.menu.actions() if a.text() == "Depth &Sweep…")
    action.trigger()
    return menu.windows["depth_sweep"].page


def test_a_tiny_sweep_ends_in_words_and_is_kept_for_next_time(qtbot, window, cache_in_tmp):
    page = open_page(window)
    assert page.isVisible() and page.window() is not window
    assert page.measured.text() == "No sweep measured yet on this computer."
    tiny_form(page)
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        assert page.run()
        assert not page.run_button.isEnabled() and page.stop_button.isEnabled()
    verdict = done.args[0]
    assert verdict is not None and verdict.epoch == 2
    result = page.result
    assert result.status == "finished" and len(result.arms) == 4
    # the sweep plot draws the numbers the words come from
    for kind in ("plain", "resnet"):
        depths, errors = page.sweep_plot.values(kind, "train")
        assert depths == [8.0, 14.0]
        assert errors == pytest.approx([100 * p.mean for p in result.points(kind, "train")])
        assert page.sweep_plot.values(kind, "test")[1] == pytest.approx(
            [100 * p.mean for p in result.points(kind, "test")])
    assert "Training and test error against depth (final)" in page.sweep_plot.plot.titleLabel.text
    assert verdict.headline.split(":")[0] in page.words_label.text()
    assert page.status.text().startswith("Finished after") and "kept for next time" in page.status.text()
    assert page.saved_to is not None and page.saved_to.parent == cache_in_tmp / "resnet-explorer" / "depth-sweep"
    # the slider picks a depth: its two nets' training curves appear beside the sweep
    page.slider.setValue(1)
    assert page.depth_label.text() == "14 layers"
    x, y = page.depth_curves.values("plain", "train")
    assert x == [1.0, 2.0] and y == pytest.approx([100 * e for e in result.curves("plain", 14)[0].train_errors])
    assert page.depth_curves.values("resnet", "train")[0] == [1.0, 2.0]
    assert "plain-14 and ResNet-14" in page.depth_curves.plot.titleLabel.text
    # clicking near depth 8 on the sweep plot picks it
    point = page.sweep_plot.mapFromScene(page.sweep_plot.scene_point(8.6))
    qtbot.mouseClick(page.sweep_plot.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: page.selected_depth() == 8, timeout=30_000)
    assert page.depth_label.text() == "8 layers"

    # opened again (a new window, as after restarting the app): the last sweep shows at once
    again = DepthSweepPage()
    qtbot.addWidget(again)
    assert again.result is not None and again.result.settings == result.settings
    assert again.measured.text().startswith("Measured ") and "depths 8, 14 on shapes" in again.measured.text()
    assert again.form.depths.text() == "8, 14" and again.form.epochs.value() == 2
    assert again.sweep_plot.values("plain", "train")[1] == pytest.approx(page.sweep_plot.values("plain", "train")[1])
    assert again.verdict.headline == verdict.headline


def test_the_form_shows_the_cached_sweep_of_its_settings(qtbot, cache_in_tmp):
    def fake(epochs: int, end: float) -> SweepResult:
        s = SweepSettings(depths=(8, 14), epochs=epochs, dataset="shapes", seeds=(0, 1))
        arms = [ArmResult(a, [0.9] * (epochs - 1) + [end + 0.01 * seed], [0.5] * epochs, seed=seed)
                for a, seed in s.runs()]
        return SweepResult(s, arms, "finished", measured_at=1_700_000_000.0 + epochs, seconds=75.0)

    sweep_cache.save(fake(3, 0.2))
    sweep_cache.save(fake(4, 0.1))  # the latest
    page = DepthSweepPage()
    qtbot.addWidget(page)
    assert page.form.epochs.value() == 4 and page.form.seeds.text() == "0, 1"
    assert "in 1:15" in page.measured.text() and "seeds 0, 1" in page.measured.text()
    assert "mean of 2 seeds" in page.legend.text()
    assert any(type(item).__name__ == "ErrorBarItem" for item in page.sweep_plot.plot.items)  # the seeds' spread
    page.form.epochs.setValue(3)  # settings with a sweep of their own: it shows
    qtbot.waitUntil(lambda: page.result.settings.epochs == 3, timeout=30_000)
    assert page.sweep_plot.values("plain")[1] == pytest.approx([20.5, 20.5])
    page.form.epochs.setValue(7)  # never measured: said so, the plots keep the shown sweep and say whose
    qtbot.waitUntil(lambda: "have not been measured" in page.measured.text(), timeout=30_000)
    assert "3 epochs" in page.measured.text() and page.result.settings.epochs == 3


def test_bad_input_is_named_and_nothing_starts(qtbot):
    page = DepthSweepPage()
    qtbot.addWidget(page)
    page.form.depths.setText("8, 15")
    assert not page.run() and "15 is not 6n+2" in page.status.text()
    page.form.depths.setText("8, 14")
    page.form.seeds.setText("0, x")
    assert not page.run() and "'x' is not a whole number" in page.status.text()
    page.form.seeds.setText("0")
    page.form.dataset.set_name("folder:/no/such/folder")
    assert not page.run()
    assert page.status.text() == "folder dataset: expected a folder at /no/such/folder; nothing is there"
    assert not page.is_running()


def test_closing_the_window_mid_sweep_stops_it_within_a_step(qtbot, window, monkeypatch, patient_close,
                                                            work_after_stop):
    page = open_page(window)
    tiny_form(page, epochs=500)
    assert page.run()
    qtbot.waitUntil(lambda: len(page.worker.runner.trainers) == 4 and page.progress.value() > 0, timeout=60_000)
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    runner = page.worker.runner
    work_after_stop.asked = lambda: runner.stopped
    assert page.window().close()
    assert work_after_stop.count <= 1  # counted, not timed
    assert not page.is_running()
    assert [o.status for o in runner.outcomes] == ["stopped"] * 4


def test_stop_ends_the_sweep_within_a_step_and_it_can_run_again(qtbot, cache_in_tmp, work_after_stop):
    page = DepthSweepPage()
    qtbot.addWidget(page)
    tiny_form(page, epochs=500)
    for attempt in range(2):
        assert page.run()
        qtbot.waitUntil(lambda: page.result.epoch >= 1, timeout=60_000)  # every net has an epoch
        work_after_stop.count = 0
        verdict = stop_within_a_step(qtbot, page, work_after_stop)
        assert f"stopped at epoch {verdict.epoch} of 500" in verdict.text
        assert verdict.headline.startswith(f"So far (epoch {verdict.epoch} of 500)")
        assert page.status.text().startswith("Stopped after") and page.run_button.isEnabled()
        assert page.result.status == "stopped"
    # a stopped sweep is kept while no finished one of these settings exists
    assert sweep_cache.load(page.settings_used).status == "stopped"


def test_the_papers_test_errors_are_a_labelled_reference_inside_the_sweeps_depths(qtbot):
    from explorer.ui.experiments.sweep_plots import SweepPlot

    s = SweepSettings(depths=(8, 14, 20, 32, 44, 56), epochs=1, dataset="shapes")
    arms = [ArmResult(a, [0.1], [0.2], seed=seed) for a, seed in s.runs()]
    plot = SweepPlot()
    qtbot.addWidget(plot)
    plot.show_result(SweepResult(s, arms, "finished", measured_at=1_700_000_000.0, seconds=5.0))
    item = plot.lines[("paper", "test")]
    x, y = item.getData()
    assert list(x) == [20.0, 32.0, 44.0, 56.0]  # 110 and 1202 lie outside this sweep's depths
    assert list(y) == pytest.approx([8.75, 7.51, 7.17, 6.97])
    assert "He et al. 2015" in item.name() and "Table 6" in item.name()
