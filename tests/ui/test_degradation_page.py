"""Experiments > Degradation in the window: the page opens, a tiny run ends in words, closing stops it."""
from __future__ import annotations

from html import escape

import pytest
import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtWidgets import QMessageBox

from explorer.experiments.arms import Arm
from explorer.experiments.degradation import ArmResult, DegradationSettings, conclude
from explorer.ui.experiments.degradation_page import DegradationPage

from experiment_window import experiment_window, stop_within_a_step  # tests/ui is on sys.path

TINY = DegradationSettings(train_size=64, test_size=32, batch_size=32, metrics_every=1, device="cpu")


@pytest.fixture
def window(qtbot, tmp_path):
    yield from experiment_window(tmp_path)


def open_page(window) -> DegradationPage:
    menu = window.workbench.experiments.menu
    assert [a.text() for a in window.menuBar().actions()][-2:] == ["E&xperiments", "&Help"]
    action = next(a for a in menu.actions() if a.text() == "&Degradation…")
    action.trigger()
    page = window.workbench.experiments.windows["degradation"].page
    page.base_settings = TINY
    page.form.depths.setText("8, 14")
    page.form.dataset.set_name("shapes")  # made in a moment; digits would import scikit-learn
    page.form.image_size.setCurrentIndex(page.form.image_size.findData(8))
    return page


def test_the_menu_opens_the_page_and_a_tiny_run_ends_in_words(qtbot, window):
    page = open_page(window)
    assert page.isVisible() and page.window() is not window
    page.form.epochs.setValue(2)
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        assert page.run()
        assert not page.run_button.isEnabled() and page.stop_button.isEnabled()
    verdict = done.args[0]
    assert verdict is not None and verdict.epoch == 2
    assert [item.name() for item in page.curves._items] == ["plain-8", "plain-14", "ResNet-8", "ResNet-14"]
    for i in range(4):  # one point per epoch on every curve
        x, y = page.curves.values(i)
        assert list(x) == [1.0, 2.0] and all(0 <= v <= 100 for v in y)
    text = page.verdict_label.text()
    assert verdict.headline.split(":")[0] in text and "Training error after 2 epochs" in text
    assert "Finished" in page.status.text()
    assert page.run_button.isEnabled() and not page.stop_button.isEnabled()
    page.view.setCurrentIndex(page.view.findData("loss"))  # the loss view has a point per step
    assert len(page.curves.values(0)[0]) == 4
    page.view.setCurrentIndex(page.view.findData("accuracy"))
    for i, result in enumerate(verdict_results(page)):  # test accuracy, from the same numbers as the words
        assert list(page.curves.values(i)[1]) == pytest.approx([100 * (1 - e) for e in result.test_errors])
    assert not page.curves2.isVisible()
    page.view.setCurrentIndex(page.view.findData("both"))  # training loss and test accuracy side by side
    assert page.curves2.isVisible() and page.curves.view == "loss" and page.curves2.view == "accuracy"
    assert len(page.curves.values(3)[0]) == 4 and list(page.curves2.values(3)[0]) == [1.0, 2.0]


@pytest.mark.parametrize("ends,colour", [
    ((0.004, 0.878, 0.0007, 0.257), "#7a4a00"),  # the ResNet half not shown: amber, not green
    ((0.005, 0.135, 0.004, 0.003), "#1b5e20"),  # both halves: green
    ((0.001, 0.004, 0.001, 0.001), "#7a0014"),  # not shown
])
def test_the_headline_colour_follows_the_verdict(qtbot, ends, colour):
    page = DegradationPage()
    qtbot.addWidget(page)
    arms = [Arm("plain", 20), Arm("plain", 56), Arm("resnet", 20), Arm("resnet", 56)]
    verdict = conclude([ArmResult(a, [e], [0.5]) for a, e in zip(arms, ends)], planned_epochs=1)
    page.show_verdict(verdict)
    html = page.verdict_label.text()
    assert f"color:{colour}" in html.split("</div>")[0]
    assert escape(verdict.headline) in html


def verdict_results(page):
    from explorer.experiments.degradation import results_from_outcomes
    return results_from_outcomes(page.settings_used, page.runner.outcomes)


def test_the_lessons_recipe_sets_its_depths_epochs_and_weight_decay(qtbot):
    page = DegradationPage()
    qtbot.addWidget(page)
    assert page.form.settings().recipe == "paper" and page.form.settings().weight_decay == 1e-4
    page.form.recipe.setCurrentIndex(page.form.recipe.findData("lesson"))
    s = page.form.settings()
    assert (s.recipe, s.lr, s.momentum, s.weight_decay, s.schedule, s.epochs, s.depths) == (
        "lesson", 0.1, 0.9, 5e-4, "cosine", 30, (8, 20))
    assert page.form.depths.text() == "8, 20" and "weight decay 0.0005" in page.form.recipe_note.text()
    page.form.epochs.setValue(3)  # the fields still change what the recipe set
    assert page.form.settings().epochs == 3


def test_folder_datasets_are_chosen_and_checked_like_train(qtbot, tmp_path):
    page = DegradationPage()
    qtbot.addWidget(page)
    chooser = page.form.dataset
    kinds = [chooser.kind.itemData(i) for i in range(chooser.kind.count())]
    assert kinds == ["digits", "shapes", "cifar10", "mnist", "folder"]
    asked = []
    chooser._choose_folder = lambda parent, title, start: asked.append(title) or "/no/such/folder"
    chooser.kind.setCurrentIndex(kinds.index("cifar10"))
    chooser.kind.activated.emit(kinds.index("cifar10"))  # as a user picking it: the folder chooser opens
    assert asked == ["Folder of CIFAR-10"] and chooser.folder.text() == "/no/such/folder"
    assert not page.run()
    assert page.status.text() == "cifar10 dataset: expected a folder at /no/such/folder; nothing is there"
    chooser.folder.setText("")
    assert not page.run() and "CIFAR-10: choose its folder" in page.status.text()
    chooser.set_name(f"mnist:{tmp_path}")
    assert chooser.current_kind() == "mnist" and chooser.name() == f"mnist:{tmp_path}"
    chooser.set_name("digits")
    assert chooser.name() == "digits" and not chooser.folder_row().isVisibleTo(page)


def test_a_wrong_folder_is_named_when_the_run_starts(qtbot, tmp_path):
    page = DegradationPage()
    qtbot.addWidget(page)
    page.base_settings = TINY
    page.form.depths.setText("8, 14")
    page.form.dataset.set_name(f"cifar10:{tmp_path}")  # a folder, but no CIFAR-10 in it
    with qtbot.waitSignal(page.finished, timeout=30_000) as done:
        assert page.run()
    assert done.args[0] is None
    assert "expected data_batch_1" in page.status.text() and str(tmp_path) in page.status.text()
    assert page.run_button.isEnabled()


def test_bad_depths_are_named_and_nothing_starts(qtbot, window):
    page = open_page(window)
    page.form.depths.setText("20, 21")
    assert not page.run()
    assert "21 is not 6n+2" in page.status.text()
    assert not page.is_running()


def test_closing_the_window_mid_run_stops_every_arm_within_a_step(qtbot, window, monkeypatch, patient_close,
                                                                   work_after_stop):
    page = open_page(window)
    page.form.epochs.setValue(500)
    assert page.run()
    qtbot.waitUntil(lambda: len(page.curves._data[3].loss_x) > 0, timeout=60_000)  # every arm has stepped
    asked = []

    def question(parent, title, text, *args):
        asked.append(text)
        return QMessageBox.StandardButton.Yes
    monkeypatch.setattr(QMessageBox, "question", question)
    runner = page.worker.runner
    work_after_stop.asked = lambda: runner.stopped
    assert window.close()
    assert work_after_stop.count <= 1  # counted, not timed
    assert asked == ["The degradation experiment is running. Stop it and close?"]
    assert not page.is_running()
    assert [o.status for o in runner.outcomes] == ["stopped"] * 4


def test_stop_ends_every_arm_within_a_step_and_the_words_say_so(qtbot, window, qtlog, work_after_stop):
    page = open_page(window)
    page.form.epochs.setValue(500)
    assert page.run()
    qtbot.waitUntil(lambda: len(page.curves.values(3)[0]) >= 1, timeout=60_000)  # every arm has an epoch
    verdict = stop_within_a_step(qtbot, page, work_after_stop)
    assert f"stopped at epoch {verdict.epoch} of 500" in verdict.text
    assert page.status.text().startswith("Stopped after")
    assert not [r for r in qtlog.records if "QThread" in r.message or "Destroyed" in r.message]


def test_closing_the_experiment_window_mid_run_asks_and_stops(qtbot, window, monkeypatch):
    page = open_page(window)
    page.form.epochs.setValue(500)
    assert page.run()
    qtbot.waitUntil(lambda: len(page.curves._data[0].loss_x) > 0, timeout=60_000)
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *args: answers.pop(0))
    experiment_window = page.window()
    assert not experiment_window.close()  # "No": it stays open and keeps running
    assert page.is_running()
    assert experiment_window.close()
    assert not page.is_running()
