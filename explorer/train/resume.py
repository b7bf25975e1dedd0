"""Checkpoints of a ``Trainer``: what an exact resume needs, written out and read back in.

``Checkpointing`` is a base of ``Trainer`` (``trainer.py``); it reads and sets the
trainer's state through its public surface (model, optimizer, scheduler, step counters,
``epoch_sums``/``restore_epoch_sums``, the data source's RNG stream and the recorded metrics). Call ``save_checkpoint`` between steps (from
``TrainControl.call_between_steps``, or between two ``next`` calls on ``Trainer.steps``)
or after the run.
"""
from __future__ import annotations

from dataclasses import asdict

import torch

from ..spec.fileformat import to_dict
from .api import EpochMetrics, TrainingError
from .checkpoint import (FORMAT, VERSION, check_optimizer_shapes, read_checkpoint, upgrade_optimizer_state,
                         validate_checkpoint, write_checkpoint)


class Checkpointing:
    """The checkpoint half of ``Trainer``: ``checkpoint_dict``, ``save_checkpoint`` and the resume."""

    def checkpoint_dict(self) -> dict:
        if not self.prepared:
            raise TrainingError("nothing to checkpoint: the run has not been prepared")
        rng = {"torch": torch.get_rng_state(), "augment": self.source.aug_gen.get_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "format": FORMAT, "version": VERSION, "name": self.record.name,
            "spec": to_dict(self.spec),
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "step": self.step, "epoch": self.epochs_done, "batch_in_epoch": self.batch_in_epoch,
            "total_steps": self.total_steps,
            "epoch_sums": self.epoch_sums(),
            "settings": self.settings.to_dict(), "rng": rng, "notes": list(self.notes),
            "normalisation": self.normalisation.to_dict(),
            "metrics": {"steps": list(self.record.steps), "losses": list(self.record.losses),
                        "lrs": list(self.record.lrs), "epochs": [asdict(e) for e in self.record.epochs]},
        }

    def save_checkpoint(self, path) -> None:
        """Write everything an exact resume needs (call between steps or after ``run``)."""
        write_checkpoint(path, self.checkpoint_dict())

    def _load_resume(self, resume) -> None:
        where = self.resume_path or "checkpoint"
        if isinstance(resume, dict):
            validate_checkpoint(resume, where)
        data = resume if isinstance(resume, dict) else read_checkpoint(resume)
        try:
            self.model.load_state_dict(data["model"])
        except RuntimeError as err:
            first = str(err).splitlines()[1:2] or [str(err)]
            raise TrainingError(f"{where} holds weights for a different network than "
                                f"{self.spec.name}: {first[0].strip()}") from None
        saved_total = data.get("total_steps", self.total_steps)
        if self.settings.schedule == "onecycle" and saved_total != self.total_steps:
            raise TrainingError(f"{where} is a one-cycle run of {saved_total} steps; its schedule cannot "
                                f"be stretched to {self.total_steps}: resume with the same length")
        try:
            self.optimizer.load_state_dict(upgrade_optimizer_state(self.model, data["optimizer"],
                                                                   int(data.get("version", 1))))
            self.scheduler.load_state_dict(data["scheduler"])
            if isinstance(self.scheduler, torch.optim.lr_scheduler.LambdaLR):
                # the saved lr belongs to the saved length; recompute it for this run's length
                for group, base, fn in zip(self.optimizer.param_groups, self.scheduler.base_lrs,
                                           self.scheduler.lr_lambdas):
                    group["lr"] = base * fn(self.scheduler.last_epoch)
        except (ValueError, KeyError, RuntimeError, TypeError) as err:
            raise TrainingError(f"{where}: optimizer state does not fit these settings "
                                f"(optimizer {self.settings.optimizer}): {err}") from None
        check_optimizer_shapes(self.model, self.optimizer, where)
        self.step = int(data["step"])
        self.epochs_done = int(data["epoch"])
        self.batch_in_epoch = int(data.get("batch_in_epoch", 0))
        if self.batch_in_epoch >= self.source.steps_per_epoch:
            self.epochs_done += 1
            self.batch_in_epoch = 0
        loss, correct, seen, seconds = data.get("epoch_sums", [0.0, 0.0, 0, 0.0])
        if self.batch_in_epoch:
            self.restore_epoch_sums(loss, correct, seen, seconds)
        rng = data.get("rng", {})
        if "torch" in rng:
            torch.set_rng_state(rng["torch"])
        if "cuda" in rng and self.device.type == "cuda":
            torch.cuda.set_rng_state(rng["cuda"], self.device)
        if "augment" in rng and self.dist.rank == 0:
            try:
                self.source.aug_gen.set_state(rng["augment"])
            except RuntimeError:
                pass  # saved on another device type: keep this run's own seeded stream
        elif self.dist.rank:
            self.source.aug_gen.manual_seed(self.settings.seed * 7919 + self.step * 31 + self.dist.rank)
        metrics = data.get("metrics", {})
        self.record.steps = list(metrics.get("steps", []))
        self.record.losses = list(metrics.get("losses", []))
        self.record.lrs = list(metrics.get("lrs", []))
        self.record.epochs = [EpochMetrics(**e) for e in metrics.get("epochs", [])]
        if self.step >= self.total_steps:
            raise TrainingError(f"{where} is already at step {self.step} of {self.total_steps}; "
                                "ask for more epochs or steps to continue")
