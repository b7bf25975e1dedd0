"""The degradation experiment without Qt: its networks, its words and a tiny real run."""
from __future__ import annotations

import json
import time

import pytest

from explorer.cli import main as cli_main
from explorer.experiments.arms import Arm, cifar_net, parse_depths
from explorer.experiments.degradation import (ArmResult, DegradationSettings, conclude, degradation_runner,
                                              results_from_outcomes)
from explorer.spec import SpecError, preset
from explorer.train.api import StepMetrics


def tiny(**changes) -> DegradationSettings:
    base = dict(dataset="shapes", depths=(8, 14), epochs=2, train_size=64, test_size=32, batch_size=32, image_size=8,
                device="cpu", metrics_every=1)
    base.update(changes)
    return DegradationSettings(**base)


def results(errors: dict[str, list[float]], status: str = "finished") -> list[ArmResult]:
    out = []
    for label, errs in errors.items():
        kind, depth = label.split("-")
        out.append(ArmResult(Arm("plain" if kind == "plain" else "resnet", int(depth)), list(errs),
                             [0.5] * len(errs), status))
    return out


# -- the networks ------------------------------------------------------------------------

@pytest.mark.parametrize("kind,depth", [("plain", 20), ("plain", 56), ("resnet", 20), ("resnet", 56)])
def test_the_arms_are_the_papers_networks(kind, depth):
    assert cifar_net(kind, depth) == preset(f"{kind}{depth}")


def test_depths_are_checked_and_named():
    assert parse_depths("56, 20") == (20, 56)
    with pytest.raises(SpecError, match="21 is not 6n\\+2"):
        parse_depths("20,21")
    with pytest.raises(SpecError, match="at least two"):
        parse_depths("20")
    with pytest.raises(SpecError, match="'x'"):
        parse_depths("20,x")
    assert [a.label for a in DegradationSettings().arms()] == ["plain-20", "plain-56", "ResNet-20", "ResNet-56"]


# -- the words ---------------------------------------------------------------------------

def test_words_when_the_deep_plain_net_trains_worse_and_the_resnet_does_not():
    v = conclude(results({"plain-20": [0.3, 0.005], "plain-56": [0.6, 0.135],
                          "resnet-20": [0.3, 0.004], "resnet-56": [0.3, 0.003]}), planned_epochs=2)
    assert v.outcome == "shown" and v.shown
    assert v.headline.startswith("Degradation shown: plain-56 ended with more training error than plain-20")
    assert "13.5%" in v.headline and "0.5%" in v.headline and "ResNet-56 did not" in v.headline
    assert "plain-20 0.5%, plain-56 13.5%, ResNet-20 0.4%, ResNet-56 0.3%" in v.text
    assert "not overfitting" in v.text


def test_words_when_the_resnet_pays_a_little_for_depth():
    # a 40-epoch run on digits (SGD 0.1, cosine, batch 128) ended with these training errors
    v = conclude(results({"plain-20": [0.005], "plain-56": [0.135],
                          "resnet-20": [0.004], "resnet-56": [0.029]}), planned_epochs=1)
    assert v.outcome == "mostly" and v.shown
    assert "mostly avoid it" in v.headline
    assert "2.5 points behind ResNet-20" in v.text and "13.0 points" in v.text


def test_words_say_plainly_when_the_run_is_too_short():
    v = conclude(results({"plain-20": [0.42], "plain-56": [0.43],
                          "resnet-20": [0.40], "resnet-56": [0.41]}), planned_epochs=1)
    assert v.outcome == "not_shown" and not v.shown
    assert v.headline.startswith("This run did NOT show degradation")
    assert "too short" in v.text and "more epochs" in v.text


def test_a_gap_too_small_to_count_is_not_called_close():
    # 17 points apart, but both plain nets are still near chance: no clear degradation yet
    v = conclude(results({"plain-8": [0.492], "plain-14": [0.664],
                          "resnet-8": [0.438], "resnet-14": [0.48]}), planned_epochs=2)
    assert v.outcome == "not_shown"
    assert "plain-14 ended at 66.4% training error, not clearly above plain-8's 49.2%" in v.headline
    assert "too short" in v.text


def test_words_when_both_plain_nets_fit_the_data():
    v = conclude(results({"plain-20": [0.001], "plain-56": [0.004],
                          "resnet-20": [0.001], "resnet-56": [0.001]}), planned_epochs=1)
    assert v.outcome == "not_shown"
    assert "Both plain nets fitted this training set" in v.text and "110" in v.text


def test_words_when_both_deeper_nets_are_worse():
    v = conclude(results({"plain-20": [0.01], "plain-56": [0.20],
                          "resnet-20": [0.01], "resnet-56": [0.15]}), planned_epochs=1)
    assert v.outcome == "mixed" and not v.shown
    assert "does not separate" in v.headline


def test_a_stopped_run_is_compared_at_the_last_epoch_every_arm_completed():
    rs = results({"plain-20": [0.5, 0.2, 0.01], "plain-56": [0.6, 0.4],
                  "resnet-20": [0.5, 0.2, 0.02], "resnet-56": [0.5, 0.21]}, status="stopped")
    v = conclude(rs, planned_epochs=10)
    assert v.epoch == 2
    assert v.errors == {"plain-20": 0.2, "plain-56": 0.4, "ResNet-20": 0.2, "ResNet-56": 0.21}
    assert "stopped at epoch 2 of 10" in v.text


def test_no_verdict_before_every_arm_has_an_epoch():
    rs = results({"plain-20": [0.5], "plain-56": [], "resnet-20": [0.5], "resnet-56": [0.5]}, status="stopped")
    v = conclude(rs, planned_epochs=10)
    assert v.outcome == "no_verdict" and "plain-56" in v.headline


# -- a tiny real run ---------------------------------------------------------------------

def test_a_tiny_run_trains_every_arm_in_turns(one_torch_thread):
    settings = tiny()
    runner = degradation_runner(settings)
    order = []
    outcomes = runner.run(lambda arm, event: order.append((arm, int(event.steps[-1])))
                          if isinstance(event, StepMetrics) else None)
    assert runner.done and not runner.error
    assert [o.status for o in outcomes] == ["finished"] * 4
    assert [len(o.record.epochs) for o in outcomes] == [2, 2, 2, 2]
    # one step each in turn: every arm does step k before any arm does step k+1
    steps_per_arm = 4  # 64 images, batch 32, 2 epochs
    assert order == [(arm, step) for step in range(1, steps_per_arm + 1) for arm in range(4)]
    verdict = conclude(results_from_outcomes(settings, outcomes), settings.epochs)
    assert verdict.epoch == 2 and set(verdict.errors) == {"plain-8", "plain-14", "ResNet-8", "ResNet-14"}


def test_stop_ends_every_arm_within_two_seconds(one_torch_thread):
    runner = degradation_runner(tiny(epochs=500))
    seen = []
    runner.start(lambda arm, event: seen.append(arm))
    deadline = time.monotonic() + 60
    while len(seen) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    t0 = time.monotonic()
    runner.stop()
    assert runner.join(2.0)
    assert time.monotonic() - t0 < 2.0
    assert [o.status for o in runner.outcomes] == ["stopped"] * 4


def test_bad_data_is_reported_before_any_arm_trains():
    runner = degradation_runner(tiny(dataset="cifar10:/no/such/folder"))
    runner.run()
    assert "expected a folder at /no/such/folder" in runner.error
    assert runner.trainers == []


def test_cli_prints_each_epoch_and_the_words(capsys, one_torch_thread, tmp_path):
    code = cli_main(["experiment", "degradation", "--depths", "8,14", "--epochs", "2", "--train-size", "64",
                     "--test-size", "32", "--image-size", "8", "--device", "cpu", "--json",
                     "--save-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 0
    report = json.loads(captured.out)
    assert [a["arm"] for a in report["arms"]] == ["plain-8", "plain-14", "ResNet-8", "ResNet-14"]
    assert all(len(a["train_error"]) == 2 for a in report["arms"])
    assert report["verdict"]["headline"]
    assert "epoch   2/2  training error  plain-8" in captured.err  # progress on stderr with --json
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain14.pt", "plain8.pt", "resnet14.pt", "resnet8.pt"]


def test_cli_names_a_bad_depth(capsys):
    assert cli_main(["experiment", "degradation", "--depths", "20,52"]) == 2
    assert "52 is not 6n+2" in capsys.readouterr().err
