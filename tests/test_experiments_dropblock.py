"""Drop a block without Qt: removing a branch, refusing what cannot be removed, the words, the CLI."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from explorer.cli import main as cli_main
from explorer.experiments.arms import cifar_net
from explorer.experiments.dropblock import (BlockDrop, DropResult, WithoutBranch, drop_each_block, drop_words,
                                            eval_source, removed)
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


def test_words_compare_the_resnet_with_its_plain_twin():
    res = DropResult("resnet20", 0.98, [BlockDrop(i, f"block {i}", True, acc) for i, acc in
                                        enumerate([0.97, 0.96, 0.93])])
    plain = DropResult("plain20", 0.97, [BlockDrop(0, "stage 1, block 1", False, 0.10),
                                         BlockDrop(1, "stage 2, block 1", False, None, "no shortcut", True),
                                         BlockDrop(2, "stage 2, block 2", False, 0.40)])
    words = drop_words(res, plain)
    assert words.startswith("Removing one residual block of resnet20 costs at most 5.0 points")
    assert "removing one plain block of plain20 costs up to 87.0 points" in words
    assert "1 of plain20's blocks cannot be removed (stage 2, block 1)" in words
    assert "ensemble" in words
    assert "resnet20: 98.0% with every block; a removal costs 2.7 points on average, most without block 2." in words
    assert "plain20: 97.0% with every block" in words


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
