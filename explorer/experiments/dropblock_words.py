"""Drop a block's result in words, every sentence rendered from claims over the accuracies measured.

``drop_words(results)`` takes the measured networks (one or two ``DropResult``s, in the order
they were given) and returns ``claims.Words``: the page and the CLI show the same sentences.

- The headline names, for each net, its costliest removal: the accuracy without that block
  against the accuracy with every block (a ``Compare``, tolerance ``SAME`` = 0.1 points), and
  that no other removal costs more (a ``Count.where`` that finds none above it).
- Each net's removals are counted, not averaged: how many lower the accuracy by more than
  ``SAME``, how many raise it, how many leave it within ``SAME``, and how many cost more than
  ``LITTLE`` (5 points) — each a ``Count.where`` over the blocks, so a removal that gains
  10 points is never hidden behind a mean near zero. The largest gain, when there is one, is named.
- Two nets with the same blocks are compared block by block (how many positions cost the
  one more than the other) and by their median removal, named as the median.
- The lessons' claim (an ensemble of paths: losing one block hurts a ResNet little; a plain
  net is one path) is the lessons' text; what was measured is set against it by name
  ("The lessons say ...; here ..."), only for a net measured whole and at ``WEAK`` accuracy or
  more with every block (a net that knows little has little to lose).
"""
from __future__ import annotations

from statistics import median
from typing import TYPE_CHECKING

from .claims import Compare, Count, Named, Threshold, Words
from .verdict import Verdict, pct

if TYPE_CHECKING:
    from .dropblock import DropResult

LITTLE = 0.05  # a removal costing under 5 points of test accuracy "costs little"
SAME = 0.001  # accuracies within 0.1 points are "the same"
WEAK = 0.5  # below 50% accuracy with every block a net has little to lose

LESSON = ("The lessons say a ResNet's blocks behave like an ensemble of paths of different lengths, most of "
          "which avoid any one block, so losing one block hurts it little; a plain net is a single path, and "
          "every later layer depends on each of its blocks.")


def _pct(x: float) -> str:
    return pct(x)  # the one rule for percentages (verdict.py)


def _pts(x: float) -> str:
    v = abs(100.0 * x)
    return f"{v:.1f} point{'' if f'{v:.1f}' == '1.0' else 's'}"


def _signed(x: float) -> str:
    """Accuracy lost in points, a gain shown negative: "0.4 points", "-1.0 points"."""
    v = 100.0 * x
    return f"{v:.1f} point{'' if f'{abs(v):.1f}' == '1.0' else 's'}"


def _verb(count: Count, singular: str, plural: str) -> str:
    return singular if count.n == 1 else plural


def _costs(result: "DropResult") -> list[Named]:
    """What each removable block's removal costs, in accuracy (fractions of 1), named by block."""
    return [Named(d.label, result.baseline - d.accuracy) for d in result.removable()]


def _costliest(result: "DropResult"):
    """(the costliest removal's comparison with the full net, the count of removals costing more: none)."""
    worst = result.worst()
    cost = result.baseline - worst.accuracy
    cmp = Compare(Named(f"{result.name} without {worst.label}", worst.accuracy),
                  Named(f"{result.name} with every block", result.baseline), SAME)
    above = Count.where(_costs(result), "above", cost, 0.0, what=f"{result.name}'s removals costing more")
    return worst, cmp, above


def _headline(results: list["DropResult"], w: Words) -> None:
    parts, claims = [], []
    for r in results:
        if not r.removable():
            claims.append(Count(0, len(r.drops), what=f"{r.name}'s measured blocks that can be removed"))
            parts.append(f"no measured block of {r.name} can be removed")
            continue
        worst, cmp, above = _costliest(r)
        partly = r.selected or r.stopped  # only some of its blocks: the costliest of those measured
        which = (f"the costliest {'measured ' if partly else ''}removal" if len(r.removable()) > 1
                 else "the only removal measured")
        change = cmp.pick(higher=f"it raises the test accuracy by {_pts(cmp.difference)}",
                          lower=f"it costs {_pts(cmp.difference)} of test accuracy",
                          within=f"it leaves the test accuracy within {_pts(SAME)}")
        parts.append(f"{which} from {r.name} is {worst.label}: {change} ({_pct(r.baseline)} → {_pct(worst.accuracy)})")
        claims += [cmp, above]
    text = "; ".join(parts) + "."
    w.say(text[0].upper() + text[1:], *claims)


def _net_sentences(r: "DropResult", w: Words) -> None:
    measured = Count(len(r.drops), r.total_blocks if r.total_blocks is not None else len(r.drops),
                     what=f"{r.name}'s blocks measured")
    text = f"{r.name}: {_pct(r.baseline)} test accuracy with every block"
    if r.baseline_top5 is not None:
        text += f" (top-5 {_pct(r.baseline_top5)})"
    if r.baseline_subset is not None:
        text += f" ({_pct(r.baseline_subset)} among the {r.subset_size} classes of the test data)"
    if r.images:
        text += f" on {r.images:,} test images"
    claims = [measured]
    if r.classes and r.classes >= 2:
        chance = Threshold(Named(f"{r.name} test accuracy", r.baseline), Named("chance", 1.0 / r.classes), SAME)
        text += (f", {chance.pick(above='above', below='below', within='at')} chance "
                 f"({_pct(1.0 / r.classes)} for {r.classes} classes)")
        claims.append(chance)
    block = "block" if measured.total == 1 else "blocks"
    text += f"; {measured.phrase(block)} measured" + (" (stopped early)" if r.stopped else "") + "."
    w.say(text, *claims)

    fixed = [d for d in r.drops if d.accuracy is None]
    if fixed:
        c = Count(len(fixed), len(r.drops), what=f"{r.name}'s measured blocks that cannot be removed",
                  members=tuple(d.label for d in fixed))
        w.say(f"{c.phrase('measured blocks')} of {r.name} cannot be removed ({'; '.join(c.members)}): "
              f"{'it has' if c.n == 1 else 'each has'} no shortcut and changes the shape, so the block after "
              f"it would get an input of the wrong shape.", c)

    costs = _costs(r)
    if len(costs) < 2:
        return
    lower = Count.where(costs, "above", 0.0, SAME, what=f"{r.name}'s removals that lower its accuracy")
    higher = Count.where(costs, "below", 0.0, SAME, what=f"{r.name}'s removals that raise its accuracy")
    same = Count.where(costs, "within", 0.0, SAME, what=f"{r.name}'s removals within 0.1 points")
    big = Count.where(costs, "above", LITTLE, 0.0, what=f"{r.name}'s removals costing more than 5 points")
    w.say(f"Of {r.name}'s {len(costs)} removals, {lower.n} {_verb(lower, 'lowers', 'lower')} its test accuracy and "
          f"{higher.n} {_verb(higher, 'raises', 'raise')} it by more than {_pts(SAME)}, {same.n} "
          f"{_verb(same, 'leaves', 'leave')} it within that; {big.n} of them {_verb(big, 'costs', 'cost')} more than "
          f"{_pts(LITTLE)}.", lower, higher, same, big)
    if higher.n:
        best = max(r.removable(), key=lambda d: d.accuracy)
        gain = Compare(Named(f"{r.name} without {best.label}", best.accuracy),
                       Named(f"{r.name} with every block", r.baseline), SAME)
        more = Count.where(costs, "below", r.baseline - best.accuracy, 0.0,
                           what=f"{r.name}'s removals gaining more")
        w.say(f"The largest gain: without {best.label} {r.name} "
              f"{gain.pick(higher='reaches', lower='falls to', within='stays at')} {_pct(best.accuracy)} "
              f"({_pts(gain.difference)} {gain.pick(higher='more', lower='less', within='apart')} than with every "
              "block).", gain, more)


def _pair_sentences(a: "DropResult", b: "DropResult", w: Words) -> None:
    """Two nets with the same blocks: block by block, and their median removal."""
    ca, cb = {d.label: d for d in a.removable()}, {d.label: d for d in b.removable()}
    both = [d.label for d in a.drops if d.label in ca and d.label in cb]
    if not both:
        return
    diffs = [Named(label, (b.baseline - cb[label].accuracy) - (a.baseline - ca[label].accuracy)) for label in both]
    more = Count.where(diffs, "above", 0.0, SAME, what=f"positions where removing the block costs {b.name} more")
    less = Count.where(diffs, "below", 0.0, SAME, what=f"positions where removing the block costs {b.name} less")
    w.say(f"Block by block, removing the same block costs {b.name} more than {a.name} (by over {_pts(SAME)}) at "
          f"{more.phrase('positions where both can lose it')}, and less at {less.n}.", more, less)
    ma = median(a.baseline - d.accuracy for d in ca.values())
    mb = median(b.baseline - d.accuracy for d in cb.values())
    cmp = Compare(Named(f"{b.name} median removal cost", mb), Named(f"{a.name} median removal cost", ma), SAME)
    w.say(f"The median accuracy lost to one removal is {_signed(mb)} for {b.name}, "
          f"{cmp.pick(higher='more than', lower='less than', within='about as much as')} for {a.name} "
          f"({_signed(ma)}).", cmp)


def _against_lessons(r: "DropResult", w: Words) -> bool:
    """What the lessons expect of this net, set against what was measured: does it agree?"""
    costs = _costs(r)
    if r.residual:
        small = Count.where(costs, "below", LITTLE, 0.0, what=f"{r.name}'s removals costing under 5 points")
        if small.quantifier == "all":
            w.say(f"Here {small.phrase('removals')} from {r.name} cost under {_pts(LITTLE)}, as the lessons "
                  "expect of a ResNet.", small)
            return True
        worst, cmp, above = _costliest(r)
        w.say(f"The lessons say losing one block hurts a ResNet little; here {small.phrase('removals')} from "
              f"{r.name} {_verb(small, 'costs', 'cost')} under {_pts(LITTLE)}, and without {worst.label} it "
              f"loses {_pts(cmp.difference)}.", small, cmp, above)
        return False
    big = Count.where(costs, "above", LITTLE, 0.0, what=f"{r.name}'s removals costing more than 5 points")
    if big.quantifier == "all":
        w.say(f"Here {big.phrase('removals')} from {r.name} cost more than {_pts(LITTLE)}, as the lessons "
              "expect of a plain net.", big)
        return True
    w.say(f"The lessons say a plain net depends on each of its blocks; here {big.phrase('removals')} from "
          f"{r.name} {_verb(big, 'costs', 'cost')} more than {_pts(LITTLE)}.", big)
    return False


def drop_words(results: list["DropResult"]) -> Words:
    """The removals of one or two measured networks, in words (page and CLI alike)."""
    return _drop(results)[0]


def _drop(results: list["DropResult"]) -> tuple[Words, list[bool]]:
    """The words, and for each net set against the lessons whether it agrees with them."""
    results = [r for r in results if r is not None]
    w = Words()
    agrees: list[bool] = []
    if not results:
        return w, agrees
    _headline(results, w)
    for r in results:
        _net_sentences(r, w)
    if len(results) == 2:
        _pair_sentences(results[0], results[1], w)
    whole = [r for r in results if len(r.removable()) >= 2 and not r.selected and not r.stopped]
    strong = {r.name: Threshold(Named(f"{r.name} test accuracy with every block", r.baseline), Named("50%", WEAK), 0.0)
              for r in whole}
    for r in whole:
        if strong[r.name].relation == "below":
            w.say(f"{r.name} reaches only {_pct(r.baseline)} with every block, below 50%: a net that knows this "
                  "little has little to lose, so its removals are not set against the lessons.", strong[r.name])
    if any(strong[r.name].relation != "below" for r in whole):
        w.lesson(LESSON)
    for r in whole:
        if strong[r.name].relation != "below":
            agrees.append(_against_lessons(r, w))
    return w, agrees


def drop_verdict(results: list["DropResult"]) -> Verdict:
    """The words (``drop_words``) and their outcome: ``shown`` when every net set against the lessons
    agrees with them, ``not_shown`` when one does not, ``measured`` when none could be set against them
    (stopped, only some blocks, a net below 50%, a single removable block)."""
    words, agrees = _drop(results)
    outcome = "measured" if not agrees else "shown" if all(agrees) else "not_shown"
    return Verdict(outcome, words)


def verdict_from_result(result: dict) -> Verdict:
    """The words of a saved ``experiment drop-block --json`` result (``experiment report``)."""
    from .dropblock import DropResult

    return drop_verdict([DropResult.from_dict(d) for d in result["networks"]])
