"""Ctrl+C at many moments of ``train``, ``export``, ``experiment degradation`` and ``get``, once or twice.

Each run reports its phases on stderr (``RESNET_EXPLORER_PHASES=1``, ``spec/interrupt.py``);
the first Ctrl+C is sent when a chosen phase begins (so it lands in the work of that phase:
importing torch, reading the data, building the model, a step, a checkpoint save, the
export's verification, an experiment's arms), and the second, where wanted, as soon as the
process answers the first (so it lands wherever the work was then, often inside torch's C++
code). The signals go to the whole process group, as a terminal sends them, so the export's
verifying process gets them too. No sleeps: where a signal lands does not depend on the
machine's load, and whatever moment it lands in, the outcome must be a documented one:

- ``train``: "interrupted" and status 130; or, after the first step began, "stopping after this
  step", "stopped at step N of M", the checkpoint of step N written, status 130;
- ``export``: "interrupted" and status 130; the file is either absent or whole and verified;
- ``experiment degradation``: "interrupted" and status 130; or "stopping after this step", the
  result in words, each started arm's checkpoint, status 0;
- ``get`` (from a slow local server standing in for the download site): "interrupted" and
  status 130; or "stopping after this chunk", "stopped after ...", the partial file kept for
  the next attempt, status 130;

and never a signal death, a traceback, ``terminate called``, an ``error:`` line, a half-written
or temporary file left behind.
"""
from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STOPPING = "stopping after this step (Ctrl+C again to interrupt now)"
STOPPING_CHUNK = "stopping after this chunk (Ctrl+C again to interrupt now)"
RUN_LIMIT_S = 300  # a run that never ends is a failure, not a hang (runs end in a few seconds)


@dataclass
class Case:
    command: str  # train | export | experiment | get
    phase: str  # the first press goes when a phase line starting with this is printed ...
    occurrence: int = 1  # ... for this time
    twice: bool = False  # a second press as soon as the process answers the first

    @property
    def id(self) -> str:
        nth = f"#{self.occurrence}" if self.occurrence > 1 else ""
        return f"{self.command}:{self.phase}{nth}:{'twice' if self.twice else 'once'}"


@dataclass
class Run:
    case: Case
    folder: str
    proc: subprocess.Popen = None
    out: bytearray = field(default_factory=bytearray)
    err: bytearray = field(default_factory=bytearray)
    lines_seen: int = 0
    phases: dict = field(default_factory=dict)
    presses: int = 0
    started: float = 0.0
    streams: int = 2  # its stdout and stderr, until each is closed

    @property
    def stdout(self) -> str:
        return self.out.decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return self.err.decode("utf-8", "replace")


GET_NAME, GET_FILE = "resnet18", "resnet18-f37072fd.pth"  # served by the test's server, slowly


def _argv(command: str, folder: str, net: str) -> list[str]:
    out = os.path.join(folder, "out")
    if command == "get":
        return ["get", GET_NAME, "--dir", out]
    if command == "train":  # never ends by itself: every case presses Ctrl+C
        return ["train", net, "--steps", "100000", "--batch-size", "8", "--train-size", "16", "--test-size", "8",
                "--progress", "none", "--checkpoint", os.path.join(out, "run.ckpt"),
                "--metrics-csv", os.path.join(out, "metrics.csv")]
    if command == "export":  # TorchScript: verified in a fresh Python process
        return ["export", net, "--format", "torchscript", "-o", os.path.join(out, "net.pt")]
    # two depths, one step an epoch, far more epochs than any case lets run
    return ["experiment", "degradation", "--depths", "8,14", "--epochs", "500", "--dataset", "shapes",
            "--train-size", "32", "--test-size", "8", "--image-size", "8", "--device", "cpu", "--save-dir", out]


def _as_in_a_terminal() -> None:
    """In the child: Ctrl+C's default action, and (Linux) killed with the test process, so that a
    run is never left training if pytest itself is stopped."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _start(run: Run, net: str, mirror: str) -> None:
    os.makedirs(os.path.join(run.folder, "out"))
    os.makedirs(os.path.join(run.folder, "tmp"))
    env = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1", "RESNET_EXPLORER_PHASES": "1",
           "TMPDIR": os.path.join(run.folder, "tmp"),  # what the run leaves in its temporary folder is seen
           "RESNET_EXPLORER_MIRROR": mirror}
    env.pop("RANK", None)
    run.proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "main.py"), *_argv(run.case.command, run.folder, net)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: Ctrl+C reaches the group, as in a terminal
        preexec_fn=_as_in_a_terminal)
    run.started = time.monotonic()


def _press(run: Run) -> None:
    run.presses += 1
    try:
        os.killpg(run.proc.pid, signal.SIGINT)
    except ProcessLookupError:  # it has ended already
        pass


def _on_line(run: Run, line: str) -> None:
    case = run.case
    if line.startswith("phase: "):
        name = line[len("phase: "):]
        if name.startswith(case.phase):
            run.phases[case.phase] = run.phases.get(case.phase, 0) + 1
            if run.presses == 0 and run.phases[case.phase] == case.occurrence:
                _press(run)
    elif run.presses == 1 and case.twice and line in (STOPPING, STOPPING_CHUNK, "interrupted"):
        _press(run)  # answered: the second press lands wherever the work is now


def _run_all(cases: list[Case], tmp_path, net: str, mirror: str, parallel: int = 2) -> list[Run]:
    """Run the cases, ``parallel`` processes at a time, reading their output as it comes."""
    runs = [Run(case, str(tmp_path / f"case{i}")) for i, case in enumerate(cases)]
    waiting, active = list(runs), []
    sel = selectors.DefaultSelector()
    try:
        while waiting or active:
            while waiting and len(active) < parallel:
                run = waiting.pop(0)
                _start(run, net, mirror)
                for stream, buf in ((run.proc.stdout, run.out), (run.proc.stderr, run.err)):
                    os.set_blocking(stream.fileno(), False)
                    sel.register(stream, selectors.EVENT_READ, (run, buf))
                active.append(run)
            for key, _ in sel.select(timeout=1.0):
                run, buf = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    run.streams -= 1
                    continue
                buf.extend(chunk)
                if buf is run.err:
                    lines = run.stderr.split("\n")[:-1]
                    for line in lines[run.lines_seen:]:
                        _on_line(run, line)
                    run.lines_seen = len(lines)
            for run in list(active):
                if time.monotonic() - run.started > RUN_LIMIT_S:
                    os.killpg(run.proc.pid, signal.SIGKILL)
                if run.streams == 0:  # both closed: the process has ended
                    run.proc.wait()
                    run.proc.stdout.close()
                    run.proc.stderr.close()
                    active.remove(run)
    finally:
        for run in active:
            if run.proc.poll() is None:
                os.killpg(run.proc.pid, signal.SIGKILL)
                run.proc.wait()
        sel.close()
    return runs


def _files(folder: str) -> list[str]:
    return sorted(os.listdir(folder))


def _check_common(run: Run) -> None:
    status, err = run.proc.returncode, run.stderr
    assert run.presses >= 1, f"the phase {run.case.phase!r} never came"
    assert status >= 0, f"died by signal {-status}"
    for bad in ("Traceback", "terminate called", "error_already_set", "Aborted"):
        assert bad not in err
    assert not any(line.startswith(("error:", "warning:")) for line in err.splitlines())
    assert err.count("interrupted") <= 1 and err.count(STOPPING) + err.count(STOPPING_CHUNK) <= 1
    if "interrupted" in err:
        assert status == 130
    out_files = [name for _, _, names in os.walk(os.path.join(run.folder, "out")) for name in names]
    assert not [name for name in out_files if name.startswith(".")], "temporary files left behind"
    left = [n for n in _files(os.path.join(run.folder, "tmp")) if not n.startswith("torchinductor_")]  # torch's cache
    assert left == [], "the temporary folder was not cleaned up"


def _check_train(run: Run) -> None:
    from explorer.train.checkpoint import read_checkpoint

    out, err, folder = run.stdout, run.stderr, os.path.join(run.folder, "out")
    assert run.proc.returncode == 130  # stopped early or interrupted: 130 either way
    if "interrupted" not in err:  # stopped after the step: the run's files are written
        assert STOPPING in err
        stopped = re.search(r"^stopped at step (\d+) of 100000", out, re.M)
        assert stopped, out
        assert f"checkpoint: {os.path.join(folder, 'run.ckpt')}" in out
        assert read_checkpoint(os.path.join(folder, "run.ckpt"))["step"] == int(stopped.group(1))
    assert set(_files(folder)) <= {"run.ckpt", "metrics.csv"}
    if "run.ckpt" in _files(folder):
        read_checkpoint(os.path.join(folder, "run.ckpt"))  # whole: it loads and checks
    if "metrics.csv" in _files(folder):
        with open(os.path.join(folder, "metrics.csv"), encoding="utf-8") as fh:
            rows = fh.read().splitlines()
        assert rows[0].startswith("epoch,step,") and len(rows) >= 2
        assert all(len(r.split(",")) == len(rows[0].split(",")) for r in rows)


def _check_export(run: Run) -> None:
    import torch

    assert run.proc.returncode == 130 and "interrupted" in run.stderr
    folder = os.path.join(run.folder, "out")
    assert set(_files(folder)) <= {"net.pt"}
    if _files(folder):  # the press came after the file was verified and put in place: it is whole
        model = torch.jit.load(os.path.join(folder, "net.pt"))
        assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10)


def _check_experiment(run: Run) -> None:
    from explorer.train.checkpoint import read_checkpoint

    out, err, folder = run.stdout, run.stderr, os.path.join(run.folder, "out")
    if "interrupted" not in err:
        assert STOPPING in err
        assert run.proc.returncode == 0, err
        assert out.rstrip().endswith(" s)"), out  # the result in words, then the time
        saved = re.findall(r"^checkpoint: (.+)$", out, re.M)
        assert sorted(os.path.basename(p) for p in saved) == _files(folder)
    assert set(_files(folder)) <= {"plain8.pt", "plain14.pt", "resnet8.pt", "resnet14.pt"}
    for name in _files(folder):
        read_checkpoint(os.path.join(folder, name))


def _check_get(run: Run) -> None:
    err, folder = run.stderr, os.path.join(run.folder, "out")
    assert run.proc.returncode == 130
    if "interrupted" not in err:  # stopped between two chunks: the part is kept for the next attempt
        assert STOPPING_CHUNK in err
        assert re.search(r"^resnet18: stopped after .* the same command continues where it stopped$", err, re.M)
    files = [name for _, _, names in os.walk(folder) for name in names]
    assert GET_FILE not in files  # never a whole file from a transfer that did not end
    assert set(files) <= {GET_FILE + ".part"}


CHECKS = {"train": _check_train, "export": _check_export, "experiment": _check_experiment, "get": _check_get}

# Each phase of each command (what the commands print with RESNET_EXPLORER_PHASES=1). The sweep
# runs a spread of them; every phase, once and twice (42 runs), passed too, but takes minutes
PHASES = {
    "train": ["importing torch", "torch loaded", "reading the data", "building the model", "prepared",
              "step 1", "step 2", "saving the checkpoint", "step 3"],
    "export": ["importing torch", "torch loaded", "Building the model", "Writing TorchScript",
               "Loading the files in a fresh Python process"],
    "experiment": ["importing torch", "reading the data", "building the model", "prepared", "step 1",
                   "step 2"],
    "get": ["connecting", "chunk"],
}
SWEEP = [  # a spread of the phases above: thirteen runs
    Case("train", "importing torch", twice=True), Case("train", "reading the data", twice=True),
    Case("train", "building the model", twice=True), Case("train", "step 1"),
    Case("train", "saving the checkpoint", twice=True), Case("train", "step 3", twice=True),
    Case("export", "Writing TorchScript", twice=True), Case("export", "Loading the files in a fresh Python process"),
    Case("experiment", "prepared", occurrence=2), Case("experiment", "step 1", occurrence=2),
    Case("experiment", "step 1", occurrence=3, twice=True),
    Case("get", "connecting", twice=True), Case("get", "chunk", occurrence=2),
]


def _sweep(cases, tmp_path, tiny_net, server) -> None:
    # get's file, far larger than any case lets arrive (16 KB every 50 ms): no run completes it
    server.files[GET_FILE] = os.urandom(4 << 20)
    server.mode[GET_FILE] = "slow"
    runs = _run_all(cases, tmp_path, tiny_net, server.base)
    failures = []
    for run in runs:
        try:
            _check_common(run)
            CHECKS[run.case.command](run)
        except AssertionError as err:
            failures.append(f"{run.case.id}: status {run.proc.returncode}: {err}\n--- stdout\n{run.stdout}"
                            f"--- stderr\n{run.stderr}")
    if os.environ.get("SWEEP_SUMMARY"):  # with pytest -s: what each run said and left (for people)
        for run in runs:
            said = [w for w in ("stopping", "interrupted") if w in run.stderr]
            print(f"{run.case.id:60} status {run.proc.returncode}  said {said}  files {_files(run.folder + '/out')}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.timeout(900)  # thirteen short runs; a loaded machine stretches them, and that must not fail it
def test_ctrl_c_at_every_phase_of_train_export_an_experiment_and_get_ends_as_documented(tmp_path, tiny_net,
                                                                                        file_server):
    _sweep(SWEEP, tmp_path, tiny_net, file_server)

