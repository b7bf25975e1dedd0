"""Batches from in-memory tensors: no DataLoader, no worker processes.

The uint8 images live on the training device when they fit (CUDA: under a third of the
free memory), else in host memory, each batch gathered into pinned memory and copied
without blocking. Each
batch is converted to float, normalised with the training split's per-channel mean and
std (or the mean and std given, e.g. ImageNet's for pretrained weights), augmented (random crop from a 4-pixel zero-padded image, horizontal flip) and
resized to the network's input size where that differs, all as tensor ops on the
training device.

The order of epoch ``e`` is a permutation drawn from a generator seeded with
``(seed, e)``, so it can be recreated on resume without saving it; under DDP every rank
draws the same permutation and takes its own stride. Augmentation draws from a
generator on the training device whose state is part of a checkpoint.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .datasets import ImageData, channel_stats

PAD = 4


class BatchSource:
    def __init__(self, data: ImageData, *, device: torch.device, input_hw: tuple[int, int],
                 batch_size: int, augment: bool, seed: int, rank: int = 0, world_size: int = 1,
                 channels_last: bool = False, eval_batch_size: int | None = None,
                 normalisation: tuple | None = None):
        self.data = data
        self.device = device
        self.input_hw = tuple(input_hw)
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or max(batch_size, 256)
        self.augment = augment
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.channels_last = channels_last
        store = device if self._fits_on(device, data) else torch.device("cpu")
        self.on_device = store == device
        self._pin = store.type == "cpu" and device.type == "cuda"
        self.x_train = data.x_train.to(store)
        self.y_train = data.y_train.to(store)
        self.x_test = data.x_test.to(store)
        self.y_test = data.y_test.to(store)
        if normalisation is not None:  # (mean, std) per channel on the 0..1 scale, e.g. ImageNet's
            mean, std = (torch.tensor(v, dtype=torch.float32) for v in normalisation)
        else:
            mean, std = channel_stats(data.x_train)
        self.mean, self.std = mean.tolist(), std.tolist()
        shape = (1, -1, 1, 1)
        self._scale = (1.0 / (255.0 * std)).view(shape).to(device)
        self._shift = (mean / std).view(shape).to(device)
        self.aug_gen = torch.Generator(device=device)
        self.aug_gen.manual_seed(seed * 7919 + 17 + rank * 104_729)
        self.per_rank = len(self.y_train) // world_size
        full, rest = divmod(self.per_rank, batch_size)
        # A last batch of one image would break batch norm; drop such a remainder.
        self.steps_per_epoch = full + (1 if rest >= 2 or (full == 0 and rest > 0) else 0)

    @staticmethod
    def _fits_on(device: torch.device, data: ImageData) -> bool:
        if device.type != "cuda":
            return True
        need = data.x_train.numel() + data.x_test.numel()
        free, _ = torch.cuda.mem_get_info(device)
        return need < free / 3

    @property
    def train_size(self) -> int:
        return len(self.y_train)

    @property
    def test_size(self) -> int:
        return len(self.y_test)

    def epoch_indices(self, epoch: int) -> torch.Tensor:
        """This rank's share of epoch ``epoch``'s order (0-based epoch), on the storage device."""
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        order = torch.randperm(self.train_size, generator=gen)
        mine = order[self.rank::self.world_size][:self.per_rank]
        return mine.to(self.x_train.device)

    def batch(self, order: torch.Tensor, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch ``index`` of an epoch whose order ``epoch_indices`` gave."""
        sel = order[index * self.batch_size:(index + 1) * self.batch_size]
        return self.prepare(self.x_train[sel], self.y_train[sel], train=True)

    def batches(self, epoch: int, start: int = 0):
        """Yield ``(x, y)`` for batches ``start..steps_per_epoch-1`` of ``epoch``."""
        order = self.epoch_indices(epoch)
        for b in range(start, self.steps_per_epoch):
            yield self.batch(order, b)

    def test_batches(self):
        """This rank's stride of the test set, in order."""
        idx = torch.arange(self.rank, self.test_size, self.world_size, device=self.x_test.device)
        for start in range(0, len(idx), self.eval_batch_size):
            sel = idx[start:start + self.eval_batch_size]
            yield self.prepare(self.x_test[sel], self.y_test[sel], train=False)

    def prepare(self, x: torch.Tensor, y: torch.Tensor, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        if x.device != self.device:
            if self._pin:  # a gathered batch from the (too big) host copy: pinned, so the copy is async
                x, y = x.pin_memory(), y.pin_memory()
            x = x.to(self.device, non_blocking=True)
            y = y.to(self.device, non_blocking=True)
        x = x.float().mul_(self._scale).sub_(self._shift)
        if train and self.augment:
            x = self._crop_flip(x)
        if tuple(x.shape[-2:]) != self.input_hw:
            down = self.input_hw[0] < x.shape[-2]
            x = F.interpolate(x, size=self.input_hw, mode="bilinear", align_corners=False, antialias=down)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y

    def _crop_flip(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        dev = x.device
        padded = F.pad(x, (PAD, PAD, PAD, PAD))  # zeros: the mean colour after normalising
        oy = torch.randint(0, 2 * PAD + 1, (n, 1), device=dev, generator=self.aug_gen)
        ox = torch.randint(0, 2 * PAD + 1, (n, 1), device=dev, generator=self.aug_gen)
        flip = torch.rand(n, device=dev, generator=self.aug_gen) < 0.5
        rows = oy + torch.arange(h, device=dev)  # [n, h]
        cols = ox + torch.arange(w, device=dev)  # [n, w]
        cols = torch.where(flip[:, None], cols.flip(1), cols)  # a mirrored crop is the flip
        batch = torch.arange(n, device=dev)[:, None, None, None]
        chan = torch.arange(c, device=dev)[None, :, None, None]
        return padded[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]
