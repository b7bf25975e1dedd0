"""The whole window: editor, training, gradient flow and export working together."""
from __future__ import annotations


import pytest
import torch  # (torch before PySide6)
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from explorer.nn import build
from explorer.spec.model import BlockKind, NetworkSpec, StemSpec, uniform_stage
from explorer.train.api import TrainSettings
from explorer.ui.document import Document
from explorer.ui.app_window import build_window

from fakes import FakeDialogs  # tests/ui is on sys.path (rootdir-relative imports)


def tiny_spec() -> NetworkSpec:
    return NetworkSpec(name="tiny", stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, 2, 8, 1),
                               uniform_stage(BlockKind.BASIC, 2, 16, 2)))


def tiny_settings(**changes) -> TrainSettings:
    base = dict(dataset="shapes", train_size=256, test_size=64, batch_size=64, epochs=2, augment=False,
                device="cpu", lr=0.05, grad_every=2)
    base.update(changes)
    return TrainSettings(**base)




@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win, bench = build_window(Document(tiny_spec()), settings=settings, dialogs=FakeDialogs())
    win.resize(1400, 900)
    win.show()
    yield win
    # Stop any run first, so closing never asks (a modal question would block the test).
    assert bench.training.shutdown(5.0)
    bench.shutdown()
    win.close()
    win.deleteLater()


def test_a_skip_clicked_in_the_diagram_changes_the_gradient_profile(qtbot, window):
    bench = window.workbench
    bench.gradflow_dock.raise_()
    qtbot.waitUntil(lambda: bench.gradflow.last_outcome is not None, timeout=30_000)
    before = bench.gradflow.last_outcome
    with qtbot.waitSignal(bench.gradflow.profileUpdated, timeout=30_000):
        window.diagram.toggle_skip(0, 1)
    after = bench.gradflow.last_outcome
    assert after is not before
    assert window.document.spec.block(0, 1).skip is False
    window.document.undo_stack.undo()
    assert window.document.spec == tiny_spec()


def test_training_streams_gradient_columns_and_offers_its_weights_for_export(qtbot, window, tmp_path):
    bench = window.workbench
    # a run that fails to start takes number 1: the export dialog must still name the next run "#2",
    # as the run list does, not by its position in the list
    bench.training.form.set_settings(tiny_settings(dataset=f"cifar10:{tmp_path / 'missing'}"))
    with qtbot.waitSignal(bench.training.worker.runEnded, timeout=30_000):
        assert bench.training.start()
    bench.training.form.set_settings(tiny_settings())
    with qtbot.waitSignal(bench.training.runFinished, timeout=60_000) as done:
        assert bench.training.start()
    record = done.args[0]
    assert record.status == "finished"
    heatmap = bench.gradflow.heatmap
    heatmap.flush()
    recorded = [heatmap.column_label(c) for c in range(heatmap.columns)]
    assert sum(label != "probe" for label in recorded) >= 4  # 8 steps recorded every 2
    assert heatmap.values().shape[0] == 4  # one row per block
    sources = bench.weights_sources()
    assert sources[0][1].startswith("Fresh") and sources[1][:2] == ("run:2", f"Run #2: {record.name} (finished)")
    assert bench.training.run_list.topLevelItem(0).text(0).startswith("#2")
    assert bench.gradflow._weights_source().state is record.model_state


def test_closing_mid_run_asks_then_stops_within_a_step(qtbot, window, monkeypatch, patient_close, work_after_stop):
    bench = window.workbench
    bench.training.form.set_settings(tiny_settings(epochs=500))
    assert bench.training.start()
    entry = bench.training.store.active
    qtbot.waitUntil(lambda: len(entry.steps) > 0, timeout=60_000)
    asked = []

    def question(parent, title, text, *args):
        asked.append(text)
        return QMessageBox.StandardButton.Yes
    monkeypatch.setattr(QMessageBox, "question", question)
    control = bench.training.worker.trainer.control
    work_after_stop.asked = lambda: control.stopped
    assert window.close()
    assert work_after_stop.count <= 1  # counted, not timed
    assert asked == ["Training is running. Stop it and close?"]
    assert not bench.training.is_running()
    assert bench.training.run_records()[0].status == "stopped"  # the run's curves are kept


def test_a_toggle_mid_run_is_measured_at_the_weights_being_trained(qtbot, window):
    bench = window.workbench
    bench.gradflow_dock.raise_()
    qtbot.waitUntil(lambda: bench.gradflow.last_outcome is not None, timeout=30_000)
    bench.training.form.set_settings(tiny_settings(epochs=500))
    assert bench.training.start()
    entry = bench.training.store.active
    qtbot.waitUntil(lambda: len(entry.steps) > 0, timeout=60_000)
    fresh = build(tiny_spec(), seed=0).state_dict()["fc.weight"]

    def copy_is_trained():  # a copy taken between steps, after some training
        live = bench.current_weights()
        return live is not None and not torch.equal(live.state["fc.weight"], fresh)
    qtbot.waitUntil(copy_is_trained, timeout=30_000)
    with qtbot.waitSignal(bench.gradflow.profileUpdated, timeout=30_000) as shown:
        window.diagram.toggle_skip(1, 1)
    words = shown.args[0].weights
    assert words.startswith(f"trained, run #{entry.number} at step ") and words.endswith("or later (running)")
    with qtbot.waitSignal(bench.training.runFinished, timeout=10_000):
        bench.training.stop()


def test_weights_are_named_and_a_fresh_load_is_never_called_trained(qtbot, window):
    bench = window.workbench
    bench.gradflow_dock.raise_()
    qtbot.waitUntil(lambda: bench.gradflow.last_outcome is not None, timeout=30_000)
    assert bench.gradflow.last_outcome.weights == "fresh He weights, seed 0"
    bench.training.form.set_settings(tiny_settings(epochs=1))
    with qtbot.waitSignal(bench.gradflow.profileUpdated, timeout=60_000) as shown:
        assert bench.training.start()  # the run's end is measured at its final weights
    entry = bench.training.store.latest_with_weights()
    assert shown.args[0].weights == f"trained, run #{entry.number} at step {int(entry.steps.last)} (finished)"
    with qtbot.waitSignal(bench.gradflow.profileUpdated, timeout=30_000) as shown:
        window.diagram.toggle_skip(0, 0)
    legend = [label.text for _, label in bench.gradflow.profile.legend.items]
    assert legend[0].startswith("before: all skips on · trained, run #")
    assert legend[1].startswith("now: 3 of 4 skips on · trained, run #")
    # the same network loaded afresh (New / Open) has fresh weights, whatever the last run trained
    with qtbot.waitSignal(bench.gradflow.profileUpdated, timeout=30_000) as shown:
        window.document.replace(tiny_spec(), None)
    assert shown.args[0].weights == "fresh He weights, seed 0"
    assert "trained" not in bench.gradflow.status.text()
