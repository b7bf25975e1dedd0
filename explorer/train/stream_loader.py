"""Batches of a streamed image folder: a torch DataLoader whose worker processes decode and resize.

``StreamSource`` has ``BatchSource``'s interface (``epoch_indices``, ``batch``,
``test_batches``, ``steps_per_epoch``, ``aug_gen``...), so the trainer drives both the
same way. The order of an epoch comes from a ``DistributedSampler`` (seeded, one shard per
rank under torchrun; one replica otherwise, so no process group is needed for it). The
workers return uint8 images at the network's input size (photo augmentation included);
conversion to float and normalisation happen here, on the training device.

An image a worker cannot read comes back blank with the reason; ``_readable`` applies the run's
policy (``StreamingImages.note_unreadable``: skip and count, or stop at the first) and
leaves it out of its batch. Whatever else goes wrong in a worker (it was killed, the
folder vanished) ends in one ``DatasetError`` too, never in the DataLoader's re-raised
traceback.

``wait_s`` adds up the time the training loop spent waiting for a batch that the
workers had not finished: when it is a large part of the training time, decoding, not
the network, limits the speed.
"""
from __future__ import annotations

import os
import time

import torch
from torch.utils.data import DataLoader, DistributedSampler

from .datasets.base import DatasetError
from .datasets.streaming import FolderDataset, StreamingImages


def default_workers() -> int:
    """One loader process per CPU core, shared among the processes torchrun started on this machine;
    at most 8 each."""
    try:
        local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    except ValueError:
        local = 1
    return max(1, min(8, (os.cpu_count() or 1) // local))


class _Keys(torch.utils.data.Sampler):
    """Yields ``(index, epoch)`` pairs for a fixed list of indices."""

    def __init__(self, indices, epoch: int):
        self.indices = list(indices)
        self.epoch = epoch

    def __iter__(self):
        return iter([(i, self.epoch) for i in self.indices])

    def __len__(self) -> int:
        return len(self.indices)


class StreamSource:
    on_device = False
    streamed = True

    def __init__(self, data: StreamingImages, *, device: torch.device, input_hw: tuple[int, int],
                 batch_size: int, augment: bool, seed: int, rank: int = 0, world_size: int = 1,
                 channels_last: bool = False, eval_batch_size: int | None = None,
                 normalisation: tuple | None = None, workers: int | None = None):
        self.data = data
        self.device = device
        self.input_hw = tuple(input_hw)
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.augment = augment
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.channels_last = channels_last
        self.workers = default_workers() if workers is None else workers
        if normalisation is None:
            mean, std = data.sample_stats()
        else:
            mean, std = (torch.tensor(v, dtype=torch.float32) for v in normalisation)
        self.mean, self.std = mean.tolist(), std.tolist()
        shape = (1, -1, 1, 1)
        self._scale = (1.0 / (255.0 * std)).view(shape).to(device)
        self._shift = (mean / std).view(shape).to(device)
        self.aug_gen = torch.Generator(device=device)  # the workers' draws are seeded per image; kept for checkpoints
        self.aug_gen.manual_seed(seed * 7919 + 17 + rank * 104_729)
        self.train_set = FolderDataset(data.train_files, self.input_hw, data.channels, augment, seed)
        self.test_set = FolderDataset(data.test_files, self.input_hw, data.channels, False, seed)
        self.sampler = DistributedSampler(self.train_set, num_replicas=world_size, rank=rank, shuffle=True,
                                          seed=seed, drop_last=True)
        self.per_rank = len(self.train_set) // world_size
        full, rest = divmod(self.per_rank, batch_size)
        self.steps_per_epoch = full + (1 if rest >= 2 or (full == 0 and rest > 0) else 0)
        self.wait_s = 0.0  # seconds the loop waited for batches
        self.batches_served = 0
        self._iter = None
        self._next = None  # (epoch, batch index) the open iterator yields next
        self._orders = None

    @property
    def train_size(self) -> int:
        return len(self.train_set)

    @property
    def test_size(self) -> int:
        return len(self.test_set)

    def epoch_indices(self, epoch: int) -> torch.Tensor:
        """This rank's share of epoch ``epoch`` (0-based), as the DistributedSampler orders it."""
        self.sampler.set_epoch(epoch)
        order = torch.tensor(list(iter(self.sampler))[:self.per_rank], dtype=torch.int64)
        self._orders = (order, epoch)  # which epoch's draws the workers use for this order
        return order

    def _loader(self, dataset, keys, batch_size: int) -> DataLoader:
        return DataLoader(dataset, batch_size=batch_size, sampler=keys, num_workers=self.workers,
                          pin_memory=self.device.type == "cuda", drop_last=False,
                          persistent_workers=False, prefetch_factor=4 if self.workers else None)

    def batch(self, order: torch.Tensor, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch ``index`` of the epoch whose order ``epoch_indices`` gave: read from the open loader
        when it is the next one, else (a resume mid-epoch) from a loader started at it."""
        epoch = self._orders[1] if self._orders is not None and self._orders[0] is order else 0
        if self._iter is None or self._next != (epoch, index):
            self._close()
            keys = _Keys(order[index * self.batch_size:self.steps_per_epoch * self.batch_size].tolist(), epoch)
            self._iter = iter(self._loader(self.train_set, keys, self.batch_size))
        t0 = time.perf_counter()
        try:
            x, y, indices, problems = _next_batch(self._iter)
        except BaseException:
            self._close()
            raise
        self.wait_s += time.perf_counter() - t0
        self.batches_served += 1
        self._next = (epoch, index + 1)
        if index + 1 >= self.steps_per_epoch:
            self._close()
        x, y = self._readable(self.train_set, x, y, indices, problems,
                              f"training batch {index + 1} of epoch {epoch + 1}")
        return self.prepare(x, y)

    def _readable(self, dataset, x: torch.Tensor, y: torch.Tensor, indices, problems, where: str):
        """The rows of a batch whose images were read; the others go through the policy."""
        bad = [i for i, p in enumerate(problems) if p]
        if not bad:
            return x, y
        for i in bad:
            self.data.note_unreadable(dataset.files[int(indices[i])][0], problems[i])
        if len(bad) == len(problems):
            raise DatasetError(f"{self.data.name}: none of the {len(bad)} images of {where} could be read "
                               f"({problems[bad[0]]}); is the folder still there?")
        keep = torch.tensor([i for i in range(len(problems)) if not problems[i]], dtype=torch.int64)
        return x.index_select(0, keep), y.index_select(0, keep)

    def _close(self) -> None:
        if self._iter is not None and hasattr(self._iter, "_shutdown_workers"):
            self._iter._shutdown_workers()  # now, not whenever the iterator is collected
        self._iter = None
        self._next = None

    def close(self) -> None:
        """End the worker processes of an epoch left unfinished (a stopped run)."""
        self._close()

    def batches(self, epoch: int, start: int = 0):
        order = self.epoch_indices(epoch)
        for b in range(start, self.steps_per_epoch):
            yield self.batch(order, b)

    def test_batches(self):
        """This rank's stride of the test set, in order, with the test transform."""
        keys = _Keys(range(self.rank, self.test_size, self.world_size), 0)
        batches = iter(self._loader(self.test_set, keys, self.eval_batch_size))
        try:
            for number in range(1, len(keys) + 1):
                try:
                    x, y, indices, problems = _next_batch(batches)
                except StopIteration:
                    return
                yield self.prepare(*self._readable(self.test_set, x, y, indices, problems, f"test batch {number}"))
        finally:
            if hasattr(batches, "_shutdown_workers"):
                batches._shutdown_workers()

    def prepare(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.to(self.device, non_blocking=True)
        y = y.to(self.device, non_blocking=True)
        x = x.float().mul_(self._scale).sub_(self._shift)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y


def _next_batch(batches):
    """The next ``(images, labels, problems)`` of a DataLoader iterator; a worker that died (killed,
    out of memory) or raised becomes one ``DatasetError`` instead of the loader's traceback."""
    try:
        return next(batches)
    except StopIteration:
        raise
    except DatasetError:
        raise
    except Exception as err:  # noqa: BLE001 - the DataLoader re-raises a worker's error as its own type
        lines = [line for line in str(err).strip().splitlines() if line.strip()]
        first = lines[0] if lines else type(err).__name__
        if "Original Traceback" in first or first.startswith("Caught "):
            first = lines[-1] if lines else first  # the worker's own last line says what went wrong
        raise DatasetError(f"the image loader's worker processes failed: {first}") from None


LOADER_BOUND = 0.5  # waiting this share of the training time or more: the loader, not the network, set the pace


def data_wait_note(source, seconds: float) -> str | None:
    """For a streamed run: whether the steps waited for decoded images, in words, from the measured times."""
    if not getattr(source, "streamed", False) or source.batches_served < 2 or seconds <= 0:
        return None
    wait = min(source.wait_s, seconds)
    share = wait / seconds
    if share >= LOADER_BOUND:
        return (f"the data loader limited training: the steps waited {wait:.1f} s of {seconds:.1f} s ({share:.0%}) "
                f"for {source.workers} worker process{'es' if source.workers != 1 else ''} to decode images; "
                f"the network alone would have gone faster")
    return (f"the data loader kept up: the steps waited {wait:.1f} s of {seconds:.1f} s ({share:.0%}) for "
            f"decoded images")
