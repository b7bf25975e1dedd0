"""Checkpoint files: one ``torch.save`` dict, written atomically, read without unpickling code.

Keys: ``format``, ``version``, ``spec`` (``fileformat.to_dict``), ``model`` (state_dict),
``optimizer``, ``scheduler``, ``step`` (steps done), ``epoch`` (epochs done),
``batch_in_epoch``, ``epoch_sums`` (the running sums of the epoch in progress),
``settings`` (``TrainSettings.to_dict``), ``rng`` (torch CPU/CUDA and augmentation
generator states), ``metrics`` (per-step losses and lrs, per-epoch rows so far),
``name`` and ``notes``.
"""
from __future__ import annotations

import contextlib
import os
import tempfile

import torch

from ..spec import NetworkSpec, SpecError
from ..spec.fileformat import from_dict
from .api import TrainingError, TrainSettings

FORMAT = "resnet-explorer-checkpoint"
VERSION = 1
REQUIRED = ("spec", "model", "optimizer", "scheduler", "step", "epoch", "settings")


def write_checkpoint(path: str | os.PathLike, payload: dict) -> None:
    """Save atomically: a crash mid-write leaves the previous checkpoint intact."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise TrainingError(f"cannot write checkpoint {path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".ckpt-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Load and check a checkpoint; ``TrainingError`` names what is wrong."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise TrainingError(f"checkpoint {path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for a damaged or foreign file
        raise TrainingError(f"cannot read checkpoint {path}: {str(err).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise TrainingError(f"{path} is not a training checkpoint (expected a dict)")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise TrainingError(f"{path} is not a training checkpoint of this app: missing {', '.join(missing)}")
    return data


def checkpoint_spec(data: dict, path: str = "checkpoint") -> NetworkSpec:
    try:
        return from_dict(data["spec"])
    except SpecError as err:
        raise TrainingError(f"{path}: the network stored in the checkpoint is invalid: {err}") from None


def checkpoint_settings(data: dict) -> TrainSettings:
    return TrainSettings.from_dict(data["settings"])
