"""``python main.py train``: CSV rows, checkpoint and resume, exit statuses, and no Qt."""
import csv
import os
import subprocess
import sys

import pytest
import torch

from explorer.cli import main
from explorer.train.checkpoint import read_checkpoint


pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--train-size", "128", "--test-size", "32", "--batch-size", "32", "--lr", "0.05"]



def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_train_writes_csv_and_checkpoint_and_resumes(tiny_net, tmp_path, capsys):
    metrics, ckpt = tmp_path / "m.csv", tmp_path / "run.ckpt"
    status = main(["train", tiny_net, "--epochs", "2", *TINY, "--metrics-csv", str(metrics),
                   "--checkpoint", str(ckpt), "--progress", "bar"])
    out, err = capsys.readouterr()
    assert status == 0
    assert "training tiny" in out and "world size 1" in out
    assert out.count("epoch ") >= 2 and "finished 8 steps (2 epochs)" in out
    assert "[" in err and "img/s" in err and "ETA" in err  # the progress bar
    rows = read_rows(metrics)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert list(rows[0]) == ["epoch", "step", "train_loss", "train_error", "test_loss", "test_error", "lr",
                             "images_per_s", "seconds"]
    assert all(float(r["images_per_s"]) > 0 and 0 <= float(r["test_error"]) <= 1 for r in rows)
    assert read_checkpoint(ckpt)["step"] == 8

    # resume with more epochs: the checkpoint's network and settings, rows 1-2 kept, row 3 added
    status = main(["train", "--resume", str(ckpt), "--epochs", "3", "--metrics-csv", str(metrics),
                   "--checkpoint", str(ckpt)])
    out, _ = capsys.readouterr()
    assert status == 0 and "resuming from" in out and "at step 8" in out
    assert [r["epoch"] for r in read_rows(metrics)] == ["1", "2", "3"]
    assert read_checkpoint(ckpt)["step"] == 12


def test_nan_run_exits_1_with_one_line(tiny_net, capsys):
    status = main(["train", tiny_net, "--steps", "12", *TINY[:-2], "--lr", "1e6", "--progress", "none"])
    _, err = capsys.readouterr()
    assert status == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: the training loss became")
    assert "lower learning rate" in lines[0]


@pytest.mark.parametrize("argv, expected", [
    (["train", "resnet20", "--dataset", "mnist:/no/such/folder"], "expected a folder at /no/such/folder"),
    (["train", "resnet20", "--batch-size", "0"], "batch size must be at least 1"),
    (["train", "nonet"], "neither a preset nor a network file"),
    (["train"], "train needs NET"),
    (["train", "resnet20", "--metrics-csv", "/no/such/dir/m.csv"], "folder /no/such/dir does not exist"),
    (["train", "--resume", "/no/such.ckpt"], "checkpoint /no/such.ckpt does not exist"),
])
def test_bad_input_exits_2(argv, expected, capsys):
    assert main(argv) == 2
    _, err = capsys.readouterr()
    assert err.startswith("error: ") and expected in err and len(err.strip().splitlines()) == 1


def test_cli_trains_without_qt_installed(tiny_net, tmp_path):
    """GPU servers often have no PySide6: make it unimportable and train."""
    metrics = tmp_path / "noqt.csv"
    code = ("import sys, runpy; sys.modules['PySide6'] = None; sys.modules['pyqtgraph'] = None; "
            f"sys.argv = ['main.py'] + sys.argv[1:]; runpy.run_path({os.path.join(ROOT, 'main.py')!r}, "
            "run_name='__main__')")
    argv = [sys.executable, "-c", code, "train", tiny_net, "--steps", "4", *TINY,
            "--metrics-csv", str(metrics), "--device", "cpu"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=str(tmp_path),
                            env={**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    assert "finished 4 steps" in result.stdout
    assert [r["epoch"] for r in read_rows(metrics)] == ["1"]
