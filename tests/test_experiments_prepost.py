"""Pre- against post-activation without Qt: the twin, the words on result tables, a tiny run, the CLI."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from words_check import assert_report_renders_the_same, assert_words_hold

from explorer.cli import main as cli_main
from explorer.experiments.arms import Arm, cifar_net
from explorer.experiments import claims
from explorer.experiments.claims import Words
from explorer.experiments.prepost import (GradientProfile, PrePostArm, PrePostSettings, prepost_runner,
                                          result_table, results_from_runner)
from explorer.experiments.prepost_words import prepost_words, spread_words
from explorer.nn import build
from explorer.nn.blocks import PreActBasicBlock
from explorer.spec import SpecError, analyse

SMALL = (3, 8, 8)


def test_the_pre_activation_twin_has_the_same_depth_shortcuts_and_parameter_count():
    post, pre = cifar_net("resnet", 20), cifar_net("preact", 20)
    assert analyse(pre).depth == analyse(post).depth == 20
    assert analyse(pre).params == analyse(post).params
    assert [b.shortcut for _, _, b in pre.iter_blocks()] == [b.shortcut for _, _, b in post.iter_blocks()]
    model = build(pre)
    assert all(isinstance(b, PreActBasicBlock) for b in model.blocks())
    assert "bn1" not in dict(model.named_children()) and "final_bn" in dict(model.named_children())
    assert Arm("preact", 20).label == "pre-act ResNet-20" and Arm("preact", 20).residual
    with pytest.raises(SpecError, match="21 is not 6n\\+2"):
        PrePostSettings(depth=21)


def _arm(kind, errors, losses, init=None, end=None, status="finished"):
    arm = PrePostArm(Arm(kind, 56), train_loss=list(losses), train_error=list(errors),
                     test_error=list(errors), init=init, end=end, status=status)
    return arm


def _profile(when, norms):
    return GradientProfile(when, [f"block {i + 1}" for i in range(len(norms))], np.asarray(norms, float), 2.3)


TABLE = [
    # post errors, post losses, pre errors, pre losses -> outcome, phrase
    ([0.5, 0.20], [1.5, 0.60], [0.4, 0.05], [1.2, 0.15], "pre_lower",
     "Pre-act ResNet-56 ended with less training error than ResNet-56 (5.0% against 20.0%) after 2 epochs, and "
     "its training loss was lower than ResNet-56's (0.150 against 0.600)."),
    ([0.5, 0.05], [1.5, 0.15], [0.4, 0.20], [1.2, 0.60], "post_lower",
     "The lessons say the pre-activation twin trains better; here ResNet-56 ended lower."),
    ([0.5, 0.004], [1.5, 0.040], [0.4, 0.002], [1.2, 0.010], "pre_lower",
     "Pre-act ResNet-56 ended within 1.0 point of ResNet-56 (0.2% against 0.4%) after 2 epochs, but its training "
     "loss was lower than ResNet-56's (0.010 against 0.040)."),
    ([0.5, 0.000], [1.5, 0.004], [0.4, 0.000], [1.2, 0.001], "no_difference",  # 0.003 apart: within 0.01
     "This run shows no difference in training between ResNet-56 and pre-act ResNet-56: pre-act ResNet-56 ended "
     "within 1.0 point of ResNet-56 (0.0% against 0.0%) after 2 epochs, and its training loss was within 0.01"),
    ([0.5, 0.30], [1.5, 0.80], [0.4, 0.25], [1.2, 0.70], "pre_lower", "ended with less training error"),  # 5 points
    ([0.9, 0.5, 0.2, 0.0, 0.0], [2, 1, .5, .02, .02], [0.5, 0.0, 0.0, 0.0, 0.0], [1, .02, .02, .02, .02],
     "pre_faster", "but pre-act ResNet-56 got under 1.0% training error sooner: at epoch 2, ResNet-56 at epoch 4."),
    ([0.9, 0.5, 0.0, 0.0], [2, 1, .02, .02], [0.9, 0.0, 0.0, 0.0], [2, .02, .02, .02],
     "no_difference", "First under 1.0% training error: ResNet-56 at epoch 3; pre-act ResNet-56 at epoch 2."),
    # seen: the default run compared with a post-activation ResNet-110 that never left chance (loss 12.2 after
    # epoch 1): it diverged at this learning rate, and the words say so instead of comparing
    ([0.9, 0.88, 0.86, 0.841], [12.2, 2.31, 2.30, 2.25], [0.5, 0.05, 0.01, 0.001], [1.5, 0.2, 0.05, 0.003],
     "post_diverged", "ResNet-56 diverged at learning rate 0.1: its training loss after the first epoch was 12.2, "
                      "above chance's 2.303, and its training error ended at 84.1%, within 10.0 points of chance"),
    ([0.5, 0.3], [1.5, float("nan")], [0.4, 0.05], [1.2, 0.15], "post_diverged",
     "ResNet-56 diverged at learning rate 0.1: its training loss became not finite"),
    ([0.5, 0.3], [1.5, 1.0], [0.4, 0.45], [1.2, 1.6], "pre_diverged",
     "Pre-act ResNet-56 diverged at learning rate 0.1: its training loss rose from 1.200 after the first epoch "
     "to 1.600."),
]


@pytest.mark.parametrize("post_e, post_l, pre_e, pre_l, outcome, phrase", TABLE)
def test_the_training_words_follow_the_table(post_e, post_l, pre_e, pre_l, outcome, phrase):
    verdict = prepost_words([_arm("resnet", post_e, post_l), _arm("preact", pre_e, pre_l)], len(post_e), 0.1)
    assert verdict.outcome == outcome
    assert phrase in verdict.text
    assert verdict.epoch == len(post_e) and "stopped" not in verdict.text
    if outcome.endswith("diverged"):
        assert "trained lower" not in verdict.text and "less training error" not in verdict.text
    assert_words_hold(verdict)


def test_a_diverged_net_is_named_with_the_learning_rate_and_the_warm_up_it_had():
    arms = [_arm("resnet", [0.9, 0.88], [12.2, 2.31]), _arm("preact", [0.5, 0.05], [1.5, 0.2])]
    assert "ResNet-56 diverged at learning rate 0.1 (a tenth of it until the training error fell under 80.0%):" \
        in prepost_words(arms, 2, 0.1, 0.8).text
    assert "ResNet-56 diverged at learning rate 0.05:" in prepost_words(arms, 2, 0.05).text


def test_a_stopped_run_is_compared_at_the_last_epoch_both_completed():
    verdict = prepost_words([_arm("resnet", [0.5, 0.2, 0.1], [1, .6, .3]), _arm("preact", [0.5, 0.3], [1, .7])], 10)
    assert verdict.epoch == 2
    assert "The run stopped at epoch 2 of 10" in verdict.text
    none = prepost_words([_arm("resnet", [], []), _arm("preact", [0.5], [1.0])], 10)
    assert none.outcome == "no_verdict" and "ResNet-56 has not completed an epoch" in none.headline
    assert_words_hold(verdict) and assert_words_hold(none)


SPREADS = [
    ([1.0, 0.5, 0.1], [1.0, 0.8, 0.5], "the pre-activation twin spreads it more evenly",
     "by 10x in ResNet-56 and by 2x in pre-act ResNet-56"),
    ([1.0, 0.8, 0.5], [1.0, 0.5, 0.1], "The lessons say the pre-activation twin spreads the gradient more evenly "
                                       "over depth; here its spread is the larger", "by 2x in ResNet"),
    ([1.0, 0.5], [1.0, 0.7], "alike, within a factor of 1.5", "by 2x in ResNet-56 and by 1.4x"),
    ([1.0, 0.0], [1.0, 0.5], "an unbounded factor", "At the end"),
]


@pytest.mark.parametrize("post, pre, verdict, numbers", SPREADS)
def test_the_spread_words_follow_the_table(post, pre, verdict, numbers):
    when = "end" if 0.0 in post else "init"
    w = Words()
    spread_words(w, _profile(when, post), _profile(when, pre), "ResNet-56", "pre-act ResNet-56")
    text = w.text
    assert numbers in text and (verdict in text or "unbounded" in verdict)
    assert claims.check(json.loads(json.dumps(w.to_dict()))) == []


def test_both_profiles_go_into_the_words_and_a_missing_one_is_left_out():
    post = _arm("resnet", [0.1], [0.3], _profile("init", [1, 0.1]), _profile("end", [1, 0.5]))
    pre = _arm("preact", [0.1], [0.3], _profile("init", [1, 0.9]), None)
    text = prepost_words([post, pre], 1).text
    assert "At initialisation, the gradient norm varies across the blocks by 10x" in text
    assert "At the end" not in text


FINITE_ERRORS = st.one_of(st.sampled_from([0.0, 0.005, 0.0099, 0.01, 0.02, 0.8, 0.9]), st.floats(0, 1))
LOSSES = st.one_of(st.sampled_from([0.0, 0.01, 2.3, 12.2, float("nan"), float("inf")]), st.floats(0, 20))
NORMS = st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1e3)), min_size=1, max_size=6)


@st.composite
def prepost_tables(draw):
    planned = draw(st.integers(1, 6))
    arms = []
    for kind in ("resnet", "preact"):
        n = draw(st.integers(0 if draw(st.integers(0, 9)) == 0 else 1, planned))
        init = _profile("init", draw(NORMS)) if draw(st.booleans()) else None
        end = _profile("end", draw(NORMS)) if draw(st.booleans()) else None
        arms.append(PrePostArm(Arm(kind, 20), draw(st.lists(LOSSES, min_size=n, max_size=n)),
                               draw(st.lists(FINITE_ERRORS, min_size=n, max_size=n)),
                               draw(st.lists(FINITE_ERRORS, min_size=n, max_size=n)), init, end,
                               "finished" if n == planned else "stopped", classes=draw(st.sampled_from([2, 10]))))
    return PrePostSettings(depth=20, epochs=planned, lr=draw(st.sampled_from([0.1, 0.01]))), arms


@settings(max_examples=100, deadline=None)
@given(prepost_tables())
def test_every_claim_holds_and_a_diverged_net_is_never_compared(table):
    s, arms = table
    v = prepost_words(arms, s.epochs, s.lr)
    assert_words_hold(v)
    assert_report_renders_the_same(result_table(s, arms, 1.0, 1.0), v)
    if v.outcome in ("pre_lower", "pre_faster"):  # the green outcomes: recomputed here from the table
        e = v.epoch
        for a in arms:
            losses = a.train_loss[:e]
            assert all(math.isfinite(x) for x in losses) and losses[-1] - losses[0] <= 0.01
            assert a.train_error[e - 1] < 1 - 1 / a.classes - 0.10
        post, pre = arms
        gap = pre.train_error[e - 1] - post.train_error[e - 1]
        lgap = pre.train_loss[e - 1] - post.train_loss[e - 1]
        assert gap < -0.01 or (abs(gap) <= 0.01 and (lgap < -0.01 or v.outcome == "pre_faster"))
    if "diverged" in v.outcome:
        assert "less training error" not in v.headline and "more training error" not in v.headline


def test_a_tiny_run_trains_both_twins_and_measures_both_profiles(one_torch_thread):
    settings = PrePostSettings(depth=8, epochs=2, dataset="shapes", train_size=64, test_size=16, batch_size=32,
                               device="cpu", metrics_every=1)
    runner = prepost_runner(settings)
    seen = []
    runner.run(lambda i, e: seen.append((i, type(e).__name__)))
    assert runner.error == ""
    results = results_from_runner(settings, runner)
    assert [r.label for r in results] == ["ResNet-8", "pre-act ResNet-8"]
    for i, r in enumerate(results):
        assert r.epochs_done == 2 and r.status == "finished"
        assert r.init.when == "init" and r.end.when == "end" and len(r.init.norms) == 3
        assert not np.allclose(r.init.norms, r.end.norms)  # training moved the weights
        names = [n for k, n in seen if k == i]
        assert names[0] == "GradientProfile" and names[-1] == "GradientProfile"
    # the profile at initialisation is the untrained net's: measured again from a fresh build
    model = build(runner.trainers[1].spec, seed=settings.seed)
    from explorer.analysis.gradflow import probe
    x, y = runner.trainers[1].batch
    again = probe(model, x, y, weights=False)
    assert np.allclose(again.block_norms, results[1].init.norms, rtol=1e-5)
    assert isinstance(runner.trainers[0].model, torch.nn.Module)


def test_cli_prints_one_json_object_with_both_arms(capsys, one_torch_thread):
    code = cli_main(["experiment", "prepost", "--depth", "8", "--epochs", "1", "--dataset", "shapes",
                     "--train-size", "32", "--test-size", "16", "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    report = json.loads(captured.out)
    assert [(a["kind"], a["depth"]) for a in report["arms"]] == [("resnet", 8), ("preact", 8)]
    for arm in report["arms"]:
        assert len(arm["train_error"]) == 1 and len(arm["gradient_init"]["blocks"]) == 3
        assert arm["gradient_end"]["spread"] >= 1.0
    assert report["verdict"]["epoch"] == 1 and report["verdict"]["headline"] == report["sentences"][0]
    assert claims.check(report) == [] and report["claims"]
    assert all(a["classes"] == 10 for a in report["arms"])  # shapes: chance is judged against its 10 classes
    assert "gradient profile at initialisation" in captured.err


def test_cli_names_a_bad_depth(capsys):
    assert cli_main(["experiment", "prepost", "--depth", "21"]) == 2
    assert "error: " in capsys.readouterr().err


def test_the_papers_bottleneck_depths_build_the_papers_nets():
    from explorer.experiments.arms import cifar_net, default_block
    from explorer.experiments.prepost import PrePostSettings
    from explorer.spec import preset
    from explorer.spec.errors import SpecError

    assert default_block(164) == "bottleneck" and default_block(1001) == "bottleneck"
    assert default_block(110) == "basic" and default_block(29) == "bottleneck"  # 29 = 9*3+2, not 6n+2
    arms = PrePostSettings(depth=164).arms()
    pre = arms[1].spec()
    ref = preset("preact_resnet164")
    assert (pre.stem, pre.stages, pre.head) == (ref.stem, ref.stages, ref.head)
    post = arms[0].spec()
    assert post.stem.activate and not post.head.pre_norm
    assert [b.kind.name for b in post.stages[0].blocks][:1] == ["BOTTLENECK"]
    assert PrePostSettings(depth=164, block="basic").arms()[0].spec().stages[0].blocks[0].kind.name == "BASIC"
    with pytest.raises(SpecError, match="9n\\+2"):
        PrePostSettings(depth=32, block="bottleneck")


def test_cli_runs_a_bottleneck_pair_with_the_papers_warm_up(capsys, one_torch_thread):
    code = cli_main(["experiment", "prepost", "--depth", "11", "--block", "bottleneck", "--epochs", "1",
                     "--dataset", "shapes", "--train-size", "64", "--test-size", "32", "--warmup-until", "0.8",
                     "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "(bottleneck blocks)" in captured.err and "below 80%" in captured.err
    out = json.loads(captured.out)
    assert out["settings"]["warmup_until"] == 0.8 and out["settings"]["block"] == "bottleneck"
