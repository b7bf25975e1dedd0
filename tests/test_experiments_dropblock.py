"""Drop a block without Qt: removing a branch, refusing what cannot be removed, the words, the CLI."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from explorer.cli import main as cli_main
from explorer.experiments.arms import cifar_net
from explorer.experiments.dropblock import (BlockDrop, DropResult, WithoutBranch, drop_each_block, drop_summary,
                                            drop_words, eval_source, removed)
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


def net(name: str, baseline: float, lost_points: list, residual: bool = True, stopped: bool = False) -> DropResult:
    """A measured net: the points of accuracy each removal cost (None: cannot be removed)."""
    drops = [BlockDrop(i, LABELS[i], residual, None if p is None else baseline - p / 100,
                       "" if p is not None else "no shortcut", p is None or i in (3, 6))
             for i, p in enumerate(lost_points)]
    return DropResult(name, baseline, drops, stopped)


# name, ResNet, plain twin, phrases the words must hold, phrases they must not
DROP_TABLE = [
    ("found in class: one block costs 44.3 points, so not 'little'",
     net("resnet20", 0.95, [44.3, 0.4, 0.2, 3.1, 0.3, 0.1, 2.0, 0.5, 0.2]),
     net("plain20", 0.93, [80.0, 70.0, 60.0, None, 75.0, 66.0, None, 50.0, 40.0], residual=False),
     ["Removing one residual block of resnet20 typically costs 0.4 points of test accuracy, and 44.3 points at "
      "worst (without stage 1, block 1)",
      "removing one plain block of plain20 typically costs 66.0 points of test accuracy, and 80.0 points at worst "
      "(without stage 1, block 1)",
      "8 of 9 cost under 5.0 points", "not all: without stage 1, block 1 it loses 44.3 points",
      "2 of plain20's blocks cannot be removed (stage 2, block 1; stage 3, block 1)"],
     ["hurts little", "hurts resnet20 little", "at most"]),
    ("clean: every removal is cheap for the ResNet, dear for the plain net",
     net("resnet20", 0.98, [1.0, 2.0, 0.5, 4.0, 0.0, 0.3, 3.0, 0.2, 0.1]),
     net("plain20", 0.97, [87.0, 40.0, 60.0, None, 70.0, 66.0, None, 50.0, 40.0], residual=False),
     ["typically costs 0.5 points of test accuracy, and 4.0 points at worst (without stage 2, block 1)",
      "Losing any one block hurts resnet20 little (at most 4.0 points)", "ensemble",
      "a typical removal costs it 60.0 points", "resnet20: 98.0% with every block",
      "stage 2, block 1 changes the shape"], ["not all"]),
    ("not shown: the plain twin copes as well as the ResNet",
     net("resnet20", 0.9, [20.0, 10.0, 15.0]),
     net("plain20", 0.9, [12.0, 9.0, 14.0], residual=False),
     ["typically costs 15.0 points", "and 20.0 points at worst (without stage 1, block 1)",
      "coped with a missing block no worse than the ResNet"], ["little", "ensemble"]),
    ("cheaper than the twin, but not little",
     net("resnet20", 0.9, [20.0, 10.0, 15.0]),
     net("plain20", 0.9, [60.0, 50.0, 70.0], residual=False),
     ["less than its plain twin (typically 15.0 points against 60.0 points), but not little"],
     ["hurts resnet20 little", "ensemble"]),
    ("a stopped measurement says so first",
     net("resnet20", 0.95, [0.4, 0.2], stopped=True), None,
     ["So far (stopped early): Removing one residual block of resnet20 typically costs 0.3 points",
      "not fully measured"], []),
    ("a removal that helps costs nothing; a weak net is called weak",
     net("resnet8", 0.4, [-1.0, 0.0, 2.0]), None,
     ["typically costs nothing", "2.0 points at worst (without stage 1, block 3)", "not well trained"],
     ["little (", "ensemble"]),
]


@pytest.mark.parametrize("name,residual,plain,holds,lacks", DROP_TABLE, ids=[r[0] for r in DROP_TABLE])
def test_drop_words_follow_from_the_numbers(name, residual, plain, holds, lacks):
    headline, details = drop_summary(residual, plain)
    words = drop_words(residual, plain)
    assert words == " ".join([headline] + details)
    for phrase in holds:
        assert phrase in words
    for phrase in lacks:
        assert phrase not in words
    worst = residual.worst()
    assert worst.label in headline  # the headline names the worst block


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
    assert "Removing one residual block of resnet8" in report["words"]
    assert "without stage 1, block 1" in captured.err  # progress on stderr with --json


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
