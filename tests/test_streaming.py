"""Image folders over the memory budget are streamed from disk by DataLoader workers.

The budget is lowered to a few bytes here so that a tiny folder takes the streaming path.
"""
import random
import re

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.train.datasets import ImageData, load_dataset
from explorer.train.datasets import streaming
from explorer.train.datasets.imagenet import evaluation_transform
from explorer.train.datasets.streaming import FolderDataset, StreamingImages, random_resized_box
from explorer.train.stream_loader import StreamSource, data_wait_note


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for c, name in enumerate(("cats", "dogs")):
        (root / name).mkdir()
        for i in range(9):
            pixels = rng.integers(0, 256, (60 + 10 * i, 80, 3), dtype=np.uint8)
            pixels[..., c] = 250
            Image.fromarray(pixels).save(root / name / f"{i}.jpg", quality=90)
    return str(root)


@pytest.fixture
def small_budget(monkeypatch):
    monkeypatch.setattr(streaming, "MEMORY_BUDGET", 1000)


def test_a_folder_over_the_budget_is_streamed_and_a_small_one_stays_in_memory(photos, small_budget, monkeypatch):
    data = load_dataset(f"folder:{photos}", image_size=(32, 32))
    assert isinstance(data, StreamingImages)
    assert (data.train_count, data.test_count, data.classes) == (14, 4, ["cats", "dogs"])
    # 18 images x 3 x 32 x 32 bytes = 54 KB
    assert "streamed from disk (54.0 KB in memory would exceed the 1000 bytes budget)" in data.describe()
    sub = load_dataset(f"folder:{photos}", image_size=(32, 32), train_size=5)
    assert sub.train_count == 5 and sub.train_files == load_dataset(f"folder:{photos}", image_size=(32, 32),
                                                                    train_size=5).train_files
    monkeypatch.setattr(streaming, "MEMORY_BUDGET", 2 * 1024 ** 3)
    assert isinstance(load_dataset(f"folder:{photos}", image_size=(32, 32)), ImageData)


def test_the_test_transform_is_resize_and_centre_crop(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    files = [(str(tmp_path / "a.png"), 0)]
    x, label, _, problem = FolderDataset(files, (224, 224), 3, train=False, seed=0)[0]
    assert label == 0 and problem == "" and x.dtype == torch.uint8
    assert torch.equal(x, torch.from_numpy(evaluation_transform(files[0][0])))  # resize 256, centre 224


def test_training_crops_are_random_but_repeatable_per_image_and_epoch(photos, small_budget):
    data = load_dataset(f"folder:{photos}", image_size=(32, 32))
    ds = FolderDataset(data.train_files, (32, 32), 3, train=True, seed=5)
    a = ds[(3, 0)][0]
    assert a.shape == (3, 32, 32)
    assert torch.equal(a, ds[(3, 0)][0])  # the same image in the same epoch: the same crop
    assert not torch.equal(a, ds[(3, 1)][0])  # another epoch: another crop
    rng = random.Random(0)
    for size in ((80, 60), (80, 150), (500, 40)):
        for _ in range(50):
            left, top, right, bottom = random_resized_box(size, rng)
            w, h = right - left, bottom - top
            assert 0 <= left < right <= size[0] and 0 <= top < bottom <= size[1]
            if (w, h) != size and size != (500, 40):
                assert 0.08 * size[0] * size[1] * 0.9 <= w * h and 3 / 4 * 0.9 <= w / h <= 4 / 3 * 1.1


def test_stream_source_orders_shards_and_resumes_mid_epoch(photos, small_budget, one_torch_thread):
    data = load_dataset(f"folder:{photos}", image_size=(32, 32))
    make = dict(device=torch.device("cpu"), input_hw=(32, 32), batch_size=4, augment=True, seed=3,
                normalisation=((0.5, 0.5, 0.5), (0.25, 0.25, 0.25)), workers=2)
    source = StreamSource(data, **make)
    assert source.steps_per_epoch == 4  # 14 images: 3 full batches and one of 2
    order = source.epoch_indices(1)
    straight = [source.batch(order, b) for b in range(source.steps_per_epoch)]
    resumed = StreamSource(data, **make)
    again = resumed.batch(resumed.epoch_indices(1), 2)  # a resume at batch 2 decodes the same images
    assert torch.equal(again[0], straight[2][0]) and torch.equal(again[1], straight[2][1])
    assert sorted(torch.cat([y for _, y in straight]).tolist()) == sorted(y for _, y in data.train_files)
    x = straight[0][0]
    assert x.dtype == torch.float32 and x.min() >= -2.0 - 1e-6 and x.max() <= 2.0 + 1e-6  # (v - 0.5) / 0.25
    halves = [StreamSource(data, **make, rank=r, world_size=2).epoch_indices(0) for r in (0, 1)]
    assert len(halves[0]) == len(halves[1]) == 7 and not set(halves[0].tolist()) & set(halves[1].tolist())
    started = source.batch(source.epoch_indices(2), 0)  # an epoch left unfinished, as by Stop
    workers = list(source._iter._workers)
    assert started[0].shape[0] == 4 and all(w.is_alive() for w in workers)
    source.close()
    assert source._iter is None and not any(w.is_alive() for w in workers)
    test = list(source.test_batches())
    assert sum(len(y) for _, y in test) == 4
    assert source.wait_s >= 0 and source.batches_served == 5


def test_a_streamed_run_trains_and_says_whether_the_loader_kept_up(photos, small_budget, tmp_path, capsys,
                                                                   tiny_net, one_torch_thread):
    from explorer.cli import main

    ckpt = tmp_path / "run.pt"
    code = main(["train", tiny_net, "--dataset", f"folder:{photos}", "--epochs", "1", "--batch-size", "7",
                 "--device", "cpu", "--checkpoint", str(ckpt)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "streamed from disk by" in out and "loader processes" in out
    assert re.search(r"note: the data loader (kept up|limited training): the steps waited [\d.]+ s of [\d.]+ s "
                     r"\(\d+%\)", out)
    code = main(["train", "--resume", str(ckpt), "--epochs", "2"])
    assert code == 0 and "epoch   2/2" in capsys.readouterr().out


def test_the_budget_and_the_worker_count_follow_the_environment(monkeypatch):
    from explorer.train.stream_loader import default_workers

    monkeypatch.setenv("RESNET_EXPLORER_MEMORY_MB", "512")
    assert streaming._budget() == 512 * 1024 ** 2
    monkeypatch.delenv("RESNET_EXPLORER_MEMORY_MB")
    assert streaming._budget() == 2 * 1024 ** 3
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    assert default_workers() == 4  # 16 cores shared by 4 ranks
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    assert default_workers() == 8


class _Source:
    streamed = True
    workers = 2
    batches_served = 10

    def __init__(self, wait_s):
        self.wait_s = wait_s


@pytest.mark.parametrize("wait,total,expected", [
    (6.0, 10.0, "the data loader limited training: the steps waited 6.0 s of 10.0 s (60%)"),
    (5.0, 10.0, "the data loader limited training: the steps waited 5.0 s of 10.0 s (50%)"),
    (1.0, 10.0, "the data loader kept up: the steps waited 1.0 s of 10.0 s (10%)"),
    (4.9, 10.0, "the data loader kept up"),
])
def test_data_wait_words_follow_the_measured_share(wait, total, expected):
    assert data_wait_note(_Source(wait), total).startswith(expected)


def test_no_data_wait_words_for_in_memory_runs():
    class InMemory:
        streamed = False

    assert data_wait_note(InMemory(), 10.0) is None
