"""Under torchrun a failure on one rank ends every rank within seconds (not at the 600 s
process-group timeout), with a message naming the rank; NaN losses end all ranks together.

Two CPU processes over gloo, like test_ddp.py. The fault is injected by an entry script
this test writes, which patches the loss on rank 1 and then calls the app's CLI.
"""
import csv
import os
import signal
import subprocess
import sys
import time

import pytest


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# 64 images over 2 ranks at batch 16: 2 steps per epoch, so step 3 is the first of epoch 2
# and rank 0 has written epoch 1's CSV row and checkpoint by then. Rank 1 fails after the
# model's forward of step 3, which includes DDP's buffer broadcast from rank 0, so rank 0
# has finished writing those files and now waits in the gradient all-reduce.
TINY = ["--epochs", "2", "--train-size", "64", "--test-size", "32", "--batch-size", "16", "--device", "cpu",
        "--progress", "none"]

ENTRY = """
import os, sys, time
import torch

sys.path.insert(0, {root!r})
if os.environ["RANK"] == "1":
    original = torch.nn.CrossEntropyLoss.forward  # the training loss; evaluation uses F.cross_entropy
    calls = []

    def forward(self, input, target):
        calls.append(1)
        if len(calls) == 3:
            with open({marker!r}, "w") as f:
                f.write(repr(time.time()))
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 1; "
                                         "79.19 GiB total capacity; 78.50 GiB already allocated)")
        return original(self, input, target)

    torch.nn.CrossEntropyLoss.forward = forward

from explorer.cli import main
sys.exit(main(sys.argv[1:]))
"""



# A rank left waiting in an all-reduce would wait for the process group's 600 s timeout. The
# runs take seconds; the limits below sit far from both, so a loaded machine cannot fail them.
HANG_S = 400  # the whole run: a hang is killed here, before the 600 s timeout would end it
STUCK_S = 300  # from the failure to torchrun's exit: half the timeout


def torchrun(script, args, cwd, limit_s=HANG_S):
    """Run torchrun with two processes; kill the whole process group if it outlives ``limit_s``."""
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", script, *args]
    env = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"}
    started = time.time()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"torchrun still running after {limit_s} s: the ranks hang\n{out}\n{err}")
    return proc.returncode, out, err, time.time() - started, time.time()


def test_out_of_memory_on_rank_1_ends_every_rank_within_seconds(tiny_net, tmp_path):
    marker = tmp_path / "raised_at"
    entry = tmp_path / "entry.py"
    entry.write_text(ENTRY.format(root=ROOT, marker=str(marker)))
    metrics, ckpt = tmp_path / "m.csv", tmp_path / "c.ckpt"
    code, out, err, _, ended = torchrun(
        str(entry), ["train", tiny_net, *TINY, "--metrics-csv", str(metrics), "--checkpoint", str(ckpt)],
        cwd=str(tmp_path))
    assert code != 0, out + err
    failure_to_exit = ended - float(marker.read_text())
    assert failure_to_exit < STUCK_S, f"{failure_to_exit:.1f} s from the failure to torchrun's exit"
    assert ("error: rank 1 of 2: cpu ran out of memory at batch size 16 per process (step 3); "
            "try a smaller batch size, e.g. 8") in err
    assert "finished" not in out
    # what rank 0 wrote after epoch 1 is still there, whole
    with open(metrics, newline="") as f:
        assert [r["epoch"] for r in csv.DictReader(f)] == ["1"]
    import torch
    assert torch.load(ckpt, map_location="cpu", weights_only=True)["step"] == 2


def test_nan_loss_under_ddp_ends_all_ranks_together(tiny_net, tmp_path):
    # the losses are all-reduced before the NaN check, so every rank fails at the same
    # read and they leave through the usual barrier; only rank 0 prints
    code, out, err, _, _ = torchrun(
        os.path.join(ROOT, "main.py"), ["train", tiny_net, *TINY, "--steps", "16", "--lr", "1e6"],
        cwd=str(tmp_path))
    assert code != 0, out + err  # and it ended: torchrun() fails a run that outlives HANG_S
    assert err.count("error: the training loss became") == 1, err
