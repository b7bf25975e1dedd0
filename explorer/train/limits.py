"""Limits checked before any work: numbers no run can use, and sizes that cannot fit in memory.

A request that cannot fit (a procedural set of a billion images, a batch of a billion
images) is refused up front, saying how much memory it would take and how much there
is, instead of running for minutes and ending in an allocator error.
"""
from __future__ import annotations

import math
import os

from ..spec import params
from .api import TrainingError

from .settings import MAX_EPOCHS, MAX_IMAGES, MAX_METRICS_EVERY, MAX_SEED, MAX_STEPS, declared  # noqa: F401


def human_bytes(n: float) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} bytes"


def available_memory() -> int | None:
    """Bytes of host memory available now (Linux: MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def device_memory(device) -> int | None:
    """Free bytes on ``device`` (CUDA), host memory for the CPU, None when unknown (MPS)."""
    kind = getattr(device, "type", str(device))
    if kind == "cuda":
        import torch
        try:
            return torch.cuda.mem_get_info(device)[0]
        except (RuntimeError, AssertionError):
            return None
    if kind == "cpu":
        return available_memory()
    return None


def check_fits(nbytes: float, what: str, available: int | None, where: str = "this machine") -> None:
    """Refuse ``what`` when it needs more than ``available`` bytes."""
    if available is not None and nbytes > available:
        raise TrainingError(f"{what} would take at least {human_bytes(nbytes)} of memory; {where} has about "
                            f"{human_bytes(available)} free")


def activation_bytes(info, batch: int) -> int:
    """A lower bound on the memory one training step of ``batch`` images needs: every block's
    output, kept for the backward pass, in float32 (the real need is several times this)."""
    per_image = math.prod(info.input_shape) + math.prod(info.stem_shape)
    per_image += sum(math.prod(b.out_shape) for b in info.blocks)
    return 4 * per_image * int(batch)


def check_number(value, name: str, lo=None, hi=None, integer: bool = False) -> None:
    """``spec.params.check_number`` (the one rule for numbers: NaN, infinity, type and range, naming the
    setting), raising ``TrainingError`` for the trainer's callers."""
    try:
        params.check_number(value, name, lo, hi, integer)
    except params.ParameterError as err:
        raise TrainingError(str(err)) from None


def check_ranges(s) -> None:
    """Raise ``TrainingError`` for NaN, infinity, a wrong type or a value outside the range declared
    with the setting (``train/settings.py``), naming it; and for a value not among its choices."""
    for name, meta in declared().items():
        value = getattr(s, name)
        if value is None:
            continue
        if meta.choices and value not in [v for v, _ in meta.choices]:
            raise TrainingError(f"{meta.sentence_word} must be {_or([v for v, _ in meta.choices])}, got {value!r}")
        if meta.kind in (int, float) and (meta.lo is not None or meta.hi is not None):
            check_number(value, meta.sentence_word, meta.lo, meta.hi, integer=meta.kind is int)
        if meta.positive and not value > 0:
            raise TrainingError(f"{meta.sentence_word} must be a positive number, got {value}")


def _or(values: list[str]) -> str:
    return ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else values[0]
