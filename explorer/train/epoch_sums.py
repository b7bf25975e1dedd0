"""The training epoch so far, summed on the device: no host read per step.

Each step adds its summed loss, its correct answers and its batch size; the trainer reads
them once, at the epoch's end (all-reduced under DDP), and a checkpoint saves and restores
them so that a run resumed mid-epoch reports the whole epoch. ``seconds`` is the epoch's
active time (pauses left out, ``train/pauses.py``).
"""
from __future__ import annotations

import torch


class EpochSums:
    def __init__(self, device: torch.device, dtype: torch.dtype):
        self._device, self._dtype = device, dtype  # dtype: float64, or float32 where there is none (MPS)
        self.seconds = 0.0
        self._zero()

    def _zero(self) -> None:
        self.loss = torch.zeros((), dtype=self._dtype, device=self._device)
        self.correct = torch.zeros((), dtype=torch.int64, device=self._device)
        self.seen = 0

    def new_epoch(self) -> None:
        self._zero()
        self.seconds = 0.0

    def add(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        """One step: ``loss`` its mean loss (detached), ``logits`` its outputs, ``y`` its labels."""
        self.loss += loss.to(self._dtype) * len(y)
        self.correct += (logits.detach().argmax(1) == y).sum()
        self.seen += len(y)

    def counts(self) -> torch.Tensor:
        """[correct, seen] as one tensor on the device (for an all-reduce)."""
        return torch.stack([self.correct.to(self._dtype), self._as_tensor(self.seen)])

    def totals(self) -> torch.Tensor:
        """[summed loss, correct, seen] as one tensor on the device (for an all-reduce)."""
        return torch.stack([self.loss, self.correct.to(self._dtype), self._as_tensor(self.seen)])

    def _as_tensor(self, value: float) -> torch.Tensor:
        return torch.tensor(float(value), dtype=self._dtype, device=self._device)

    def to_list(self) -> list:
        """[summed loss, correct, images seen, active seconds]: what a checkpoint stores."""
        return [float(self.loss), float(self.correct), self.seen, self.seconds]

    def restore(self, loss: float, correct: float, seen: int, seconds: float) -> None:
        self.loss.fill_(loss)
        self.correct.fill_(int(correct))
        self.seen = int(seen)
        self.seconds = float(seconds)
