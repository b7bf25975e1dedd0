"""Numbers no run can use are refused up front, in one line naming the option: negative sizes,
NaN and infinity, seeds beyond 64 bits, and sizes that cannot fit in memory (saying how much
they would take) instead of minutes of work ending in an allocator error."""
import time

import pytest

from explorer.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CASES = [
    (["train", "NET", "--train-size", "-5"], "train size must be between 1 and 1,000,000,000, got -5"),
    (["train", "NET", "--test-size", "0"], "test size must be between 1"),
    (["train", "NET", "--epochs", "-1"], "epochs must be between 1 and 1,000,000, got -1"),
    (["train", "NET", "--momentum", "nan"], "momentum must be a finite number, got nan"),
    (["train", "NET", "--momentum", "inf"], "momentum must be a finite number, got inf"),
    (["train", "NET", "--warmup", "inf"], "warm-up must be a finite number, got inf"),
    (["train", "NET", "--warmup", "-1"], "warm-up cannot be negative"),
    (["train", "NET", "--weight-decay", "nan"], "weight decay must be a finite number"),
    (["train", "NET", "--label-smoothing", "nan"], "label smoothing must be in [0, 1)"),
    (["train", "NET", "--lr", "inf"], "learning rate must be a positive number, got inf"),
    (["train", "NET", "--seed", str(2 ** 64)], "seed must be between 0 and 4,294,967,295"),
    (["train", "NET", "--seed", "-1"], "seed must be between 0 and 4,294,967,295, got -1"),
    (["train", "NET", "--metrics-every", "1000000000"], "metrics_every must be between 1 and 100,000"),
    (["train", "NET", "--grad-every", "-2"], "grad_every cannot be negative"),
    (["train", "NET", "--train-size", "1000000000"], "procedural images would take at least 2.8 TiB of memory"),
    (["train", "NET", "--batch-size", "1000000000"],
     "one training step on batches of 1,000,000,000 images would take at least"),
    (["gradflow", "NET", "--batch", "1000000000"], "--batch 1,000,000,000 would take at least"),
    (["gradflow", "NET", "--seed", str(2 ** 70)], "--seed must be between 0 and 4,294,967,295"),
    (["export", "NET", "-f", "json", "-o", "OUT", "--seed", "-3"], "--seed must be between 0"),
    (["experiment", "degradation", "--train-size", "-3"], "--train-size must be at least 1, got -3"),
    (["experiment", "degradation", "--seed", str(2 ** 65)], "seed must be between 0"),
    # the newer experiments go through the same rules (spec/params.py), before any file is read
    (["experiment", "landscape", "CKPT", "--span", "inf"], "landscape: span must be a finite number, got inf"),
    (["experiment", "landscape", "CKPT", "--span", "1e308"], "landscape: span must be at most 100.0, got 1e+308"),
    (["experiment", "landscape", "CKPT", "--span", "nan"], "landscape: span must be a finite number, got nan"),
    (["experiment", "landscape", "CKPT", "--span", "0"], "landscape: span must be greater than 0"),
    (["experiment", "landscape", "CKPT", "--points", "1000000001"],
     "landscape: a 1,000,000,001x1,000,000,001 grid would take at least"),
    (["experiment", "landscape", "CKPT", "--points", "2001"], "landscape: points must be between 3 and 1,001"),
    (["experiment", "landscape", "CKPT", "--seed", str(2 ** 70)], "landscape: seed must be between 0 and 4,294,967,295"),
    (["experiment", "landscape", "CKPT", "--images", str(10 ** 12)], "landscape: images must be between 1 and"),
    (["experiment", "identity", "--lr", "1e308"], "--lr must be at most"),
    (["experiment", "identity", "--weight-decay", "nan"], "--weight-decay must be a finite number, got nan"),
    (["experiment", "identity", "--seed", str(2 ** 64)], "--seed must be between 0 and 4,294,967,295"),
    (["experiment", "depth-sweep", "--seeds", f"0,{2 ** 64}"], "seeds must be between 0 and 4,294,967,295"),
    (["experiment", "degradation", "--depths", f"8,{6 * 10 ** 20 + 2}"], "depths must be between 8 and 8,194"),
    (["experiment", "depth-sweep", "--depths", f"8,{6 * 10 ** 20 + 2}"], "depths must be between 8 and 8,194"),
    (["experiment", "prepost", "--depth", "6000002"], "prepost: depth must be between 8 and 8,194"),
    (["experiment", "identity", "--depths", "1,٣"], "--depths: '1,٣' is not a comma-separated list"),
    (["experiment", "drop-block", "NET", "--checkpoint", "CKPT", "--test-size", str(10 ** 23)],
     "--test-size must be between 1 and 1,000,000,000"),
    (["experiment", "landscape", "--from-dir", "OUT", "--depth", "-5"], "--depth must be between 8 and 8,194"),
]


@pytest.mark.parametrize("argv, expected", CASES, ids=[" ".join(c[0][2:] or c[0]) for c in CASES])
def test_a_bad_number_is_refused_up_front_in_one_line(argv, expected, tiny_net, tmp_path, capsys):
    argv = [tiny_net if a == "NET" else str(tmp_path / "x.json") if a == "OUT" else
            str(tmp_path / "never-read.pt") if a == "CKPT" else a for a in argv]
    if argv[0] == "train":
        argv += ["--progress", "none", "--steps", "1"]
    started = time.process_time()
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err
    assert out == ""  # refused before any header, data or training
    assert time.process_time() - started < 30  # nothing was allocated or drawn first (generous for slow CI)
