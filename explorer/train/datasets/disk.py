"""What a dataset folder holds, read one way by every reader (``folder:``, ``imagenet-val:``, the
CIFAR and IDX files, the landscape's ``--from-dir``): folders, text files and images.

- ``folder_entries`` lists a folder: a folder that cannot be read, a symbolic link that loops
  back on itself or one that points nowhere each end in one ``DatasetError`` naming the path
  (a link is followed once; nothing here recurses, so a link to a parent folder cannot make
  a walk endless).
- ``text_lines`` reads a small text file (a labels file) as UTF-8, naming the line and the byte
  that is not UTF-8.
- ``open_image`` is the one way an image is opened: the header is checked before anything is
  decoded (a decompression bomb is refused), and every error Pillow raises for a damaged
  file, of whatever type, becomes one ``DatasetError`` naming the file.
"""
from __future__ import annotations

import os
import struct
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

from .base import DatasetError

MAX_TEXT_BYTES = 64 * 1024 * 1024  # a labels file of ImageNet's 50,000 lines is under 2 MB


@dataclass(frozen=True)
class Entry:
    name: str
    path: str
    is_dir: bool
    is_file: bool

    @property
    def hidden(self) -> bool:
        return self.name.startswith(".")


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


def folder_entries(folder: str) -> list[Entry]:
    """Every entry of ``folder``, sorted by name, links followed; ``DatasetError`` for a folder
    that cannot be read and for a link that loops or points nowhere."""
    try:
        with os.scandir(folder) as found:
            raw = list(found)
    except OSError as err:
        raise DatasetError(f"cannot read the folder {folder}: {_reason(err)}") from None
    out = []
    for e in sorted(raw, key=lambda e: e.name):
        try:
            is_dir, is_file = e.is_dir(), e.is_file()
        except OSError as err:  # ELOOP: a link to itself (or a ring of links)
            raise DatasetError(f"{e.path} cannot be followed: {_reason(err)} "
                               f"(a symbolic link that points back to itself?)") from None
        if not is_dir and not is_file and e.is_symlink():
            target = _link_target(e.path)
            raise DatasetError(f"{e.path} is a symbolic link to {target}, which does not exist")
        out.append(Entry(e.name, e.path, is_dir, is_file))
    return out


def _link_target(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "nothing readable"


def is_regular_file(path: str) -> bool:
    """Whether ``path`` is a regular file (links followed): False when nothing is there; a link
    that loops or points nowhere, or a FIFO or device under that name, is a ``DatasetError``."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise DatasetError(f"{path} is a symbolic link to {_link_target(path)}, which does not exist") from None
        return False
    except OSError as err:
        raise DatasetError(f"{path} cannot be followed: {_reason(err)} "
                           f"(a symbolic link that points back to itself?)") from None
    if stat.S_ISDIR(mode):
        return False
    if not stat.S_ISREG(mode):
        raise DatasetError(f"{path} is not a regular file (a FIFO or a device?)")
    return True


def subfolders(folder: str) -> list[Entry]:
    """The folders in ``folder`` that are not hidden, sorted by name."""
    return [e for e in folder_entries(folder) if e.is_dir and not e.hidden]


def files_with(folder: str, extensions: tuple[str, ...]) -> list[str]:
    """Paths of the files in ``folder`` whose names end in one of ``extensions`` (any case), not
    hidden, sorted."""
    return [e.path for e in folder_entries(folder)
            if e.is_file and not e.hidden and e.name.lower().endswith(extensions)]


def text_lines(path: str, what: str) -> list[str]:
    """The lines of a small UTF-8 text file (a byte-order mark is allowed); ``DatasetError`` names
    ``what`` and, for text that is not UTF-8, the line and the byte."""
    if not os.path.isfile(path):
        raise DatasetError(f"{what} {path} is not a regular file")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TEXT_BYTES + 1)
    except OSError as err:
        raise DatasetError(f"cannot read {what} {path}: {_reason(err)}") from None
    if len(raw) > MAX_TEXT_BYTES:
        raise DatasetError(f"{what} {path} is larger than {MAX_TEXT_BYTES // 2 ** 20} MB: not a labels file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise DatasetError(f"{what} {path} is not UTF-8 text: byte 0x{raw[err.start]:02x} on line {line} "
                           f"(save it as UTF-8)") from None
    return text.splitlines()


MAX_IMAGE_PIXELS = 64 * 1024 * 1024  # 8192x8192; a photo has a few dozen megapixels at most

# what Pillow raises for a damaged or foreign file, beside OSError: its parsers raise SyntaxError,
# struct.error, IndexError and others for headers that lie
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError, TypeError, KeyError,
                  ZeroDivisionError, OverflowError, MemoryError, RuntimeError)


def check_image_size(im, file: str) -> None:
    """Refuse an image whose header claims more pixels than any photo has (a decompression
    bomb: a small file that would take gigabytes once decoded), before it is decoded."""
    w, h = im.size
    if w < 1 or h < 1:
        raise DatasetError(f"image {file} is {w}x{h} pixels: it holds no pixels")
    if w * h > MAX_IMAGE_PIXELS:
        raise DatasetError(f"image {file} claims {w:,}x{h:,} pixels ({w * h * 3 / 2 ** 30:.1f} GiB decoded); "
                           f"images above {MAX_IMAGE_PIXELS // 2 ** 20} megapixels are refused "
                           f"(a decompression bomb?)")


@contextmanager
def open_image(file: str):
    """``with open_image(file) as im:`` a Pillow image whose size was checked; any failure while
    the block decodes it becomes a ``DatasetError`` naming ``file``."""
    try:
        from PIL import Image
    except ImportError:
        raise DatasetError("reading images needs Pillow: pip install pillow") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as im:
                check_image_size(im, file)
                yield im
    except DatasetError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise DatasetError(f"image {file} is refused: {err}") from None
    except _DECODE_ERRORS as err:
        reason = _reason(err) if isinstance(err, OSError) else (str(err) or type(err).__name__)
        raise DatasetError(f"cannot read image {file}: {reason}") from None
