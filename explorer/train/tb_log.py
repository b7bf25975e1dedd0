"""Optional TensorBoard logging of a run: an event sink, called on the training thread.

Used by the app (a settings checkbox, greyed out when the ``tensorboard`` package is
missing) and by ``python main.py train --tensorboard DIR``. The writer is created on
the first event, on the training thread, so nothing TensorBoard-related is imported
unless a user asks for it. Qt-free.
"""
from __future__ import annotations

from pathlib import Path

from .api import EpochMetrics, GradColumn, StepMetrics


class TensorBoardSink:
    """An event sink writing the trainer's events as TensorBoard scalars under ``log_dir``."""

    def __init__(self, log_dir: str | Path, block_labels: list[str]):
        self.log_dir = Path(log_dir)
        self._labels = block_labels
        self._writer = None

    def _open(self):
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.log_dir))
        return self._writer

    def __call__(self, event) -> None:
        if isinstance(event, StepMetrics):
            writer = self._open()
            for step, loss, lr in zip(event.steps.tolist(), event.loss.tolist(), event.lr.tolist()):
                writer.add_scalar("train/loss", loss, step)
                writer.add_scalar("train/lr", lr, step)
            writer.add_scalar("train/images_per_s", event.images_per_s, int(event.steps[-1]))
        elif isinstance(event, EpochMetrics):
            writer = self._open()
            for name in ("train_loss", "train_error", "test_loss", "test_error"):
                split, metric = name.split("_")
                writer.add_scalar(f"{split}/{metric}_per_epoch", getattr(event, name), event.epoch)
            writer.flush()  # an epoch's scalars reach the disk even if the run is killed later
        elif isinstance(event, GradColumn):
            writer = self._open()
            for label, norm in zip(self._labels, event.norms.tolist()):
                writer.add_scalar(f"gradient_norm/{label}", norm, event.step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
