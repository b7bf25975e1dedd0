"""Experiments > Pre- vs Post-activation: a tiny run ends in words with both profiles; stop and close."""
from __future__ import annotations

from html import escape

import pytest
import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtWidgets import QMessageBox

from explorer.experiments.prepost import PrePostSettings

from experiment_window import experiment_window, stop_within_a_step  # tests/ui is on sys.path (rootdir-relative imports)

TINY = PrePostSettings(depth=8, train_size=64, test_size=32, batch_size=32, metrics_every=1, device="cpu")


@pytest.fixture
def window(qtbot, tmp_path):
    yield from experiment_window(tmp_path)


def open_page(window, epochs: int):
    menu = window.workbench.experiments
    action = next(a for a in menu.menu.actions() if a.text() == "&Pre- vs Post-activation…")
    action.trigger()
    page = menu.windows["prepost"].page
    page.base_settings = TINY
    page.form.depth.setCurrentIndex(page.form.depth.findData(8))
    page.form.dataset.setEditText("shapes")
    page.form.epochs.setValue(epochs)
    return page


def test_a_tiny_run_draws_both_curves_and_both_profiles_and_ends_in_words(qtbot, window, one_torch_thread):
    page = open_page(window, epochs=2)
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        assert page.run()
        assert not page.run_button.isEnabled() and page.stop_button.isEnabled()
    verdict = done.args[0]
    assert verdict is not None and verdict.epoch == 2
    assert [item.name() for item in page.curves._items] == ["ResNet-8", "pre-act ResNet-8"]
    for arm in range(2):
        x, _ = page.curves.values(arm)
        assert list(x) == [1.0, 2.0]
        for when in ("init", "end"):
            assert len(page.profiles.values(arm, when)) == 3  # three blocks, measured at both moments
    assert "after 2 epochs" in verdict.text and "At initialisation" in verdict.text
    assert escape(verdict.headline) in page.words_label.text()
    assert "Finished" in page.status.text()
    assert "pre-act ResNet-8 at initialisation" in page.profile_legend.text()


def test_closing_mid_run_asks_and_stops_both_nets_within_a_step(qtbot, window, monkeypatch, one_torch_thread,
                                                                patient_close, work_after_stop):
    page = open_page(window, epochs=500)
    assert page.run()
    qtbot.waitUntil(lambda: len(page.curves._data[1].loss_x) > 0, timeout=60_000)  # both nets have stepped
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *args: answers.pop(0))
    experiment_window = page.window()
    assert not experiment_window.close()
    assert page.is_running()
    runner = page.worker.runner
    work_after_stop.asked = lambda: runner.stopped
    assert experiment_window.close()
    assert work_after_stop.count <= 1  # counted, not timed
    assert not page.is_running()
    assert [o.status for o in runner.outcomes] == ["stopped", "stopped"]


def test_stop_ends_the_run_and_the_words_say_where(qtbot, window, one_torch_thread, work_after_stop):
    page = open_page(window, epochs=500)
    assert page.run()
    qtbot.waitUntil(lambda: len(page.curves.values(1)[0]) >= 1, timeout=60_000)  # both have an epoch
    verdict = stop_within_a_step(qtbot, page, work_after_stop)
    assert f"stopped at epoch {verdict.epoch} of 500" in verdict.text
    assert page.status.text().startswith("Stopped after")
    page.form.epochs.setValue(1)  # and it runs again, from scratch
    with qtbot.waitSignal(page.finished, timeout=120_000) as again:
        assert page.run()
        assert page.profiles.profiles == {} and all(not d.epochs for d in page.curves._data)
    assert again.args[0].epoch == 1 and list(page.curves.values(0)[0]) == [1.0]
