"""Per-block input-gradient norms during training, every k steps, without host syncs.

The trainer drives it around each step::

    rec = GradientRecorder(model, every=k)
    for step in ...:
        rec.arm(step)            # before the forward: True on recording steps
        loss = ...; loss.backward()
        rec.collect(step)        # after the backward: device-side norms, no sync
        ...
        for column in rec.drain():   # when metrics are read: one host transfer
            emit(column)
    rec.close()

How it works: a forward pre-hook on every residual block (on the underlying module,
so DistributedDataParallel and torch.compile wrappers are fine) does nothing unless
the recorder is armed. When armed it registers a tensor hook on the block's input,
which keeps a reference to ``dL/dx_l`` when the backward reaches it (the hook fires
once, with the gradient summed over the branch and the shortcut). ``collect`` turns
the captured gradients into norms with one ``torch._foreach_norm`` and stacks them
into a single device tensor; ``drain`` moves every pending column to the host at
once.

On the same recorded steps it also measures each block's residual size,
``||F(x)||/||s(x)||`` averaged over the batch (forward hooks on the branch's end and
the shortcut, device-side, NaN where no shortcut is added), into ``GradColumn.residual``.
Non-recording steps pay three Python hook calls per block, each an attribute check
(for ResNet-56 at batch 32 on a CPU, within the noise of a 34 ms step).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .gradflow import find_blocks
from .records import GradColumn

# Suggested k: a recorded step costs a few kernel launches and a hook call per block
# (no host sync); every 10th step keeps the average cost within 3% of a GPU step even
# if a recorded step were 30% slower (bench/bench_probe.py prints the CPU figures).
DEFAULT_EVERY = 10


class GradientRecorder:
    def __init__(self, model: nn.Module, every: int):
        every = int(every)
        if every < 1:
            raise ValueError(f"record every k steps needs k >= 1, got {every}")
        self.every = every
        blocks = find_blocks(model)
        self.num_blocks = len(blocks)
        self._armed = False
        self._armed_step: int | None = None
        self._grads: list[torch.Tensor | None] = [None] * self.num_blocks
        self._tensor_hooks: list = []
        self._pending: list[tuple[int, torch.Tensor, torch.Tensor]] = []  # step, norms, residual ratios
        self._blocks = [blk for _, blk in blocks]
        self._branch: list[torch.Tensor | None] = [None] * self.num_blocks
        self._ratios: list[torch.Tensor | None] = [None] * self.num_blocks
        self._handles = [blk.register_forward_pre_hook(self._make_pre_hook(i)) for i, (_, blk) in enumerate(blocks)]
        for i, blk in enumerate(self._blocks):
            self._handles.append(blk.branch_end().register_forward_hook(self._make_branch_hook(i)))
            self._handles.append(blk.downsample.register_forward_hook(self._make_shortcut_hook(i)))

    # -- hooks ----------------------------------------------------------------
    def _make_pre_hook(self, i: int):
        def pre_hook(module, args):
            if not self._armed or not torch.is_grad_enabled():
                return None
            x = args[0]
            replaced = False
            if not x.requires_grad:  # the raw batch reaching a block directly (no stem)
                x = x.detach().requires_grad_(True)
                replaced = True
            self._tensor_hooks.append(x.register_hook(self._make_grad_hook(i)))
            return (x, *args[1:]) if replaced else None
        return pre_hook

    def _make_branch_hook(self, i: int):
        def hook(module, args, output):
            if self._armed:
                self._branch[i] = output.detach()
        return hook

    def _make_shortcut_hook(self, i: int):
        def hook(module, args, output):
            f = self._branch[i]
            if not self._armed or f is None or not self._blocks[i].skip:
                return
            self._branch[i] = None
            with torch.no_grad():
                f2, s2 = f.float().flatten(1), output.detach().float().flatten(1)
                self._ratios[i] = (f2.norm(dim=1) / s2.norm(dim=1)).mean()
        return hook

    def _make_grad_hook(self, i: int):
        def grad_hook(grad):
            self._grads[i] = grad.detach()
        return grad_hook

    # -- the trainer's calls -------------------------------------------------------
    def is_recording_step(self, step: int) -> bool:
        return step % self.every == 0

    def arm(self, step: int) -> bool:
        """Call before the forward of ``step``; True when this step will be recorded."""
        self._clear_step()
        if not self._handles or not self.is_recording_step(step):
            return False
        self._armed = True
        self._armed_step = step
        return True

    def collect(self, step: int) -> None:
        """Call after the backward of ``step``; queues one column of device-side norms."""
        if self._armed_step != step:
            self._clear_step()
            return
        present = [g for g in self._grads if g is not None]
        if present:
            norms = torch.stack(torch._foreach_norm(present, 2, dtype=torch.float32))
            if len(present) != self.num_blocks:  # a block the backward never reached: NaN
                full = torch.full((self.num_blocks,), math.nan, dtype=torch.float32, device=norms.device)
                idx = torch.tensor([i for i, g in enumerate(self._grads) if g is not None], device=norms.device)
                norms = full.index_copy(0, idx, norms)
            nan = torch.full((), math.nan, dtype=torch.float32, device=norms.device)
            ratios = torch.stack([r.to(norms.device) if r is not None else nan for r in self._ratios])
            self._pending.append((step, norms, ratios))
        self._clear_step()

    def drain(self) -> list[GradColumn]:
        """Every column collected since the last drain, with one host transfer."""
        if not self._pending:
            return []
        steps = [s for s, _, _ in self._pending]
        values = torch.stack([torch.cat([n, r]) for _, n, r in self._pending]).cpu().numpy().astype(np.float64)
        self._pending.clear()
        k = self.num_blocks
        return [GradColumn(step=s, norms=row[:k].copy(), residual=row[k:].copy()) for s, row in zip(steps, values)]

    @property
    def pending(self) -> int:
        return len(self._pending)

    def close(self) -> None:
        """Remove every hook; the recorder records nothing afterwards (drain still works)."""
        self._clear_step()
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self) -> "GradientRecorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _clear_step(self) -> None:
        self._armed = False
        self._armed_step = None
        for h in self._tensor_hooks:
            h.remove()
        self._tensor_hooks.clear()
        self._grads = [None] * self.num_blocks
        self._branch = [None] * self.num_blocks
        self._ratios = [None] * self.num_blocks
