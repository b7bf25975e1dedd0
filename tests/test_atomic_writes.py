"""The one atomic-write helper every file goes through: unique temporary names, nothing left
behind on a failure, fsync before the rename, permissions that follow the umask, and a
destination check that finds a missing, read-only or full folder before work starts."""
import errno
import os
import stat
import threading
import time

import pytest

from explorer.spec import atomic
from explorer.spec.atomic import (WriteError, atomic_path, atomic_write_bytes, atomic_write_text,
                                  output_problem, write_new)


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_writes_replace_the_file_and_leave_nothing_behind(tmp_path):
    path = tmp_path / "net.json"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two")
    assert path.read_text() == "two"
    assert leftovers(tmp_path) == []


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o640
    private = tmp_path / "b.bin"
    private.write_bytes(b"old")
    private.chmod(0o600)
    atomic_write_bytes(private, b"new")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and private.read_bytes() == b"new"


def test_the_helper_never_changes_the_process_umask(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "umask", lambda *a: calls.append(a) or 0o022)
    atomic_write_text(tmp_path / "x.txt", "x")
    assert output_problem(tmp_path / "y.txt") is None
    with atomic_path(tmp_path / "z.png") as tmp:
        tmp.write_bytes(b"png")
    assert calls == []


def test_data_is_synced_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    atomic_write_bytes(tmp_path / "ckpt.pt", b"weights")
    assert events.index("fsync") < events.index("replace")


def test_a_full_disk_keeps_the_old_file_and_removes_the_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / "run.ckpt"
    path.write_bytes(b"the previous checkpoint")

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic, "_write_all", full)
    with pytest.raises(WriteError) as info:
        atomic_write_bytes(path, b"new")
    assert str(info.value) == f"cannot write {path}: No space left on device"
    assert isinstance(info.value, OSError) and info.value.errno == errno.ENOSPC
    assert path.read_bytes() == b"the previous checkpoint"
    assert leftovers(tmp_path) == []


def test_an_interrupted_write_removes_the_temporary_file(tmp_path, monkeypatch):
    def interrupted(fd, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "_write_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(tmp_path / "x.bin", b"x")
    assert list(tmp_path.iterdir()) == []


def test_concurrent_writers_never_collide(tmp_path):
    path = tmp_path / "shared.txt"
    errors = []

    def writer(text):
        try:
            for _ in range(30):
                atomic_write_text(path, text * 1000)
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(c,)) for c in "abcd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    content = path.read_text()
    assert len(content) == 1000 and len(set(content)) == 1
    assert leftovers(tmp_path) == []


def test_temporary_files_of_a_killed_writer_are_cleaned_by_the_next_write(tmp_path):
    path = tmp_path / "net.json"
    stale = tmp_path / ".net.json.0badf00d.tmp"
    fresh = tmp_path / ".net.json.12345678.tmp"  # a concurrent writer, still busy
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 2 * atomic.STALE_TEMP_SECONDS
    os.utime(stale, (old, old))
    atomic_write_text(path, "{}")
    assert not stale.exists() and fresh.exists()


@pytest.mark.parametrize("make, expected", [
    (lambda d: d / "missing" / "x.json", "the folder {d}/missing does not exist"),
    (lambda d: d, "is a folder"),
    (lambda d: (d / "file").write_text("") or d / "file" / "x.json", "{d}/file is not a folder"),
])
def test_bad_destinations_are_named(tmp_path, make, expected):
    path = make(tmp_path)
    with pytest.raises(WriteError) as info:
        atomic_write_text(path, "x")
    assert expected.format(d=tmp_path) in str(info.value)
    assert expected.format(d=tmp_path) in output_problem(path)


def test_output_problem_finds_a_read_only_or_full_folder_by_writing(tmp_path, monkeypatch):
    assert output_problem(tmp_path / "ok.csv") is None
    assert leftovers(tmp_path) == []
    real_open = os.open

    def read_only(path, flags, mode=0o777):
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", read_only)
    assert output_problem(tmp_path / "x.csv") == f"cannot write in the folder {tmp_path} (Read-only file system)"
    monkeypatch.setattr(os, "open", real_open)
    monkeypatch.setattr(atomic, "_write_all", lambda fd, data: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))))
    assert "No space left on device" in output_problem(tmp_path / "x.csv")
    assert leftovers(tmp_path) == []


def test_output_problem_for_folders(tmp_path):
    assert output_problem(tmp_path / "new" / "runs", folder=True) is None
    assert (tmp_path / "new" / "runs").is_dir()
    (tmp_path / "f").write_text("")
    assert "exists and is not a folder" in output_problem(tmp_path / "f", folder=True)


@pytest.mark.skipif(not os.access("/dev/full", os.W_OK), reason="needs /dev/full (Linux)")
def test_dev_full_gives_a_clean_error_and_no_file(tmp_path, monkeypatch):
    """The real device that answers every write with ENOSPC, in place of the new file."""
    real_create = atomic._create

    def onto_dev_full(tmp, mode):
        os.close(real_create(tmp, mode))
        return os.open("/dev/full", os.O_WRONLY)

    monkeypatch.setattr(atomic, "_create", onto_dev_full)
    with pytest.raises(WriteError, match="No space left on device"):
        write_new(tmp_path / "x.pt", b"x" * 10000)
    with pytest.raises(WriteError, match="No space left on device"):
        atomic_write_bytes(tmp_path / "y.pt", b"y" * 10000)
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_for_writers_that_need_a_file_name(tmp_path):
    path = tmp_path / "diagram.png"
    with atomic_path(path) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".diagram.png.")
        tmp.write_bytes(b"image")
    assert path.read_bytes() == b"image" and leftovers(tmp_path) == []
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("the renderer failed")
    assert path.read_bytes() == b"image" and leftovers(tmp_path) == []
    with pytest.raises(WriteError, match="produced no data"):
        with atomic_path(path):
            pass


def test_text_with_a_lone_surrogate_is_refused_before_touching_the_disk(tmp_path):
    with pytest.raises(WriteError, match="not valid Unicode"):
        atomic_write_text(tmp_path / "x.txt", "bad \ud800 name")
    assert list(tmp_path.iterdir()) == []


def test_no_module_writes_files_around_the_helper():
    """Every file a user keeps goes through spec/atomic.py; only the export verifier's private
    scratch folder (deleted after the check) and the downloads' part files and staging folders
    (a transfer resumes into its .part file; only a complete, hash-checked file or a fully unpacked
    folder is renamed into place: tests/test_downloads.py) are written directly."""
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent / "explorer"
    allowed = {"spec/atomic.py", "export/verify.py", "export/reload_worker.py", "downloads/get.py",
               "downloads/transfer.py"}
    offenders = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
            writes = (name in ("write_text", "write_bytes", "mkstemp", "umask")
                      or (owner == "os" and name in ("replace", "rename"))
                      or (name == "open" and any(isinstance(a, ast.Constant) and isinstance(a.value, str)
                                                 and set(a.value) & set("wax") for a in node.args[1:2])))
            if writes:
                offenders.append(f"{rel}:{node.lineno} {name}")
    assert offenders == []
