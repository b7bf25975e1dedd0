"""Ctrl+C once stops after the step; twice interrupts at once, with a message and exit status
130, never a traceback or death by signal. Under torchrun only rank 0 reports a bad argument."""
import os
import signal
import subprocess
import sys
import time

import pytest

from explorer.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _start(*argv):
    env = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py"), *argv], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal


def _finish(proc):
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def test_second_ctrl_c_during_a_run_interrupts_with_a_message(tiny_net):
    proc = _start("train", tiny_net, "--steps", "100000", "--batch-size", "8", "--train-size", "64",
                  "--test-size", "8", "--progress", "none")
    lines = [proc.stdout.readline() for _ in range(4)]
    assert lines[2].startswith("settings (the quick recipe"), lines  # the header echoes every setting
    assert lines[3].startswith("epoch   1/"), lines  # training: the handler is in place
    proc.send_signal(signal.SIGINT)
    assert proc.stderr.readline() == "\n"
    assert proc.stderr.readline().startswith("stopping after this step")
    proc.send_signal(signal.SIGINT)
    status, out, err = _finish(proc)
    assert status == 130, err
    assert "Traceback" not in err
    # said at once, unless the stop after the first press was already complete (a loaded machine)
    assert "interrupted" in err or "stopped at step" in out


def test_two_ctrl_c_while_loading_end_with_a_message_not_a_traceback(tiny_net):
    proc = _start("train", tiny_net, "--steps", "100000", "--progress", "none")
    time.sleep(0.5)  # still importing or preparing
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    status, out, err = _finish(proc)
    assert status == 130, err
    assert "interrupted" in err and "Traceback" not in err


# one step an epoch; a ResNet-20 step on 128 images at 16x16 is long enough for the second press to land in it
EXPERIMENT = ("experiment", "degradation", "--depths", "8,20", "--epochs", "500", "--dataset", "shapes",
              "--train-size", "128", "--test-size", "16", "--image-size", "16", "--device", "cpu")


def _wait_for_epoch_one(proc):
    lines = []
    while not lines or not lines[-1].startswith("epoch   1/500"):
        line = proc.stdout.readline()
        assert line, (lines, proc.stderr.read())
        lines.append(line)


def test_first_ctrl_c_stops_an_experiments_arms_after_the_step_and_still_writes_results(tmp_path):
    proc = _start(*EXPERIMENT, "--save-dir", str(tmp_path))
    _wait_for_epoch_one(proc)  # every arm is training, on the main thread
    proc.send_signal(signal.SIGINT)
    status, out, err = _finish(proc)
    assert "stopping after this step (Ctrl+C again to interrupt now)" in err and "Traceback" not in err
    assert status == 0, err
    assert "interrupted" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain20.pt", "plain8.pt", "resnet20.pt", "resnet8.pt"]
    assert out.count("checkpoint: ") == 4 and out.rstrip().endswith(" s)")  # the words, then the time


def test_second_ctrl_c_interrupts_an_experiment_with_a_message():
    proc = _start(*EXPERIMENT)
    _wait_for_epoch_one(proc)
    proc.send_signal(signal.SIGINT)
    assert proc.stderr.readline() == "\n"
    assert proc.stderr.readline().startswith("stopping after this step")
    proc.send_signal(signal.SIGINT)
    status, out, err = _finish(proc)
    assert "Traceback" not in err
    if "interrupted" in err:
        assert status == 130, err
    else:  # a loaded machine: the stop after the first press was complete before the second landed
        assert status == 0 and out.rstrip().endswith(" s)"), (status, out, err)


@pytest.mark.parametrize("argv", [["train", "nonet"], ["train", "resnet20", "--epochs", "x"],
                                  ["gradflow", "resnet20", "--batch", "0"]])
def test_only_rank_0_reports_a_bad_argument(argv, monkeypatch, capsys):
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(SystemExit) if "x" in argv else _no_raise():
        assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(SystemExit) if "x" in argv else _no_raise():
        assert main(argv) == 2
    assert "error: " in capsys.readouterr().err


class _no_raise:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_only_rank_0_checks_the_outputs_it_alone_writes(tiny_net, tmp_path, monkeypatch, capsys):
    """On another node the output folder need not exist: ranks other than 0 never write there."""
    import explorer.cli.train as train_cli

    reached = []
    monkeypatch.setattr(train_cli, "settings_from_args", lambda args: reached.append(True) or (_ for _ in ()).throw(
        train_cli.CliError("stop here")))
    monkeypatch.setenv("RANK", "3")
    assert main(["train", tiny_net, "--checkpoint", str(tmp_path / "missing" / "run.ckpt")]) == 2
    assert reached == [True] and capsys.readouterr().err == ""
    monkeypatch.setenv("RANK", "0")
    assert main(["train", tiny_net, "--checkpoint", str(tmp_path / "missing" / "run.ckpt")]) == 2
    assert reached == [True] and "does not exist" in capsys.readouterr().err


def test_an_error_one_rank_finds_while_the_group_runs_is_said_by_that_rank(tiny_net, monkeypatch, capsys):
    """Its own data or device: rank 1 names itself; argument errors above stay rank 0's."""
    import contextlib
    from types import SimpleNamespace

    import explorer.cli.train as train_cli
    from explorer.train import distributed

    @contextlib.contextmanager
    def launch(device):
        yield SimpleNamespace(enabled=True, rank=1, world_size=2)

    def fails(*args):
        raise train_cli.CliError("mnist dataset: expected a folder at /data/mnist; nothing is there")

    monkeypatch.setattr(distributed, "launch", launch)
    monkeypatch.setattr(train_cli, "_train", fails)
    monkeypatch.setenv("RANK", "1")
    assert main(["train", tiny_net]) == 2
    assert capsys.readouterr().err == "error: rank 1 of 2: mnist dataset: expected a folder at /data/mnist; " \
                                      "nothing is there\n"


def test_a_file_name_that_is_not_utf8_is_printed_not_a_crash(tmp_path):
    """Linux file names are bytes; one that is not UTF-8 reaches Python with lone surrogates."""
    name = os.fsdecode(b"net-\xff.json")
    env = {**os.environ, "PYTHONPATH": ROOT, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "new", "resnet20", "-o", name],
                            cwd=str(tmp_path), env=env, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"wrote net-\\udcff.json") and (tmp_path / name).is_file()
