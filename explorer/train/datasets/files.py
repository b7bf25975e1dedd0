"""Datasets read from local disk: CIFAR pickle batches, IDX files (MNIST, Fashion-MNIST)
and image folders.

Each reader checks what it expects before reading and raises ``DatasetError`` with
the expected file and folder named, so "cifar10:~/data" pointing one level too high or
too low says which file it looked for and where.
"""
from __future__ import annotations

import gzip
import os
import pickle
import struct
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from .base import DatasetError, ImageData, as_uint8_images
from .disk import files_with, is_regular_file, open_image, subfolders

# -- CIFAR ---------------------------------------------------------------------------

_CIFAR_LAYOUT = {
    10: dict(folder="cifar-10-batches-py", train=[f"data_batch_{i}" for i in range(1, 6)],
             test=["test_batch"], meta="batches.meta", labels=b"labels", names=b"label_names"),
    100: dict(folder="cifar-100-python", train=["train"], test=["test"], meta="meta",
              labels=b"fine_labels", names=b"fine_label_names"),
}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles the dicts of NumPy arrays, lists and bytes that CIFAR files hold, nothing else
    (a pickle from an untrusted download must not run code)."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only arrays are expected)")


def _read_pickle(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            data = _ArrayUnpickler(f, encoding="bytes").load()
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as err:
        raise DatasetError(f"cannot read the CIFAR batch {path}: {err}") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path} is not a CIFAR batch: expected a pickled dict, found {type(data).__name__}")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in data.items()}


def _cifar_arrays(file: str, data, labels, labels_key: str) -> tuple[np.ndarray, np.ndarray]:
    """A batch's images ([N, 3072] bytes) and labels (N whole numbers), checked: ragged rows,
    text labels or images of another type each get their own message."""
    if not isinstance(data, np.ndarray):
        raise DatasetError(f"{file}: 'data' must be an array of images, found {type(data).__name__}")
    if data.dtype != np.uint8:
        raise DatasetError(f"{file}: 'data' must hold bytes (uint8), found {data.dtype}")
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetError(f"{file}: expected 'data' of shape [N, 3072], found {list(data.shape)}")
    if isinstance(labels, np.ndarray):
        ok = labels.ndim == 1 and np.issubdtype(labels.dtype, np.integer)
    else:
        ok = isinstance(labels, list) and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                              for v in labels)
    if not ok:
        raise DatasetError(f"{file}: '{labels_key}' must be a list of whole numbers (class indices)")
    y = np.asarray(labels, dtype=np.int64)
    if len(data) != len(y):
        raise DatasetError(f"{file}: {len(data):,} images but {len(y):,} labels")
    return data, y


def load_cifar(path: str, classes: int = 10) -> ImageData:
    layout = _CIFAR_LAYOUT[classes]
    root = path
    first = layout["train"][0]
    if not os.path.exists(os.path.join(root, first)) and os.path.isdir(os.path.join(root, layout["folder"])):
        root = os.path.join(root, layout["folder"])  # PATH is the folder the archive was unpacked in
    needed = layout["train"] + layout["test"]
    missing = [n for n in needed if not is_regular_file(os.path.join(root, n))]  # a looping link: named
    if missing:
        raise DatasetError(f"cifar{classes}: expected {', '.join(missing)} in {root} "
                           f"(the python version of CIFAR-{classes}, folder {layout['folder']})")
    labels_key = layout["labels"].decode()
    from ..limits import available_memory, check_fits

    try:  # the pickles are read whole: they must fit (twice: as read, then as arrays)
        check_fits(2 * sum(os.path.getsize(os.path.join(root, n)) for n in needed),
                   f"cifar{classes} in {root}", available_memory())
    except OSError as err:
        raise DatasetError(f"cifar{classes}: cannot read {root}: {err.strerror or err}") from None

    def read(names):
        xs, ys = [], []
        for name in names:
            file = os.path.join(root, name)
            batch = _read_pickle(file)
            if "data" not in batch or labels_key not in batch:
                raise DatasetError(f"{file}: expected keys 'data' and '{labels_key}', found {sorted(batch)}")
            x, y = _cifar_arrays(file, batch["data"], batch[labels_key], labels_key)
            xs.append(x.reshape(-1, 3, 32, 32))
            ys.append(y)
        return np.concatenate(xs), np.concatenate(ys)

    x_train, y_train = read(layout["train"])
    x_test, y_test = read(layout["test"])
    names = [str(i) for i in range(classes)]
    meta_path = os.path.join(root, layout["meta"])
    if is_regular_file(meta_path):
        names = _class_names(meta_path, layout["names"].decode(), classes) or names
    for file_labels, split in ((y_train, "training"), (y_test, "test")):
        if len(file_labels) and (file_labels.min() < 0 or file_labels.max() >= classes):
            raise DatasetError(f"cifar{classes} in {root}: {split} labels run from {file_labels.min()} "
                               f"to {file_labels.max()}, expected 0..{classes - 1}")
    return ImageData(f"cifar{classes}", names, as_uint8_images(x_train), torch.from_numpy(y_train),
                     as_uint8_images(x_test), torch.from_numpy(y_test))


def _class_names(meta_path: str, key: str, classes: int) -> list[str] | None:
    """The class names a CIFAR meta file lists under ``key``; None when it lists none or another
    number of them (the indices are used then). Anything but a list of names is refused."""
    raw = _read_pickle(meta_path).get(key)
    if raw is None:
        return None
    if isinstance(raw, np.ndarray):
        raw = raw.tolist() if raw.ndim == 1 else raw
    if not isinstance(raw, (list, tuple)) or not all(isinstance(n, (bytes, str)) for n in raw):
        found = type(raw).__name__ if not isinstance(raw, (list, tuple)) else "a list holding other things"
        raise DatasetError(f"{meta_path}: '{key}' must be a list of class names, found {found}")
    if len(raw) != classes:
        return None
    return [_shown(n.decode("utf-8", "backslashreplace") if isinstance(n, bytes) else n) for n in raw]


# -- IDX (MNIST, Fashion-MNIST) ---------------------------------------------------------

_IDX_FILES = {
    "train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte",
}
_FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
            "Ankle boot"]


def _find_idx(root: str, stem: str) -> str | None:
    for folder in (root, os.path.join(root, "raw")):
        for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
            candidate = os.path.join(folder, name)
            if is_regular_file(candidate):
                return candidate
    return None


def read_idx(path: str, dims: int) -> np.ndarray:
    """An IDX array of unsigned bytes. The header is checked before the body is read, so a
    header of 0x0 images, a count beyond the memory there is, or a damaged .gz each end in
    one ``DatasetError`` (a small .gz that would unpack to gigabytes is never unpacked)."""
    import zlib

    from ..limits import available_memory, human_bytes

    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4 + 4 * dims)
            if len(head) < 4 + 4 * dims:
                raise DatasetError(f"{path}: too short for an IDX file ({len(head)} bytes)")
            zero, dtype_code, ndim = struct.unpack(">HBB", head[:4])
            if zero != 0 or dtype_code != 0x08 or ndim != dims:
                raise DatasetError(f"{path}: expected an IDX file of unsigned bytes with {dims} dimension"
                                   f"{'s' if dims > 1 else ''} (magic 0x0000080{dims}), found magic "
                                   f"0x{head[:4].hex()}")
            shape = struct.unpack(f">{dims}I", head[4:4 + 4 * dims])
            if dims > 1 and min(shape[1:]) < 1:
                raise DatasetError(f"{path}: the header says images of {' x '.join(map(str, shape[1:]))} "
                                   "pixels; an image needs at least 1x1")
            count = int(np.prod(shape, dtype=np.int64))
            free = available_memory()
            if free is not None and count > free:
                raise DatasetError(f"{path}: the header says {' x '.join(map(str, shape))} = {count:,} bytes "
                                   f"({human_bytes(count)}), more than the {human_bytes(free)} of memory free")
            body = f.read(count + 1)
    except DatasetError:
        raise
    except (OSError, EOFError, zlib.error) as err:
        raise DatasetError(f"cannot read {path}: {err} (a damaged or truncated file?)") from None
    if len(body) != count:
        raise DatasetError(f"{path}: header says {' x '.join(map(str, shape))} = {count:,} bytes, "
                           f"file holds {'more' if len(body) > count else f'{len(body):,}'}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def load_idx(path: str, kind: str) -> ImageData:
    found = {key: _find_idx(path, stem) for key, stem in _IDX_FILES.items()}
    missing = [_IDX_FILES[k] for k, v in found.items() if v is None]
    if missing:
        raise DatasetError(f"{kind}: expected {', '.join(missing)} (optionally .gz) in {path}")
    arrays = {}
    for key, file in found.items():
        arrays[key] = read_idx(file, 3 if key.endswith("images") else 1)
    for split in ("train", "test"):
        n_img, n_lab = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
        if n_img != n_lab:
            raise DatasetError(f"{kind} in {path}: {n_img:,} {split} images but {n_lab:,} labels")
        if n_lab and arrays[f"{split}_labels"].max() > 9:
            raise DatasetError(f"{kind} in {path}: {split} labels go up to "
                               f"{arrays[f'{split}_labels'].max()}, expected 0..9")
    names = _FASHION if kind == "fashion-mnist" else [str(d) for d in range(10)]
    return ImageData(kind, list(names),
                     as_uint8_images(arrays["train_images"][:, None]),
                     torch.from_numpy(arrays["train_labels"].astype(np.int64)),  # astype copies
                     as_uint8_images(arrays["test_images"][:, None]),
                     torch.from_numpy(arrays["test_labels"].astype(np.int64)))


# -- image folders ----------------------------------------------------------------------

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def _class_folders(root: str) -> list[str]:
    return [e.name for e in subfolders(root)]


def _images_in(folder: str) -> list[str]:
    return files_with(folder, IMAGE_EXTENSIONS)


def _class_images(root: str, classes: list[str]) -> list[list[str]]:
    """Each class folder's images; a class folder with none is named (it would silently
    become a class the network never sees)."""
    found = [_images_in(os.path.join(root, c)) for c in classes]
    empty = [c for c, files in zip(classes, found) if not files]
    if empty:
        more = f" (and {len(empty) - 1} more: {', '.join(_shown(c) for c in empty[1:4])}" \
               f"{', ...' if len(empty) > 4 else ''})" if len(empty) > 1 else ""
        raise DatasetError(f"image folder {root}: the class folder {_shown(empty[0])!r} holds no images{more} "
                           f"(expected {', '.join(IMAGE_EXTENSIONS)} files); add images or remove the folder")
    return found


def load_folder(path: str, image_size: tuple[int, int] | None, test_fraction: float = 0.2) -> ImageData:
    """One sub-folder of images per class. With ``train/`` and ``test/`` (or ``val/``)
    sub-folders those are the splits; otherwise a fixed fifth of each class is held out.
    Images are read as RGB and resized to ``image_size`` (H, W; default 32x32). A folder
    whose images would take more than ``streaming.MEMORY_BUDGET`` bytes in memory comes back
    as a ``StreamingImages`` (file lists, decoded while training)."""
    try:
        from PIL import Image  # noqa: F401
    except ImportError:
        raise DatasetError("reading an image folder needs Pillow: pip install pillow") from None
    size = tuple(image_size or (32, 32))
    split_dirs = {name: os.path.join(path, name) for name in ("train", "test", "val")
                  if os.path.isdir(os.path.join(path, name))}
    if "train" in split_dirs and ("test" in split_dirs or "val" in split_dirs):
        train_root = split_dirs["train"]
        test_root = split_dirs.get("test", split_dirs.get("val"))
        classes = _class_folders(train_root)
        _check_classes(train_root, classes)
        test_classes = _class_folders(test_root)
        unknown = sorted(set(test_classes) - set(classes))
        if unknown:
            raise DatasetError(f"folder {test_root} has class folders {', '.join(unknown)} "
                               f"that {train_root} does not have")
        train_files = [(f, i) for i, files in enumerate(_class_images(train_root, classes)) for f in files]
        test_files = [(f, classes.index(c)) for c, files in zip(test_classes, _class_images(test_root, test_classes))
                      for f in files]
    else:
        classes = _class_folders(path)
        _check_classes(path, classes)
        rng = np.random.default_rng(4321)
        train_files, test_files = [], []
        for i, files in enumerate(_class_images(path, classes)):
            held = set(rng.permutation(len(files))[:int(round(len(files) * test_fraction))].tolist())
            if len(files) >= 2 and not held:
                held = {len(files) - 1}
            for j, f in enumerate(files):
                (test_files if j in held else train_files).append((f, i))
    for files, split in ((train_files, "training"), (test_files, "test")):
        if not files:
            raise DatasetError(f"image folder {path}: no {split} images found "
                               f"(expected {', '.join(IMAGE_EXTENSIONS)} files in the class folders)")
    # folder names are shown as class names (the app, the CLI): control characters and undecodable
    # bytes are shown escaped, so a hostile download cannot drive the terminal
    classes = [_shown(c) for c in classes]
    from .streaming import streamed
    big = streamed(path, classes, train_files, test_files, size)
    if big is not None:  # over the memory budget: decoded batch by batch while training
        return big
    x_train, y_train = _read_images(train_files, size)
    x_test, y_test = _read_images(test_files, size)
    return ImageData(f"folder:{os.path.basename(os.path.normpath(path))}", classes,
                     x_train, y_train, x_test, y_test)


def _shown(name: str) -> str:
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name)


def _check_classes(root: str, classes: list[str]) -> None:
    if len(classes) < 2:
        found = f"found {len(classes)}: {classes[0]}" if classes else "found none"
        raise DatasetError(f"image folder {root}: expected one sub-folder of images per class, "
                           f"at least two classes; {found}")


def _read_one(item, size):
    from PIL import Image

    file, _ = item
    with open_image(file) as im:
        im = im.convert("RGB")
        if im.size != (size[1], size[0]):
            im = im.resize((size[1], size[0]), Image.BILINEAR)
        return np.asarray(im, dtype=np.uint8).transpose(2, 0, 1)


def _read_images(files, size) -> tuple[torch.Tensor, torch.Tensor]:
    workers = min(8, os.cpu_count() or 1)
    if len(files) < 64 or workers == 1:
        arrays = [_read_one(item, size) for item in files]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:  # Pillow decodes without the GIL
            arrays = list(pool.map(lambda item: _read_one(item, size), files, chunksize=32))
    x = torch.from_numpy(np.stack(arrays))
    y = torch.tensor([label for _, label in files], dtype=torch.int64)
    return x, y
