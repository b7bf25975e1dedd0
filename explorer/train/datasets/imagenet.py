"""ImageNet validation images from a folder the user already has (``imagenet-val:PATH``).

Two layouts are read:

- class folders named by WordNet id: ``PATH/n01440764/ILSVRC2012_val_00000293.JPEG``;
- a flat folder of images with a labels file ``PATH/labels.txt``: one line per image,
  ``FILENAME LABEL``, where LABEL is a WordNet id (``n01440764``) or a class index 0..999
  in torchvision's order; blank lines and lines starting with ``#`` are ignored.

Class indices are torchvision's: the position of the WordNet id in the sorted list of
the 1000 ILSVRC-2012 ids (``imagenet_wnids.py``; index 0 is n01440764, tench). Every
image gets the standard evaluation transform: the shorter side resized to 256
(bilinear, antialiased), the centre 224x224 cropped; the loader then normalises with
ImageNet's mean and std. Nothing is downloaded.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import torch

from ...spec.params import whole_number
from .base import DatasetError, ImageData
from .disk import files_with, is_regular_file, open_image, subfolders, text_lines

RESIZE = 256
CROP = 224
LABELS_FILE = "labels.txt"
IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png", ".bmp", ".webp", ".tif", ".tiff")


@lru_cache(maxsize=1)
def imagenet_wnids() -> tuple[str, ...]:
    """The 1000 ILSVRC-2012 WordNet ids in torchvision's class order (sorted)."""
    from .imagenet_wnids import WNIDS_TEXT

    wnids = tuple(WNIDS_TEXT.split())
    assert len(wnids) == 1000 and list(wnids) == sorted(wnids), "imagenet_wnids.py is damaged"
    return wnids


def class_index(label: str, where: str) -> int:
    """A WordNet id or a 0..999 index as torchvision's class index; ``DatasetError`` otherwise."""
    wnids = imagenet_wnids()
    text = label.strip()
    value = whole_number(text)  # ASCII digits only: '²' is not a class index
    if value is not None:
        if value < len(wnids):
            return value
        raise DatasetError(f"{where}: class index {value} is outside 0..999")
    try:
        return _index_of()[text]
    except KeyError:
        raise DatasetError(f"{where}: {text!r} is not one of the 1000 ImageNet WordNet ids "
                           f"(like n01440764) nor a class index 0..999") from None


@lru_cache(maxsize=1)
def _index_of() -> dict[str, int]:
    return {w: i for i, w in enumerate(imagenet_wnids())}


def list_images(path: str) -> list[tuple[str, int]]:
    """``(file, class index)`` for every image, sorted by file path."""
    if not os.path.isdir(path):
        found = "found a file" if os.path.isfile(path) else "nothing is there"
        raise DatasetError(f"imagenet-val: expected a folder at {path}; {found}")
    labels_path = os.path.join(path, LABELS_FILE)
    folders = [e.name for e in subfolders(path)]
    if is_regular_file(labels_path):
        items = _from_labels_file(path, labels_path)
    elif folders:
        items = []
        for name in folders:
            index = class_index(name, f"imagenet-val: class folder {os.path.join(path, name)}")
            items.extend((file, index) for file in files_with(os.path.join(path, name), IMAGE_EXTENSIONS))
    else:
        raise DatasetError(f"imagenet-val: {path} has neither class folders named by WordNet id "
                           f"(n01440764/...) nor a {LABELS_FILE} (lines of 'FILENAME WNID' or "
                           f"'FILENAME INDEX')")
    if not items:
        raise DatasetError(f"imagenet-val: no images found in {path} "
                           f"(expected {', '.join(IMAGE_EXTENSIONS)} files)")
    return sorted(items)


def _from_labels_file(root: str, labels_path: str) -> list[tuple[str, int]]:
    items = []
    for number, line in enumerate(text_lines(labels_path, "imagenet-val: the labels file"), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.replace(",", " ").split()
        where = f"imagenet-val: {labels_path} line {number}"
        if len(parts) != 2:
            raise DatasetError(f"{where}: expected 'FILENAME LABEL', found {text!r}")
        file = os.path.join(root, parts[0])
        if not is_regular_file(file):
            raise DatasetError(f"{where}: {parts[0]} is not in {root}")
        items.append((file, class_index(parts[1], where)))
    return items


def evaluation_transform(file: str, resize: int = RESIZE, crop: int = CROP) -> np.ndarray:
    """The standard evaluation transform as uint8 CxHxW: shorter side to ``resize``, centre ``crop``.

    Sizes follow torchvision's ``Resize(256)`` + ``CenterCrop(224)``: the longer side becomes
    ``int(resize * long / short)``; the crop starts at ``round((size - crop) / 2)``.
    """
    from PIL import Image

    with open_image(file) as im:
        im = im.convert("RGB")
        w, h = im.size
        if w <= h:
            size = (resize, int(resize * h / w))
        else:
            size = (int(resize * w / h), resize)
        if size != (w, h):
            im = im.resize(size, Image.BILINEAR)
        w, h = size
        top, left = int(round((h - crop) / 2.0)), int(round((w - crop) / 2.0))
        im = im.crop((left, top, left + crop, top + crop))
        return np.ascontiguousarray(np.array(im, dtype=np.uint8).transpose(2, 0, 1))


def spread(items: list, count: int | None) -> list:
    """``count`` items spread evenly over the sorted list (all when None or more than there are)."""
    if count is None or count >= len(items):
        return items
    if count < 1:
        raise DatasetError(f"dataset size must be at least 1, got {count}")
    picks = np.linspace(0, len(items) - 1, count).round().astype(int)
    return [items[i] for i in picks]


def load_imagenet_val(path: str, limit: int | None = None) -> ImageData:
    """Up to ``limit`` validation images, transformed, as the test split (the training split is empty)."""
    try:
        from PIL import Image  # noqa: F401
    except ImportError:
        raise DatasetError("reading images needs Pillow: pip install pillow") from None
    items = spread(list_images(path), limit)
    workers = min(8, os.cpu_count() or 1)
    if len(items) < 16 or workers == 1:
        arrays = [evaluation_transform(f) for f, _ in items]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:  # Pillow decodes without the GIL
            arrays = list(pool.map(lambda item: evaluation_transform(item[0]), items, chunksize=8))
    x = torch.from_numpy(np.stack(arrays))
    y = torch.tensor([label for _, label in items], dtype=torch.int64)
    empty = torch.zeros((0, 3, CROP, CROP), dtype=torch.uint8)
    return ImageData(f"imagenet-val:{os.path.basename(os.path.normpath(path))}", list(imagenet_wnids()),
                     empty, torch.zeros(0, dtype=torch.int64), x, y)
