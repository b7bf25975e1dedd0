"""`get NAME` against a local HTTP server on 127.0.0.1 that the tests start.

The server serves small files made here with the real layouts (a CIFAR-10 archive, a
ResNet-style weights file); each test entry carries the hashes of those files, so the
code under test verifies exactly as it does for the real table. Covered: success, a wrong
hash, a truncated transfer, a server error, no network, a full disk, a stop and a resume,
--from-file, the mirror setting, and the names working afterwards.
"""
import dataclasses
import errno
import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from explorer import downloads
from explorer.downloads import catalog, transfer
from explorer.cli import main


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """The downloads folder, for the code under test and for the name lookups."""
    path = tmp_path / "downloads"
    monkeypatch.setenv(downloads.ENV_DIR, str(path))
    monkeypatch.delenv(downloads.ENV_MIRROR, raising=False)
    return path


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cifar10_archive() -> bytes:
    """cifar-10-python.tar.gz in its real layout: five training batches, a test batch, the meta file."""
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        def add(name, obj):
            data = pickle.dumps(obj)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            add(name, {b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
                       b"labels": [int(v) for v in rng.integers(0, 10, 4)]})
        add("batches.meta", {b"label_names": [f"c{i}".encode() for i in range(10)]})
    return buf.getvalue()


def _weights_entry(server, body: bytes, name="resnet18", **hashes) -> catalog.Entry:
    real = catalog.BY_NAME[name]
    part = dataclasses.replace(real.parts[0], url=server.base + real.parts[0].filename, size=len(body),
                               sha256=hashes.get("sha256", _sha(body)),
                               sha256_prefix=hashes.get("prefix", _sha(body)[:8]), md5=hashes.get("md5"))
    server.files[part.filename] = body
    return dataclasses.replace(real, parts=(part,))


def _cifar_entry(server) -> catalog.Entry:
    body = _cifar10_archive()
    real = catalog.BY_NAME["cifar10"]
    part = dataclasses.replace(real.parts[0], url=server.base + real.parts[0].filename, size=len(body),
                               sha256=_sha(body), md5=hashlib.md5(body).hexdigest())
    server.files[part.filename] = body
    return dataclasses.replace(real, parts=(part,))


BODY = os.urandom(300_000)  # several 64 KB chunks


@pytest.fixture
def server(file_server):
    return file_server


def test_a_dataset_is_fetched_verified_unpacked_and_usable_by_name(server, folder, monkeypatch):
    from explorer.train.datasets import DatasetError, load_dataset

    with pytest.raises(DatasetError, match="cifar10 is not downloaded yet: run `python main.py get cifar10`"):
        load_dataset("cifar10")
    entry = _cifar_entry(server)
    monkeypatch.setitem(catalog.BY_NAME, "cifar10", entry)
    seen = []
    downloads.fetch(entry, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (entry.parts[0].size, entry.parts[0].size)
    assert (folder / "cifar10" / ".verified.json").is_file()
    assert not list((folder / "files").iterdir())  # the archive went once unpacked; no part left
    data = load_dataset("cifar10")  # by name, no PATH
    assert len(data.y_train) == 20 and len(data.y_test) == 4 and data.classes[3] == "c3"
    assert downloads.is_ready(entry)


def test_a_wrong_hash_keeps_nothing(server, folder):
    entry = _weights_entry(server, BODY, sha256="0" * 64, prefix="00000000")
    with pytest.raises(downloads.HashMismatch, match="does not match its recorded SHA-256") as err:
        downloads.fetch(entry)
    assert f"try again; or fetch {entry.parts[0].url} by other means and run `python main.py get resnet18 " \
           "--from-file resnet18-f37072fd.pth`" in str(err.value)
    assert not downloads.is_ready(entry)
    assert not [p for p in (folder / "files").iterdir()]  # neither the file nor a part


def test_torchvision_prefix_alone_is_checked(server, folder):
    entry = _weights_entry(server, BODY, sha256=None, prefix="abcdef12")
    with pytest.raises(downloads.HashMismatch, match="SHA-256 prefix .*expected abcdef12"):
        downloads.fetch(entry)
    good = _weights_entry(server, BODY, sha256=None)
    assert downloads.local_path(good) is None
    downloads.fetch(good)
    assert downloads.local_path(good).read_bytes() == BODY


def test_a_truncated_transfer_is_kept_as_a_part_and_resumed(server, folder):
    entry = _weights_entry(server, BODY)
    server.mode[entry.parts[0].filename] = "truncate"
    with pytest.raises(downloads.DownloadError, match="run the same command again to continue") as err:
        downloads.fetch(entry)
    assert "\n" not in str(err.value)
    part = folder / "files" / (entry.parts[0].filename + ".part")
    kept = part.stat().st_size
    assert 0 < kept <= len(BODY) // 2
    assert downloads.local_path(entry) is None  # no complete-looking file anywhere
    server.mode.clear()
    downloads.fetch(entry)
    assert server.ranges == [f"bytes={kept}-"]
    assert downloads.local_path(entry).read_bytes() == BODY


def test_stopped_between_chunks_then_resumed(server, folder):
    entry = _weights_entry(server, BODY)
    chunks = []
    with pytest.raises(downloads.DownloadStopped, match="continues where it stopped"):
        downloads.fetch(entry, progress=lambda done, total: chunks.append(done), cancelled=lambda: len(chunks) > 2)
    part = folder / "files" / (entry.parts[0].filename + ".part")
    kept = part.stat().st_size
    assert kept == chunks[-1] and 0 < kept < len(BODY)
    downloads.fetch(entry)
    assert server.ranges == [f"bytes={kept}-"]
    assert downloads.local_path(entry).read_bytes() == BODY and not part.exists()


def test_a_server_that_ignores_the_range_restarts_clean(server, folder):
    entry = _weights_entry(server, BODY)
    name = entry.parts[0].filename
    (folder / "files").mkdir(parents=True)
    (folder / "files" / (name + ".part")).write_bytes(b"junk" * 100)
    server.mode[name] = "norange"
    downloads.fetch(entry)
    assert downloads.local_path(entry).read_bytes() == BODY


def test_server_error_and_no_network_each_say_what_to_do(server, folder, capsys, monkeypatch):
    entry = _weights_entry(server, BODY)
    monkeypatch.setitem(catalog.BY_NAME, "resnet18", entry)
    server.mode[entry.parts[0].filename] = "error"
    assert main(["get", "resnet18"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: resnet18: the server answered 503") and err.count("\n") == 0
    assert entry.parts[0].url in err and "--from-file resnet18-f37072fd.pth" in err
    closed = dataclasses.replace(entry, parts=(dataclasses.replace(entry.parts[0], url="http://127.0.0.1:9/x.pth"),))
    with pytest.raises(downloads.DownloadError, match="cannot reach 127.0.0.1:9 .*RESNET_EXPLORER_MIRROR"):
        downloads.fetch(closed)


def test_a_full_disk_is_refused_before_and_reported_during(server, folder, monkeypatch):
    entry = _weights_entry(server, BODY)
    import shutil

    real_usage = shutil.disk_usage
    monkeypatch.setattr(transfer.shutil, "disk_usage", lambda p: real_usage(p)._replace(free=1000))
    with pytest.raises(downloads.DownloadError, match="not enough space for resnet18 .*it needs 0.3 MB, 0.0 MB"):
        downloads.fetch(entry)
    monkeypatch.setattr(transfer.shutil, "disk_usage", real_usage)

    class Full(io.FileIO):
        def write(self, b):
            if self.tell() > 100_000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(b)

    monkeypatch.setattr(transfer, "_open_part", lambda path, mode: Full(path, mode))
    with pytest.raises(downloads.DownloadError, match="is full after .* free some space and run the same command"):
        downloads.fetch(entry)
    assert downloads.local_path(entry) is None
    monkeypatch.undo()
    monkeypatch.setenv(downloads.ENV_DIR, str(folder))
    downloads.fetch(entry)  # the part is continued
    assert downloads.local_path(entry).read_bytes() == BODY


def test_from_file_adopts_a_verified_file_and_refuses_another(server, folder, tmp_path, capsys, monkeypatch):
    entry = _weights_entry(server, BODY)
    monkeypatch.setitem(catalog.BY_NAME, "resnet18", entry)
    wrong = tmp_path / "resnet18-f37072fd.pth"
    wrong.write_bytes(BODY[:-1] + b"x")
    assert main(["get", "resnet18", "--from-file", str(wrong)]) == 2
    assert "does not match its recorded SHA-256" in capsys.readouterr().err
    right = tmp_path / "elsewhere.pth"
    right.write_bytes(BODY)
    assert main(["get", "resnet18", "--from-file", str(right)]) == 0
    assert "resnet18: adopted, verified with SHA-256 + size:" in capsys.readouterr().out
    assert downloads.local_path(entry).read_bytes() == BODY and server.ranges == []


def test_the_mirror_serves_the_same_file_names(server, folder, monkeypatch):
    entry = _weights_entry(server, BODY)
    offline = dataclasses.replace(entry, parts=(dataclasses.replace(
        entry.parts[0], url="http://127.0.0.1:9/models/" + entry.parts[0].filename),))
    monkeypatch.setenv(downloads.ENV_MIRROR, server.base + "school/")
    assert downloads.part_url(offline.parts[0]) == server.base + "school/" + entry.parts[0].filename
    downloads.fetch(offline)
    assert downloads.local_path(offline).read_bytes() == BODY


def test_list_says_what_is_here_and_how_it_is_verified(folder, capsys):
    assert main(["get", "--list", "--hashes"]) == 0
    out = capsys.readouterr().out
    assert f"folder: {folder}" in out
    line = next(l for l in out.splitlines() if l.startswith("resnet152-v2"))
    assert "no" in line.split() and line.endswith("SHA-256 prefix (8 hex digits)")
    assert "0676ba61b6795bbe1773cffd859882e5e297624d384b6993f7c9e683e722fb8a" in out
    for e in catalog.ENTRIES:  # a full digest recorded for a torchvision file agrees with its name
        for p in e.parts:
            assert p.sha256 is None or len(p.sha256) == 64
            assert p.sha256 is None or p.sha256_prefix is None or p.sha256.startswith(p.sha256_prefix)


def test_ctrl_c_stops_between_chunks_keeps_the_part_and_the_same_command_continues(server, folder, monkeypatch,
                                                                                     capfd):
    import signal
    import threading
    import time

    from explorer.spec import interrupt

    body = BODY * 3
    entry = _weights_entry(server, body)
    monkeypatch.setitem(catalog.BY_NAME, "resnet18", entry)
    server.mode[entry.parts[0].filename] = "slow"
    part = folder / "files" / (entry.parts[0].filename + ".part")
    monkeypatch.setattr(interrupt, "_state", interrupt._State())
    previous = signal.getsignal(signal.SIGINT)
    interrupt.install()

    def press_once_bytes_arrive():
        deadline = time.monotonic() + 30
        while not (part.exists() and part.stat().st_size > 0) and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_once_bytes_arrive)
    presser.start()
    try:
        code = main(["get", "resnet18"])
    finally:
        presser.join()
        signal.signal(signal.SIGINT, previous)
    err = capfd.readouterr().err
    assert code == 130
    assert "stopping after this chunk (Ctrl+C again to interrupt now)" in err
    assert "resnet18: stopped after" in err and "the same command continues where it stopped" in err
    kept = part.stat().st_size
    assert 0 < kept < len(body) and not downloads.is_ready(entry)
    server.mode.clear()
    assert main(["get", "resnet18"]) == 0
    assert server.ranges == [f"bytes={kept}-"]
    assert downloads.local_path(entry).read_bytes() == body


def test_the_user_docs_list_every_entry_and_how_it_is_verified():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "DATA.md").read_text(encoding="utf-8")
    for e in catalog.ENTRIES:
        row = next((line for line in text.splitlines() if line.startswith("|") and f"`{e.name}`" in line), None)
        assert row is not None, e.name
        prefix_only = all(p.sha256 is None for p in e.parts)
        assert ("SHA-256 prefix" in row) == prefix_only, e.name
        assert downloads.size_text(e) in row, e.name


def test_an_archive_reaching_outside_its_folder_is_refused(server, folder, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    body = buf.getvalue()
    real = catalog.BY_NAME["cifar10"]
    part = dataclasses.replace(real.parts[0], url=server.base + real.parts[0].filename, size=len(body),
                               sha256=_sha(body), md5=None)
    server.files[part.filename] = body
    entry = dataclasses.replace(real, parts=(part,))
    with pytest.raises(downloads.DownloadError, match="cannot unpack cifar-10-python.tar.gz"):
        downloads.fetch(entry)
    assert not (folder / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()
    assert not downloads.is_ready(entry) and not [p for p in folder.iterdir() if p.name.startswith(".staging")]


def test_a_folder_that_cannot_be_written_is_one_line(server, folder, tmp_path, capsys, monkeypatch):
    entry = _weights_entry(server, BODY)
    monkeypatch.setitem(catalog.BY_NAME, "resnet18", entry)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["get", "resnet18", "--dir", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: resnet18: cannot create ") and "choose another folder (--dir)" in err
    assert err.count("\n") == 0


def test_a_part_already_whole_is_checked_without_asking_the_server_again(server, folder):
    entry = _weights_entry(server, BODY)
    files = folder / "files"
    files.mkdir(parents=True)
    (files / (entry.parts[0].filename + ".part")).write_bytes(BODY)
    downloads.fetch(entry)
    assert server.ranges == [] and downloads.local_path(entry).read_bytes() == BODY
    wrong = _weights_entry(server, BODY, name="resnet34")
    (files / (wrong.parts[0].filename + ".part")).write_bytes(BODY[::-1])  # the right size, the wrong bytes
    with pytest.raises(downloads.HashMismatch):
        downloads.fetch(wrong)
    assert not (files / (wrong.parts[0].filename + ".part")).exists()  # the next attempt starts clean
    downloads.fetch(wrong)
    assert downloads.local_path(wrong).read_bytes() == BODY
