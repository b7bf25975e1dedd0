"""Fine-tuning from the app: "Start from weights..." in the training settings, and the run list names the file."""
from __future__ import annotations

from dataclasses import replace

import torch  # (torch before PySide6)

from explorer.nn import build
from explorer.spec.model import BlockKind, NetworkSpec, StemSpec, uniform_stage
from explorer.train.api import TrainSettings
from explorer.ui.document import Document
from explorer.ui.training import TrainingPanel
from explorer.ui.training.settings_form import TrainingSettingsForm


def tiny_spec() -> NetworkSpec:
    return NetworkSpec(name="tiny", stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, 1, 8, 1), uniform_stage(BlockKind.BASIC, 1, 16, 2)))


def tiny_settings(**changes) -> TrainSettings:
    base = dict(dataset="shapes", train_size=256, test_size=64, batch_size=64, epochs=2, augment=False,
                device="cpu", lr=0.05)
    base.update(changes)
    return TrainSettings(**base)


def test_the_form_offers_weights_freezing_and_normalisation(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    form = TrainingSettingsForm()
    qtbot.addWidget(form)
    assert form.settings().init_weights is None and not form.freeze.isEnabled()
    weights = tmp_path / "pretrained.pth"
    torch.save(build(tiny_spec(), seed=0).state_dict(), weights)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(weights), ""))
    form.start_button.click()
    assert form.init_weights.text() == str(weights) and form.freeze.isEnabled()
    form.freeze.setCurrentIndex(form.freeze.findData("stage1"))
    form.normalise.setCurrentIndex(form.normalise.findData("data"))
    s = form.settings()
    assert (s.init_weights, s.freeze, s.normalise) == (str(weights), "stage1", "data")
    form.clear_weights.click()
    assert form.settings().init_weights is None and form.settings().freeze is None
    form.init_weights.setText(str(tmp_path / "missing.pth"))
    assert "missing.pth is not a file" in form.problem()


def test_a_run_started_from_weights_says_so(qtbot, tmp_path):
    panel = TrainingPanel(Document(tiny_spec()))
    qtbot.addWidget(panel)
    panel.show()
    weights = tmp_path / "pretrained.pth"
    other_head = replace(tiny_spec(), head=replace(tiny_spec().head, num_classes=7))
    source = build(other_head, seed=4)
    torch.save(source.state_dict(), weights)  # a 7-class head: shapes has 10 classes
    panel.form.set_settings(tiny_settings(epochs=1, init_weights=str(weights), freeze="stem"))
    with qtbot.waitSignal(panel.runFinished, timeout=60_000) as done:
        assert panel.start()
    record = done.args[0]
    assert record.status == "finished"
    assert panel.run_list.topLevelItem(0).text(0).endswith("· from pretrained.pth, frozen to stem")
    assert f"started from {weights}" in panel.run_list.topLevelItem(0).toolTip(0)
    every_value = " ".join(panel.run_list.topLevelItem(0).toolTip(0).split())  # the tooltip wraps its lines
    assert "momentum 0.9" in every_value and "weight decay 0.0005" in every_value and "freeze stem" in every_value
    assert "pretrained.pth has a 7-class head; replaced by a freshly initialised 10-class head" in \
        panel.message.text()
    assert torch.equal(record.model_state["conv1.weight"], source.state_dict()["conv1.weight"])  # frozen stem
    assert panel.shutdown(5.0)


def test_the_form_starts_as_train_with_no_options_and_its_buttons_are_the_recipes(qtbot):
    """The window's Start runs the quick recipe, the same as ``train NET`` with no options; the Run
    size buttons are the recipe table's; rows made from the declarations write through (momentum)."""
    from explorer.cli import make_parser
    from explorer.cli.train import settings_from_args
    from explorer.train.recipes import RECIPES

    form = TrainingSettingsForm()
    qtbot.addWidget(form)
    cli = settings_from_args(make_parser().parse_args(["train", "resnet20"]))[1]
    window = form.settings()
    for name in RECIPES["quick"].settings:
        assert getattr(window, name) == getattr(cli, name), name
    assert set(form.run_size_buttons) == {n for n, r in RECIPES.items() if r.button}
    form.run_size_buttons["longer"].click()
    assert all(getattr(form.settings(), k) == v for k, v in RECIPES["longer"].settings.items())
    assert not form.rows["momentum"].widget.isEnabled()  # AdamW has no momentum
    form.rows["optimizer"].set_value("sgd")
    assert form.rows["momentum"].widget.isEnabled()
    form.rows["momentum"].widget.setValue(0.5)
    form.rows["train_size"].widget.setValue(0)  # the spin box's lowest value reads "whole set"
    assert form.settings().momentum == 0.5 and form.settings().train_size is None
    assert form.rows["train_size"].widget.text() == "whole set"
