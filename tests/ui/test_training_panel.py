"""The training panel driving the real trainer on ``shapes`` with a tiny network."""
from __future__ import annotations

import csv
import gc
from dataclasses import replace

import pytest
import torch  # (torch before PySide6)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from explorer.spec.model import BlockKind, NetworkSpec, ShortcutKind, StemSpec, uniform_stage
from explorer.train.api import TrainSettings
from explorer.ui.document import Document
from explorer.ui.training import TrainingPanel
from explorer.ui.training.panel import SHAPE_EDIT_MESSAGE


def tiny_spec() -> NetworkSpec:
    return NetworkSpec(name="tiny", stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, 1, 8, 1),
                               uniform_stage(BlockKind.BASIC, 1, 16, 2)))


def tiny_settings(**changes) -> TrainSettings:
    base = dict(dataset="shapes", train_size=256, test_size=64, batch_size=64, epochs=2, augment=False,
                device="cpu", lr=0.05)
    base.update(changes)
    return TrainSettings(**base)




@pytest.fixture
def panel(qtbot):
    doc = Document(tiny_spec())
    p = TrainingPanel(doc)
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    yield p
    assert p.shutdown(5.0)


def run_to_end(qtbot, panel, **settings):
    panel.form.set_settings(tiny_settings(**settings))
    with qtbot.waitSignal(panel.runFinished, timeout=60_000) as done:
        assert panel.start()
    return done.args[0]


def start_long_run(qtbot, panel):
    """Start a run far longer than any test waits, and wait for its first points."""
    panel.form.set_settings(tiny_settings(epochs=500))
    assert panel.start()
    entry = panel.store.active
    qtbot.waitUntil(lambda: len(entry.steps) > 0, timeout=60_000)
    return entry


def stop(qtbot, panel):
    with qtbot.waitSignal(panel.runFinished, timeout=10_000):
        panel.stop_button.click()


def test_buttons_follow_the_run(qtbot, panel):
    assert (panel.start_button.isEnabled(), panel.pause_button.isEnabled(),
            panel.stop_button.isEnabled()) == (True, False, False)
    entry = start_long_run(qtbot, panel)
    assert (panel.start_button.isEnabled(), panel.pause_button.isEnabled(),
            panel.stop_button.isEnabled()) == (False, True, True)
    assert not panel.form.isEnabled()
    curve = panel.plots.curves(entry).loss_raw
    xs, ys = curve.getOriginalDataset()
    assert len(xs) == len(ys) > 0  # points streamed into the loss plot while running
    assert "images/s" in panel.progress_label.text() and "ETA" in panel.progress_label.text()
    panel.set_run_visible(entry, False)  # the active run cannot be hidden
    assert panel.plots.is_shown(entry) and panel.plots.legend_labels() == [entry.label]
    stop(qtbot, panel)
    assert (panel.start_button.isEnabled(), panel.pause_button.isEnabled(),
            panel.stop_button.isEnabled()) == (True, False, False)
    assert entry.status == "stopped" and panel.run_records()[0].status == "stopped"
    assert not panel.is_running()


def test_a_short_run_fills_the_plots_and_stays_in_the_run_list(qtbot, panel):
    started = []
    panel.runStarted.connect(started.append)
    record = run_to_end(qtbot, panel)
    assert started == [["stage 1, block 1", "stage 2, block 1"]]
    assert record.status == "finished" and len(record.steps) == 8
    entry = panel.store.active or list(panel.store)[0]
    curves = panel.plots.curves(entry)
    assert len(curves.loss_raw.getOriginalDataset()[0]) == 8
    assert len(curves.loss_ema.getOriginalDataset()[0]) == 8
    assert list(curves.test_error.getOriginalDataset()[0]) == [1.0, 2.0]
    assert len(curves.lr.getOriginalDataset()[0]) == 8
    assert panel.run_records() == [record]
    assert panel.latest_model_state() is record.model_state is not None
    assert "finished" in panel.progress_label.text()
    assert panel.run_list.topLevelItem(0).text(1) == "finished"


def test_pause_holds_the_run_and_resume_continues_it(qtbot, panel):
    entry = start_long_run(qtbot, panel)
    trainer = panel.worker.trainer
    panel.pause_button.click()
    assert panel.pause_button.text() == "Resume"
    # a between-steps command runs only once the trainer is waiting at its pause point
    parked = []
    panel.worker.call_between_steps(lambda model: parked.append(trainer.step))
    qtbot.waitUntil(lambda: bool(parked), timeout=10_000)
    held = parked[0]
    qtbot.waitUntil(lambda: len(entry.steps) == held, timeout=5_000)
    qtbot.wait(800)  # the run must hold: no step is taken or plotted while paused
    assert trainer.step == held and len(entry.steps) == held
    assert "Paused" in panel.progress_label.text()
    panel.pause_button.click()
    assert panel.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(entry.steps) > held, timeout=30_000)
    stop(qtbot, panel)


def test_confirm_close_asks_then_stops_within_a_step(qtbot, monkeypatch, qtlog, patient_close, work_after_stop):
    panel = TrainingPanel(Document(tiny_spec()))  # not the fixture's: this test deletes it
    panel.show()
    start_long_run(qtbot, panel)
    asked = []

    def answer(reply):
        def question(parent, title, text, *args):
            asked.append(text)
            return reply
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    assert panel.confirm_close(None) is False and panel.is_running()
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    control = panel.worker.trainer.control
    work_after_stop.asked = lambda: control.stopped
    assert panel.confirm_close(None) is True
    assert work_after_stop.count <= 1  # counted, not timed
    assert asked == ["Training is running. Stop it and close?"] * 2
    assert not panel.is_running()
    assert panel.run_records()[0].status == "stopped"
    panel.close()
    with qtbot.waitSignal(panel.destroyed, timeout=30_000):
        panel.deleteLater()
    del panel
    gc.collect()
    assert not [r for r in qtlog.records if "QThread" in r.message]


def test_two_runs_overlay_with_a_legend_entry_each(qtbot, panel):
    run_to_end(qtbot, panel, epochs=1, lr=0.05)
    run_to_end(qtbot, panel, epochs=1, lr=0.01)
    first, second = list(panel.store)
    assert panel.plots.legend_labels() == [first.label, second.label]
    assert "tiny · sgd lr 0.05 · bs 64" in first.label and "lr 0.01" in second.label
    loss_items = [i for i in panel.plots.loss_plot.listDataItems() if len(i.getOriginalDataset()[0])]
    assert len(loss_items) == 4  # raw and smoothed for each run
    panel.set_run_visible(first, False)
    assert panel.plots.legend_labels() == [second.label]
    panel.set_run_visible(first, True)
    assert sorted(panel.plots.legend_labels()) == sorted([first.label, second.label])
    panel.plots.log_scale.setChecked(True)
    assert panel.plots.loss_plot.getAxis("left").logMode and panel.plots.lr_plot.getAxis("left").logMode


def test_skip_toggles_reach_the_running_model_and_shape_edits_are_refused(qtbot, panel):
    start_long_run(qtbot, panel)
    panel.pause_button.click()  # toggles still apply while paused, between steps
    model = panel.worker.trainer.model
    doc = panel.document
    assert model.block_at(0, 0).skip is True
    doc.edit(doc.spec.with_skips(False, where=[(0, 0)]), "skip off")
    qtbot.waitUntil(lambda: model.block_at(0, 0).skip is False, timeout=5_000)
    assert model.block_at(1, 0).skip is True

    wider = doc.spec.with_block(0, 0, replace(doc.spec.block(0, 0), width=12))
    doc.edit(wider, "widen")
    assert panel.message.isVisible() and panel.message.text() == SHAPE_EDIT_MESSAGE
    assert panel.is_running() and panel.worker.trainer.model is model
    assert model.block_at(0, 0).conv1.out_channels == 8  # the running network is untouched
    doc.undo_stack.undo()  # back to the running layout: the message goes
    assert not panel.message.isVisible()
    stop(qtbot, panel)


def test_csv_export_writes_epoch_and_step_columns(qtbot, panel, tmp_path):
    run_to_end(qtbot, panel)
    written = panel.export_csv(tmp_path / "metrics.csv")
    assert [p.name for p in written] == ["metrics.csv", "metrics-steps.csv"]
    with open(written[0], newline="") as fh:
        rows = list(csv.DictReader(fh))
    # the command line's --metrics-csv columns, in its order
    assert list(rows[0]) == ["epoch", "step", "train_loss", "train_error", "test_loss", "test_error", "lr",
                             "images_per_s", "seconds"]
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert 0.0 <= float(rows[-1]["test_error"]) <= 1.0
    with open(written[1], newline="") as fh:
        steps = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in steps] == list(range(1, 9))
    assert all(float(r["loss"]) > 0 for r in steps)


def test_a_missing_dataset_folder_is_reported_and_leaves_no_run(qtbot, panel, tmp_path):
    missing = tmp_path / "cifar"
    panel.form.set_settings(tiny_settings(dataset=f"cifar10:{missing}"))
    with qtbot.waitSignal(panel.worker.runEnded, timeout=30_000):
        assert panel.start()
    assert panel.message.isVisible() and str(missing) in panel.message.text()
    assert len(panel.store) == 0 and panel.run_list.topLevelItemCount() == 0
    assert panel.start_button.isEnabled()


def test_a_dataset_needing_a_folder_asks_for_one_before_starting(panel):
    panel.form.set_settings(tiny_settings(dataset="mnist:"))
    assert panel.start() is False
    assert "MNIST" in panel.message.text() and "folder" in panel.message.text()
    assert not panel.is_running()


def test_a_nan_loss_fails_the_run_with_the_trainers_advice(qtbot, panel):
    record = run_to_end(qtbot, panel, lr=1e4, epochs=3)
    assert record.status == "failed"
    assert "lower learning rate" in panel.message.text()
    assert panel.run_list.topLevelItem(0).text(1) == "failed"
    assert panel.run_records() == [record] and panel.start_button.isEnabled()


def test_an_invalid_design_trains_its_last_valid_version(qtbot, panel):
    doc = panel.document
    broken = doc.spec.with_block(1, 0, replace(doc.spec.block(1, 0), shortcut=ShortcutKind.IDENTITY))
    doc.edit(broken, "break")
    assert not doc.valid
    record = run_to_end(qtbot, panel, epochs=1)
    assert record.status == "finished"
    assert "last valid version" in panel.message.text()


def test_conversions_the_trainer_made_are_shown_after_the_run(qtbot, panel):
    record = run_to_end(qtbot, panel, dataset="digits", epochs=1)  # grey digits, an RGB network
    assert record.status == "finished" and record.notes
    assert panel.message.isVisible() and panel.message.text().startswith("Note: ")
    assert record.notes[0] in panel.message.text()


def test_a_short_panel_puts_the_plots_in_one_row_and_the_runs_in_a_tab(qtbot, panel):
    plots = panel.plots
    assert plots.view.ci.getItem(1, 0) is plots.error_plot  # tall: loss above error and lr
    assert panel.run_list.isVisible() and panel.left_tabs.count() == 1
    panel.resize(1400, 360)  # the height of a bottom dock
    assert [plots.view.ci.getItem(0, c) for c in range(3)] == [plots.loss_plot, plots.error_plot,
                                                              plots.lr_plot]
    assert not plots.loss_legend.isVisible()  # the run list's swatches name the runs
    # no legend over the small plots' points: the error plot's key is a line under them
    assert not plots.error_legend.isVisible() and plots.error_key.isVisible()
    # the run list is a tab beside the settings: the plots have the width it took
    assert panel.left_tabs.tabText(1) == "Runs" and panel.right_splitter.count() == 1
    qtbot.waitUntil(lambda: plots.width() > panel.width() - panel._settings_column.width() - 20)
    panel.left_tabs.setCurrentIndex(1)
    assert panel.run_list.isVisible()
    panel.resize(1200, 800)
    assert panel.right_splitter.orientation() == Qt.Orientation.Vertical
    assert plots.view.ci.getItem(1, 1) is plots.lr_plot and plots.loss_legend.isVisible()
    assert plots.error_legend.isVisible() and not plots.error_key.isVisible()
    assert panel.left_tabs.count() == 1 and panel.run_list.isVisible()


def test_the_unreadable_images_policy_is_a_row_of_the_form(panel):
    """A folder streamed from disk skips and counts unreadable images unless the run is set to stop at
    the first; the form offers the same choice the command line's --unreadable-images does."""
    row = panel.form.rows["unreadable_images"]
    assert panel.form.settings().unreadable_images == "skip"
    row.set_value("stop")
    assert panel.form.settings().unreadable_images == "stop"
    assert "stop the run at the first" in row.widget.toolTip()
