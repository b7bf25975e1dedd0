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
]


@pytest.mark.parametrize("argv, expected", CASES, ids=[" ".join(c[0][2:] or c[0]) for c in CASES])
def test_a_bad_number_is_refused_up_front_in_one_line(argv, expected, tiny_net, tmp_path, capsys):
    argv = [tiny_net if a == "NET" else str(tmp_path / "x.json") if a == "OUT" else a for a in argv]
    if argv[0] == "train":
        argv += ["--progress", "none", "--steps", "1"]
    started = time.process_time()
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err
    assert out == ""  # refused before any header, data or training
    assert time.process_time() - started < 30  # nothing was allocated or drawn first (generous for slow CI)
