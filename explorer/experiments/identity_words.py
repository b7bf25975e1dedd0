"""The identity exercise in words, every sentence rendered from claims (``claims``).

The bars, each stated in the sentence that uses it:

- the plain block is *at its floor* when its error is within ``FLOOR_SHARE`` (2%) of the
  floor computed from the data (it can never go below it);
- the residual block *reproduces its input* when its error is below ``ZERO_SHARE`` (1%) of
  that floor: the floor is what the plain block must lose, so 1% of it is "next to nothing";
- a stack's error *rises* or *falls* with the number of blocks when its last value differs
  from its first by more than ``STEP`` (0.01); a stack is *below* the other at a depth when
  its error is lower by more than ``STEP``.

``verdict`` says "shown" only when all three parts hold: the plain block at its floor, the
residual block below 1% of it, and the residual stack below the plain stack at every depth
that finished.
"""
from __future__ import annotations

from .claims import Compare, Count, Named, Threshold, Trend, Words
from .verdict import Verdict

FLOOR_SHARE = 0.02
ZERO_SHARE = 0.01
STEP = 0.01

LESSON = ("The lessons' reasoning: a plain block's output ReLU(Wx + b) is never negative, so it loses every "
          "negative component of its input whatever W and b are; a residual block x + ReLU(Wx + b) gives x "
          "exactly with W = 0 and b = 0. A residual block added to a network can therefore leave what the "
          "network computed unchanged, so a deeper ResNet need not fit worse than a shallower one; a plain "
          "block would have to learn the identity, and cannot.")


def err(x: float) -> str:
    """A mean squared error as shown: 3 significant digits, or "< 0.0001"."""
    if x != x:
        return "?"
    if 0 <= x < 1e-4:
        return "< 0.0001" if x > 0 else "0"
    return f"{x:.3g}" if x < 10 else f"{x:,.0f}"


def _blocks(k: int) -> str:
    return f"{k} block{'s' if k != 1 else ''}"


def identity_words(result) -> Verdict:
    """What an ``IdentityResult`` shows, one claim-backed sentence at a time."""
    w = Words()
    s = result.settings
    floor = Named("the floor computed from the data", result.floor)
    plain, res = result.single.get("plain"), result.single.get("residual")
    if plain is None or res is None or not plain.errors or not res.errors:
        done, total = result.trained, result.models
        w.say(f"No verdict: the run stopped after {done} of the {total} models had trained, before one block "
              "of each kind had.", Count(done, total, "models trained"))
        w.lesson(LESSON)
        return Verdict("no_verdict", w)

    at_floor = Compare(Named("one plain block's error", plain.final_error), floor, FLOOR_SHARE * result.floor)
    zero = Named(f"{ZERO_SHARE:.0%} of the floor", ZERO_SHARE * result.floor)
    reproduces = Threshold(Named("one residual block's error", res.final_error), zero)
    w.say(f"One plain block ended at error {err(plain.final_error)}, "
          f"{at_floor.pick('above', 'below', 'within 2% of')} its floor of {err(result.floor)}; one residual block "
          f"at {err(res.final_error)}, {reproduces.pick('above', 'below', 'at')} {ZERO_SHARE:.0%} of that floor.",
          at_floor, reproduces)
    w.lesson("A plain block ReLU(Wx + b) never outputs a negative value, so on these inputs its error is at "
             "least the mean of min(x, 0)² over every component (the floor, computed from the data; W = I, "
             "b = 0 reaches it); a residual block x + ReLU(Wx + b) can output x exactly.")
    norms = Trend("the residual block's weights' norm", tuple(res.weight_norms), 0.05 * res.weight_norms[0])
    w.say(f"Training the residual block, its error went from {err(res.errors[0])} to {err(res.final_error)} "
          f"and its weights' norm {norms.pick('rose', 'fell', 'stayed level')} from {res.weight_norms[0]:.2f} to "
          f"{res.weight_norms[-1]:.2f} (W = 0, b = 0 is the exact identity).",
          norms, Trend("the residual block's error", tuple(res.errors), STEP))

    depths = [k for k in s.depths if ("plain", k) in result.stacks and ("residual", k) in result.stacks]
    below_everywhere = None
    if len(depths) >= 2:
        p = [result.stacks[("plain", k)].final_error for k in depths]
        r = [result.stacks[("residual", k)].final_error for k in depths]
        span = f"from {depths[0]} to {depths[-1]} blocks"
        tp = Trend("the plain stack's error over depth", tuple(p), STEP)
        tr = Trend("the residual stack's error over depth", tuple(r), STEP)
        for name, t, vals in (("plain", tp, p), ("residual", tr, r)):
            every = ("at every added depth" if t.monotone else "though not at every added depth") \
                if t.direction != "flat" else ("at every depth" if t.monotone else "first to last, not at every depth")
            w.say(f"Stacks of {name} blocks, {span}: the error {t.pick('rose', 'fell', 'stayed within 0.01')} "
                  f"from {err(vals[0])} to {err(vals[-1])}, {every} "
                  f"({', '.join(f'{k}: {err(v)}' for k, v in zip(depths, vals))}).", t)
        below = Count.where([(_blocks(k), rv - pv) for k, rv, pv in zip(depths, r, p)], "below", 0.0, STEP,
                            "depths where the residual stack's error is lower than the plain stack's by over 0.01")
        w.say(f"The residual stack ended lower than the plain stack at {below.phrase('depths')} "
              "(by more than 0.01).", below)
        above = Count.where([(_blocks(k), pv) for k, pv in zip(depths, p)], "above", result.floor,
                            FLOOR_SHARE * result.floor, "plain stacks above the plain block's floor")
        w.say(f"{above.phrase('plain stacks')[0].upper()}{above.phrase('plain stacks')[1:]} ended above the "
              f"floor of one plain block (by more than 2% of it).", above)
        below_everywhere = below.quantifier == "all"
        if tp.direction != "rising":
            w.say(f"The lessons expect the plain stack's error to grow with depth; here it "
                  f"{tp.pick('rose', 'fell', 'stayed within 0.01')} from {err(p[0])} to {err(p[-1])}.", tp)
        if tr.direction == "rising":
            w.say(f"The lessons expect the residual stack's error not to grow with depth; here it rose from "
                  f"{err(r[0])} to {err(r[-1])} in {s.steps} steps, while the plain stack's "
                  f"{tp.pick('rose', 'fell', 'stayed within 0.01')} to {err(p[-1])}.", tr, tp)
    if result.stopped:
        done, total = result.trained, result.models
        w.say(f"The run was stopped: {done} of the {total} models trained, and only those are compared.",
              Count(done, total, "models trained"))
    w.lesson(LESSON)
    shown = (at_floor.relation == "within" and reproduces.relation == "below" and below_everywhere is True)
    return Verdict("shown" if shown else "not_shown", w)


def verdict_from_result(d: dict) -> Verdict:
    """The words of a saved ``experiment identity --json`` result (``experiment report``), from its table."""
    from .identity import IdentityResult

    return identity_words(IdentityResult.from_dict(d["result"]))
