"""What every dataset is made of: ``ImageData``, ``DatasetError`` and the helpers that
subsample, convert and measure a set. The readers (``files.py``, ``procedural.py``) and
the name resolver (``names.py``) build on this module; it imports none of them.

Every loader returns an ``ImageData``: images as ``uint8 [N, C, H, W]`` tensors for
the train and test splits, int64 labels and class names. ``conform`` brings the
channels in line with a network's input (grey to RGB by replication, RGB to grey by
the mean); spatial resizing happens per batch on the training device (see
``train/loader.py``) so that a 224x224 network can train on 32x32 data without holding an
upsampled copy of the whole set.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..api import TrainingError


class DatasetError(TrainingError):
    """A dataset that cannot be read; the message names what was expected where."""


@dataclass
class ImageData:
    name: str
    classes: list[str]
    x_train: torch.Tensor  # uint8 [N, C, H, W]
    y_train: torch.Tensor  # int64 [N]
    x_test: torch.Tensor
    y_test: torch.Tensor
    # the classes a subset of a larger label space draws from (imagenette on ImageNet's 1000
    # indices): accuracy is then also measured among these only; None for a whole label space
    subset: tuple[int, ...] | None = None

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    def describe(self) -> str:
        c, h, w = self.image_shape
        return (f"{self.name}: {len(self.y_train):,} training and {len(self.y_test):,} test images, "
                f"{c}x{h}x{w}, {self.num_classes} classes")


def subsample(data: ImageData, train_size: int | None, test_size: int | None) -> ImageData:
    """The first ``train_size`` / ``test_size`` images of a fixed shuffle (the same subset every time)."""
    if getattr(data, "streamed", False):
        return data.subsample(train_size, test_size)

    def take(x, y, n, seed):
        if n is None or n >= len(y):
            return x, y
        if n < 1:
            raise DatasetError(f"dataset size must be at least 1, got {n}")
        idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:n]
        idx, _ = idx.sort()
        return x[idx], y[idx]

    x_train, y_train = take(data.x_train, data.y_train, train_size, 11)
    x_test, y_test = take(data.x_test, data.y_test, test_size, 12)
    return ImageData(data.name, data.classes, x_train, y_train, x_test, y_test, data.subset)


def conform_channels(data: ImageData, channels: int) -> tuple[ImageData, str | None]:
    """Convert images to ``channels`` channels; returns the data and a note when converted."""
    have = data.image_shape[0]
    if have == channels:
        return data, None
    if getattr(data, "streamed", False):  # the loader's workers decode to the channels asked for
        from dataclasses import replace
        return replace(data, channels=channels), f"{data.name} images are decoded as {channels}-channel images"

    def convert(x: torch.Tensor) -> torch.Tensor:
        if have == 1:
            return x.expand(-1, channels, -1, -1).contiguous()
        if channels == 1:
            return x.float().mean(dim=1, keepdim=True).round().to(torch.uint8)
        raise DatasetError(f"cannot convert {have}-channel images to {channels} channels "
                           "(grey and RGB are supported)")

    note = (f"{data.name} images have {have} channel{'s' if have > 1 else ''}; "
            f"converted to the network's {channels} "
            f"({'replicating grey' if have == 1 else 'averaging colours'})")
    return ImageData(data.name, data.classes, convert(data.x_train), data.y_train,
                     convert(data.x_test), data.y_test), note


def channel_stats(x: torch.Tensor, chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images on the 0..1 scale (float64 sums, chunked)."""
    c = x.shape[1]
    total = torch.zeros(c, dtype=torch.float64, device=x.device)
    sq = torch.zeros(c, dtype=torch.float64, device=x.device)
    for i in range(0, len(x), chunk):
        part = x[i:i + chunk].to(torch.float64) / 255.0
        total += part.sum(dim=(0, 2, 3))
        sq += (part * part).sum(dim=(0, 2, 3))
    n = len(x) * x.shape[2] * x.shape[3]
    mean = total / max(n, 1)
    std = (sq / max(n, 1) - mean * mean).clamp_min(0).sqrt().clamp_min(1e-3)
    return mean.float(), std.float()


def as_uint8_images(array: np.ndarray) -> torch.Tensor:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if not array.flags.writeable:  # frombuffer views of file bytes are read-only
        array = array.copy()
    return torch.from_numpy(array)
