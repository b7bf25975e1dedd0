"""The one function that resolves a dataset name, and the names it accepts.

A dataset name is ``shapes``, ``digits``, ``FORMAT:PATH`` with FORMAT one of
``cifar10``, ``cifar100``, ``mnist``, ``fashion-mnist``, ``imagenette``, ``folder`` and
``imagenet-val`` (ImageNet validation images for evaluation, read by ``imagenet.py``), or
the bare name of a set fetched by ``python main.py get NAME`` (``cifar10``, ``imagenette``;
see ``explorer.downloads``), which reads the downloaded copy. Nothing is downloaded here:
the procedural sets are made in ``procedural.py``, the others read from local disk by
``files.py``.

Imagenette (ten ImageNet classes, ``train/`` and ``val/`` folders named by WordNet id)
is an image folder of 10 classes for training; for a network with ImageNet's 1000-class
head (``head_classes=1000``) its ``val/`` images are read as ImageNet validation images
instead: torchvision's class indices, the standard 256/224 transform, and ``subset`` set
to the ten indices so that accuracy is also reported among the ten.
"""
from __future__ import annotations

import os

from . import files
from .base import DatasetError, ImageData, subsample
from .procedural import load_digits32, make_shapes

FORMATS = ("cifar10", "cifar100", "mnist", "fashion-mnist", "imagenette", "folder", "imagenet-val")
BUILTIN = ("shapes", "digits")


def dataset_help() -> str:
    return ("shapes | digits | cifar10:PATH | cifar100:PATH | mnist:PATH | fashion-mnist:PATH | imagenette:PATH | "
            "folder:PATH | imagenet-val:PATH, or once fetched with `get NAME`: cifar10 | cifar100 | mnist | "
            "fashion-mnist | imagenette | imagenette-160")


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
    downloaded = _downloaded(name) if not sep else None
    if downloaded is not None:
        return downloaded
    if kind in FORMATS:
        raise DatasetError(f"dataset {kind!r} reads local files: write it as {kind}:PATH")
    raise DatasetError(f"unknown dataset {name!r}; expected one of {dataset_help()}")


def _downloaded(name: str) -> tuple[str, str] | None:
    """``(kind, folder)`` of a set fetched by ``get`` (``DatasetError`` when it is known but not
    fetched yet); None when ``name`` is not one of them."""
    from ...downloads import BY_NAME, local_path, not_here_message

    found = BY_NAME.get(name.strip().lower())
    if found is None or found.kind != "dataset":
        return None
    path = local_path(found)
    if path is None:
        raise DatasetError(not_here_message(found) + f", or name files you have: {found.name.split('-1')[0]}:PATH")
    kind = "imagenette" if found.name.startswith("imagenette") else found.name
    return kind, os.fspath(path)


def check_name(name: str) -> tuple[str, str | None]:
    """``parse_name`` plus the quick checks made before any file is read: a folder dataset's
    folder must exist. Raises ``DatasetError`` naming the problem (as ``load_dataset`` would)."""
    kind, path = parse_name(name)
    if path is not None and not os.path.isdir(path):
        found = "found a file" if os.path.isfile(path) else "nothing is there"
        raise DatasetError(f"{kind} dataset: expected a folder at {path}; {found}")
    return kind, path


def load_dataset(name: str, *, train_size: int | None = None, test_size: int | None = None,
                 image_size: tuple[int, int] | None = None, head_classes: int | None = None) -> ImageData:
    """Load (or make) the named dataset. ``image_size`` (H, W) is used by ``folder:``,
    whose images come in any size and are resized while read. ``head_classes`` is the
    network's class count where the data is for a given network: imagenette on a
    1000-class head is read with ImageNet's class indices (see the module's docstring)."""
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
    elif kind == "imagenette" and head_classes == 1000:
        data = _imagenette_on_imagenet(path, test_size)
    else:
        if kind in ("cifar10", "cifar100"):
            data = files.load_cifar(path, classes=10 if kind == "cifar10" else 100)
        elif kind in ("mnist", "fashion-mnist"):
            data = files.load_idx(path, kind)
        else:
            data = files.load_folder(path, image_size)
    return subsample(data, train_size, test_size)


def _imagenette_on_imagenet(path: str, test_size: int | None) -> ImageData:
    """Imagenette's validation images with torchvision's ImageNet class indices."""
    from .imagenet import load_imagenet_val

    val = os.path.join(path, "val")
    if not os.path.isdir(val):
        raise DatasetError(f"imagenette: expected the validation folder {val} (class folders named by WordNet id)")
    data = load_imagenet_val(val, test_size)
    data.name = "imagenette (val)"
    data.subset = tuple(sorted(set(data.y_test.tolist())))
    return data
