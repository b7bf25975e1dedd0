"""Every command that writes a file checks the destination before any work starts (a missing,
read-only or full folder, a folder where a file goes), and a write that still fails at the
end of a run keeps the result somewhere that works, says where, and exits non-zero."""
import errno
import os

import pytest
import torch

from explorer.cli import main
from explorer.spec import atomic
from explorer.spec import preset
from explorer.spec.fileformat import to_dict

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = ["--train-size", "64", "--test-size", "32", "--batch-size", "32", "--progress", "none"]


@pytest.fixture
def weights_file(tmp_path):
    from explorer.nn import build

    spec = preset("resnet20")
    path = tmp_path / "weights.pt"
    torch.save({"spec": to_dict(spec), "model": build(spec, seed=0).state_dict()}, path)
    return str(path)


def commands(net, weights):
    """(argv with OUT for the output, whether OUT is a folder)"""
    return {
        "new -o": (["new", "resnet20", "-o", "OUT"], False),
        "train --metrics-csv": (["train", net, "--steps", "1", *TINY, "--metrics-csv", "OUT"], False),
        "train --checkpoint": (["train", net, "--steps", "1", *TINY, "--checkpoint", "OUT"], False),
        "train --tensorboard": (["train", net, "--steps", "1", *TINY, "--tensorboard", "OUT"], True),
        "import-weights -o": (["import-weights", "resnet20", weights, "-o", "OUT"], False),
        "export -o": (["export", "resnet20", "-f", "torchscript", "-o", "OUT"], False),
        "experiment --save-dir": (["experiment", "degradation", "--epochs", "1", "--depths", "8,14",
                                   "--train-size", "32", "--test-size", "16", "--save-dir", "OUT"], True),
    }


def _fail_writes(monkeypatch, err_no):
    def failing(fd, data):
        raise OSError(err_no, os.strerror(err_no))

    monkeypatch.setattr(atomic, "_write_all", failing)


def _read_only(monkeypatch):
    real_open = os.open

    def refuse(path, flags, mode=0o777):
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", refuse)


FILE_CASES = {
    "missing folder": (lambda d: str(d / "nowhere" / "out.pt"), None, "does not exist"),
    "a folder": (lambda d: (d / "out.pt").mkdir() or str(d / "out.pt"), None, "is a folder"),
    "under a file": (lambda d: (d / "plain").write_text("") or str(d / "plain" / "out.pt"), None, "is not a folder"),
    "read-only": (lambda d: str(d / "out.pt"), _read_only, "Read-only file system"),
    "full disk": (lambda d: str(d / "out.pt"), lambda mp: _fail_writes(mp, errno.ENOSPC), "No space left"),
}
FOLDER_CASES = {
    "a file": (lambda d: (d / "plain").write_text("") or str(d / "plain"), None, "a folder"),
    "under a file": (lambda d: (d / "plain").write_text("") or str(d / "plain" / "sub"), None, "cannot create"),
    "read-only": (lambda d: str(d), _read_only, "Read-only file system"),
    "full disk": (lambda d: str(d), lambda mp: _fail_writes(mp, errno.ENOSPC), "No space left"),
}


@pytest.mark.parametrize("command", list(commands("", "")))
def test_every_output_is_checked_before_any_work(command, tiny_net, weights_file, tmp_path, monkeypatch, capsys):
    argv, is_folder = commands(tiny_net, weights_file)[command]
    out_dir = tmp_path / "out"
    for case, (make, fault, expected) in (FOLDER_CASES if is_folder else FILE_CASES).items():
        out_dir.mkdir()
        target = make(out_dir)
        with monkeypatch.context() as mp:
            if fault:
                fault(mp)
            status = main([target if a == "OUT" else a for a in argv])
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert status == 2, (command, case, err)
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], (command, case, err)
        assert out == "", (command, case)  # refused before training, loading or exporting anything
        assert not [p for p in out_dir.rglob("*") if p.name.startswith(".")], (command, case)
        for p in sorted(out_dir.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        out_dir.rmdir()


def test_a_checkpoint_that_cannot_be_written_at_the_end_is_rescued(tiny_net, tmp_path, monkeypatch, capsys):
    """The disk fills up during the run: the finished run goes to a folder that works."""
    import tempfile

    from explorer.train import checkpoint
    from explorer.train.checkpoint import read_checkpoint

    target = tmp_path / "runs" / "run.ckpt"
    target.parent.mkdir()
    rescue = tmp_path / "rescue"
    rescue.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(rescue))
    real = checkpoint.atomic_write_bytes

    def full_there(path, data):
        if os.path.dirname(os.path.abspath(path)) == str(target.parent):
            raise atomic.WriteError(path, os.strerror(errno.ENOSPC), errno.ENOSPC)
        return real(path, data)

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", full_there)
    status = main(["train", tiny_net, "--epochs", "2", *TINY, "--checkpoint", str(target)])
    out, err = capsys.readouterr()
    assert status == 2
    assert "finished 4 steps (2 epochs)" in out  # the run itself completed and its results were printed
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    saved = rescue / "rescued-run.ckpt"
    assert errors == [f"error: could not write the checkpoint to {target} (No space left on device); "
                      f"it was saved to {saved} instead"]
    assert err.count("warning: after epoch 1") == 1 and "after epoch 2" not in err  # said once during the run
    assert read_checkpoint(saved)["step"] == 4
    assert not target.exists()


def test_a_metrics_csv_that_cannot_be_written_anywhere_says_so(tiny_net, tmp_path, monkeypatch, capsys):
    def nowhere(path, text):
        raise atomic.WriteError(path, os.strerror(errno.ENOSPC), errno.ENOSPC)

    import explorer.train.metrics_csv as metrics_csv

    monkeypatch.setattr(metrics_csv, "atomic_write_text", nowhere)
    status = main(["train", tiny_net, "--steps", "2", *TINY, "--metrics-csv", str(tmp_path / "m.csv")])
    out, err = capsys.readouterr()
    assert status == 2 and "finished 2 steps" in out
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: could not write the metrics CSV") and "nor to any other folder" in last


@pytest.mark.parametrize("fmt", ["torchscript", "export", "python"])
def test_export_onto_a_full_disk_is_one_clean_error(fmt, tiny_net, tmp_path, monkeypatch, capsys):
    """torch's own writers abort the process from C++ on a full disk; the export serialises
    into memory and writes with one checked write instead."""
    import explorer.export.api as api

    monkeypatch.setattr(api, "output_problem", lambda path: None)  # the disk fills after the check
    _fail_writes(monkeypatch, errno.ENOSPC)
    out = tmp_path / f"net.{'py' if fmt == 'python' else 'pt'}"
    status = main(["export", tiny_net, "-f", fmt, "-o", str(out)])
    _, err = capsys.readouterr()
    assert status == 2
    assert err.startswith(f"error: could not write {out}: No space left on device") and err.count("\n") == 1
    assert list(tmp_path.glob("net*")) == [] and list(tmp_path.glob(".net*")) == []


def test_a_file_name_never_becomes_code_in_exported_source(tiny_net, tmp_path, monkeypatch, capsys):
    import ast

    monkeypatch.chdir(tmp_path)
    name = 'inj"""+__import__("pathlib").Path("PWNED").touch()+"""x.py'
    status = main(["export", tiny_net, "-f", "python", "-o", name])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert not (tmp_path / "PWNED").exists()
    tree = ast.parse((tmp_path / name).read_text(encoding="utf-8"))
    assert "x.pth" in ast.get_docstring(tree)  # the name is still shown, as text
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert "__import__" not in names


def test_tensorboard_failing_during_the_run_does_not_lose_it(tiny_net, tmp_path, monkeypatch, capsys):
    pytest.importorskip("tensorboard")
    from explorer.train.api import EpochMetrics
    from explorer.train.tb_log import TensorBoardSink

    real = TensorBoardSink.__call__

    def full_disk(self, event):
        if isinstance(event, EpochMetrics):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, event)

    monkeypatch.setattr(TensorBoardSink, "__call__", full_disk)
    ckpt = tmp_path / "run.ckpt"
    status = main(["train", tiny_net, "--epochs", "2", *TINY, "--tensorboard", str(tmp_path / "tb"),
                   "--checkpoint", str(ckpt)])
    out, err = capsys.readouterr()
    assert status == 0 and "finished 4 steps (2 epochs)" in out and ckpt.exists()
    assert err.count("warning: TensorBoard logging stopped") == 1 and "No space left on device" in err
