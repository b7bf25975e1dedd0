"""The degradation experiment without Qt: its networks, its words and a tiny real run."""
from __future__ import annotations

import json
import pytest

from explorer.cli import main as cli_main
from explorer.experiments.arms import Arm, cifar_net, parse_depths
from hypothesis import given, settings, strategies as st
from words_check import assert_report_renders_the_same, assert_words_hold

from explorer.experiments import claims
from explorer.experiments.degradation import (ArmResult, DegradationSettings, conclude, degradation_runner,
                                              result_table, results_from_outcomes)
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
    ("the default run seen in class: ResNet-56 0.6 points above ResNet-20 is within 1 point, and said so",
     finals(0.0, 0.592, 0.0, 0.006, epochs=30), 30, "finished", "shown",
     ["Degradation shown: plain-56 ended with more training error than plain-20 (59.2% against 0.0%), while "
      "ResNet-56 ended within 1.0 point of ResNet-20 (0.6% against 0.0%).",
      "The lessons say the deeper ResNet ends with no more training error than the shallower one; here "
      "ResNet-56 ended 0.6 points higher (0.6% against 0.0%)."],
     ["did not (", "cost nothing", "too short", "more epochs"]),
    ("the 10-epoch run found in class: the ResNet half has not caught up",
     finals(0.004, 0.878, 0.0007, 0.257), 10, "finished", "plain_only",
     ["Only the plain half shown: plain-56 ended with more training error than plain-20 (87.8% against 0.4%); "
      "ResNet-56 ended with more training error than ResNet-20 (25.7% against 0.07%) too, by 25.6 points, "
      "less than the plain nets' 87.4 points.",
      "ResNet-56's training error fell steadily over the last 5 epochs (90.0% to 25.7%)."],
     ["Degradation shown", "training error within", "too short"]),
    ("clean: the deeper ResNet ends lower",
     finals(0.005, 0.135, 0.004, 0.003), 10, "finished", "shown",
     ["Degradation shown: plain-56 ended with more training error than plain-20 (13.5% against 0.5%), "
      "while ResNet-56 ended within 1.0 point of ResNet-20 (0.3% against 0.4%).",
      "Training error after 10 epochs: plain-20 0.5%, plain-56 13.5%, ResNet-20 0.4%, ResNet-56 0.3%. "
      "Fitted the training set (under 1.0%): 3 of the 4 nets (all but plain-56).",
      "not overfitting"],
     ["The lessons say the deeper ResNet", "stopped"]),
    ("2.5 points above is not within 1 point: only the plain half (a 40-epoch run on digits ended so)",
     finals(0.005, 0.135, 0.004, 0.029, epochs=40), 40, "finished", "plain_only",
     ["ResNet-56 ended with more training error than ResNet-20 (2.9% against 0.4%) too, by 2.5 points, less "
      "than the plain nets' 13.0 points"], ["Degradation shown", "mostly"]),
    ("not shown: both plain nets fitted the data and ended within 1 point",
     finals(0.001, 0.004, 0.001, 0.001), 10, "finished", "not_shown",
     ["This run did not show degradation: plain-56 ended within 1.0 point of plain-20 (0.4% against 0.1%).",
      "Fitted the training set (under 1.0%): all 4 nets."], ["Degradation shown", "too short"]),
    ("not judged: far too short, and said with what was measured",
     finals(0.42, 0.43, 0.40, 0.41), 10, "finished", "too_early",
     ["Too early to judge degradation: plain-20 and ResNet-20 have not fitted the training set (42.0%, 40.0% "
      "training error; fitted means under 1.0%).", "none of the 4 nets",
      "plain-20's training error fell steadily over the last 5 epochs (90.0% to 42.0%)."],
     ["too short", "Run more epochs"]),
    ("10% was once 'fitted' in one sentence and not in another: one definition now (under 1%)",
     finals(0.013, 0.40, 0.002, 0.01), 10, "finished", "too_early",
     ["plain-20 has not fitted the training set (1.3% training error; fitted means under 1.0%)"],
     ["Degradation shown"]),
    ("the plain half with a shallower ResNet that has not fitted: the ResNet half is not judged",
     finals(0.002, 0.30, 0.05, 0.04), 10, "finished", "plain_only",
     ["Only the plain half shown: plain-56 ended with more training error than plain-20 (30.0% against 0.2%); "
      "ResNet-20 has not fitted the training set (5.0% training error; fitted means under 1.0%), so the ResNet "
      "half cannot be judged."], ["Degradation shown", "Too early"]),
    ("the plain nets alike, a ResNet unfitted: not shown (the plain half is decided without the ResNets)",
     finals(0.002, 0.004, 0.05, 0.04), 10, "finished", "not_shown",
     ["This run did not show degradation: plain-56 ended within 1.0 point of plain-20 (0.4% against 0.2%)."],
     ["Too early"]),
    ("both deeper nets worse alike",
     finals(0.005, 0.20, 0.005, 0.198), 10, "finished", "mixed",
     ["Both deeper nets trained worse here", "the ResNets' gap (19.3 points) was about the same as the plain "
      "nets' (19.5 points), so this run does not separate them"], ["Degradation shown"]),
    ("a stopped run, compared at the last epoch every arm completed",
     {"plain-20": [0.5, 0.2, 0.01], "plain-56": [0.6, 0.4], "resnet-20": [0.5, 0.2, 0.02],
      "resnet-56": [0.5, 0.21]}, 10, "stopped", "too_early",
     ["So far (epoch 2 of 10): Too early to judge degradation", "The run stopped at epoch 2 of 10"],
     ["Degradation shown", "ended"]),
    ("a stopped run that already shows both halves says it is so far",
     finals(0.005, 0.30, 0.004, 0.006, epochs=12), 30, "stopped", "shown",
     ["So far (epoch 12 of 30): Degradation shown: plain-56 has more training error than plain-20",
      "The run stopped at epoch 12 of 30"], ["ended"]),
]


@pytest.mark.parametrize("name,errors,planned,status,outcome,holds,lacks", WORD_TABLE, ids=[r[0] for r in WORD_TABLE])
def test_the_words_follow_from_the_numbers(name, errors, planned, status, outcome, holds, lacks):
    v = conclude(results(errors, status), planned_epochs=planned)
    assert v.outcome == outcome
    assert v.shown == (outcome == "shown")
    assert ("Degradation shown" in v.headline) == (outcome == "shown")
    for phrase in holds:
        assert phrase in v.text
    for phrase in lacks:
        assert phrase not in v.text
    assert_words_hold(v)


def test_the_test_error_and_the_loss_are_compared_beside_the_training_error():
    # the default run: ResNet-56 within 1 point in training error but 2.8 points higher on the test set
    rs = results(finals(0.0, 0.592, 0.0, 0.006, epochs=30))
    for r, test, loss in zip(rs, (0.03, 0.6, 0.031, 0.059), (0.001, 1.5, 0.001, 0.02)):
        r.test_errors[-1] = test
        r.train_losses = [2.0] * 29 + [loss]
    v = conclude(rs, 30)
    assert ("On the test set, plain-56 ended with more test error than plain-20 (60.0% against 3.0%), and "
            "ResNet-56 ended with more test error than ResNet-20 (5.9% against 3.1%).") in v.texts
    assert ("Training loss: plain-56 higher than plain-20 (1.500 against 0.001), ResNet-56 higher than "
            "ResNet-20 (0.020 against 0.001).") in v.texts
    assert_words_hold(v)


def test_no_verdict_before_every_arm_has_an_epoch():
    rs = results({"plain-20": [0.5], "plain-56": [], "resnet-20": [0.5], "resnet-56": [0.5]}, status="stopped")
    v = conclude(rs, planned_epochs=10)
    assert v.outcome == "no_verdict" and "plain-56 has not completed an epoch" in v.headline and not v.shown
    assert_words_hold(v)


# -- the words: properties over random result tables -----------------------------------------

# errors near every threshold the words use (1% fitted, 1 point apart) and far from them
ERRORS = st.one_of(st.sampled_from([0.0, 0.004, 0.0099, 0.01, 0.011, 0.019, 0.02, 0.021, 0.3, 0.9]),
                   st.floats(0, 1, allow_nan=False))


@st.composite
def tables(draw):
    depths = draw(st.sampled_from([(8, 14), (20, 56), (8, 20, 56)]))
    planned = draw(st.integers(1, 8))
    arms = []
    for kind in ("plain", "resnet"):
        for d in depths:
            n = draw(st.integers(0 if draw(st.booleans()) and draw(st.booleans()) else 1, planned))
            errs = draw(st.lists(ERRORS, min_size=n, max_size=n))
            test = draw(st.lists(ERRORS, min_size=n, max_size=n))
            loss = draw(st.lists(st.one_of(st.floats(0, 20), st.just(float("nan"))), min_size=n, max_size=n))
            status = "finished" if n == planned else draw(st.sampled_from(["stopped", "failed"]))
            arms.append(ArmResult(Arm(kind, d), errs, test, status, "a fault" if status == "failed" else "",
                                  0, loss))
    return DegradationSettings(epochs=planned, depths=depths), arms


@settings(max_examples=120, deadline=None)
@given(tables())
def test_every_claim_holds_and_shown_only_when_each_arm_meets_its_bar(table):
    s, arms = table
    v = conclude(arms, s.epochs, s)
    assert_words_hold(v)
    assert_report_renders_the_same(result_table(s, arms, 1.0), v)
    if v.outcome == "shown":  # recomputed here from the table, not from the claims
        e = min(a.epochs_done for a in arms)
        err = {(a.arm.kind, a.arm.depth): a.train_errors[e - 1] for a in arms}
        lo, hi = min(s.depths), max(s.depths)
        assert err[("plain", lo)] < 0.01 and err[("resnet", lo)] < 0.01  # both shallower nets fitted
        assert err[("plain", hi)] - err[("plain", lo)] > 0.01  # the deeper plain net more than 1 point higher
        assert err[("resnet", hi)] - err[("resnet", lo)] <= 0.01  # the deeper ResNet at most 1 point higher
    assert ("shown" in v.headline.lower()) == (v.outcome in ("shown", "plain_only"))


def test_the_report_command_renders_a_saved_result_and_names_a_broken_one(capsys, tmp_path):
    arms = results(finals(0.0, 0.592, 0.0, 0.006, epochs=30))
    v = conclude(arms, 30, DegradationSettings())
    assert "The paper's CIFAR-10 test error" in v.text and "not compared with the paper" in v.text
    path = tmp_path / "run.json"
    path.write_text(json.dumps({**result_table(DegradationSettings(), arms, 1.0), **v.json_fields()}))
    assert cli_main(["experiment", "report", str(path)]) == 0
    out = capsys.readouterr().out
    assert [line.strip() for line in out.strip().splitlines()] == v.texts
    assert cli_main(["experiment", "report", str(path), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["sentences"] == v.words.to_dict()["sentences"] and claims.check(again) == []
    for text, problem in (('{"experiment": "degradation", "arms": [', "not valid JSON (line 1"),
                          ('{"experiment": "degradation", "settings": {"epochs": 3}}', "'arms' is missing"),
                          ('{"experiment": "tea", "arms": []}', "unknown experiment 'tea'"),
                          ('[1, 2]', "expected a JSON object"),
                          ('{"experiment": "degradation", "settings": {"epochs": 3}, "arms": [{"kind": "tea", '
                           '"depth": 20}]}', "not a complete degradation result")):
        path.write_text(text)
        assert cli_main(["experiment", "report", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("error:") == 1 and problem in err and "Traceback" not in err, err


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


def test_stop_ends_every_arm_within_a_step(one_torch_thread, stop_from_another_thread):
    runner = degradation_runner(tiny(epochs=500))
    seen = []
    assert stop_from_another_thread(runner, lambda arm, event: seen.append(arm) or len(seen) >= 8) <= 1
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
    assert report["verdict"]["headline"] == report["sentences"][0]
    assert claims.check(report) == [] and report["claims"]
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
