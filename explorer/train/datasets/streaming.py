"""Image folders too big for memory: the list of files, and the per-image work a loader worker does.

``load_folder`` keeps a folder in memory (uint8 at the network's input size) while that
takes at most ``MEMORY_BUDGET`` bytes; above it (50,000 photos at 224x224 would take
7.5 GB) it returns a ``StreamingImages``: the file lists only. The images are then
decoded and resized in DataLoader worker processes, batch by batch (``stream_loader.py``).

The photo transforms (torchvision's ImageNet recipe, written here with Pillow):

- training: a random resized crop (a random 8% to 100% of the area, aspect ratio 3:4
  to 4:3, scaled to the input size) and a horizontal flip with probability 1/2;
- testing: the shorter side resized to 256/224 of the input size, the centre cropped.

The random draws of image ``i`` in epoch ``e`` come from a generator seeded with
``(seed, e, i)``, so which worker decodes it does not matter and a resumed run sees the
same crops.

Unreadable images. A copy of ImageNet has a few broken files, and a ten-hour run must not
die at hour nine on one. A worker never raises for an image it cannot read: it hands back
a blank image with the reason (``FolderDataset``), and the loader in the training process
applies the run's policy (``StreamSource``): ``skip`` (the default) leaves the image out
of its batch and remembers the file and why, so the run's notes can list them at the end;
``stop`` ends the run at the first one, naming it. A batch none of whose images can be read
(the folder was deleted mid-run) always ends the run, in one line.
"""
from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .base import DatasetError
from .disk import open_image

def _budget() -> int:
    """2 GB, or ``RESNET_EXPLORER_MEMORY_MB`` megabytes (0 streams every folder)."""
    text = os.environ.get("RESNET_EXPLORER_MEMORY_MB", "").strip()
    try:
        return int(float(text) * 1024 ** 2) if text else 2 * 1024 ** 3
    except ValueError:
        return 2 * 1024 ** 3


MEMORY_BUDGET = _budget()  # bytes of uint8 images held in memory before a folder is streamed
STATS_SAMPLE = 256  # images decoded to estimate a streamed set's mean and std
RESIZE_RATIO = 256 / 224  # test transform: resize the shorter side to this times the crop


@dataclass
class StreamingImages:
    """An image folder read from disk while training; duck-types the parts of ``ImageData`` the
    trainer reads (``name``, ``classes``, ``num_classes``, ``image_shape``, ``describe``)."""

    name: str
    classes: list[str]
    train_files: list[tuple[str, int]]
    test_files: list[tuple[str, int]]
    image_hw: tuple[int, int]
    channels: int = 3
    unreadable_policy: str = "skip"  # skip | stop: what an image that cannot be decoded does
    unreadable: dict = field(default_factory=dict)  # file -> why, for every image skipped so far
    streamed = True

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.channels, *self.image_hw)

    @property
    def train_count(self) -> int:
        return len(self.train_files)

    @property
    def test_count(self) -> int:
        return len(self.test_files)

    def in_memory_bytes(self) -> int:
        return (self.train_count + self.test_count) * self.channels * self.image_hw[0] * self.image_hw[1]

    def describe(self) -> str:
        c, h, w = self.image_shape
        return (f"{self.name}: {self.train_count:,} training and {self.test_count:,} test images, "
                f"{c}x{h}x{w}, {self.num_classes} classes, streamed from disk "
                f"({_bytes(self.in_memory_bytes())} in memory would exceed the {_bytes(MEMORY_BUDGET)} budget)")

    def subsample(self, train_size: int | None, test_size: int | None) -> "StreamingImages":
        """The same fixed subset ``base.subsample`` takes of an in-memory set."""
        def take(files, n, seed):
            if n is None or n >= len(files):
                return files
            if n < 1:
                raise DatasetError(f"dataset size must be at least 1, got {n}")
            idx = torch.randperm(len(files), generator=torch.Generator().manual_seed(seed))[:n].sort().values
            return [files[i] for i in idx.tolist()]

        return replace(self, train_files=take(self.train_files, train_size, 11),
                       test_files=take(self.test_files, test_size, 12))

    def sample_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel mean and std (0..1 scale) over an even spread of up to ``STATS_SAMPLE`` training
        images, test-transformed: the whole set would mean decoding every image once more."""
        from .base import channel_stats

        files = self.train_files
        picks = np.linspace(0, len(files) - 1, min(STATS_SAMPLE, len(files))).round().astype(int)
        arrays = []
        for i in picks:
            try:
                arrays.append(decode(files[i][0], self.image_hw, self.channels, None))
            except DatasetError as err:
                self.note_unreadable(files[i][0], str(err))
        if not arrays:
            raise DatasetError(f"{self.name}: none of the {len(picks)} images read to measure the mean and std "
                               f"could be decoded (the first: {next(iter(self.unreadable.values()))})")
        return channel_stats(torch.from_numpy(np.stack(arrays)))

    def note_unreadable(self, file: str, problem: str) -> None:
        """Apply the policy to an image that cannot be read: remember it (skip), or raise (stop)."""
        if self.unreadable_policy == "stop":
            raise DatasetError(f"{problem} (the run stops at the first unreadable image; "
                               f"with the default policy it would be skipped and counted)")
        self.unreadable.setdefault(file, problem)

    def unreadable_note(self, shown: int = 5) -> str | None:
        """The images skipped, in words (how many and which), or None."""
        if not self.unreadable:
            return None
        n = len(self.unreadable)
        listed = "; ".join(self.unreadable[f] for f in list(self.unreadable)[:shown])
        more = f"; and {n - shown:,} more" if n > shown else ""
        return (f"skipped {n:,} unreadable image{'s' if n != 1 else ''} of {self.name} "
                f"(left out of their batches, neither trained nor tested on): {listed}{more}")


def _bytes(n: int) -> str:
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def decode(file: str, hw: tuple[int, int], channels: int, rng: random.Random | None) -> np.ndarray:
    """One image as uint8 CxHxW: the training transform when ``rng`` is given, else the test one."""
    from PIL import Image

    h, w = hw
    with open_image(file) as im:
        if rng is None:
            short = max(1, round(min(h, w) * RESIZE_RATIO))
            scale = short / min(im.size)
            # JPEG: let libjpeg decode at 1/2, 1/4 or 1/8 of the size when that is still big enough
            im.draft("RGB", (max(1, int(im.size[0] * scale)), max(1, int(im.size[1] * scale))))
            im = im.convert("RGB" if channels == 3 else "L")
            iw, ih = im.size
            scale = short / min(iw, ih)
            size = (max(w, round(iw * scale)), max(h, round(ih * scale)))
            im = im.resize(size, Image.BILINEAR)
            left, top = int(round((size[0] - w) / 2.0)), int(round((size[1] - h) / 2.0))
            im = im.crop((left, top, left + w, top + h))
        else:
            im = im.convert("RGB" if channels == 3 else "L")
            box = random_resized_box(im.size, rng)
            im = im.resize((w, h), Image.BILINEAR, box=box)
            if rng.random() < 0.5:
                im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        array = np.array(im, dtype=np.uint8)
    return np.ascontiguousarray(array[None] if array.ndim == 2 else array.transpose(2, 0, 1))


def random_resized_box(size: tuple[int, int], rng: random.Random, scale=(0.08, 1.0),
                       ratio=(3 / 4, 4 / 3)) -> tuple[float, float, float, float]:
    """A crop box (left, top, right, bottom) of a random area fraction and aspect ratio; after ten
    misses, the largest centred box within the ratio range (torchvision's rule)."""
    width, height = size
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = round(math.sqrt(target * aspect))
        h = round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            top = rng.randint(0, height - h)
            left = rng.randint(0, width - w)
            return (left, top, left + w, top + h)
    in_ratio = width / height
    if in_ratio < ratio[0]:
        w, h = width, round(width / ratio[0])
    elif in_ratio > ratio[1]:
        h, w = height, round(height * ratio[1])
    else:
        w, h = width, height
    top, left = (height - h) // 2, (width - w) // 2
    return (left, top, left + w, top + h)


class FolderDataset(torch.utils.data.Dataset):
    """Items are ``(index, epoch)`` pairs (``stream_loader`` makes them); returns ``(uint8 CxHxW, label,
    index, problem)``: ``problem`` is empty, or says why the image could not be read (the image is then
    blank)."""

    def __init__(self, files: list[tuple[str, int]], hw: tuple[int, int], channels: int, train: bool, seed: int):
        self.files = files
        self.hw = tuple(hw)
        self.channels = channels
        self.train = train
        self.seed = seed

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, key):
        index, epoch = key if isinstance(key, tuple) else (key, 0)
        file, label = self.files[index]
        rng = random.Random(f"{self.seed}/{epoch}/{index}") if self.train else None
        try:
            return torch.from_numpy(decode(file, self.hw, self.channels, rng)), label, index, ""
        except DatasetError as err:  # the training process applies the policy (skip or stop)
            problem = str(err)
        except Exception as err:  # noqa: BLE001 - a worker must hand every failure back, in words
            problem = f"cannot read image {file}: {type(err).__name__}: {err}"
        return torch.zeros((self.channels, *self.hw), dtype=torch.uint8), label, index, problem


def streamed(path: str, classes: list[str], train_files, test_files, size) -> StreamingImages | None:
    """A ``StreamingImages`` when holding the folder in memory would pass the budget, else None."""
    data = StreamingImages(f"folder:{os.path.basename(os.path.normpath(path))}", classes, train_files,
                           test_files, tuple(size))
    return data if data.in_memory_bytes() > MEMORY_BUDGET else None


def held_in_memory(data, train: int | None, test: int | None, hint: str):
    """An evaluator's images in memory (drop-a-block's test split, the landscape's training subset):
    ``data`` itself when it is in memory, else the fixed subset of ``train`` / ``test`` images of a
    streamed folder (0: none; None: all) decoded with the test transform. A subset beyond the memory
    there is is refused, saying ``hint`` (the option that asks for fewer); an unreadable image is named."""
    from .base import ImageData

    if not getattr(data, "streamed", False):
        return data
    sub = data.subsample(train or None, test or None)
    train_files = [] if train == 0 else sub.train_files
    test_files = [] if test == 0 else sub.test_files
    c, h, w = sub.image_shape
    need = (len(train_files) + len(test_files)) * c * h * w
    from ..api import TrainingError
    from ..limits import available_memory, check_fits

    try:
        check_fits(need, f"{data.name}: {len(train_files) + len(test_files):,} images at {h}x{w}", available_memory())
    except TrainingError as err:
        raise DatasetError(f"{err}; {hint}") from None

    def read(files):
        x = torch.zeros((len(files), c, h, w), dtype=torch.uint8)
        for i, (file, _) in enumerate(files):
            x[i] = torch.from_numpy(decode(file, (h, w), c, None))
        return x, torch.tensor([label for _, label in files], dtype=torch.int64)

    x_train, y_train = read(train_files)
    x_test, y_test = read(test_files)
    return ImageData(data.name, data.classes, x_train, y_train, x_test, y_test)
