"""Ctrl+C is a flag recorded by a handler that never raises (``spec/interrupt.py``): the first
press stops work that can stop after its step, the next one (or the first, before such work)
says "interrupted" and ends the command at the next safe point with status 130. The sweep
over the moments of real commands is in test_ctrl_c_sweep.py. Under torchrun only rank 0
reports a bad argument."""
import os
import signal
import subprocess
import sys

import pytest

from explorer.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def recording_handler(monkeypatch):
    """``spec/interrupt.py``'s handler installed in this process with a fresh record; pytest's
    own SIGINT handler is put back after."""
    from explorer.spec import interrupt

    previous = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(interrupt, "_state", interrupt._State())
    assert interrupt.install()
    yield interrupt
    signal.signal(signal.SIGINT, previous)


def test_a_press_while_torch_calls_back_into_python_is_only_recorded(recording_handler, capfd):
    """Python's own handler would raise KeyboardInterrupt inside the hook, in the middle of
    torch's C++ autograd engine; the recording handler lets the backward pass finish, and
    the next safe point ends the work."""
    import torch

    interrupt = recording_handler
    x = torch.ones(3, requires_grad=True)
    y = (x * 2).sum()
    x.register_hook(lambda grad: signal.raise_signal(signal.SIGINT) or grad)  # runs on the C++ side of backward
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]  # the backward pass finished
    assert capfd.readouterr().err == "\ninterrupted\n"  # said at once
    with pytest.raises(interrupt.Interrupted):
        interrupt.check()
    assert interrupt.finish(0) == 130  # "interrupted" was said: the status says so too
    signal.raise_signal(signal.SIGINT)  # after the end, a press is ignored
    assert capfd.readouterr().err == ""


def test_the_first_press_stops_work_that_can_stop_and_the_second_interrupts(recording_handler, capfd):
    interrupt = recording_handler
    stops = []
    with interrupt.stop_first(lambda: stops.append(True)):
        signal.raise_signal(signal.SIGINT)
        interrupt.check()  # a stop asked: the work goes on to its end of step, no exception
        assert stops == [True]
        assert capfd.readouterr().err == "\nstopping after this step (Ctrl+C again to interrupt now)\n"
        signal.raise_signal(signal.SIGINT)
        assert stops == [True] and capfd.readouterr().err == "\ninterrupted\n"
        with pytest.raises(interrupt.Interrupted):
            interrupt.check()
        signal.raise_signal(signal.SIGINT)  # a third press adds nothing
        assert capfd.readouterr().err == ""
    assert interrupt.finish(2) == 2  # an error's status stays


def test_without_stoppable_work_the_first_press_interrupts_at_the_next_safe_point(recording_handler, capfd):
    interrupt = recording_handler
    interrupt.check()
    signal.raise_signal(signal.SIGINT)
    assert capfd.readouterr().err == "\ninterrupted\n"
    with pytest.raises(interrupt.Interrupted):
        interrupt.check()


def test_main_ends_with_130_when_a_press_came_after_the_last_safe_point(tiny_net, tmp_path):
    """The words and the status agree: a press during the final output still means 130."""
    code = ("import signal, sys; from explorer.launcher import main; import explorer.cli.info as info; "
            "real = info.cmd_presets; "
            "info.cmd_presets = lambda args: signal.raise_signal(signal.SIGINT) or real(args); "
            "sys.exit(main(['presets']))")
    env = {**os.environ, "PYTHONPATH": ROOT}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert result.returncode == 130, result.stderr
    assert result.stderr == "\ninterrupted\n" and "resnet20" in result.stdout


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
