"""Two CPU processes under torchrun: DDP over gloo, one CSV and one TensorBoard log written by rank 0."""
import csv
import importlib.util
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_torchrun_two_processes_train_with_ddp(tiny_net, tmp_path):
    # about 10 s here (two fresh interpreters importing torch); not marked slow so that a
    # quick run still covers the distributed path
    metrics, ckpt, board = tmp_path / "ddp.csv", tmp_path / "ddp.ckpt", tmp_path / "tb"
    env = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            os.path.join(ROOT, "main.py"), "train", tiny_net, "--epochs", "2", "--train-size", "128",
            "--test-size", "32", "--batch-size", "16", "--lr", "0.05", "--device", "cpu",
            "--metrics-csv", str(metrics), "--checkpoint", str(ckpt), "--progress", "none"]
    if importlib.util.find_spec("tensorboard") is not None:
        argv += ["--tensorboard", str(board)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=150, cwd=str(tmp_path), env=env)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert "world size 2 (gloo)" in result.stdout
    assert result.stdout.count("training tiny (") == 1  # only rank 0 prints
    # 128 images, 64 per rank, batch 16: 4 steps per epoch, 8 in all
    assert "8 steps (4 per epoch)" in result.stdout and "finished 8 steps (2 epochs)" in result.stdout
    with open(metrics, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    # the epoch's images are counted over both ranks
    assert all(float(r["images_per_s"]) > 0 for r in rows)
    import torch
    saved = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert saved["step"] == 8 and not any(k.startswith("module.") for k in saved["model"])
    if importlib.util.find_spec("tensorboard") is not None:
        # only rank 0 writes: one events file, each step's loss once
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        assert len(list(board.glob("events.out.tfevents.*"))) == 1
        events = EventAccumulator(str(board))
        events.Reload()
        assert [e.step for e in events.Scalars("train/loss")] == list(range(1, 9))
        assert [e.step for e in events.Scalars("test/error_per_epoch")] == [1, 2]
