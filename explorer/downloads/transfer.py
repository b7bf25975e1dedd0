"""One file over HTTP into ``FILE.part``, continued where an earlier attempt stopped.

``stream`` asks for the bytes after what ``FILE.part`` already holds (an HTTP Range
request); a server that answers with the whole file instead starts the part afresh. The
loop looks at ``cancelled()`` between chunks: a stop (the app's Cancel, a Ctrl+C turned
into a flag) ends it there, keeping the part for the next attempt. Every way it can fail
ends in one ``DownloadError`` whose message says what happened and what to do.
"""
from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from ..spec.params import whole_number

CHUNK = 1 << 16
TIMEOUT = (15, 60)  # seconds to connect, seconds of silence while reading

Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


class DownloadError(Exception):
    """A download that could not finish; the message is the one line to show."""


class DownloadStopped(DownloadError):
    """Stopped on request between two chunks; the part is kept and the next attempt resumes."""


def human_mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def size_text(entry) -> str:
    """A catalogue entry's download size: exact when every part's size is known, else "about ..."."""
    exact = all(p.size for p in entry.parts)
    return ("" if exact else "about ") + human_mb(sum(p.size or p.approx_mb * 1_048_576 for p in entry.parts))


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _open_part(path: Path, mode: str):
    """The part file, opened for writing (tests replace this to simulate a full disk)."""
    return open(path, mode)


def free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def check_space(folder: Path, needed: int, what: str) -> None:
    free = free_bytes(folder)
    if free is not None and needed > free:
        raise DownloadError(f"not enough space for {what} in {folder}: it needs {human_mb(needed)}, "
                            f"{human_mb(free)} are free; free some space or choose another folder (--dir)")


def stream(url: str, part: Path, *, expected: int | None, progress: Progress | None = None,
           cancelled: Callable[[], bool] = lambda: False, what: str = "the file", hint: str = "") -> None:
    """Bring ``part`` to the whole of ``url``'s content (``expected`` bytes when known)."""
    import requests

    have = part.stat().st_size if part.exists() else 0
    if expected is not None and have > expected:
        part.unlink()
        have = 0
    if expected is not None and have == expected:  # all there from an earlier attempt: only the checks remain
        if progress:
            progress(have, expected)
        return
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        response = requests.get(url, stream=True, headers=headers, timeout=TIMEOUT)
    except requests.exceptions.ConnectionError as err:
        raise DownloadError(f"cannot reach {_host(url)} ({_reason(err)}): check the network connection, or set "
                            f"RESNET_EXPLORER_MIRROR=BASE_URL to a server holding the same file names{hint}") from None
    except requests.exceptions.Timeout:
        raise DownloadError(f"{_host(url)} did not answer in time: try again later{hint}") from None
    except requests.exceptions.RequestException as err:
        raise DownloadError(f"cannot download {url}: {_reason(err)}{hint}") from None
    with response:
        if have and response.status_code == 416:  # the part already holds everything there is
            response.close()
            part.unlink()
            return stream(url, part, expected=expected, progress=progress, cancelled=cancelled, what=what,
                          hint=hint)
        if response.status_code >= 400:
            raise DownloadError(f"the server answered {response.status_code} {response.reason or ''}".rstrip()
                                + f" for {url}: try again later{hint}")
        resumed = bool(have) and response.status_code == 206
        length = whole_number(response.headers.get("Content-Length"))  # ASCII digits only: '²' is not a size
        total = (have if resumed else 0) + length if length is not None else expected
        if not resumed:
            have = 0
        if total is not None:
            check_space(part.parent, total - have, what)
        done = have
        if progress:
            progress(done, total)
        try:
            with _open_part(part, "ab" if resumed else "wb") as out:
                for chunk in response.iter_content(CHUNK):
                    if cancelled():
                        raise DownloadStopped(f"stopped after {human_mb(done)} of {what}; "
                                              "the same command continues where it stopped")
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        except requests.exceptions.RequestException as err:  # an OSError too: before the one below
            raise DownloadError(f"the transfer of {what} broke off after {human_mb(done)} ({_reason(err)}): run "
                                f"the same command again to continue{hint}") from None
        except OSError as err:
            if err.errno == errno.ENOSPC:
                raise DownloadError(f"the disk holding {part.parent} is full after {human_mb(done)} of {what}: "
                                    "free some space and run the same command again to continue, or choose "
                                    "another folder (--dir)") from None
            raise DownloadError(f"cannot write {part}: {err.strerror or err}") from None
    if total is not None and done < total:
        raise DownloadError(f"the transfer of {what} stopped after {human_mb(done)} of {human_mb(total)}: run the "
                            f"same command again to continue{hint}")


def _reason(err: BaseException) -> str:
    """The innermost reason of a requests error, short: "Connection refused", "Name or service not known"."""
    text = str(err)
    for marker in ("] ", "Errno"):
        if marker in text:
            text = text.rsplit(marker, 1)[-1]
    return text.strip(" ')\"(") or type(err).__name__


def move_into(source: Path, target: Path) -> None:
    os.makedirs(target.parent, exist_ok=True)
    os.replace(source, target)
