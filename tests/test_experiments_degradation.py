"""The degradation experiment without Qt: its networks, its words and a tiny real run."""
from __future__ import annotations

import json
import re

import pytest

from explorer.cli import main as cli_main
from explorer.experiments.arms import Arm, cifar_net, parse_depths
from explorer.experiments.degradation import (ArmResult, DegradationSettings, conclude, degradation_runner, pct,
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


# -- the words: rules over result tables ---------------------------------------------------

def finals(plain_lo, plain_hi, res_lo, res_hi, epochs=10, depths=(20, 56)) -> dict[str, list[float]]:
    """Per-epoch training errors ending at the given values (earlier epochs higher)."""
    lo, hi = depths
    ends = {f"plain-{lo}": plain_lo, f"plain-{hi}": plain_hi, f"resnet-{lo}": res_lo, f"resnet-{hi}": res_hi}
    return {label: [0.9] * (epochs - 1) + [end] for label, end in ends.items()}


# name, per-epoch errors, planned epochs, arm status, outcome, phrases the words must hold, must not hold
WORD_TABLE = [
    ("the 10-epoch run found in class: the ResNet half has not caught up",
     finals(0.004, 0.878, 0.0007, 0.257), 10, "finished", "plain_only",
     ["Only the plain half is shown: plain-56 ended at 87.8% training error against plain-20's 0.4%",
      "ResNet-56 is still 25.6 points behind ResNet-20 (25.7% against 0.07%)",
      "too short for the ResNet half", "say 20"],
     ["avoid it", "mostly", "Degradation shown", "did not ("]),
    ("clean: the deeper ResNet ends no higher",
     finals(0.005, 0.135, 0.004, 0.003), 10, "finished", "shown",
     ["Degradation shown: plain-56 ended with more training error than plain-20 (13.5% against 0.5%), "
      "while ResNet-56 did not (0.3% against 0.4%)",
      "Training error after 10 epochs: plain-20 0.5%, plain-56 13.5%, ResNet-20 0.4%, ResNet-56 0.3%.",
      "not overfitting", "ResNet-56 ended no higher than ResNet-20"],
     ["too short", "stopped"]),
    ("clean within the stated 1-point margin",
     finals(0.0, 0.6, 0.001, 0.009), 10, "finished", "shown",
     ["while ResNet-56 did not (0.9% against 0.1%)", "ResNet-56 ended within 1.0 point of ResNet-20"], []),
    ("the ResNet pays a little, within the stated 3-point margin (a 40-epoch run on digits ended so)",
     finals(0.005, 0.135, 0.004, 0.029, epochs=40), 40, "finished", "mostly",
     ["ResNet-56 came within 2.5 points of ResNet-20 (2.9% against 0.4%), against the plain nets' 13.0 points",
      "more than the 1.0 point counted here as no worse, but under 3.0 points"], ["did not ("]),
    ("4 points behind is outside every margin: not shown for the ResNets",
     finals(0.0, 0.56, 0.0, 0.041, epochs=30), 30, "finished", "plain_only",
     ["Only the plain half is shown", "4.1 points behind", "say 60"], ["Degradation shown", "avoid it"]),
    ("not shown: both plain nets fitted the data",
     finals(0.001, 0.004, 0.001, 0.001), 10, "finished", "not_shown",
     ["This run did NOT show degradation: plain-56 ended at 0.4% training error, close to plain-20's 0.1%",
      "Both plain nets fitted this training set", "110"], ["Degradation shown"]),
    ("not shown: far too short",
     finals(0.42, 0.43, 0.40, 0.41), 10, "finished", "not_shown",
     ["did NOT show degradation", "too short: even plain-20 has not fitted the training set yet",
      "Run more epochs (say 20)"], []),
    ("a 17-point gap near chance is not clearly above",
     finals(0.492, 0.664, 0.438, 0.48, epochs=2, depths=(8, 14)), 2, "finished", "not_shown",
     ["plain-14 ended at 66.4% training error, not clearly above plain-8's 49.2%", "too short"], []),
    ("too early: the shallow plain net has not fitted either",
     finals(0.2, 0.4, 0.2, 0.21), 10, "finished", "too_early",
     ["Too early to tell: plain-56 is behind plain-20 (40.0% against 20.0% training error)",
      "Deeper nets start slower", "say 20"], ["Degradation shown"]),
    ("both deeper nets worse alike",
     finals(0.01, 0.20, 0.01, 0.15), 10, "finished", "mixed",
     ["Both deeper nets trained worse here", "does not separate", "run more epochs (say 20)"],
     ["Degradation shown"]),
    ("a stopped run, compared at the last epoch every arm completed",
     {"plain-20": [0.5, 0.2, 0.01], "plain-56": [0.6, 0.4], "resnet-20": [0.5, 0.2, 0.02],
      "resnet-56": [0.5, 0.21]}, 10, "stopped", "too_early",
     ["So far (epoch 2 of 10): Too early to tell", "stopped at epoch 2 of 10", "Let it run to the end"],
     ["Degradation shown", "ended"]),
    ("a stopped run that already shows both halves says it is so far",
     finals(0.005, 0.30, 0.004, 0.006, epochs=12), 30, "stopped", "shown",
     ["So far (epoch 12 of 30): Degradation shown: plain-56 has more training error than plain-20",
      "stopped at epoch 12 of 30"], ["ended"]),
]


@pytest.mark.parametrize("name,errors,planned,status,outcome,holds,lacks", WORD_TABLE, ids=[r[0] for r in WORD_TABLE])
def test_the_words_follow_from_the_numbers(name, errors, planned, status, outcome, holds, lacks):
    v = conclude(results(errors, status), planned_epochs=planned)
    assert v.outcome == outcome
    assert v.shown == (outcome in ("shown", "mostly"))
    assert ("shown" in v.headline.lower()) == (outcome in ("shown", "mostly", "plain_only"))
    for phrase in holds:
        assert phrase in v.text
    for phrase in lacks:
        assert phrase not in v.text
    # every percentage the headline quotes is one of the numbers compared
    quoted = set(re.findall(r"\d+(?:\.\d+)?%", v.headline))
    assert quoted and quoted <= {pct(e) for e in v.errors.values()} | {"10.0%"}


def test_no_verdict_before_every_arm_has_an_epoch():
    rs = results({"plain-20": [0.5], "plain-56": [], "resnet-20": [0.5], "resnet-56": [0.5]}, status="stopped")
    v = conclude(rs, planned_epochs=10)
    assert v.outcome == "no_verdict" and "plain-56" in v.headline and not v.shown


# -- a tiny real run ---------------------------------------------------------------------

def test_a_tiny_run_trains_every_arm_in_turns(one_torch_thread):
    settings = tiny()
    runner = degradation_runner(settings)
    order = []
    outcomes = runner.run(lambda arm, event: order.append((arm, int(event.steps[-1])))
                          if isinstance(event, StepMetrics) else None)
    assert not runner.error
    assert [o.status for o in outcomes] == ["finished"] * 4
    assert [len(o.record.epochs) for o in outcomes] == [2, 2, 2, 2]
    # one step each in turn: every arm does step k before any arm does step k+1
    steps_per_arm = 4  # 64 images, batch 32, 2 epochs
    assert order == [(arm, step) for step in range(1, steps_per_arm + 1) for arm in range(4)]
    verdict = conclude(results_from_outcomes(settings, outcomes), settings.epochs)
    assert verdict.epoch == 2 and set(verdict.errors) == {"plain-8", "plain-14", "ResNet-8", "ResNet-14"}


def test_stop_ends_every_arm_within_two_seconds(one_torch_thread, stop_from_another_thread):
    runner = degradation_runner(tiny(epochs=500))
    seen = []
    assert stop_from_another_thread(runner, lambda arm, event: seen.append(arm) or len(seen) >= 8) < 2.0
    assert [o.status for o in runner.outcomes] == ["stopped"] * 4


def test_bad_data_is_reported_before_any_arm_trains():
    runner = degradation_runner(tiny(dataset="cifar10:/no/such/folder"))
    runner.run()
    assert "expected a folder at /no/such/folder" in runner.error
    assert runner.trainers == []


def test_cli_prints_each_epoch_and_the_words(capsys, one_torch_thread, tmp_path):
    code = cli_main(["experiment", "degradation", "--depths", "8,14", "--epochs", "2", "--train-size", "64",
                     "--test-size", "32", "--image-size", "8", "--device", "cpu", "--json",
                     "--save-dir", str(tmp_path / "runs" / "today")])  # made when missing
    captured = capsys.readouterr()
    assert code == 0
    report = json.loads(captured.out)
    assert [a["arm"] for a in report["arms"]] == ["plain-8", "plain-14", "ResNet-8", "ResNet-14"]
    assert all(len(a["train_error"]) == 2 for a in report["arms"])
    assert report["verdict"]["headline"]
    assert "epoch   2/2  training error  plain-8" in captured.err  # progress on stderr with --json
    saved = sorted(p.name for p in (tmp_path / "runs" / "today").iterdir())
    assert saved == ["plain14.pt", "plain8.pt", "resnet14.pt", "resnet8.pt"]


def test_cli_refuses_a_save_dir_that_is_a_file(capsys, tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    assert cli_main(["experiment", "degradation", "--save-dir", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "a file of that name exists" in err


def test_cli_names_a_bad_depth(capsys):
    assert cli_main(["experiment", "degradation", "--depths", "20,52"]) == 2
    assert "52 is not 6n+2" in capsys.readouterr().err


def test_the_lessons_recipe_on_the_command_line():
    from explorer.cli import make_parser
    from explorer.cli.experiment import degradation_settings

    s = degradation_settings(make_parser().parse_args(["experiment", "degradation", "--recipe", "lesson"]))
    assert (s.recipe, s.lr, s.momentum, s.weight_decay, s.schedule, s.epochs, s.depths) == (
        "lesson", 0.1, 0.9, 5e-4, "cosine", 30, (8, 20))
    assert [a.label for a in s.arms()] == ["plain-8", "plain-20", "ResNet-8", "ResNet-20"]
    s = degradation_settings(make_parser().parse_args(
        ["experiment", "degradation", "--recipe", "lesson", "--epochs", "3", "--depths", "8,14"]))
    assert (s.epochs, s.depths, s.weight_decay) == (3, (8, 14), 5e-4)  # the options still override
    s = degradation_settings(make_parser().parse_args(["experiment", "degradation"]))
    assert (s.recipe, s.weight_decay, s.depths) == ("paper", 1e-4, (20, 56))
