"""Pre- against post-activation without Qt: the twin, the words on result tables, a tiny run, the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from explorer.cli import main as cli_main
from explorer.experiments.arms import Arm, cifar_net
from explorer.experiments.prepost import (GradientProfile, PrePostArm, PrePostSettings, prepost_runner,
                                          results_from_runner)
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
     "pre-act ResNet-56 trained lower: 5.0% training error against ResNet-56's 20.0% after 2 epochs"),
    ([0.5, 0.05], [1.5, 0.15], [0.4, 0.20], [1.2, 0.60], "post_lower", "ResNet-56 trained lower: 5.0%"),
    ([0.5, 0.004], [1.5, 0.040], [0.4, 0.002], [1.2, 0.010], "pre_lower",
     "training loss 0.010 against ResNet-56's 0.040 after 2 epochs, at training errors within 1 point"),
    ([0.5, 0.000], [1.5, 0.004], [0.4, 0.000], [1.2, 0.001], "no_difference",  # 0.003 apart: below the floor
     "no clear difference in training between ResNet-56 and pre-act ResNet-56 after 2 epochs"),
    ([0.5, 0.30], [1.5, 0.80], [0.4, 0.25], [1.2, 0.70], "no_difference", "no clear difference"),  # 1.2x
    ([0.9, 0.5, 0.2, 0.0, 0.0], [2, 1, .5, .02, .02], [0.5, 0.0, 0.0, 0.0, 0.0], [1, .02, .02, .02, .02],
     "pre_faster", "pre-act ResNet-56 fitted the training set sooner: 1.0% training error at epoch 2, "
                   "ResNet-56 epoch 4"),
    ([0.9, 0.5, 0.0, 0.0], [2, 1, .02, .02], [0.9, 0.0, 0.0, 0.0], [2, .02, .02, .02],
     "no_difference", "reached: ResNet-56 at epoch 3, pre-act ResNet-56 at epoch 2"),  # one epoch apart
]


@pytest.mark.parametrize("post_e, post_l, pre_e, pre_l, outcome, phrase", TABLE)
def test_the_training_words_follow_the_table(post_e, post_l, pre_e, pre_l, outcome, phrase):
    verdict = prepost_words([_arm("resnet", post_e, post_l), _arm("preact", pre_e, pre_l)], len(post_e))
    assert verdict.outcome == outcome
    assert phrase in verdict.text
    assert verdict.epoch == len(post_e) and "stopped" not in verdict.text


def test_a_stopped_run_is_compared_at_the_last_epoch_both_completed():
    verdict = prepost_words([_arm("resnet", [0.5, 0.2, 0.1], [1, .6, .3]), _arm("preact", [0.5, 0.3], [1, .7])], 10)
    assert verdict.epoch == 2
    assert "The run stopped at epoch 2 of 10" in verdict.text
    none = prepost_words([_arm("resnet", [], []), _arm("preact", [0.5], [1.0])], 10)
    assert none.outcome == "no_verdict" and "ResNet-56 has not completed an epoch" in none.headline


SPREADS = [
    ([1.0, 0.5, 0.1], [1.0, 0.8, 0.5], "the pre-activation twin spreads the gradient more evenly",
     "by 10.0x in ResNet-56 and by 2.0x in pre-act ResNet-56"),
    ([1.0, 0.8, 0.5], [1.0, 0.5, 0.1], "here the post-activation net spreads it more evenly", "by 2.0x in ResNet"),
    ([1.0, 0.5], [1.0, 0.7], "no clear difference in spread", "by 2.0x in ResNet-56 and by 1.4x"),
    ([1.0, 0.0], [1.0, 0.5], "an unbounded factor", "At the end"),
]


@pytest.mark.parametrize("post, pre, verdict, numbers", SPREADS)
def test_the_spread_words_follow_the_table(post, pre, verdict, numbers):
    when = "end" if 0.0 in post else "init"
    text = spread_words(_profile(when, post), _profile(when, pre), "ResNet-56", "pre-act ResNet-56")
    assert verdict in text and numbers in text
    if 0.0 in post:
        assert "evenly" not in text and "no clear" not in text  # nothing to compare with an unbounded spread


def test_both_profiles_go_into_the_words_and_a_missing_one_is_left_out():
    post = _arm("resnet", [0.1], [0.3], _profile("init", [1, 0.1]), _profile("end", [1, 0.5]))
    pre = _arm("preact", [0.1], [0.3], _profile("init", [1, 0.9]), None)
    text = prepost_words([post, pre], 1).text
    assert "At initialisation, the gradient norm varies across the blocks by 10.0x" in text
    assert "At the end" not in text


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
    assert report["verdict"]["epoch"] == 1
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
