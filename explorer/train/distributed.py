"""DistributedDataParallel under ``torchrun``: process group set-up, reductions, tear-down.

``torchrun --nproc_per_node=N main.py train ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK`` for each process. ``launch`` reads them, joins the group (NCCL for CUDA,
gloo otherwise) and leaves it when the ``with`` block ends; the trainer finds the group
through ``DistContext.current()``. A single process simply gets a context of size one.

When one rank cannot go on (out of memory, a bug) the others are already waiting for it
in a collective, usually DDP's gradient all-reduce. That rank raises ``RankFailure``,
``launch`` aborts its side of the group instead of meeting the others at the barrier,
and the process exits non-zero; torchrun's agent then stops the remaining ranks (with
the default ``--max-restarts=0`` it does not start them again) and itself exits non-zero.
"""
from __future__ import annotations

import contextlib
import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .api import TrainingError


class RankFailure(TrainingError):
    """This rank failed mid-run under DDP and must leave; the message names the rank and what to try."""


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def current(cls) -> "DistContext":
        if dist.is_available() and dist.is_initialized():
            return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)),
                       dist.get_backend())
        return cls()

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """In-place sum over ranks (no-op for one process)."""
        if self.enabled:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def mean_(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.enabled:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
            tensor /= self.world_size
        return tensor

    def any_(self, flag: bool, device: torch.device) -> bool:
        """True on every rank when ``flag`` is true on any of them."""
        if not self.enabled:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


@contextlib.contextmanager
def launch(device_name: str = "auto", timeout_s: float = 600.0):
    """Join the process group torchrun described (or do nothing for one process); yields the context."""
    if not launched_by_torchrun() or (dist.is_available() and dist.is_initialized()):
        yield DistContext.current()
        return
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    wants_cuda = device_name.startswith("cuda") or (device_name == "auto" and torch.cuda.is_available())
    backend = "nccl" if wants_cuda else "gloo"
    if wants_cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=timeout_s))
    try:
        yield DistContext.current()
    except BaseException:
        # Leaving early (a RankFailure, Ctrl+C, a bug): the other ranks may sit in a
        # collective waiting for this one, so a barrier or an orderly shutdown would wait
        # with them until the timeout. Abort is local and returns at once.
        _abort_group()
        raise
    try:
        # Leave together: a rank that tears down its group while another still writes files
        # can abort in gloo's shutdown ("terminate called without an active exception").
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _abort_group() -> None:
    """Leave the group without waiting for the other ranks (ncclCommAbort rather than a
    collective shutdown). Errors are ignored: the process is ending with its own error."""
    abort = getattr(dist.distributed_c10d, "_abort_process_group", None)  # torch >= 2.5
    if abort is None:
        return  # the group goes with the process
    try:
        abort()
    except Exception:  # noqa: BLE001 - never hide the error that is ending the run
        pass
