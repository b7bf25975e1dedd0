"""Writing files so that nothing the user made is ever half-written: one way for every file.

Every file the app and the CLI write goes through here:

- the data goes to a temporary file with a unique name (``.NAME.XXXXXXXX.tmp``) in the
  destination's folder, created exclusively, so two writers never share one;
- it is flushed and ``fsync``-ed, then renamed over the destination, and the folder is
  synced; a crash or a kill at any moment leaves either the old file or the new one;
- a failure removes the temporary file and raises ``WriteError`` (an ``OSError``) whose
  message names the file and the reason in one line ("No space left on device"); the
  temporary files of a writer that was killed are removed by the next write of that file;
- a new file gets the permissions a plain ``open`` would give under the umask (the
  kernel applies it when the file is created: no process-wide ``os.umask`` call, which
  would race with other threads); a replaced file keeps its permissions.

``output_problem`` checks a destination before long work starts (a run, an export), so
a missing, read-only or full folder is refused up front instead of after the work.
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path
from typing import Callable, Iterator

_TEMP_SUFFIX = ".tmp"
_MAX_NAME_IN_TEMP = 120  # keeps the temporary name under the usual 255-byte limit


class WriteError(OSError):
    """A file could not be written; ``str()`` is one line naming the file and the reason."""

    def __init__(self, path, reason: str, err_no: int | None = None):
        super().__init__(err_no or errno.EIO, reason, os.fspath(path))
        self.path = Path(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.reason}"


def _reason(err: BaseException) -> str:
    if isinstance(err, WriteError):
        return err.reason
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


def temp_name(path: Path) -> Path:
    """A fresh, unique temporary name in ``path``'s folder (hidden, ending in .tmp)."""
    return path.with_name(f".{path.name[:_MAX_NAME_IN_TEMP]}.{secrets.token_hex(4)}{_TEMP_SUFFIX}")


STALE_TEMP_SECONDS = 15 * 60


def remove_stale_temps(path: Path) -> None:
    """Remove this file's temporary files left behind by a killed writer (a kill -9 gives
    no chance to clean up). Only ones untouched for a while: a concurrent writer's fresh
    temporary file stays."""
    import time

    prefix = f".{path.name[:_MAX_NAME_IN_TEMP]}."
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(_TEMP_SUFFIX)
                and len(name) == len(prefix) + 8 + len(_TEMP_SUFFIX)):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime \
                    > STALE_TEMP_SECONDS:
                os.unlink(entry.path)


def _existing_mode(path: Path) -> int | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None


def _check_destination(path: Path) -> None:
    if path.name in ("", ".", ".."):
        raise WriteError(path, "not a file name", errno.EINVAL)
    if path.is_dir():
        raise WriteError(path, "it is a folder", errno.EISDIR)
    folder = path.parent
    if not folder.exists():
        raise WriteError(path, f"the folder {folder} does not exist", errno.ENOENT)
    if not folder.is_dir():
        raise WriteError(path, f"{folder} is not a folder", errno.ENOTDIR)


def _create(tmp: Path, mode: int | None) -> int:
    # 0o666 lets the kernel apply the umask, as a plain open() would
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    if mode is not None:
        try:
            os.fchmod(fd, mode)  # a replaced file keeps its permissions
        except OSError:
            pass
    return fd


def _write_all(fd: int, data) -> None:
    view = memoryview(data).cast("B")
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: some file systems refuse)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_new(path: str | os.PathLike, data) -> Path:
    """Write ``data`` (bytes-like) to a file that must not exist yet, synced; on failure the
    file is removed and ``WriteError`` raised. For temporary files that are renamed later."""
    path = Path(path)
    _write_synced(path, path, None, lambda fd: _write_all(fd, data))
    return path


def _write_synced(target: Path, name: Path, mode: int | None, fill: Callable[[int], None]) -> None:
    """Create ``name`` (which must not exist), let ``fill`` write it, fsync and close it. On any
    failure ``name`` is removed; an ``OSError`` becomes a ``WriteError`` naming ``target``."""
    try:
        fd = _create(name, mode)
    except OSError as err:
        raise WriteError(target, _reason(err), err.errno) from None
    try:
        try:
            fill(fd)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as err:
        _discard(name, target, err)


def _discard(name: Path, target: Path, err: BaseException):
    """Remove the half-written ``name`` and re-raise ``err`` (an ``OSError`` as ``WriteError``)."""
    with contextlib.suppress(OSError):
        os.unlink(name)
    if isinstance(err, OSError) and not isinstance(err, WriteError):
        raise WriteError(target, _reason(err), err.errno) from None
    raise err


def atomic_write_bytes(path: str | os.PathLike, data) -> Path:
    """Replace ``path`` with ``data`` atomically (see the module docstring)."""
    return _atomic(Path(path), lambda fd: _write_all(fd, data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as err:  # a lone surrogate: refuse before touching the disk
        raise WriteError(path, f"the text holds a character that is not valid Unicode at position {err.start}",
                         errno.EINVAL) from None
    return atomic_write_bytes(path, data)


def _atomic(path: Path, fill: Callable[[int], None]) -> Path:
    _check_destination(path)
    tmp = temp_name(path)
    _write_synced(path, tmp, _existing_mode(path), fill)
    try:
        os.replace(tmp, path)
    except BaseException as err:
        _discard(tmp, path, err)
    _sync_folder(path.parent)
    remove_stale_temps(path)
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """For writers that need a file name (image writers, exporters): yields a fresh temporary
    name beside ``path``; when the block ends without an error, the file written there is
    synced and renamed to ``path``. On any error it is removed; ``OSError`` becomes
    ``WriteError``. A writer that does not create the file is an error too."""
    path = Path(path)
    _check_destination(path)
    mode = _existing_mode(path)
    tmp = temp_name(path)
    try:
        os.close(_create(tmp, mode))  # claims the unique name
    except OSError as err:
        raise WriteError(path, _reason(err), err.errno) from None
    try:
        yield tmp
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise WriteError(path, "the writer produced no data", errno.EIO)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as err:
        _discard(tmp, path, err)
    _sync_folder(path.parent)


def replace_synced(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Sync a finished temporary file, rename it over ``path`` and sync the folder."""
    try:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as err:
        raise WriteError(path, _reason(err), err.errno) from None
    _sync_folder(Path(path).parent)


def output_problem(path: str | os.PathLike, folder: bool = False) -> str | None:
    """Why ``path`` could not be written, or None; checked by writing (and removing) a
    probe file, so a read-only or full file system is found before the work starts.

    ``folder``: ``path`` is a folder to write files into (created when missing).
    """
    path = Path(path).expanduser()
    if folder:
        if path.exists() and not path.is_dir():
            return f"{path} exists and is not a folder"
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            return f"cannot create the folder {path} ({_reason(err)})"
        where = path
    else:
        if path.name in ("", ".", ".."):
            return f"{str(path)!r} is not a file name"
        if path.is_dir():
            return f"{path} is a folder, not a file"
        where = path.parent
        if not where.exists():
            return f"the folder {where} does not exist"
        if not where.is_dir():
            return f"{where} is not a folder"
    probe = temp_name(where / "probe")
    try:
        fd = _create(probe, None)
        try:
            _write_all(fd, b"\0" * 4096)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as err:
        return f"cannot write in the folder {where} ({_reason(err)})"
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)
    return None
