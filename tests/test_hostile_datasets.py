"""Dataset files that are the right format with the wrong content, each with its own message:
decompression bombs, unreadable class folders, CIFAR batches with text labels or ragged rows,
damaged MNIST .gz files, IDX headers of 0x0 images or of more bytes than there is memory."""
import gzip
import os
import pickle
import struct
import zlib

import numpy as np
import pytest

from explorer.cli import main
from explorer.train.datasets import DatasetError, load_dataset


def _png_header(path, width, height):
    """A PNG whose header claims width x height pixels; the file itself is tiny."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def _png(path, size=(8, 8)):
    from PIL import Image

    Image.new("RGB", size, (200, 30, 30)).save(path)


def _image_folder(root, per_class=3):
    for c in ("cats", "dogs"):
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            _png(root / c / f"{i}.png")
    return root


@pytest.mark.parametrize("side, expected", [(9000, "claims 9,000x9,000 pixels"), (30000, "is refused")])
def test_a_decompression_bomb_is_refused_before_decoding(tmp_path, side, expected):
    root = _image_folder(tmp_path / "photos")
    _png_header(root / "cats" / "bomb.png", side, side)
    with pytest.raises(DatasetError) as info:
        load_dataset(f"folder:{root}")
    assert "bomb.png" in str(info.value) and expected in str(info.value)


def test_an_unreadable_class_folder_is_named(tmp_path, monkeypatch):
    root = _image_folder(tmp_path / "photos")
    real = os.scandir
    locked = str(root / "dogs")

    def scandir(path="."):
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(DatasetError, match=f"cannot read the folder {locked}: Permission denied"):
        load_dataset(f"folder:{root}")


def _cifar(folder, data, labels):
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": labels}, f)


@pytest.mark.parametrize("data, labels, expected", [
    (np.zeros((2, 3072), np.uint8), ["cat", "dog"], "'labels' must be a list of whole numbers"),
    (np.zeros((2, 3072), np.uint8), [0.5, 1.0], "'labels' must be a list of whole numbers"),
    ([np.zeros(3072, np.uint8), np.zeros(100, np.uint8)], [0, 1], "'data' must be an array of images, found list"),
    (np.zeros((2, 3072), np.float32), [0, 1], "'data' must hold bytes (uint8), found float32"),
    (np.zeros((2, 3000), np.uint8), [0, 1], "expected 'data' of shape [N, 3072], found [2, 3000]"),
    (np.zeros((2, 3072), np.uint8), [0, 1, 2], "2 images but 3 labels"),
], ids=["text labels", "fractional labels", "ragged rows", "float pixels", "wrong width", "count mismatch"])
def test_cifar_batches_with_wrong_content(tmp_path, data, labels, expected):
    _cifar(tmp_path, data, labels)
    with pytest.raises(DatasetError) as info:
        load_dataset(f"cifar10:{tmp_path}")
    assert expected in str(info.value) and "data_batch_1" in str(info.value)


def _idx_bytes(shape, body=b""):
    return struct.pack(">HBB", 0, 8, len(shape)) + struct.pack(f">{len(shape)}I", *shape) + body


def _mnist(folder, train_images: bytes, gz=False):
    def put(name, raw):
        path = folder / (name + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(raw) if gz else raw)

    put("train-images-idx3-ubyte", train_images)
    put("train-labels-idx1-ubyte", _idx_bytes((2,), bytes([0, 1])))
    put("t10k-images-idx3-ubyte", _idx_bytes((1, 4, 4), bytes(16)))
    put("t10k-labels-idx1-ubyte", _idx_bytes((1,), bytes([0])))


def test_an_idx_header_of_0x0_images_is_refused(tmp_path):
    _mnist(tmp_path, _idx_bytes((2, 0, 0)))
    with pytest.raises(DatasetError, match="images of 0 x 0 pixels; an image needs at least 1x1"):
        load_dataset(f"mnist:{tmp_path}")


def test_an_idx_header_beyond_memory_is_refused_before_reading(tmp_path):
    _mnist(tmp_path, _idx_bytes((2 ** 31, 2 ** 15, 2 ** 15)), gz=True)
    with pytest.raises(DatasetError, match=r"more than the .* of memory free"):
        load_dataset(f"mnist:{tmp_path}")


@pytest.mark.parametrize("damage", ["flipped", "truncated"])
def test_a_damaged_mnist_gz_is_named(tmp_path, damage):
    _mnist(tmp_path, _idx_bytes((2, 4, 4), bytes(range(32))), gz=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    if damage == "flipped":
        for i in range(12, len(raw) - 8):
            raw[i] ^= 0x5A
    else:
        raw = raw[:len(raw) // 2]
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetError) as info:
        load_dataset(f"mnist:{tmp_path}")
    assert str(info.value).startswith(f"cannot read {path}") and "damaged or truncated" in str(info.value)


def test_the_cli_reports_a_bad_dataset_in_one_line(tmp_path, tiny_net, capsys):
    _mnist(tmp_path, _idx_bytes((2, 0, 0)))
    assert main(["train", tiny_net, "--dataset", f"mnist:{tmp_path}", "--steps", "1", "--progress", "none"]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("error: ") and "at least 1x1" in err


def test_class_folder_names_are_shown_without_escape_sequences(tmp_path):
    root = _image_folder(tmp_path / "photos")
    (root / "dogs").rename(root / "\x1b[2Jdogs")
    data = load_dataset(f"folder:{root}")
    assert data.classes == ["\\x1b[2Jdogs", "cats"] or data.classes == ["cats", "\\x1b[2Jdogs"]
    assert all("\x1b" not in c for c in data.classes) and len(data.y_train) + len(data.y_test) == 6
