"""Datasets that need no files: the procedural ``shapes`` set and scikit-learn's ``digits``.

``shapes`` draws one of ten figures per 32x32 RGB image with a random position, size,
rotation, figure and background colour, a background gradient and pixel noise. Every
figure is an implicit function ("distance to the edge" in pixels, negative inside),
evaluated for a whole chunk of images at once with NumPy broadcasting, and turned into
an anti-aliased coverage mask. The classes differ in shape only, and rotation makes
the set rotation-invariant, so a network has to learn the figures rather than a colour
or a position. Train and test splits use different fixed seeds: the same set every time.
"""
from __future__ import annotations

import io
import zipfile

import numpy as np
import torch

from .base import DatasetError, ImageData, as_uint8_images

SHAPE_CLASSES = ["circle", "square", "triangle", "cross", "ring",
                 "star", "crescent", "bar", "frame", "pair"]

SIZE = 32
_TRAIN_SEED = 20_231
_TEST_SEED = 90_417


def _edge_distance(label: int, u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Approximate signed distance (pixels) to the figure's edge in its own rotated frame."""
    rad = np.hypot(u, v)
    au, av = np.abs(u), np.abs(v)
    if label == 0:  # circle
        return rad - r
    if label == 1:  # square
        return np.maximum(au, av) - 0.8 * r
    if label == 2:  # equilateral triangle: three half-planes
        d = np.maximum(v, np.maximum(-0.866 * u - 0.5 * v, 0.866 * u - 0.5 * v))
        return d - 0.5 * r
    if label == 3:  # plus-shaped cross
        w = 0.28 * r
        return np.minimum(np.maximum(au - w, av - r), np.maximum(av - w, au - r))
    if label == 4:  # ring
        return np.maximum(rad - r, 0.55 * r - rad)
    if label == 5:  # five-pointed star in polar form
        theta = np.arctan2(v, u)
        return rad - r * (0.62 + 0.38 * np.cos(5 * theta))
    if label == 6:  # crescent: a disc with a shifted disc taken out
        bite = np.hypot(u - 0.45 * r, v)
        return np.maximum(rad - r, 0.8 * r - bite)
    if label == 7:  # bar, 4:1
        return np.maximum(au - r, av - 0.3 * r)
    if label == 8:  # hollow square frame
        box = np.maximum(au, av)
        return np.maximum(box - 0.85 * r, 0.5 * r - box)
    # pair of dots
    return np.minimum(np.hypot(u - 0.55 * r, v), np.hypot(u + 0.55 * r, v)) - 0.38 * r


def _draw(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(labels)
    grid = np.arange(SIZE, dtype=np.float32) + 0.5
    yy, xx = grid[None, :, None], grid[None, None, :]
    r = rng.uniform(6.0, 11.0, n).astype(np.float32)[:, None, None]
    margin = 0.9 * r[:, 0, 0]  # figures stay (almost) whole: a clipped frame could pass for a bar
    cx = rng.uniform(margin, SIZE - margin).astype(np.float32)[:, None, None]
    cy = rng.uniform(margin, SIZE - margin).astype(np.float32)[:, None, None]
    angle = rng.uniform(0, 2 * np.pi, n).astype(np.float32)[:, None, None]
    cos, sin = np.cos(angle), np.sin(angle)
    dx, dy = xx - cx, yy - cy
    u = dx * cos + dy * sin
    v = -dx * sin + dy * cos
    dist = np.empty((n, SIZE, SIZE), dtype=np.float32)
    for label in range(len(SHAPE_CLASSES)):
        rows = labels == label
        if rows.any():
            dist[rows] = _edge_distance(label, u[rows], v[rows], r[rows])
    alpha = np.clip(0.5 - dist, 0.0, 1.0)[:, None]  # anti-aliased coverage [n, 1, H, W]

    # Background: a random colour with a random linear gradient; figure: a colour at least
    # some distance away so that every figure stays visible.
    bg = rng.uniform(0, 255, (n, 3, 1, 1)).astype(np.float32)
    slope = rng.normal(0, 1.5, (n, 3, 2)).astype(np.float32)
    ramp = slope[..., 0, None, None] * (xx[:, None] - SIZE / 2) + slope[..., 1, None, None] * (yy[:, None] - SIZE / 2)
    fg = rng.uniform(0, 255, (n, 3, 1, 1)).astype(np.float32)
    gap = fg - bg
    norm = np.sqrt((gap ** 2).sum(axis=1, keepdims=True)) + 1e-6
    too_close = norm < 110
    fg = np.where(too_close, (bg + 128.0) % 256.0, fg)  # every channel 128 away
    img = (bg + ramp) * (1 - alpha) + fg * alpha
    img += 6.0 * rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(img, 0, 255).round().astype(np.uint8)


def shapes_arrays(count: int, seed: int, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """``count`` balanced, shuffled images and labels from ``seed`` (uint8 [N, 3, 32, 32])."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % len(SHAPE_CLASSES)).astype(np.int64)
    images = np.empty((count, 3, SIZE, SIZE), dtype=np.uint8)
    for start in range(0, count, chunk):
        images[start:start + chunk] = _draw(labels[start:start + chunk], rng)
    return images, labels


def make_shapes(train_size: int = 10_000, test_size: int = 2_000) -> ImageData:
    x_train, y_train = shapes_arrays(train_size, _TRAIN_SEED)
    x_test, y_test = shapes_arrays(test_size, _TEST_SEED)
    return ImageData("shapes", list(SHAPE_CLASSES), as_uint8_images(x_train), torch.from_numpy(y_train),
                     as_uint8_images(x_test), torch.from_numpy(y_test))


DIGITS_FILE = "digits.npz"  # in the user's cache folder (train/cache.py)
DIGITS_COUNT = 1_797
DIGITS_PER_CLASS = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)  # scikit-learn's digits, 0 to 9
DIGITS_TEST_FRACTION = 0.2


def digits_test_per_class(test_fraction: float = DIGITS_TEST_FRACTION) -> list[int]:
    """How many images of each digit the fixed split keeps for testing (a fifth, rounded per class)."""
    return [int(round(n * test_fraction)) for n in DIGITS_PER_CLASS]


def digits_split_sizes(test_fraction: float = DIGITS_TEST_FRACTION) -> tuple[int, int]:
    """(training, test) images of ``load_digits32``'s split, without reading the images: 1,438 and 359.
    The one count the CLI's and the window's words use (a form said 1,437)."""
    test = sum(digits_test_per_class(test_fraction))
    return DIGITS_COUNT - test, test


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits: images [N, 8, 8] (0 to 16, float64) and labels, as ``load_digits`` gives them.

    Read with scikit-learn's public ``load_digits`` the first time, then kept in the user's cache
    folder as a 45 kB array file: importing scikit-learn brings in SciPy and about a thousand
    modules (0.9 CPU-s measured, 2.6 to 3.9 s of wall time on a loaded 2-core machine) at the start
    of every first experiment on digits, where the cached file reads in 0.002 CPU-s. A cached file
    that cannot be read, or holds anything but the digits, is made again; a cache folder that
    cannot be written only means the next start reads scikit-learn again.
    """
    from ..cache import cache_dir

    path = cache_dir() / DIGITS_FILE
    cached = _read_digits(path)
    if cached is not None:
        return cached
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images, target = bunch.images, bunch.target
    try:
        from ...spec.atomic import atomic_write_bytes

        buf = io.BytesIO()
        np.savez_compressed(buf, images=images.astype(np.uint8), target=target.astype(np.uint8))
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buf.getvalue())
    except OSError:
        pass  # a read-only or full cache folder: scikit-learn is read again next time
    return images, target


def _read_digits(path) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as d:  # the file closes even when
            images, target = d["images"], d["target"]  # numpy cannot read it
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # missing, cut short, not an array file
        return None
    if (images.shape != (DIGITS_COUNT, 8, 8) or target.shape != (DIGITS_COUNT,) or images.max() > 16
            or target.max() > 9):
        return None
    return images.astype(np.float64), target.astype(int)


def load_digits32(test_fraction: float = DIGITS_TEST_FRACTION) -> ImageData:
    """scikit-learn's 8x8 handwritten digits (1,797 images), bilinearly resized to 32x32 grey."""
    pixels, target = digits_arrays()
    images = torch.from_numpy(pixels.astype(np.float32) / 16.0)[:, None]  # [N, 1, 8, 8], 0..1
    big = torch.nn.functional.interpolate(images, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    x = (big.clamp(0, 1) * 255).round().to(torch.uint8)
    y = torch.from_numpy(target.astype(np.int64))
    # A fixed stratified split: the same test images every time.
    rng = np.random.default_rng(1234)
    test_idx = []
    for label, size in enumerate(digits_test_per_class(test_fraction)):
        rows = np.flatnonzero(target == label)
        if len(rows) != DIGITS_PER_CLASS[label]:
            raise DatasetError(f"digits: {len(rows)} images of {label}, expected {DIGITS_PER_CLASS[label]}")
        test_idx.extend(rng.choice(rows, size=size, replace=False))
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test_idx] = True
    train = torch.from_numpy(np.flatnonzero(~is_test))
    test = torch.from_numpy(np.flatnonzero(is_test))
    return ImageData("digits", [str(d) for d in range(10)], x[train], y[train], x[test], y[test])
