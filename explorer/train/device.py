"""Which device to train on, and the per-device defaults (bf16, channels_last)."""
from __future__ import annotations

import torch

from .api import TrainingError


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def resolve_device(name: str = "auto", local_rank: int | None = None) -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then the CPU. Under torchrun a bare ``cuda``
    means this process's GPU (``LOCAL_RANK``)."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif mps_available():
            name = "mps"
        else:
            name = "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise TrainingError(f"unknown device {name!r}; expected auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainingError("CUDA was asked for but this PyTorch sees no CUDA GPU; use --device cpu")
        index = device.index if device.index is not None else (local_rank or 0)
        if index >= torch.cuda.device_count():
            raise TrainingError(f"cuda:{index} asked for but only {torch.cuda.device_count()} GPU(s) are visible")
        device = torch.device("cuda", index)
    elif device.type == "mps" and not mps_available():
        raise TrainingError("Apple MPS was asked for but is not available here; use --device cpu")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise TrainingError(f"training on {device.type} is not supported; use cpu, cuda or mps")
    return device


def amp_dtype(setting: str, device: torch.device) -> torch.dtype | None:
    """bf16 autocast on CUDA by default; elsewhere only when asked for."""
    if setting == "off":
        return None
    if setting == "bf16" or (setting == "auto" and device.type == "cuda"):
        if device.type == "mps":
            return None  # autocast on MPS does not support bf16 everywhere; run full precision
        return torch.bfloat16
    return None


def use_channels_last(setting: str, device: torch.device) -> bool:
    return setting == "on" or (setting == "auto" and device.type == "cuda")


def is_out_of_memory(err: BaseException) -> bool:
    if isinstance(err, torch.OutOfMemoryError):
        return True
    return isinstance(err, RuntimeError) and "out of memory" in str(err).lower()


def free_cached_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()
