"""The loss-landscape experiment's grids in numbers and in words.

``summarise`` reads one net's grid: the loss at the trained weights, how far from the
centre the loss has doubled along each direction (the first grid point at twice the
centre's loss or more, so the distance is known to one grid step), and how many interior
points are lower than all eight neighbours. ``landscape_words`` compares a ResNet with its
plain twin and says "no clear difference" whenever the grid cannot tell them apart.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..analysis.landscape import GridPlan, doubling_distance, local_minima

RUGGED = 2  # the plain grid is called "more rugged" with at least this many more local minima
FAR_APART = 10.0  # centre losses this many times apart get a sentence of their own


@dataclass(frozen=True)
class SurfaceSummary:
    """What one grid shows, in numbers."""

    label: str
    kind: str
    centre_loss: float
    # along d1, d2: the nearer side's distance (None: not within the span; NaN: not known yet)
    doubling: tuple[float | None, float | None]
    minima: int | None  # interior local minima on ``grid_points`` x ``grid_points``; None: no complete grid
    grid_points: int  # the complete grid the minima were counted on (0: none yet)
    evaluated: int
    total: int
    highest: float = float("nan")  # the highest loss among the points measured

    @property
    def residual(self) -> bool:
        return self.kind != "plain"

    def to_dict(self) -> dict:
        return {"centre_loss": json_float(self.centre_loss),
                "loss_doubles_at": {"direction_1": _distance_json(self.doubling[0]),
                                    "direction_2": _distance_json(self.doubling[1])},
                "local_minima": self.minima, "minima_grid": self.grid_points,
                "points_evaluated": self.evaluated, "points_total": self.total,
                "highest_loss": json_float(self.highest)}


def _distance_json(d: float | None):
    return "not known yet" if d is not None and math.isnan(d) else d


def json_float(x: float):
    return float(x) if np.isfinite(x) else None


def _nearer(a: float | None, b: float | None) -> float | None:
    """The nearer side's doubling distance; NaN (not known) when neither side has doubled and one is unknown."""
    found = [d for d in (a, b) if d is not None and not math.isnan(d)]
    if found:
        return min(found)
    return float("nan") if any(d is not None for d in (a, b)) else None


def summarise(label: str, kind: str, plan: GridPlan, values: np.ndarray) -> SurfaceSummary:
    axis, c = plan.axis, plan.centre
    along_1, along_2 = values[:, c], values[c, :]
    doubling = (_nearer(doubling_distance(axis, along_1, c, -1), doubling_distance(axis, along_1, c, +1)),
                _nearer(doubling_distance(axis, along_2, c, -1), doubling_distance(axis, along_2, c, +1)))
    if not np.isnan(values).any():
        minima, grid = len(local_minima(values)), plan.points
    elif not np.isnan(values[::plan.step, ::plan.step]).any():
        minima, grid = len(local_minima(values[::plan.step, ::plan.step])), plan.coarse
    else:
        minima, grid = None, 0
    measured = values[~np.isnan(values)]
    return SurfaceSummary(label, kind, float(values[c, c]), doubling, minima, grid,
                          int(measured.size), values.size, float(measured.max()) if measured.size else float("nan"))


def _loss(x: float) -> str:
    if np.isnan(x):
        return "?"
    if not np.isfinite(x):
        return "infinite"
    if abs(x) < 0.01:
        return f"{x:.2g}"
    if abs(x) < 10:
        return f"{x:.3f}"
    return f"{x:.1f}" if abs(x) < 1000 else f"{x:,.0f}" if abs(x) < 1e7 else f"{x:.2g}"


def _dist(x: float) -> str:
    return f"{x:.2f}"


def _doubling_words(s: SurfaceSummary, span: float) -> str:
    parts = []
    for k, d in enumerate(s.doubling, start=1):
        if d is None:
            parts.append(f"stays below twice that out to ±{_dist(span)} along direction {k}")
        elif math.isnan(d):
            parts.append(f"has not doubled at the points measured so far along direction {k}")
        else:
            parts.append(f"has doubled {_dist(d)} from the centre along direction {k}")
    return " and ".join(parts)


def _minima_words(s: SurfaceSummary) -> str:
    if s.minima is None:
        return "local minima: not counted until the coarse grid is complete"
    n = s.minima
    return (f"{n} local minim{'um' if n == 1 else 'a'} on the {s.grid_points}x{s.grid_points} grid"
            f"{' (the coarse one, so far)' if s.grid_points != 0 and s.evaluated < s.total else ''}")


def _compare_doubling(r: SurfaceSummary, p: SurfaceSummary, span: float, step: float) -> str:
    """Is the ResNet's loss slower to double than the plain net's along both directions?

    wider (yes), narrower (the plain net's is slower along both), same (less than a grid step
    apart along both), crossed (slower along one direction, faster along the other), partly
    (slower or faster along one, the same along the other), unknown (a distance is not known yet).

    A distance not reached within the span counts as beyond it. A difference smaller than one
    grid step is below what the grid can tell apart.
    """
    beyond = span + step
    signs = []
    for dr, dp in zip(r.doubling, p.doubling):
        if (dr is not None and math.isnan(dr)) or (dp is not None and math.isnan(dp)):
            return "unknown"  # not known yet along this direction: no difference can be claimed
        dr = beyond if dr is None else dr
        dp = beyond if dp is None else dp
        if dr - dp >= step - 1e-9:
            signs.append(1)
        elif dp - dr >= step - 1e-9:
            signs.append(-1)
        else:
            signs.append(0)
    if all(s == 1 for s in signs):
        return "wider"
    if all(s == -1 for s in signs):
        return "narrower"
    if 1 in signs and -1 in signs:
        return "crossed"
    return "same" if all(s == 0 for s in signs) else "partly"


@dataclass(frozen=True)
class LandscapeWords:
    outcome: str  # smoother | wider | fewer_minima | not_smoother | no_difference | single | nothing
    headline: str
    details: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join((self.headline,) + self.details)

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "headline": self.headline, "details": list(self.details)}


def landscape_words(summaries: list[SurfaceSummary], plan: GridPlan, weights: int = 0) -> LandscapeWords:
    """The grids in words: each net's numbers, then (for a ResNet and its plain twin) the comparison."""
    measured = [s for s in summaries if s.evaluated > 0]
    if not measured:
        return LandscapeWords("nothing", "Nothing measured yet.", ())
    step = float(plan.axis[1] - plan.axis[0])
    details = []
    for s in measured:
        details.append(f"{s.label}: loss {_loss(s.centre_loss)} at the trained weights, "
                       f"{_loss(s.highest)} at the highest point measured; it "
                       f"{_doubling_words(s, plan.span)}; {_minima_words(s)}.")
    incomplete = [s for s in measured if s.evaluated < s.total]
    if incomplete:
        details.append(f"The grid is not complete ({incomplete[0].evaluated} of {incomplete[0].total} points): "
                       "these are the numbers so far.")
    space = f" of {weights:,} weights" if weights else ""
    details.append(f"This is one random 2D slice through the space{space}, distances in filter norms (grid step "
                   f"{step:.3g}); other directions (another seed) can look different.")
    residual = [s for s in summaries if s.residual]
    plain = [s for s in summaries if not s.residual]
    if len(summaries) != 2 or len(residual) != 1 or len(plain) != 1:
        names = " and ".join(s.label for s in measured)
        return LandscapeWords("single", f"The loss around {names}: compare a ResNet with its plain twin to see "
                              "what the skips change.", tuple(details))
    r, p = residual[0], plain[0]
    if r.evaluated < plan.points or p.evaluated < plan.points:
        return LandscapeWords("nothing", "Measuring the 1D slice; the comparison comes when it is complete.",
                              tuple(details))
    basin = _compare_doubling(r, p, plan.span, step)
    minima_known = r.minima is not None and p.minima is not None and r.grid_points == p.grid_points
    fewer = minima_known and p.minima > r.minima
    more = minima_known and r.minima > p.minima
    rugged = minima_known and p.minima >= r.minima + RUGGED  # "rugged" needs more than one extra minimum
    counts = f"{p.minima} against {r.minima}" if minima_known else ""
    low, high = sorted((r, p), key=lambda s: s.centre_loss)
    if np.isfinite(high.centre_loss) and high.centre_loss >= FAR_APART * max(low.centre_loss, 1e-12):
        details.insert(len(details) - 1, f"{high.label} sits at a loss "
                       f"{high.centre_loss / max(low.centre_loss, 1e-12):.0f}x {low.label}'s, so where the loss "
                       "doubles is measured from very different heights.")
    steep, flat = sorted((r, p), key=lambda s: s.highest, reverse=True)
    if np.isfinite(flat.highest) and steep.highest >= FAR_APART * max(flat.highest, 1e-12):
        details.insert(len(details) - 1, f"Away from the centre {steep.label}'s loss climbs far higher: up to "
                       f"{_loss(steep.highest)} against {_loss(flat.highest)} on the same points.")
    if basin == "wider" and rugged:
        return LandscapeWords("smoother", f"{r.label} sits in a wider, smoother basin than {p.label}: its loss "
                              f"doubles further from the centre along both directions, and {p.label}'s grid "
                              f"shows more local minima ({counts}).", tuple(details))
    if basin == "wider":
        tail = (f" {p.label}'s grid shows more local minima ({counts})." if fewer else
                f" Both grids show {r.minima} local minim{'um' if r.minima == 1 else 'a'}." if minima_known and
                not more else f" {r.label}'s grid shows more local minima ({r.minima} against {p.minima})."
                if more else "")
        return LandscapeWords("wider", f"{r.label}'s loss rises more slowly around its trained weights than "
                              f"{p.label}'s: it doubles further from the centre along both directions.",
                              tuple(details) + ((tail.strip(),) if tail else ()))
    if fewer:
        rise = ("how fast the loss rises near the centre is not known yet along both directions"
                if basin == "unknown" else "how fast the loss rises near the centre does not differ clearly")
        return LandscapeWords("fewer_minima", f"{p.label}'s slice shows more local minima than {r.label}'s "
                              f"({counts}){', a more rugged surface' if rugged else ''}; {rise}.",
                              tuple(details))
    if basin == "narrower":
        return LandscapeWords("not_smoother", f"This slice does not show {r.label}'s landscape as the smoother "
                              f"one: {p.label}'s loss rises more slowly along both directions.", tuple(details))
    how = {"same": "the loss has doubled at the same grid distance from the centre for both, along both "
                   "directions",
           "crossed": f"{r.label}'s loss rises more slowly along one direction and faster along the other",
           "partly": "the loss rises more slowly for one net along one direction only, and alike along the "
                     "other",
           "unknown": "where the loss doubles is not known yet along every direction"}[basin]
    minima_part = ("" if not minima_known else f"; {r.label}'s grid shows more local minima ({r.minima} against "
                   f"{p.minima})" if more else f"; both grids show {r.minima} local minim"
                   f"{'um' if r.minima == 1 else 'a'}")
    opening = "No clear difference so far" if incomplete else "This slice shows no clear difference"
    return LandscapeWords("no_difference", f"{opening} between {r.label} and {p.label}: {how}{minima_part}.",
                          tuple(details))
