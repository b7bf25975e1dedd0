"""The loss landscape around trained weights (Li et al. 2018, "Visualizing the Loss Landscape").

Pick two random directions ``d1``, ``d2`` in weight space and evaluate the loss at
``w + a*d1 + b*d2`` on a grid of ``(a, b)``. Raw random directions say little, because
a ReLU net with batch norm does not change when one filter's weights are scaled: a step
of fixed length is huge for a filter with small weights and nothing for a large one.
So each direction is *filter-normalised*: every filter ``d_i`` (one slice along the
first axis of a conv or linear weight) is rescaled to the norm of the matching filter
of the weights, ``d_i <- d_i * ||w_i|| / ||d_i||``. As in the paper, the directions of
batch-norm parameters and biases (every tensor with fewer than two dimensions) are zero,
and the loss is evaluated in eval mode, so the batch-norm running statistics stay those
of the trained net.

Coarse to fine: the fine grid has ``points`` values per axis over ``[-span, span]``, and
the coarse grid is every ``step``-th of them (25 and 9 give a step of 3), so the coarse
points are fine points and none is evaluated twice. ``evaluation_order`` lists the
centre row first (the 1D slice along ``d1``), then the rest of the coarse grid, then
the remaining fine points; ``preview`` fills points not yet evaluated from the coarse
grid by bilinear interpolation, so a picture exists once the coarse grid is complete.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-10  # as in the paper's code: guards a random filter of norm zero


# -- directions -------------------------------------------------------------------------

def filter_normalise(direction: list[torch.Tensor], weights: list[torch.Tensor]) -> list[torch.Tensor]:
    """``direction`` rescaled filter by filter to ``weights``' filter norms; 1-D tensors get zeros.

    Both lists hold tensors of the same shapes in the same order. A filter is one slice
    along the first axis (a conv's output channel, a linear layer's output row).
    """
    if len(direction) != len(weights):
        raise ValueError(f"{len(direction)} direction tensors for {len(weights)} weight tensors")
    out = []
    for d, w in zip(direction, weights):
        if tuple(d.shape) != tuple(w.shape):
            raise ValueError(f"a direction of shape {tuple(d.shape)} for weights of shape {tuple(w.shape)}")
        if w.dim() <= 1:
            out.append(torch.zeros_like(w))
            continue
        d_rows = d.reshape(d.shape[0], -1)
        w_rows = w.reshape(w.shape[0], -1)
        scale = w_rows.norm(dim=1) / (d_rows.norm(dim=1) + EPS)
        out.append((d_rows * scale[:, None]).reshape(w.shape).to(w.dtype))
    return out


def random_direction(weights: list[torch.Tensor], seed: int) -> list[torch.Tensor]:
    """A Gaussian direction drawn from a private generator seeded with ``seed``, filter-normalised.

    Two networks whose parameters have the same shapes in the same order (a ResNet and
    its plain twin with identity or zero-pad shortcuts) get the same random draw, each
    scaled to its own filters.
    """
    gen = torch.Generator().manual_seed(int(seed))
    raw = [torch.randn(tuple(w.shape), generator=gen, dtype=torch.float32) for w in weights]
    return filter_normalise(raw, [w.detach().float().cpu() for w in weights])


def same_shapes(a: nn.Module, b: nn.Module) -> bool:
    pa = [tuple(p.shape) for p in a.parameters()]
    pb = [tuple(p.shape) for p in b.parameters()]
    return pa == pb


# -- the grid ---------------------------------------------------------------------------

@dataclass(frozen=True)
class GridPlan:
    """The fine grid's axis and which of its points make the coarse grid."""

    points: int = 25
    coarse: int = 9
    span: float = 1.0

    def __post_init__(self):
        if self.points < 3 or self.points % 2 == 0:
            raise ValueError(f"the grid needs an odd number of points per axis (3 or more), got {self.points}")
        if self.coarse < 3 or self.coarse % 2 == 0 or self.coarse > self.points:
            raise ValueError(f"the coarse grid needs an odd number of points from 3 to {self.points}, "
                             f"got {self.coarse}")
        if (self.points - 1) % (self.coarse - 1):
            raise ValueError(f"a {self.coarse}-point coarse grid is not part of a {self.points}-point grid: "
                             f"{self.points - 1} is not a multiple of {self.coarse - 1} (try 9 and 25, or 5 and 9)")
        if not self.span > 0:
            raise ValueError(f"the span must be positive, got {self.span}")

    @property
    def step(self) -> int:
        """Fine-grid indices between two coarse points."""
        return (self.points - 1) // (self.coarse - 1)

    @property
    def centre(self) -> int:
        return self.points // 2

    @property
    def axis(self) -> np.ndarray:
        return np.linspace(-self.span, self.span, self.points)

    def is_coarse(self, i: int, j: int) -> bool:
        return i % self.step == 0 and j % self.step == 0

    def evaluation_order(self) -> list[tuple[int, int]]:
        """``(i, j)`` (``i`` along ``d1``, ``j`` along ``d2``): the 1D slice, the coarse grid, the rest."""
        c = self.centre
        order = [(i, c) for i in range(self.points)]
        seen = set(order)
        for i in range(0, self.points, self.step):
            for j in range(0, self.points, self.step):
                if (i, j) not in seen:
                    order.append((i, j))
                    seen.add((i, j))
        for j in range(self.points):
            for i in range(self.points):
                if (i, j) not in seen:
                    order.append((i, j))
                    seen.add((i, j))
        return order

    @property
    def coarse_count(self) -> int:
        """How many points of ``evaluation_order`` come before the coarse grid is complete."""
        return self.points + self.coarse * self.coarse - self.coarse  # the centre row is a coarse row


def empty_grid(plan: GridPlan) -> np.ndarray:
    """``values[i, j]``: the loss at ``(axis[i], axis[j])``; NaN where not evaluated yet."""
    return np.full((plan.points, plan.points), np.nan)


def coarse_complete(plan: GridPlan, values: np.ndarray) -> bool:
    return not bool(np.isnan(values[::plan.step, ::plan.step]).any())


def preview(plan: GridPlan, values: np.ndarray) -> np.ndarray | None:
    """The grid with points not yet evaluated filled in from the coarse grid (None before it is complete)."""
    coarse = values[::plan.step, ::plan.step]
    if np.isnan(coarse).any():
        return None
    if not np.isnan(values).any():
        return values.copy()
    at = np.arange(plan.points) / plan.step  # fine index -> position on the coarse grid
    known = np.arange(plan.coarse)
    rows = np.array([np.interp(at, known, coarse[r]) for r in range(plan.coarse)])  # (coarse, points)
    full = np.array([np.interp(at, known, rows[:, c]) for c in range(plan.points)]).T  # (points, points)
    return np.where(np.isnan(values), full, values)


def slice_1d(plan: GridPlan, values: np.ndarray) -> np.ndarray:
    """The loss along ``d1`` through the centre (``b = 0``)."""
    return values[:, plan.centre].copy()


# -- reading the grid ---------------------------------------------------------------------

def doubling_distance(axis: np.ndarray, values: np.ndarray, centre: int, side: int) -> float | None:
    """How far from the centre, on ``side`` (+1 or -1), the loss has doubled.

    The distance of the first evaluated grid point whose loss is at least twice the
    centre's (points not evaluated yet, NaN, are skipped, so the crossing lies between
    the evaluated point before it and this one). None when every point up to the edge
    is evaluated and none reaches double; NaN when none reaches it but some are not
    evaluated yet (or the centre is not), so it is not known.
    """
    base = values[centre]
    if np.isnan(base) or not np.isfinite(base):
        return float("nan")
    missing = False
    i = centre + side
    while 0 <= i < len(values):
        v = values[i]
        if np.isnan(v):
            missing = True
        elif not np.isfinite(v) or v >= 2.0 * base:  # inf counts as "more than double"
            return float(abs(axis[i] - axis[centre]))
        i += side
    return float("nan") if missing else None


def local_minima(values: np.ndarray) -> list[tuple[int, int]]:
    """Interior grid points whose loss is lower than all eight neighbours' (none with a missing value).

    Points on the edge are left out: what lies beyond the grid is unknown.
    """
    n, m = values.shape
    if n < 3 or m < 3:
        return []
    centre = values[1:-1, 1:-1]
    lower = np.isfinite(centre)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                neighbour = values[1 + di:n - 1 + di, 1 + dj:m - 1 + dj]
                lower &= ~np.isnan(neighbour) & (centre < neighbour)
    return [(int(i) + 1, int(j) + 1) for i, j in zip(*np.nonzero(lower))]


# -- evaluating the loss ------------------------------------------------------------------

@dataclass
class LossSurface:
    """One trained model, its fixed batch and its two directions: ``loss_at(a, b)``.

    The model is the caller's own copy: its parameters are overwritten at every call
    (``restore`` puts the trained weights back). It is evaluated in eval mode.
    """

    model: nn.Module
    inputs: torch.Tensor
    targets: torch.Tensor
    d1: list[torch.Tensor]
    d2: list[torch.Tensor]
    batch_size: int = 512
    _params: list = field(default_factory=list, init=False, repr=False)
    _origin: list = field(default_factory=list, init=False, repr=False)

    def __post_init__(self):
        params = list(self.model.parameters())
        if len(params) != len(self.d1) or len(params) != len(self.d2):
            raise ValueError("the directions do not match the model's parameters")
        device = params[0].device
        moving = [k for k, d in enumerate(self.d1) if d.dim() > 1]  # 1-D tensors never move
        self._params = [params[k] for k in moving]
        self._origin = [params[k].detach().clone() for k in moving]
        self._d1 = [self.d1[k].to(device, params[k].dtype) for k in moving]
        self._d2 = [self.d2[k].to(device, params[k].dtype) for k in moving]
        self.model.eval()

    @torch.no_grad()
    def loss_at(self, a: float, b: float) -> float:
        for p, w, x, y in zip(self._params, self._origin, self._d1, self._d2):
            torch.add(w, x, alpha=float(a), out=p)
            p.add_(y, alpha=float(b))
        self.model.eval()
        total = 0.0
        n = len(self.targets)
        for start in range(0, n, self.batch_size):
            x = self.inputs[start:start + self.batch_size]
            y = self.targets[start:start + self.batch_size]
            out = self.model(x).float()
            total += float(F.cross_entropy(out, y, reduction="sum"))
        return total / max(n, 1)

    @torch.no_grad()
    def restore(self) -> None:
        for p, w in zip(self._params, self._origin):
            p.copy_(w)
