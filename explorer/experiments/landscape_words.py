"""The loss-landscape experiment's grids in numbers and in words.

``summarise`` reads one net's grid: the loss at the trained weights, how far from the
centre the loss has doubled along each direction (the first grid point at twice the
centre's loss or more, so the distance is known to one grid step), and how many interior
points are lower than all eight neighbours, with the losses that show where it doubled.

``landscape_verdict`` renders every sentence from claims (``claims.py``): each net's doubling
distances from thresholds against twice its centre loss, and for a ResNet and its plain twin
the centre losses compared (first, as the headline, when they are ``FAR_APART`` times apart:
the doubling distances are then measured from very different heights), where the loss doubles
compared along each direction by name (a grid step apart or more), the local minima compared,
and how many of these measures go the way the lessons (Li et al. 2018) say, counted exactly.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from ..analysis.landscape import GridPlan, doubling_distance, local_minima
from .claims import Compare, Count, Named, Threshold, Words
from .verdict import Verdict

FAR_APART = 10.0  # centre losses this many times apart get a sentence of their own (the headline)
SAME_STEPS = 0.999  # doubling distances less than one grid step apart are "at the same grid distance"


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
    # along d1, d2: the loss where it has doubled (NaN: it has not), and the highest loss measured
    # nearer the centre than that (the whole line when it has not doubled)
    doubled_loss: tuple[float, float] = (math.nan, math.nan)
    inside_highest: tuple[float, float] = (math.nan, math.nan)

    @property
    def residual(self) -> bool:
        return self.kind != "plain"

    def to_dict(self) -> dict:
        return {"centre_loss": json_float(self.centre_loss),
                "loss_doubles_at": {"direction_1": _distance_json(self.doubling[0]),
                                    "direction_2": _distance_json(self.doubling[1])},
                "local_minima": self.minima, "minima_grid": self.grid_points,
                "points_evaluated": self.evaluated, "points_total": self.total,
                "highest_loss": json_float(self.highest),
                "doubled_loss": [_loss_json(x) for x in self.doubled_loss],
                "highest_loss_inside": [_loss_json(x) for x in self.inside_highest]}

    @classmethod
    def from_dict(cls, label: str, kind: str, d: dict) -> "SurfaceSummary":
        """A summary as ``to_dict`` wrote it (with the arm's label and kind beside it in the result)."""
        def dist(x):
            return math.nan if x == "not known yet" else None if x is None else float(x)

        def num(x):
            return math.nan if x is None else math.inf if x == "Infinity" else float(x)

        doubles = d["loss_doubles_at"]
        return cls(label, kind, num(d["centre_loss"]), (dist(doubles["direction_1"]), dist(doubles["direction_2"])),
                   None if d["local_minima"] is None else int(d["local_minima"]), int(d["minima_grid"]),
                   int(d["points_evaluated"]), int(d["points_total"]), num(d["highest_loss"]),
                   tuple(num(x) for x in d["doubled_loss"]), tuple(num(x) for x in d["highest_loss_inside"]))


def _loss_json(x: float):
    """A loss in strict JSON: None where there is none (NaN), "Infinity" for an infinite one."""
    return None if math.isnan(x) else "Infinity" if x == math.inf else float(x)


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


def _line_facts(axis: np.ndarray, line: np.ndarray, c: int, d: float | None) -> tuple[float, float]:
    """(the loss where it has doubled, on the nearer side; the highest loss measured nearer the centre
    than that, or on the whole line when it has not doubled). NaN where there is no such point."""
    step = float(axis[1] - axis[0]) if len(axis) > 1 else 1.0
    offsets = np.abs(axis - axis[c])
    if d is not None and not math.isnan(d):
        at = line[np.isclose(offsets, d, atol=step * 1e-6)]
        at = at[~np.isnan(at)]
        inside = line[(offsets < d - step * 1e-6) & ~np.isnan(line)]
    else:
        at = np.array([])
        inside = line[~np.isnan(line)]
    return (float(at.max()) if at.size else math.nan, float(inside.max()) if inside.size else math.nan)


def summarise(label: str, kind: str, plan: GridPlan, values: np.ndarray) -> SurfaceSummary:
    axis, c = plan.axis, plan.centre
    along_1, along_2 = values[:, c], values[c, :]
    doubling = (_nearer(doubling_distance(axis, along_1, c, -1), doubling_distance(axis, along_1, c, +1)),
                _nearer(doubling_distance(axis, along_2, c, -1), doubling_distance(axis, along_2, c, +1)))
    facts = [_line_facts(axis, line, c, d) for line, d in zip((along_1, along_2), doubling)]
    if not np.isnan(values).any():
        minima, grid = len(local_minima(values)), plan.points
    elif not np.isnan(values[::plan.step, ::plan.step]).any():
        minima, grid = len(local_minima(values[::plan.step, ::plan.step])), plan.coarse
    else:
        minima, grid = None, 0
    measured = values[~np.isnan(values)]
    return SurfaceSummary(label, kind, float(values[c, c]), doubling, minima, grid,
                          int(measured.size), values.size, float(measured.max()) if measured.size else float("nan"),
                          (facts[0][0], facts[1][0]), (facts[0][1], facts[1][1]))


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


def _twice(s: SurfaceSummary) -> Named:
    return Named(f"twice {s.label}'s loss at the trained weights", 2.0 * s.centre_loss)


def _direction(s: SurfaceSummary, k: int, span: float) -> tuple[str, list[Threshold]]:
    """Along direction ``k`` (1 or 2): where the loss has doubled, with the thresholds that show it."""
    d = s.doubling[k - 1]
    inside = Threshold(Named(f"{s.label}: highest loss nearer the centre along direction {k}",
                             s.inside_highest[k - 1]), _twice(s), 0.0)
    if d is not None and not math.isnan(d):
        at = Threshold(Named(f"{s.label}: loss {_dist(d)} from the centre along direction {k}", s.doubled_loss[k - 1]),
                       _twice(s), 0.0)
        words = at.pick(above="has doubled", within="has doubled", below="has not doubled",
                        undefined="has an unmeasured point")
        return f"{words} {_dist(d)} from the centre along direction {k}", [at, inside]
    if d is None:
        words = inside.pick(below="stays below twice that", above="rises past twice that",
                            within="reaches twice that", undefined="is not measured")
        return f"{words} out to ±{_dist(span)} along direction {k}", [inside]
    words = inside.pick(below="has not doubled at the points measured so far", above="rises past twice that",
                        within="reaches twice that", undefined="is not measured yet")
    return f"{words} along direction {k}", [inside]


def _net_sentence(s: SurfaceSummary, plan: GridPlan, w: Words) -> None:
    if math.isnan(s.centre_loss):
        c = Count(s.evaluated, s.total, what=f"{s.label}'s grid points measured")
        w.say(f"{s.label}: the loss at the trained weights is not measured yet ({c.n} of {c.total} points measured).",
              c)
        return
    if not math.isfinite(s.centre_loss):
        t = Threshold(Named(f"{s.label}'s loss at the trained weights", s.centre_loss),
                      Named("the largest finite number", sys.float_info.max), 0.0)
        what = t.pick(above="not finite", below="finite", within="finite", undefined="not a number")
        w.say(f"{s.label}: the loss at the trained weights is {what}, so where it doubles cannot be said.", t)
        return
    d1, c1 = _direction(s, 1, plan.span)
    d2, c2 = _direction(s, 2, plan.span)
    if s.minima is None:
        minima = Count(s.evaluated, s.total, what=f"{s.label}'s grid points measured")
        mtext = f"local minima are not counted until the coarse grid is complete ({s.evaluated} of {s.total} points)"
    else:
        g = s.grid_points
        minima = Count(s.minima, max(g - 2, 0) ** 2, what=f"{s.label}'s interior points lower than all 8 neighbours")
        mtext = (f"{s.minima} local minim{'um' if s.minima == 1 else 'a'} on the {g}x{g} grid"
                 f"{' (the coarse one, so far)' if s.evaluated < s.total else ''}")
    w.say(f"{s.label}: loss {_loss(s.centre_loss)} at the trained weights, {_loss(s.highest)} at the highest point "
          f"measured; it {d1}, and {d2}; {mtext}.", *c1, *c2, minima)


def _distance(d: float | None, span: float) -> str:
    return f"beyond ±{_dist(span)}" if d is None else _dist(d)


def _doubling_compare(r: SurfaceSummary, p: SurfaceSummary, plan: GridPlan, step: float,
                      w: Words) -> list[tuple[int, Compare]]:
    """Along each direction: does the ResNet's loss double further from the centre than the plain net's?"""
    beyond = plan.span + step  # not doubled within the span counts as one step beyond it
    known, parts = [], []
    for k in (1, 2):
        dr, dp = r.doubling[k - 1], p.doubling[k - 1]
        if (dr is not None and math.isnan(dr)) or (dp is not None and math.isnan(dp)):
            continue
        known.append((k, Compare(Named(f"{r.label}: where the loss doubles along direction {k} (beyond the span "
                                       f"counts as {_dist(beyond)})", beyond if dr is None else dr),
                                 Named(f"{p.label}: where the loss doubles along direction {k}",
                                       beyond if dp is None else dp), SAME_STEPS * step), dr, dp))
    if not known:
        return []
    relations = {cmp.relation for _, cmp, _, _ in known}
    nums = "; ".join(f"{_distance(dr, plan.span)} against {_distance(dp, plan.span)} along direction {k}"
                     for k, _, dr, dp in known)
    cmps = [cmp for _, cmp, _, _ in known]
    pairs = [(k, cmp) for k, cmp, _, _ in known]
    if len(known) == 2 and len(relations) == 1:
        how = cmps[0].pick(higher="further from the centre than", lower="nearer the centre than",
                           within="at the same grid distance from the centre as")
        w.say(f"{r.label}'s loss doubles {how} {p.label}'s along both directions ({nums}).", *cmps)
    else:
        said = []
        for k, cmp, dr, dp in known:
            how = cmp.pick(higher="further from the centre than", lower="nearer the centre than",
                           within="at the same grid distance from the centre as")
            said.append(f"along direction {k} {r.label}'s loss doubles {how} {p.label}'s "
                        f"({_distance(dr, plan.span)} against {_distance(dp, plan.span)})")
        if len(known) == 1:
            said.append(f"along direction {3 - known[0][0]} where the loss doubles is not known yet for both nets")
        text = "; ".join(said) + "."
        w.say(text[0].upper() + text[1:], *cmps)
    return pairs


def _verdict(summaries, plan: GridPlan, weights: int) -> tuple[str, Words]:
    w = Words()
    measured = [s for s in summaries if s.evaluated > 0]
    if not measured:
        return "nothing", w
    step = float(plan.axis[1] - plan.axis[0])
    residual = [s for s in summaries if s.residual]
    plain = [s for s in summaries if not s.residual]
    twins = len(summaries) == 2 and len(residual) == 1 and len(plain) == 1
    outcome = "single"
    if twins:
        r, p = residual[0], plain[0]
        done = Count(min(r.evaluated, p.evaluated), plan.points * plan.points, what="grid points measured on both")
        if r.evaluated < plan.points or p.evaluated < plan.points:
            w.say(f"Measuring the 1D slice ({done.n} of {done.total} points measured on both nets); the comparison "
                  "comes when it is complete.", done)
            outcome = "measuring"
        else:
            outcome = _compare(r, p, plan, step, w)
    for s in measured:
        _net_sentence(s, plan, w)
    incomplete = [s for s in measured if s.evaluated < s.total]
    if incomplete:
        c = Count(incomplete[0].evaluated, incomplete[0].total, what="grid points measured")
        w.say(f"The grid is not complete ({c.n} of {c.total} points): these are the numbers so far.", c)
    if not twins:
        w.lesson("Compare a ResNet with its plain twin to see what the skips change.")
    space = f" of {weights:,} weights" if weights else ""
    w.lesson(f"This is one random 2D slice through the space{space}, distances in filter norms (grid step "
             f"{step:.3g}); other directions (another seed) can look different.")
    return outcome, w


def _far(high: SurfaceSummary, low: SurfaceSummary, value: str) -> Threshold:
    a, b = getattr(high, value), getattr(low, value)
    return Threshold(Named(f"{high.label}'s {value.replace('_', ' ')} ÷ {low.label}'s", a / max(b, 1e-12)),
                     Named(f"{FAR_APART:g}x", FAR_APART), 0.0)


def _compare(r: SurfaceSummary, p: SurfaceSummary, plan: GridPlan, step: float, w: Words) -> str:
    """The twins compared: the centre (first when far apart), where the loss doubles, the minima, the lessons."""
    low, high = sorted((r, p), key=lambda s: s.centre_loss)
    centre = None
    if math.isfinite(high.centre_loss):
        cmp = Compare(Named(f"{p.label}'s loss at the trained weights", p.centre_loss),
                      Named(f"{r.label}'s loss at the trained weights", r.centre_loss),
                      0.1 * min(r.centre_loss, p.centre_loss))
        far = _far(high, low, "centre_loss")
        times = f"; {high.label}'s is {high.centre_loss / max(low.centre_loss, 1e-12):.3g}x {low.label}'s"
        apart = far.pick(above=", so where the loss doubles is measured from very different heights",
                         within=", so where the loss doubles is measured from very different heights", below="")
        centre = (f"At the trained weights {p.label}'s loss is "
                  f"{cmp.pick(higher='higher than', lower='lower than', within='within 10% of')} {r.label}'s "
                  f"({_loss(p.centre_loss)} against {_loss(r.centre_loss)}"
                  + cmp.pick(higher=times, lower=times, within="") + f"){apart}.", cmp, far)
        if far.relation != "below":  # the headline: the doubling distances below are read from these heights
            w.say(centre[0], *centre[1:])
    cmps = _doubling_compare(r, p, plan, step, w)
    if centre is not None and _far(high, low, "centre_loss").relation == "below":
        w.say(centre[0], *centre[1:])
    steep, flat = sorted((r, p), key=lambda s: s.highest, reverse=True)
    if math.isfinite(flat.highest) and math.isfinite(steep.highest):
        far = _far(steep, flat, "highest")
        if far.relation != "below":
            w.say(f"Away from the centre {steep.label}'s loss climbs far higher: up to {_loss(steep.highest)} against "
                  f"{_loss(flat.highest)} on the same points.", far)
    minima = None  # the minima compared on the same grid
    if r.minima is not None and p.minima is not None and r.grid_points == p.grid_points:
        minima = Compare(Named(f"{p.label}'s local minima", p.minima), Named(f"{r.label}'s local minima", r.minima),
                         0.0)
        w.say(minima.pick(higher=f"{p.label}'s grid shows more local minima than {r.label}'s",
                          lower=f"{p.label}'s grid shows fewer local minima than {r.label}'s",
                          within="Both grids show the same number of local minima")
              + f" ({p.minima} against {r.minima}).", minima)
    signs = [Named(f"where the loss doubles along direction {k}", c.difference / step) for k, c in cmps]
    if minima is not None:
        signs.append(Named("local minima", float(p.minima - r.minima)))
    if not signs:
        return "measuring"
    w.lesson("The lessons say skip connections make the loss landscape smoother: a wider basin around the "
             "trained weights and fewer local minima (Li et al. 2018).")
    way = Count.where(signs, "above", 0.0, SAME_STEPS, what=f"measures that go the lessons' way: {r.label}'s doubling "
                      f"distance over {p.label}'s in grid steps, {p.label}'s local minima over {r.label}'s")
    named = f" ({'; '.join(way.members)})" if 0 < way.n < way.total else ""
    verb = "goes" if way.n == 1 and way.quantifier != "half" else "go"
    w.say(f"Here {way.phrase('measures of this slice')} {verb} the lessons' way{named}.", way)
    return {"all": "shown", "none": "not_shown"}.get(way.quantifier, "partly")


def landscape_verdict(summaries: list[SurfaceSummary], plan: GridPlan, weights: int = 0) -> Verdict:
    """The grids in words: for a ResNet and its plain twin the comparison first, then each net's numbers."""
    outcome, words = _verdict(summaries, plan, weights)
    return Verdict(outcome, words)


def landscape_words(summaries: list[SurfaceSummary], plan: GridPlan, weights: int = 0) -> Verdict:
    """``landscape_verdict`` (the name the page and the CLI have used)."""
    return landscape_verdict(summaries, plan, weights)


def verdict_from_result(result: dict) -> Verdict:
    """The words of a saved ``experiment landscape --json`` result (``experiment report``)."""
    axis = [float(a) for a in result["axis"]]
    settings = result["settings"]
    plan = GridPlan(len(axis), int(settings["coarse"]), float(settings["span"]))
    arms = result["arms"]
    if all("doubled_loss" in a for a in arms):
        summaries = [SurfaceSummary.from_dict(a["arm"], a["kind"], a) for a in arms]
    else:  # saved before the summaries carried their supporting losses: read them from the grids again
        grids = [np.array([[math.nan if v is None else float(v) for v in row] for row in a["grid"]]) for a in arms]
        missing = np.logical_or.reduce([np.isnan(g) for g in grids])  # the points every net has, as measured
        for g in grids:
            g[missing] = np.nan
        summaries = [summarise(a["arm"], a["kind"], plan, g) for a, g in zip(arms, grids)]
    return landscape_verdict(summaries, plan, int(result.get("weights") or 0))
