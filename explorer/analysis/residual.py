"""How big is each block's correction? ``||F(x)|| / ||s(x)||`` and ``cos(F(x), s(x))`` per block.

A residual block adds its branch output ``F(x)`` to its shortcut output ``s(x)`` (the
input itself, or its projection). ``ResidualTap`` hooks every block's branch end and
shortcut during a forward pass and measures, for each image of the batch, the size of
the correction against the shortcut and the cosine between them, then averages over
the batch. For a plain block, or a block whose skip is switched off, no shortcut is
added and the ratio is undefined (NaN, with the reason in ``status``).

It can also keep, for the first image of the batch, the channel-mean maps of each
block's input, branch output and sum, so "x + a small change" can be seen.

``probe.residual_sizes(model, inputs)`` runs one forward in train mode (BN uses batch
statistics, as in the gradient probe) and leaves the model as it found it; the
gradient probe measures the same thing in its own forward (``probe(residual=True)``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..nn.blocks import ResidualBlock

OK, PLAIN, SKIP_OFF = "ok", "plain block", "skip switched off"


@dataclass
class BlockImages:
    """Channel means (H x W) for one probe image: the block's input, branch output and output sum."""

    input: np.ndarray
    branch: np.ndarray
    total: np.ndarray  # F(x) + s(x); F(x) alone when no shortcut is added


@dataclass
class ResidualResult:
    """Per block, in depth order: mean ``||F||/||s||`` and mean cosine (NaN where undefined)."""

    ratio: np.ndarray
    cosine: np.ndarray
    status: list[str]  # OK, PLAIN or SKIP_OFF
    images: list[BlockImages | None] = field(default_factory=list)
    batch: int = 0

    @property
    def defined(self) -> np.ndarray:
        return np.array([s == OK for s in self.status], dtype=bool)

    def to_rows(self, labels: list[str]) -> list[dict]:
        rows = []
        for label, r, c, s in zip(labels, self.ratio, self.cosine, self.status):
            rows.append({"label": label, "ratio": _finite(r) if s == OK else None,
                         "cosine": _finite(c) if s == OK else None,
                         "undefined_because": None if s == OK else s})
        return rows


def _finite(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _rows(t: torch.Tensor) -> torch.Tensor:
    """One row per image, without a copy where the memory order allows (the sums below
    do not depend on the order of an image's values)."""
    if t.dim() == 4 and not t.is_contiguous() and t.is_contiguous(memory_format=torch.channels_last):
        return t.permute(0, 2, 3, 1).reshape(t.shape[0], -1)
    return t.reshape(t.shape[0], -1)


class ResidualTap:
    """Forward hooks that measure every block's correction; ``result()`` after the forward.

    Usable as a context manager; hooks are removed on exit. ``images=True`` also keeps
    the first image's channel-mean maps for every block (a few KB each).
    """

    def __init__(self, blocks: list[ResidualBlock], images: bool = False):
        self.blocks = blocks
        self.images = images
        self._handles = []
        self.reset()
        for i, block in enumerate(blocks):
            self._handles.append(block.register_forward_pre_hook(self._make_input_hook(i)))
            self._handles.append(block.branch_end().register_forward_hook(self._make_branch_hook(i)))
            self._handles.append(block.downsample.register_forward_hook(self._make_shortcut_hook(i)))
            self._handles.append(block.register_forward_hook(self._make_output_hook(i)))

    def reset(self) -> None:
        n = len(self.blocks)
        self._branch: list[torch.Tensor | None] = [None] * n
        self._stats: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * n
        self._images: list[list[torch.Tensor] | None] = [None] * n
        self._batch = 0

    # -- hooks -------------------------------------------------------------------
    def _make_input_hook(self, i: int):
        def hook(module, args):
            x = args[0]
            self._batch = int(x.shape[0])
            if self.images:
                with torch.no_grad():
                    self._images[i] = [x[0].detach().float().mean(0)]
            self._branch[i] = None
        return hook

    def _make_branch_hook(self, i: int):
        def hook(module, args, output):
            self._branch[i] = output.detach()
        return hook

    def _make_shortcut_hook(self, i: int):
        def hook(module, args, output):
            f = self._branch[i]
            if f is None or not self.blocks[i].skip:
                return
            with torch.no_grad():
                # One pass over both: per image the 2x2 Gram matrix [[F.F, F.s], [s.F, s.s]].
                pair = torch.stack([_rows(f.float()), _rows(output.detach().float())], 1)
                gram = torch.bmm(pair, pair.transpose(1, 2))
                ff, ss, fs = gram[:, 0, 0], gram[:, 1, 1], gram[:, 0, 1]
                ratio = (ff / ss).sqrt().mean()
                cos = (fs / (ff * ss).sqrt()).mean()
                self._stats[i] = (ratio, cos)
                if self.images and self._images[i] is not None:
                    self._images[i] += [f[0].float().mean(0), (f[0].float() + output[0].detach().float()).mean(0)]
        return hook

    def _make_output_hook(self, i: int):
        def hook(module, args, output):
            f = self._branch[i]
            if self.images and self._images[i] is not None and len(self._images[i]) == 1 and f is not None:
                with torch.no_grad():
                    branch = f[0].float().mean(0)
                    self._images[i] += [branch, branch]  # no shortcut added: the sum is F(x) itself
            self._branch[i] = None
        return hook

    # -- results -----------------------------------------------------------------
    def result(self) -> ResidualResult:
        """Everything measured in the last forward, with one host transfer for the numbers."""
        n = len(self.blocks)
        status = []
        for block, stats in zip(self.blocks, self._stats):
            if not block.has_shortcut:
                status.append(PLAIN)
            elif not block.skip:
                status.append(SKIP_OFF)
            else:
                status.append(OK if stats is not None else SKIP_OFF)
        ratio = np.full(n, np.nan)
        cosine = np.full(n, np.nan)
        present = [i for i, s in enumerate(self._stats) if s is not None and status[i] == OK]
        if present:
            values = torch.stack([torch.stack(self._stats[i]) for i in present]).cpu().double().numpy()
            ratio[present] = values[:, 0]
            cosine[present] = values[:, 1]
        images: list[BlockImages | None] = []
        if self.images:
            for maps in self._images:
                if maps is None or len(maps) < 3:
                    images.append(None)
                else:
                    images.append(BlockImages(*(m.cpu().numpy().astype(np.float32) for m in maps[:3])))
        return ResidualResult(ratio, cosine, status, images, self._batch)

    def close(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
        self._branch = [None] * len(self.blocks)

    def __enter__(self) -> "ResidualTap":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
