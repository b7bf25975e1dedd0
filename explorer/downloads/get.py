"""Fetching an entry (``fetch``) or adopting files fetched elsewhere (``adopt``).

Each file goes through pooch: ``pooch.retrieve`` with the full SHA-256 (or the MD5) as
its known hash hands our ``Downloader`` a temporary file, checks the hash and only then
moves the file to ``files/FILE``, so a file of that name is always complete and verified.
The downloader itself continues ``files/FILE.part`` (see ``transfer.py``) and checks what
pooch cannot: the other recorded hashes and torchvision's 8-digit SHA-256 prefix.
Archives are then unpacked into a staging folder that is renamed to ``NAME/`` once its
layout is checked and ``.verified.json`` is written.
"""
from __future__ import annotations

import json
import os
import shutil
import tarfile
import time
from pathlib import Path
from typing import Callable

from .catalog import Entry, Part
from .store import ENV_MIRROR, MARKER, downloads_dir, entry_folder, is_ready
from .transfer import DownloadError, Progress, check_space, human_mb, move_into, size_text, stream  # noqa: F401

# (part index, number of parts, file name) before each file; then Progress calls
Announce = Callable[[int, int, str], None]


def part_url(part: Part) -> str:
    """The official location, or the same file name under ``RESNET_EXPLORER_MIRROR``."""
    mirror = os.environ.get(ENV_MIRROR, "").strip()
    return f"{mirror.rstrip('/')}/{part.filename}" if mirror else part.url


def _hint(entry: Entry, part: Part) -> str:
    return (f"; or fetch {part.url} by other means and run `python main.py get {entry.name} --from-file "
            f"{part.filename}`")


def _after_mismatch(entry: Entry, part: Part) -> str:
    return (f"the transfer from {part_url(part)} was damaged or the server holds another file; "
            f"try again{_hint(entry, part)} (it is checked the same way)")


def _digest(path: Path, alg: str) -> str:
    import pooch

    return pooch.file_hash(os.fspath(path), alg=alg)


def verify(part: Part, path: Path, *, skip_sha256: bool = False) -> None:
    """Raise ``DownloadError`` unless ``path`` matches every hash recorded for ``part``."""
    if part.size is not None:
        size = path.stat().st_size
        if size != part.size:
            raise _mismatch(part, "size", f"{part.size:,} bytes", f"{size:,}")
    if (part.sha256 and not skip_sha256) or part.sha256_prefix:
        got = _digest(path, "sha256")
        want = part.sha256 or part.sha256_prefix
        if not got.startswith(want):
            raise _mismatch(part, "SHA-256" if part.sha256 else "SHA-256 prefix", want, got[:len(want)])
    if part.md5:
        got = _digest(path, "md5")
        if got != part.md5:
            raise _mismatch(part, "MD5", part.md5, got)


class HashMismatch(DownloadError):
    """A downloaded or adopted file whose hash is not the one recorded for it."""


def _mismatch(part: Part, what: str, want: str, got: str) -> HashMismatch:
    return HashMismatch(f"{part.filename} does not match its recorded {what} (expected {want}, got {got}); "
                        f"it was not kept")


class _Downloader:
    """pooch's downloader interface: ``(url, output_file, pooch)``; continues ``FILE.part``."""

    def __init__(self, entry: Entry, part: Part, part_path: Path, progress, cancelled):
        self.entry, self.part, self.part_path = entry, part, part_path
        self.progress, self.cancelled = progress, cancelled

    def __call__(self, url, output_file, pooch_obj, check_only=False):
        if check_only:
            return True
        stream(url, self.part_path, expected=self.part.size, progress=self.progress, cancelled=self.cancelled,
               what=self.part.filename, hint=_hint(self.entry, self.part))
        try:  # the checks pooch does not make: an unfinished part must not be handed on
            verify(self.part, self.part_path, skip_sha256=bool(self.part.sha256))
        except HashMismatch:
            self.part_path.unlink(missing_ok=True)  # restart clean next time
            raise
        os.replace(self.part_path, output_file)


def _fetch_part(entry: Entry, part: Part, files: Path, progress, cancelled) -> Path:
    import pooch

    target = files / part.filename
    if target.is_file():
        return target
    known = f"sha256:{part.sha256}" if part.sha256 else (f"md5:{part.md5}" if part.md5 else None)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # pooch's own "Downloading ..." lines: we show our progress
    try:
        pooch.retrieve(part_url(part), known_hash=known, fname=part.filename, path=files,
                       downloader=_Downloader(entry, part, files / (part.filename + ".part"), progress, cancelled))
    except HashMismatch as err:  # our own checks (size, prefix, the second hash)
        raise HashMismatch(f"{err}: {_after_mismatch(entry, part)}") from None
    except ValueError as err:  # pooch's hash check; its temporary file is gone already
        if "hash" not in str(err).lower():
            raise
        (files / (part.filename + ".part")).unlink(missing_ok=True)
        raise HashMismatch(f"{part.filename} does not match its recorded {'SHA-256' if part.sha256 else 'MD5'}; "
                           f"it was not kept: {_after_mismatch(entry, part)}") from None
    except OSError as err:  # pooch's own file handling (a folder that turned read-only, a full disk)
        raise DownloadError(f"cannot write {part.filename} into {files}: {err.strerror or err}") from None
    finally:
        logger.setLevel(level)
    return target


def fetch(entry: Entry, folder: str | os.PathLike | None = None, *, progress: Progress | None = None,
          announce: Announce | None = None, cancelled: Callable[[], bool] = lambda: False) -> Path:
    """Download (or continue downloading) every file of ``entry``, verify, unpack; returns its folder."""
    root = downloads_dir(folder)
    if is_ready(entry, folder):
        return entry_folder(entry, folder)
    files = _make_folder(root / "files")
    remaining = sum((p.size or int(p.approx_mb * 1_048_576)) - _part_size(files, p) for p in entry.parts
                    if not (files / p.filename).is_file())
    check_space(root, remaining + (remaining if entry.unpack else 0), entry.name)
    paths = []
    for index, part in enumerate(entry.parts):
        if announce:
            announce(index, len(entry.parts), part.filename)
        paths.append(_fetch_part(entry, part, files, progress, cancelled))
    return _install(entry, root, paths)


def adopt(entry: Entry, given: list[str], folder: str | os.PathLike | None = None) -> Path:
    """Take files fetched elsewhere (each path a file or a folder holding them), verified by hash."""
    root = downloads_dir(folder)
    files = _make_folder(root / "files")
    candidates: dict[str, Path] = {}
    for item in given:
        p = Path(os.path.expanduser(item))
        if p.is_dir():
            candidates.update({c.name: c for c in p.iterdir() if c.is_file()})
        elif p.is_file():
            candidates[p.name] = p
        else:
            raise DownloadError(f"--from-file {item}: nothing is there")
    paths = []
    for part in entry.parts:
        source = candidates.get(part.filename)
        if source is None and len(entry.parts) == 1 and len(given) == 1 and Path(given[0]).is_file():
            source = Path(given[0])  # one file under another name
        if source is None:
            raise DownloadError(f"{entry.name} needs {part.filename} ({part.url}); it is not among the files given")
        try:
            verify(part, source)
        except HashMismatch as err:
            raise HashMismatch(f"{err}: {source} is not the file at {part.url}") from None
        target = files / part.filename
        if not target.is_file():
            check_space(files, source.stat().st_size, part.filename)
            temporary = files / (part.filename + ".adopting")
            try:
                shutil.copyfile(source, temporary)
            except OSError as err:
                temporary.unlink(missing_ok=True)
                raise DownloadError(f"cannot copy {source} into {files}: {err.strerror or err}") from None
            os.replace(temporary, target)
        paths.append(target)
    return _install(entry, root, paths)


def _part_size(files: Path, part: Part) -> int:
    p = files / (part.filename + ".part")
    return p.stat().st_size if p.is_file() else 0


def _make_folder(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DownloadError(f"cannot create {path}: {err.strerror or err}; choose another folder (--dir)") from None
    return path


def _install(entry: Entry, root: Path, paths: list[Path]) -> Path:
    """Unpack or move the verified files into ``NAME/`` through a staging folder."""
    final = root / entry.name
    staging = root / f".staging-{entry.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        for path in paths:
            if entry.unpack:
                _unpack(path, staging)
            else:
                shutil.copyfile(path, staging / path.name)
        missing = [e for e in entry.expect if not (staging / e).exists()]
        if missing:
            raise DownloadError(f"{entry.name}: the unpacked files lack {', '.join(missing)}; the archive is not the "
                                "one expected")
        record = {"name": entry.name, "when": time.strftime("%Y-%m-%d %H:%M:%S"),
                  "files": {p.name: {"verified_with": " + ".join(part.checks), "sha256": part.sha256,
                                     "sha256_prefix": part.sha256_prefix, "md5": part.md5}
                            for p, part in zip(paths, entry.parts)}}
        with open(staging / MARKER, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)
        if final.exists():  # an older, unfinished install (no marker): replaced whole
            shutil.rmtree(final)
        os.replace(staging, final)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise DownloadError(f"cannot unpack {entry.name} into {root}: {err.strerror or err}"
                            + (" (the disk is full: free some space and run the same command again)"
                               if getattr(err, "errno", None) == 28 else "")) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for path in paths:  # the files now live in NAME/; the archive is not needed any more
        path.unlink(missing_ok=True)
    return final


def _unpack(archive: Path, into: Path) -> None:
    """Unpack a .tar.gz; nothing may land outside ``into`` (no absolute paths, no ``..``, no links)."""
    try:
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
                tar.extractall(into, filter="data")
            else:
                for member in tar.getmembers():
                    parts = Path(member.name).parts
                    if member.issym() or member.islnk() or Path(member.name).is_absolute() or ".." in parts:
                        raise DownloadError(f"{archive.name} holds {member.name!r}, which would land outside "
                                            f"the folder: it is not the archive expected")
                tar.extractall(into)
    except (tarfile.TarError, EOFError) as err:
        raise DownloadError(f"cannot unpack {archive.name}: {err}") from None
