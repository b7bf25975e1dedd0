"""Datasets: the procedural sets, every file format from test-made files, and the batch source."""
import gzip
import os
import pickle
import struct

import numpy as np
import pytest
import torch

from explorer.train.datasets import (DatasetError, channel_stats, conform_channels, load_dataset,
                                     parse_name)
from explorer.train.datasets.procedural import SHAPE_CLASSES, digits_split_sizes, make_shapes
from explorer.train.loader import BatchSource


# -- procedural -----------------------------------------------------------------------

def test_shapes_is_deterministic_balanced_and_varied():
    a = make_shapes(200, 50)
    b = make_shapes(200, 50)
    assert a.x_train.shape == (200, 3, 32, 32) and a.x_train.dtype == torch.uint8
    assert a.x_test.shape == (50, 3, 32, 32)
    assert a.classes == SHAPE_CLASSES and len(a.classes) == 10
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_train, b.y_train)
    assert torch.bincount(a.y_train, minlength=10).tolist() == [20] * 10
    # train and test are different images, and no two images are the same
    assert not torch.equal(a.x_train[:50], a.x_test)
    flat = a.x_train.reshape(200, -1).float()
    assert torch.cdist(flat, flat).add(torch.eye(200) * 1e9).min() > 100
    # colours and positions vary, so the class is not readable from the mean colour
    means = a.x_train.float().mean(dim=(2, 3))
    assert means.std(dim=0).min() > 20


def test_digits_are_32x32_grey_with_a_fixed_split():
    data = load_dataset("digits")
    assert data.image_shape == (1, 32, 32)
    assert data.num_classes == 10
    assert len(data.y_train) + len(data.y_test) == 1797
    # the count the CLI prints and the experiment form names: one rule, 1,438 and 359
    assert (len(data.y_train), len(data.y_test)) == digits_split_sizes() == (1438, 359)
    assert torch.equal(data.y_test, load_dataset("digits").y_test)
    assert data.x_train.max() > 200  # scaled to the full 0..255 range


def test_subsampling_keeps_a_fixed_subset():
    small = load_dataset("shapes", train_size=64, test_size=16)
    assert len(small.y_train) == 64 and len(small.y_test) == 16
    assert torch.equal(small.x_train, load_dataset("shapes", train_size=64, test_size=16).x_train)


def test_dataset_names_are_checked():
    assert parse_name("cifar10:/x/y") == ("cifar10", "/x/y")
    with pytest.raises(DatasetError, match="unknown dataset 'imagenet'"):
        parse_name("imagenet")
    with pytest.raises(DatasetError, match="cifar10:PATH"):
        parse_name("cifar10")


# -- CIFAR ----------------------------------------------------------------------------

def _cifar_batch(path, n, labels_key, seed):
    rng = np.random.default_rng(seed)
    data = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            labels_key: rng.integers(0, 10, n).tolist(), b"batch_label": b"test batch"}
    with open(path, "wb") as f:
        pickle.dump(data, f)
    return data


def test_cifar10_loads_the_python_batches(tmp_path):
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    batches = [_cifar_batch(root / f"data_batch_{i}", 4, b"labels", i) for i in range(1, 6)]
    _cifar_batch(root / "test_batch", 3, b"labels", 9)
    with open(root / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [n.encode() for n in
                                      "airplane automobile bird cat deer dog frog horse ship truck".split()]}, f)
    # PATH may be the batches folder or the folder the archive was unpacked in
    for path in (root, tmp_path):
        data = load_dataset(f"cifar10:{path}")
        assert data.x_train.shape == (20, 3, 32, 32) and data.x_test.shape == (3, 3, 32, 32)
        assert data.classes[0] == "airplane" and data.num_classes == 10
        assert data.y_train[:4].tolist() == batches[0][b"labels"]
        assert data.x_train[0, 0, 0, :4].tolist() == batches[0][b"data"][0, :4].tolist()


def test_cifar10_missing_batch_names_file_and_folder(tmp_path):
    for i in (1, 2, 4, 5):
        _cifar_batch(tmp_path / f"data_batch_{i}", 2, b"labels", i)
    _cifar_batch(tmp_path / "test_batch", 2, b"labels", 7)
    with pytest.raises(DatasetError, match=r"data_batch_3 in .*" + tmp_path.name):
        load_dataset(f"cifar10:{tmp_path}")


def test_cifar100_uses_fine_labels_and_refuses_code_in_pickles(tmp_path):
    _cifar_batch(tmp_path / "train", 6, b"fine_labels", 1)
    _cifar_batch(tmp_path / "test", 2, b"fine_labels", 2)
    with open(tmp_path / "meta", "wb") as f:
        pickle.dump({b"fine_label_names": [f"c{i}".encode() for i in range(100)]}, f)
    data = load_dataset(f"cifar100:{tmp_path}")
    assert data.num_classes == 100 and data.classes[5] == "c5" and len(data.y_train) == 6

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with open(tmp_path / "train", "wb") as f:
        pickle.dump({b"data": Evil()}, f)
    with pytest.raises(DatasetError, match="refusing to load"):
        load_dataset(f"cifar100:{tmp_path}")


def test_malformed_cifar_batch_is_reported(tmp_path):
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        _cifar_batch(tmp_path / name, 2, b"labels", 3)
    with open(tmp_path / "data_batch_2", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(DatasetError, match=r"data_batch_2: expected 'data' of shape \[N, 3072\]"):
        load_dataset(f"cifar10:{tmp_path}")


# -- IDX --------------------------------------------------------------------------------

def _idx(path, array, gz):
    header = struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if gz else open
    with opener(str(path) + (".gz" if gz else ""), "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _write_mnist(folder, gz, n_train=5, n_test=3):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n_train, 28, 28))
    _idx(folder / "train-images-idx3-ubyte", images, gz)
    _idx(folder / "train-labels-idx1-ubyte", np.arange(n_train) % 10, gz)
    _idx(folder / "t10k-images-idx3-ubyte", rng.integers(0, 256, (n_test, 28, 28)), gz)
    _idx(folder / "t10k-labels-idx1-ubyte", np.arange(n_test) % 10, gz)
    return images


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_files_load_plain_or_gzipped(tmp_path, gz):
    images = _write_mnist(tmp_path, gz)
    data = load_dataset(f"mnist:{tmp_path}")
    assert data.x_train.shape == (5, 1, 28, 28) and data.x_test.shape == (3, 1, 28, 28)
    assert data.x_train[2, 0].numpy().tolist() == images[2].tolist()
    assert data.y_train.tolist() == [0, 1, 2, 3, 4]


def test_fashion_mnist_names_and_bad_magic(tmp_path):
    _write_mnist(tmp_path, gz=True)
    assert load_dataset(f"fashion-mnist:{tmp_path}").classes[9] == "Ankle boot"
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(b"\x00\x00\x08\x03" + b"\x00" * 20)
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte.gz: expected an IDX file"):
        load_dataset(f"fashion-mnist:{tmp_path}")


def test_mnist_missing_files_and_folder(tmp_path):
    with pytest.raises(DatasetError, match=r"expected train-images-idx3-ubyte.*in " + str(tmp_path)):
        load_dataset(f"mnist:{tmp_path}")
    with pytest.raises(DatasetError, match="expected a folder at .*nowhere; nothing is there"):
        load_dataset(f"mnist:{tmp_path / 'nowhere'}")


# -- image folders ------------------------------------------------------------------------

def _png(path, colour, size=(20, 14)):
    from PIL import Image
    Image.new("RGB", size, colour).save(path)


def test_image_folder_with_class_subfolders(tmp_path):
    for name, colour in (("cats", (255, 0, 0)), ("dogs", (0, 0, 255))):
        (tmp_path / name).mkdir()
        for i in range(5):
            _png(tmp_path / name / f"{i}.png", colour)
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    data = load_dataset(f"folder:{tmp_path}", image_size=(16, 16))
    assert data.classes == ["cats", "dogs"]
    assert data.x_train.shape[1:] == (3, 16, 16)
    assert len(data.y_train) == 8 and len(data.y_test) == 2 and sorted(data.y_test.tolist()) == [0, 1]
    red = data.x_train[data.y_train == 0]
    assert red[:, 0].min() == 255 and red[:, 2].max() == 0


def test_image_folder_with_train_and_test_splits(tmp_path):
    for split, n in (("train", 3), ("test", 2)):
        for name in ("a", "b", "c"):
            (tmp_path / split / name).mkdir(parents=True)
            for i in range(n):
                _png(tmp_path / split / name / f"{i}.jpg", (10, 200, 30))
    data = load_dataset(f"folder:{tmp_path}")
    assert (len(data.y_train), len(data.y_test)) == (9, 6)
    assert data.image_shape == (3, 32, 32)


def test_image_folder_problems_are_named(tmp_path):
    (tmp_path / "only").mkdir()
    _png(tmp_path / "only" / "x.png", (0, 0, 0))
    with pytest.raises(DatasetError, match="one sub-folder of images per class.*found 1: only"):
        load_dataset(f"folder:{tmp_path}")
    (tmp_path / "other").mkdir()
    for i in range(3):
        _png(tmp_path / "other" / f"{i}.png", (9, 9, 9))
    (tmp_path / "only" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="cannot read image .*broken.png"):
        load_dataset(f"folder:{tmp_path}")


# -- conversion and batches ---------------------------------------------------------------

def test_channel_conversion_both_ways():
    data = make_shapes(10, 10)
    grey, note = conform_channels(data, 1)
    assert grey.image_shape == (1, 32, 32) and "averaging" in note
    expected = data.x_train[:, :, 3, 4].float().mean(1).round()
    assert torch.equal(grey.x_train[:, 0, 3, 4].float(), expected)
    rgb, note = conform_channels(grey, 3)
    assert rgb.image_shape == (3, 32, 32) and "replicating" in note
    assert torch.equal(rgb.x_train[:, 0], rgb.x_train[:, 2])
    assert conform_channels(data, 3) == (data, None)


def test_batch_source_normalises_augments_and_resizes():
    data = make_shapes(256, 64)
    src = BatchSource(data, device=torch.device("cpu"), input_hw=(32, 32), batch_size=64,
                      augment=False, seed=0)
    x, _ = next(src.batches(0))
    assert x.shape == (64, 3, 32, 32)
    whole = torch.cat([b[0] for b in src.batches(0)])
    assert whole.mean(dim=(0, 2, 3)).abs().max() < 0.05  # train-split statistics
    assert (whole.std(dim=(0, 2, 3)) - 1).abs().max() < 0.05
    mean, std = channel_stats(data.x_train)
    assert src.mean == pytest.approx(mean.tolist())

    # the same epoch is the same order; different epochs differ; batch 1 of a resumed epoch matches
    first = src.epoch_indices(0)
    assert torch.equal(first, src.epoch_indices(0)) and not torch.equal(first, src.epoch_indices(1))
    assert torch.equal(list(src.batches(0))[1][1], next(src.batches(0, start=1))[1])

    aug = BatchSource(data, device=torch.device("cpu"), input_hw=(32, 32), batch_size=64,
                      augment=True, seed=0)
    xa, ya = aug.batch(first, 0)
    xp, yp = src.batch(first, 0)
    assert torch.equal(ya, yp) and xa.shape == xp.shape and not torch.allclose(xa, xp)
    # each augmented image is a shifted (possibly mirrored) crop of the padded original
    padded = torch.nn.functional.pad(xp, (4, 4, 4, 4))
    for i in range(8):
        hits = [torch.allclose(cand[:, dy:dy + 32, dx:dx + 32], xa[i])
                for cand in (padded[i], padded[i].flip(2)) for dy in range(9) for dx in range(9)]
        assert any(hits)

    big = BatchSource(data, device=torch.device("cpu"), input_hw=(64, 48), batch_size=16, augment=True,
                      seed=0, channels_last=True)
    xb, _ = next(big.batches(0))
    assert xb.shape == (16, 3, 64, 48) and xb.is_contiguous(memory_format=torch.channels_last)


def test_ddp_shards_cover_the_epoch_once():
    data = make_shapes(100, 10)
    shards = [BatchSource(data, device=torch.device("cpu"), input_hw=(32, 32), batch_size=16, augment=False,
                          seed=3, rank=r, world_size=2).epoch_indices(0) for r in range(2)]
    assert len(shards[0]) == len(shards[1]) == 50
    assert sorted(torch.cat(shards).tolist()) == list(range(100))


def test_digits_come_from_scikit_learns_loader_once_then_from_the_cache(tmp_path, monkeypatch):
    """The public ``load_digits`` the first time (no file inside scikit-learn's package is read);
    after that the cached copy, without importing scikit-learn; a damaged copy is made again."""
    import subprocess
    import sys

    from sklearn.datasets import load_digits

    from explorer.train.datasets.procedural import digits_arrays

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # platformdirs' cache folder on Linux
    images, target = digits_arrays()
    bunch = load_digits()
    assert images.dtype == bunch.images.dtype and np.array_equal(images, bunch.images)
    assert np.array_equal(target, bunch.target)
    cached = tmp_path / "resnet-explorer" / "digits.npz"
    assert cached.is_file()
    code = ("import sys; from explorer.train.datasets.procedural import load_digits32; load_digits32(); "
            "print('sklearn' in sys.modules)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root, env=env)
    assert out.stdout.strip() == "False"
    cached.write_bytes(b"PK\x03\x04 not an archive")
    again, _ = digits_arrays()
    assert np.array_equal(again, bunch.images) and cached.stat().st_size > 1000
