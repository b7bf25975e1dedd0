"""Drop a block without Qt: removing a branch, refusing what cannot be removed, the words, the CLI."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from explorer.cli import main as cli_main
from explorer.experiments.arms import cifar_net
from hypothesis import given, settings, strategies as st

from explorer.experiments.claims import check
from explorer.experiments.dropblock import (BlockDrop, DropResult, WithoutBranch, drop_each_block, eval_source,
                                            removed)
from explorer.experiments.dropblock_words import drop_verdict, drop_words
from words_check import assert_report_renders_the_same, assert_words_hold
from explorer.nn import build
from explorer.train.api import TrainSettings
from explorer.train.datasets import load_dataset
from explorer.train.trainer import Trainer

SMALL = (3, 8, 8)


@pytest.fixture(scope="module")
def data():
    return load_dataset("shapes", train_size=64, test_size=48)


def test_a_residual_block_without_its_branch_is_its_shortcut(one_torch_thread):
    model = build(cifar_net("resnet", 8, SMALL), seed=0).eval()
    block = model.block_at(1, 0)  # a downsampling block: zero-pad shortcut
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(WithoutBranch(block)(x), torch.relu(block.downsample(x)))
    before = model(torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1)))
    with removed(model, 1, 0, WithoutBranch(block)):
        assert model.layer2[0] is not block
    assert model.layer2[0] is block  # put back afterwards
    after = model(torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1)))
    assert torch.equal(before, after)


def test_blocks_that_start_as_identities_cost_nothing_to_remove(data, one_torch_thread):
    spec = replace(cifar_net("resnet", 14, SMALL), zero_init_residual=True)  # every branch outputs 0
    state = build(spec, seed=0).state_dict()
    result = drop_each_block(spec, state, data)
    assert len(result.drops) == 6 and result.residual
    assert all(d.accuracy == result.baseline for d in result.drops)


def test_plain_blocks_that_change_the_shape_cannot_be_removed(data, one_torch_thread):
    spec = cifar_net("plain", 14, SMALL)
    seen = []
    result = drop_each_block(spec, build(spec, seed=0).state_dict(), data,
                             on_block=lambda drop, so_far: seen.append(drop))
    assert seen == result.drops and not result.residual
    fixed = [d.label for d in result.drops if d.accuracy is None]
    assert fixed == ["stage 2, block 1", "stage 3, block 1"]
    assert "16x8x8 to 32x4x4" in result.drops[2].reason
    assert all(d.accuracy is not None for d in result.drops if d.label not in fixed)


def test_the_weights_must_fit_the_network(data):
    state = build(cifar_net("resnet", 8, SMALL), seed=0).state_dict()
    with pytest.raises(Exception, match="do not fit plain14"):
        drop_each_block(cifar_net("plain", 14, SMALL), state, data)


LABELS = ["stage 1, block 1", "stage 1, block 2", "stage 1, block 3", "stage 2, block 1", "stage 2, block 2",
          "stage 2, block 3", "stage 3, block 1", "stage 3, block 2", "stage 3, block 3"]


def net(name: str, baseline: float, lost_points: list, residual: bool = True, stopped: bool = False,
        total: int | None = None, classes: int | None = 10) -> DropResult:
    """A measured net: the points of accuracy each removal cost (None: cannot be removed)."""
    drops = [BlockDrop(i, LABELS[i], residual, None if p is None else baseline - p / 100,
                       "" if p is not None else "no shortcut", p is None or i in (3, 6))
             for i, p in enumerate(lost_points)]
    return DropResult(name, baseline, drops, stopped, total_blocks=total or len(drops), images=1000,
                      classes=classes)


# name, results, phrases the words must hold, phrases they must not
DROP_TABLE = [
    ("found in class: one block costs 44.3 points, so not 'little'",
     [net("resnet20", 0.95, [44.3, 0.4, 0.2, 3.1, 0.3, 0.1, 2.0, 0.5, 0.2]),
      net("plain20", 0.93, [80.0, 70.0, 60.0, None, 75.0, 66.0, None, 50.0, 40.0], residual=False)],
     ["The costliest removal from resnet20 is stage 1, block 1: it costs 44.3 points of test accuracy (95.0% → 50.7%)",
      "the costliest removal from plain20 is stage 1, block 1: it costs 80.0 points",
      "1 of them costs more than 5.0 points",
      "here 8 of the 9 removals from resnet20 cost under 5.0 points, and without stage 1, block 1 it loses 44.3",
      "2 of the 9 measured blocks of plain20 cannot be removed (stage 2, block 1; stage 3, block 1)",
      "costs plain20 more than resnet20 (by over 0.1 points) at all 7 positions where both can lose it"],
     ["hurts resnet20 little", "as the lessons expect of a ResNet", "on average"]),
    ("clean: every removal is cheap for the ResNet, dear for the plain net",
     [net("resnet20", 0.98, [1.0, 2.0, 0.5, 4.0, 0.0, 0.3, 3.0, 0.2, 0.1]),
      net("plain20", 0.97, [87.0, 40.0, 60.0, None, 70.0, 66.0, None, 50.0, 40.0], residual=False)],
     ["from resnet20 is stage 2, block 1: it costs 4.0 points of test accuracy (98.0% → 94.0%)",
      "resnet20: 98.0% test accuracy with every "
      "block on 1,000 test images, above chance (10.0% for 10 classes); all 9 blocks measured",
      "Of resnet20's 9 removals, 8 lower its test accuracy and 0 raise it by more than 0.1 points, 1 leaves it "
      "within that; 0 of them cost more than 5.0 points",
      "Here all 9 removals from resnet20 cost under 5.0 points, as the lessons expect of a ResNet",
      "The median accuracy lost to one removal is 60.0 points for plain20, more than for resnet20 (0.5 points)"],
     ["not all"]),
    ("the plain twin copes as well as the ResNet: said as measured, no 'ensemble' verdict",
     [net("resnet20", 0.9, [20.0, 10.0, 15.0]), net("plain20", 0.9, [12.0, 9.0, 14.0], residual=False)],
     ["costs plain20 more than resnet20 (by over 0.1 points) at none of the 3 positions where both can lose it, "
      "and less at 3", "here none of the 3 removals from resnet20 cost under 5.0 points"],
     ["as the lessons expect of a ResNet"]),
    ("a removal that gains 10 points is named, never averaged away",
     [net("resnet20", 0.8, [-10.0, 0.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])],
     ["7 lower its test accuracy and 1 raises it by more than 0.1 points, 1 leaves it within that",
      "The largest gain: without stage 1, block 1 resnet20 reaches 90.0% (10.0 points more"],
     ["costs nothing", "on average"]),
    ("a stopped measurement says how much was measured and sets nothing against the lessons",
     [net("resnet20", 0.95, [0.4, 0.2], stopped=True, total=9)],
     ["2 of the 9 blocks measured (stopped early)"], ["lessons"]),
    ("a weak net is called weak, no cause invented",
     [net("resnet8", 0.4, [-1.0, 0.0, 2.0])],
     ["resnet8 reaches only 40.0% with every block, below 50%"], ["longer", "ensemble of paths"]),
    ("two ResNets: both are read", [net("resnet20", 0.9, [1.0, 2.0, 3.0]), net("resnet20b", 0.9, [9.0, 8.0, 1.0])],
     ["from resnet20 is stage 1, block 3: it costs 3.0 points", "from resnet20b is stage 1, block 1: it costs 9.0",
      "from resnet20 cost under",
      "1 of the 3 removals from resnet20b costs under"], []),
]


@pytest.mark.parametrize("name,results,holds,lacks", DROP_TABLE, ids=[r[0] for r in DROP_TABLE])
def test_drop_words_follow_from_the_numbers(name, results, holds, lacks):
    words = drop_words(results)
    assert check(words.to_dict()) == []
    for phrase in holds:
        assert phrase in words.text, (phrase, words.texts)
    for phrase in lacks:
        assert phrase not in words.text, (phrase, words.texts)
    assert results[0].worst().label in words.texts[0]  # the headline names the costliest block


def _random_net(draw, name: str, residual: bool, n: int) -> DropResult:
    baseline = draw(st.integers(0, 200)) / 200
    lost = [None if draw(st.integers(0, 5)) == 0 else (baseline - draw(st.integers(0, 200)) / 200) * 100
            for _ in range(n)]
    stopped = draw(st.booleans())
    total = n + draw(st.integers(0, 3)) if stopped or draw(st.booleans()) else n
    return net(name, baseline, lost, residual, stopped, total, draw(st.sampled_from([None, 2, 10])))


@st.composite
def drop_tables(draw):
    n = draw(st.integers(1, 9))
    nets = [_random_net(draw, "resnet20", draw(st.booleans()), n)]
    if draw(st.booleans()):
        nets.append(_random_net(draw, "plain20", draw(st.booleans()), n))
    return nets


@settings(max_examples=150, deadline=None)
@given(drop_tables())
def test_every_drop_sentence_is_backed_by_claims_that_hold(results):
    words = drop_words(results)
    report = json.loads(json.dumps({"networks": [r.to_dict() for r in results], **words.to_dict()}))
    assert check(report) == []
    # the words for each relation are the relation computed
    parts = report["sentences"][0].split("; ")
    for claim in report["claims"]:
        text = report["sentences"][claim["sentence"]]
        text = text if isinstance(text, str) else text["text"]
        if claim["kind"] == "compare" and claim["b"]["name"].endswith(" with every block") \
                and claim["sentence"] == 0:
            net_name = claim["b"]["name"][:-len(" with every block")]
            part = next(p for p in parts if f" from {net_name} is " in p)
            said = {"lower": ": it costs ", "higher": ": it raises ", "within": ": it leaves "}
            assert said[claim["relation"]] in part
        if claim["kind"] == "count" and claim.get("quantifier") == "all" and "as the lessons expect" in text:
            assert claim["n"] == claim["total"]
    assert not any("as the lessons expect" in t and "The lessons say" in t for t in words.texts)
    # a saved result read back gives the same words (experiment report), and the outcome follows the lessons' sentences
    verdict = drop_verdict(results)
    assert_words_hold(verdict)
    assert_report_renders_the_same({"experiment": "drop-block", "networks": report["networks"]}, verdict)
    agree = any("as the lessons expect" in t for t in verdict.texts)
    disagree = any(t.startswith("The lessons say") and "; here " in t for t in verdict.texts)
    assert verdict.outcome == ("not_shown" if disagree else "shown" if agree else "measured")


def test_cli_measures_a_trained_checkpoint_and_its_twin(tmp_path, capsys, one_torch_thread):
    settings = TrainSettings(dataset="shapes", train_size=64, test_size=48, batch_size=32, epochs=1,
                             augment=False, device="cpu")
    paths = {}
    for kind in ("resnet", "plain"):
        trainer = Trainer(cifar_net(kind, 8, SMALL), settings)
        trainer.run()
        paths[kind] = str(tmp_path / f"{kind}8.pt")
        trainer.save_checkpoint(paths[kind])
    code = cli_main(["experiment", "drop-block", "resnet8", "--checkpoint", paths["resnet"], "--twin", "plain8",
                     "--twin-checkpoint", paths["plain"], "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    report = json.loads(captured.out)
    nets = {n["network"]: n for n in report["networks"]}
    assert [b["accuracy"] is None for b in nets["plain8"]["blocks"]] == [False, True, True]
    assert all(b["accuracy"] is not None for b in nets["resnet8"]["blocks"])
    assert check(report) == [] and report["sentences"][0].startswith("The costliest removal from resnet8 is stage ")
    assert report["verdict"]["headline"] == report["sentences"][0]
    path = tmp_path / "drop.json"
    path.write_text(captured.out)
    assert cli_main(["experiment", "report", str(path)]) == 0  # last week's run, read again
    again = capsys.readouterr().out.strip().splitlines()
    texts = [t if isinstance(t, str) else t["text"] for t in report["sentences"]]
    assert [line.strip() for line in again] == texts
    assert report["networks"][0]["classes"] == 10
    assert "without stage 1, block 1" in captured.err  # progress on stderr with --json


@pytest.mark.parametrize("change, problem", [
    (lambda n: n.update(baseline_accuracy=float("nan")), "baseline_accuracy is not an accuracy from 0 to 1: nan"),
    (lambda n: n["blocks"][0].update(accuracy=1.7), "accuracy is not an accuracy from 0 to 1: 1.7"),
    (lambda n: n["blocks"][0].update(accuracy="0.5"), "accuracy is not an accuracy"),
    (lambda n: n.update(total_blocks=-2), "total_blocks is not a count"),
    (lambda n: n.pop("blocks"), "'blocks' is missing"),
])
def test_report_names_a_saved_table_that_cannot_be_a_measurement(tmp_path, capsys, change, problem):
    table = {"experiment": "drop-block", "networks": [net("resnet20", 0.9, [1.0, 2.0, 3.0]).to_dict()]}
    change(table["networks"][0])
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(table))
    assert cli_main(["experiment", "report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and problem in err and len(err.strip().splitlines()) == 1


def test_cli_refuses_weights_of_another_network(tmp_path, capsys, one_torch_thread):
    trainer = Trainer(cifar_net("resnet", 8, SMALL), TrainSettings(dataset="shapes", train_size=32, test_size=16,
                                                                   batch_size=16, max_steps=1, device="cpu"))
    trainer.run()
    path = str(tmp_path / "r8.pt")
    trainer.save_checkpoint(path)
    assert cli_main(["experiment", "drop-block", "resnet20", "--checkpoint", path]) == 2
    assert "whose layers differ from 'resnet20'" in capsys.readouterr().err


def test_eval_source_prepares_the_test_split_at_the_nets_input_size(data):
    source = eval_source(cifar_net("resnet", 8, SMALL), data, torch.device("cpu"))
    x, y = next(source.test_batches())
    assert tuple(x.shape[1:]) == SMALL and len(y) == 48
