"""The one function that resolves a dataset name, and the names it accepts.

A dataset name is ``shapes``, ``digits`` or ``FORMAT:PATH`` with FORMAT one of
``cifar10``, ``cifar100``, ``mnist``, ``fashion-mnist``, ``folder`` and ``imagenet-val``
(ImageNet validation images for evaluation, read by ``imagenet.py``). Nothing is
downloaded: the procedural sets are made in ``procedural.py``, the others read from
local disk by ``files.py``.
"""
from __future__ import annotations

import os

from . import files
from .base import DatasetError, ImageData, subsample
from .procedural import load_digits32, make_shapes

FORMATS = ("cifar10", "cifar100", "mnist", "fashion-mnist", "folder", "imagenet-val")
BUILTIN = ("shapes", "digits")


def dataset_help() -> str:
    return ("shapes | digits | cifar10:PATH | cifar100:PATH | mnist:PATH | fashion-mnist:PATH | folder:PATH | "
            "imagenet-val:PATH")


def parse_name(name: str) -> tuple[str, str | None]:
    """``"cifar10:/data/c10"`` -> ``("cifar10", "/data/c10")``; raises ``DatasetError`` for unknown kinds."""
    name = name.strip()
    if name in BUILTIN:
        return name, None
    kind, sep, path = name.partition(":")
    kind = kind.strip().lower()
    if sep and kind in FORMATS:
        if not path.strip():
            raise DatasetError(f"dataset {name!r} needs a folder after the colon, e.g. {kind}:/data/{kind}")
        return kind, os.path.expanduser(path.strip())
    if kind in FORMATS:
        raise DatasetError(f"dataset {kind!r} reads local files: write it as {kind}:PATH")
    raise DatasetError(f"unknown dataset {name!r}; expected one of {dataset_help()}")


def check_name(name: str) -> tuple[str, str | None]:
    """``parse_name`` plus the quick checks made before any file is read: a folder dataset's
    folder must exist. Raises ``DatasetError`` naming the problem (as ``load_dataset`` would)."""
    kind, path = parse_name(name)
    if path is not None and not os.path.isdir(path):
        found = "found a file" if os.path.isfile(path) else "nothing is there"
        raise DatasetError(f"{kind} dataset: expected a folder at {path}; {found}")
    return kind, path


def load_dataset(name: str, *, train_size: int | None = None, test_size: int | None = None,
                 image_size: tuple[int, int] | None = None) -> ImageData:
    """Load (or make) the named dataset. ``image_size`` (H, W) is used by ``folder:``,
    whose images come in any size and are resized while read."""
    kind, path = check_name(name)
    if kind == "shapes":
        from ..limits import available_memory, check_fits

        count = (train_size or 10_000) + (test_size or 2_000)
        check_fits(count * (3 * 32 * 32 + 8), f"{count:,} procedural images", available_memory())
        data = make_shapes(train_size or 10_000, test_size or 2_000)
    elif kind == "digits":
        data = load_digits32()
    elif kind == "imagenet-val":  # test images only, at 224x224 after the standard transform
        from .imagenet import load_imagenet_val
        data = load_imagenet_val(path, test_size)
    else:
        if kind in ("cifar10", "cifar100"):
            data = files.load_cifar(path, classes=10 if kind == "cifar10" else 100)
        elif kind in ("mnist", "fashion-mnist"):
            data = files.load_idx(path, kind)
        else:
            data = files.load_folder(path, image_size)
    return subsample(data, train_size, test_size)
