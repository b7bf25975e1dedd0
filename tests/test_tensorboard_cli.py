"""``python main.py train --tensorboard DIR``: the run's scalars read back with TensorBoard's
own reader, and a clear error when the package is missing or DIR cannot be written."""
import csv
import sys

import pytest

from explorer.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = ["--train-size", "128", "--test-size", "32", "--batch-size", "32", "--lr", "0.05", "--progress", "none"]



def read_events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return events


@pytest.mark.needs_extra("tensorboard")
def test_tensorboard_holds_the_runs_scalars(tiny_net, tmp_path, capsys):
    board, metrics = tmp_path / "tb" / "run1", tmp_path / "m.csv"  # DIR is created, parents too
    status = main(["train", tiny_net, "--epochs", "2", *TINY, "--grad-every", "2",
                   "--tensorboard", str(board), "--metrics-csv", str(metrics)])
    assert status == 0, capsys.readouterr().err
    events = read_events(board)
    # 128 images at batch 32: 4 steps per epoch, 8 in all
    assert [e.step for e in events.Scalars("train/loss")] == list(range(1, 9))
    assert [e.step for e in events.Scalars("train/lr")] == list(range(1, 9))
    assert all(e.value > 0 for e in events.Scalars("train/images_per_s"))
    with open(metrics, newline="") as f:
        rows = list(csv.DictReader(f))
    for tag, column in (("train/loss_per_epoch", "train_loss"), ("train/error_per_epoch", "train_error"),
                        ("test/loss_per_epoch", "test_loss"), ("test/error_per_epoch", "test_error")):
        scalars = events.Scalars(tag)
        assert [e.step for e in scalars] == [1, 2]
        assert [e.value for e in scalars] == pytest.approx([float(r[column]) for r in rows], rel=1e-5)
    # --grad-every 2: one norm per block at steps 2, 4, 6 and 8, named like the app's heatmap rows
    grads = events.Scalars("gradient_norm/stage 2, block 1")
    assert [e.step for e in grads] == [2, 4, 6, 8] and all(e.value > 0 for e in grads)
    assert "gradient_norm/stage 1, block 1" in events.Tags()["scalars"]


def test_tensorboard_without_the_package_says_how_to_install_it(tiny_net, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard now fails
    board = tmp_path / "tb"
    assert main(["train", tiny_net, "--steps", "2", *TINY, "--tensorboard", str(board)]) == 2
    _, err = capsys.readouterr()
    assert err.strip() == "error: --tensorboard needs the tensorboard package: pip install tensorboard"
    assert not board.exists()


@pytest.mark.needs_extra("tensorboard")
def test_tensorboard_folder_that_cannot_be_created(tiny_net, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["train", tiny_net, "--steps", "2", *TINY, "--tensorboard", str(blocker / "tb")]) == 2
    _, err = capsys.readouterr()
    assert err.startswith(f"error: --tensorboard {blocker / 'tb'}: cannot create the folder {blocker / 'tb'} (")
    assert len(err.strip().splitlines()) == 1
    assert blocker.read_text() == "not a folder"
