"""Gradient flow in words: per-block norms turned into sentences rendered from claims.

The numbers come from ``explorer.analysis.gradflow`` (or a recorder column); this module
only says what they show, each sentence backed by claims (``claims.py``) over the norms:

- the regime (carried back, grows, explodes, fades, vanishes) is the first block's norm over
  the last block's, set against the stated lines (``Threshold`` claims; the lines are coarse
  on purpose: the point is to name the regime, and the ratio is always quoted with it);
- what each block does to the gradient on its way back is counted, never inferred from the
  mean: of the steps from one block to the one before it, how many make it grow by more than
  ``STEP_TOLERANCE``, how many shrink it and how many leave it within that (``Count.where``),
  with the geometric mean per block named as the mean it is;
- what the lessons say is the lessons' text; where the measurement agrees or disagrees
  ("The lessons say ...; here ..."), both are named. No cause is claimed that was not measured.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .claims import Count, Named, Threshold, Words

# first/last ratio from which we call it an explosion; CIFAR ResNets with BN stay
# below a few hundred at initialisation, plain nets of 56 layers reach 1e4.
EXPLODE_RATIO = 1e3
# below this the gradient reaching the first block "fades"; below VANISH_RATIO it "vanishes".
FADE_RATIO = 0.5
VANISH_RATIO = 1e-2
# how far from the last block's value a block must be to be named as the place it happens
MARK_FACTOR = 100.0
# first/last below this reads "about the same size"; from GROWS_RATIO on it "grows steadily"
SAME_SIZE_RATIO = 2.0
GROWS_RATIO = 30.0
# a step back by one block "grows" or "shrinks" the gradient when it changes it by more than 1%
STEP_TOLERANCE = 0.01

RATIO_NAME = "first block's gradient ÷ last block's"


@dataclass(frozen=True)
class FlowSummary:
    verdict: str  # "carried" | "modest" | "grows" | "explodes" | "fades" | "vanishes" | "dead" | "empty"
    ratio: float  # first block's norm / last block's norm
    per_block: float  # geometric mean growth factor from one block to the previous one
    where: str | None  # label of the block where it crosses MARK_FACTOR (or 1/MARK_FACTOR)
    words: Words = field(default_factory=Words)  # the sentences and the claims behind them

    @property
    def headline(self) -> str:
        return self.words.texts[0] if self.words.texts else ""

    @property
    def explanation(self) -> str:
        return " ".join(self.words.texts[1:])

    @property
    def text(self) -> str:
        return self.words.text

    def to_dict(self) -> dict:
        finite = math.isfinite(self.ratio)
        return {"verdict": self.verdict, "ratio": self.ratio if finite else None,
                "per_block": self.per_block if math.isfinite(self.per_block) else None,
                "where": self.where, "text": self.text}


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def format_factor(x: float) -> str:
    """The one way every page and the CLI write a ratio (followed by "x"): two significant digits,
    9.5, 96, 5,000, 250,000, and from a million on a power of ten, 2.4 × 10⁷ or 10⁸, never "1e8"
    (one page said "1e8x" where another said "10,000x")."""
    if not math.isfinite(x):
        return "∞" if x > 0 else "?"
    if x >= 1:
        x = float(f"{x:.2g}")  # two significant digits, so 999,999.9 reads as a million
    if x >= 1e6:
        mant, exp = f"{x:.1e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        power = f"10{str(int(exp)).translate(_SUPERSCRIPT)}"
        return power if mant == "1" else f"{mant} × {power}"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.0f}"
    if x >= 1:
        return f"{x:.1f}".rstrip("0").rstrip(".")
    return f"{x:.2g}"


def _ratio_threshold(ratio: float, limit: float) -> Threshold:
    return Threshold(Named(RATIO_NAME, ratio), Named(f"the line at {format_factor(limit)}x", limit), 0.0)


def _at_least(t: Threshold) -> bool:
    return t.relation in ("above", "within")


def _regime(ratio: float) -> tuple[str, str, list[Threshold]]:
    """(verdict, the words for it, the thresholds that decide it) for first ÷ last = ``ratio``."""
    explode, grows, same = (_ratio_threshold(ratio, x) for x in (EXPLODE_RATIO, GROWS_RATIO, SAME_SIZE_RATIO))
    fade, vanish = _ratio_threshold(ratio, FADE_RATIO), _ratio_threshold(ratio, VANISH_RATIO)
    if _at_least(explode):
        return "explodes", f"it explodes towards the input ({format_factor(EXPLODE_RATIO)}x or more)", [explode]
    if _at_least(grows):
        return ("grows", f"it grows steadily with depth ({format_factor(GROWS_RATIO)}x or more) but does not "
                f"explode (under {format_factor(EXPLODE_RATIO)}x)", [grows, explode])
    if _at_least(same):
        return ("modest", f"it grows modestly on the way back ({format_factor(SAME_SIZE_RATIO)}x to "
                f"{format_factor(GROWS_RATIO)}x)", [same, grows])
    if vanish.relation == "below":
        return "vanishes", f"it vanishes on its way back to the input (under 1/{format_factor(1 / VANISH_RATIO)})", \
            [vanish]
    if fade.relation == "below":
        return ("fades", f"it fades on its way back to the input (under {FADE_RATIO:g} of it, not under "
                f"1/{format_factor(1 / VANISH_RATIO)})", [fade, vanish])
    return ("carried", f"it arrives at about the same size ({FADE_RATIO:g}x to {format_factor(SAME_SIZE_RATIO)}x)",
            [fade, same])


def _skips(n: int, skips, shortcuts) -> tuple[Count, str]:
    """The skips switched on, counted over the blocks that have a shortcut, and the words for them."""
    if skips is not None and shortcuts is not None and len(shortcuts) == len(skips):
        has = [bool(h) for h in shortcuts]
        on = [bool(s) and bool(h) for s, h in zip(skips, shortcuts)]
    elif skips is not None:
        has, on = [True] * len(skips), [bool(s) for s in skips]
    else:
        return Count(0, 0), ""
    if not any(has):
        c = Count(0, n, what="blocks with a shortcut")
        return c, f"with a shortcut in {c.phrase('blocks')}"
    c = Count(sum(on), sum(has), what="skips switched on")
    return c, f"with {c.phrase('skips' if c.total > 1 else 'skip')} on"


def summarise(norms, labels=None, skips=None, batch_norm: bool | None = None,
              shortcuts=None) -> FlowSummary:
    """Read per-block ``||dL/dx_l||`` (depth order) and say what they show, sentence by claim.

    ``skips`` (one bool per block, the active switches), ``shortcuts`` (whether each block has
    a shortcut at all; plain blocks do not) and ``batch_norm`` say which of the lessons' claims
    the measurement is set against; the verdict comes from the numbers alone.
    """
    norms = np.asarray(norms, dtype=np.float64)
    n = len(norms)
    labels = list(labels) if labels is not None else [f"block {i + 1}" for i in range(n)]
    named = [Named(f"gradient at {lab}", float(v)) for lab, v in zip(labels, norms)]
    w = Words()
    if n == 0:
        w.say("This network has no residual blocks to measure.", Count(0, 0, what="residual blocks"))
        return FlowSummary("empty", math.nan, math.nan, None, w)
    bad = [lab for lab, v in zip(labels, norms) if not math.isfinite(v)]
    if bad:
        c = Count(len(bad), n, what="blocks whose gradient is not a finite number", members=tuple(bad))
        w.say(f"The gradient overflows: it is not a finite number at {c.phrase('blocks')}: "
              f"{', '.join(bad[:3])}{', ...' if len(bad) > 3 else ''}.", c)
        w.lesson("The lessons say a gradient that overflows means the loss or the activations have blown up; "
                 "a lower learning rate or normalisation are the usual remedies.")
        return FlowSummary("explodes", math.inf, math.inf, bad[0], w)
    first, last = float(norms[0]), float(norms[-1])
    zero = Count.where(named, "within", 0.0, 0.0, what="blocks whose gradient is exactly zero")
    if last == 0.0:
        w.say(f"No gradient reaches even the last block: it is exactly zero at {zero.phrase('blocks')}.",
              Threshold(named[-1], Named("zero", 0.0), 0.0), zero)
        w.lesson("The lessons name a usual cause: a forward signal that died on the way (every activation zero "
                 "after a ReLU), for example with weights far too small for this depth; nothing before such a "
                 "block can learn.")
        return FlowSummary("dead", math.nan, math.nan, labels[-1], w)
    if first == 0.0:
        alive = int(np.flatnonzero(norms > 0)[0])
        w.say(f"The gradient vanishes completely: it is exactly zero at {zero.phrase('blocks')}, from the first "
              f"block up to {labels[alive - 1]}.", zero, Threshold(named[0], Named("zero", 0.0), 0.0))
        return FlowSummary("vanishes", 0.0, 0.0, labels[alive], w)
    ratio = first / last
    per_block = ratio ** (1.0 / (n - 1)) if n > 1 else 1.0
    verdict, regime, deciding = _regime(ratio)
    said = (f"{format_factor(ratio)} times larger than" if ratio >= 10 else f"{format_factor(ratio)}x"
            if ratio >= FADE_RATIO else f"{_fraction(ratio)}")
    head = f"The gradient reaching the first block is {said} the one at the last block: {regime}"
    where, marks = None, []
    rel = norms / last
    if verdict == "explodes":
        where = _crossing(rel >= MARK_FACTOR, labels)
    elif verdict in ("fades", "vanishes"):
        where = _crossing(rel <= 1.0 / MARK_FACTOR, labels)
    if where is not None:
        i = labels.index(where)
        mark = Threshold(Named(f"gradient at {where} ÷ last block's", float(rel[i])),
                         Named("the mark", MARK_FACTOR if verdict == "explodes" else 1.0 / MARK_FACTOR), 0.0)
        marks.append(mark)
        head += (f", already {format_factor(MARK_FACTOR)}x at {where}" if verdict == "explodes" else
                 f", below 1/{format_factor(MARK_FACTOR)} already at {where}")
    w.say(head + ".", *deciding, *marks)
    skips_count, skips_words = _skips(n, skips, shortcuts)
    pairs = [i for i in range(n - 1) if norms[i] > 0 and norms[i + 1] > 0]  # a zero has no factor
    if pairs:
        steps = [Named(f"{labels[i + 1]} → {labels[i]}", float(norms[i] / norms[i + 1])) for i in pairs]
        up = Count.where(steps, "above", 1.0, STEP_TOLERANCE, what="steps back that make it grow")
        down = Count.where(steps, "below", 1.0, STEP_TOLERANCE, what="steps back that make it shrink")
        flat = Count.where(steps, "within", 1.0, STEP_TOLERANCE, what="steps back within 1%")
        lead = f"{skips_words[0].upper()}{skips_words[1:]}, going back" if skips_words else "Going back"
        claims = [up, down, flat] + ([skips_count] if skips_words else [])
        left_out = (f" (leaving out {n - 1 - len(pairs)} step{'s' if n - 1 - len(pairs) > 1 else ''} to or from a "
                    "block whose gradient is exactly zero)") if len(pairs) < n - 1 else ""
        w.say(f"{lead} one block at a time it grows by more than 1% at {up.phrase('steps')}{left_out}, shrinks "
              f"by more than 1% at {down.n} and changes by 1% or less at {flat.n}; about {per_block:.2f}x per "
              f"block from the last block to the first (the geometric mean over {n - 1} step"
              f"{'s' if n > 2 else ''}).", *claims)
    _against_lessons(w, ratio, skips_count, bool(skips_words), batch_norm)
    return FlowSummary(verdict, ratio, per_block, where, w)


def _against_lessons(w: Words, ratio: float, skips: Count, known: bool, batch_norm: bool | None) -> None:
    """The lessons' claim for nets with every skip off or every skip on, and what was measured."""
    if not known or skips.total == 0 and skips.what != "blocks with a shortcut":
        return
    shrinks = _ratio_threshold(ratio, 1.0)
    if skips.n == 0:  # no skip on (or no shortcut at all)
        if shrinks.relation == "below":
            w.say(f"The lessons say that without skips the gradient shrinks on its way back to the input; here it "
                  f"does: the first block gets {_fraction(ratio)} the last block's.", shrinks)
        else:
            w.say(f"The lessons say that without skips the gradient shrinks on its way back to the input; here it "
                  f"{shrinks.pick(above='grows instead', below='shrinks', within='stays the same')}: the first "
                  f"block gets {format_factor(ratio)}x the last block's.", shrinks)
            if batch_norm:
                w.lesson("A known effect the lessons mention: with batch normalisation each block rescales its "
                         "activations, and at initialisation that rescaling can make each step back multiply the "
                         "gradient up instead of down (Yang et al. 2019).")
    elif skips.quantifier == "all":
        fade, explode = _ratio_threshold(ratio, FADE_RATIO), _ratio_threshold(ratio, EXPLODE_RATIO)
        gets = (f"{format_factor(ratio)}x the last block's" if ratio >= FADE_RATIO else
                f"{_fraction(ratio)} the last block's")
        here = fade.pick(above=f"it does not vanish: the first block gets {gets}",
                         within=f"it does not vanish: the first block gets {gets}",
                         below=f"it fades all the same: the first block gets {gets}")
        if fade.relation != "below":
            here += explode.pick(above=f", past the explosion line ({format_factor(EXPLODE_RATIO)}x): it grows "
                                       "instead, block by block", within=", right at the explosion line", below="")
        w.say(f"The lessons say the skips carry the gradient back to the input without letting it vanish; "
              f"here {here}.", fade, explode)


def _fraction(x: float) -> str:
    """0.3 -> "0.3 times", 0.002 -> "1/500 of"."""
    if x >= 0.1:
        return f"{x:.1g} times"
    return f"1/{format_factor(1.0 / x)} of"


def _crossing(mask: np.ndarray, labels) -> str | None:
    """The label of the block nearest the output at which ``mask`` holds (walking back)."""
    hits = np.flatnonzero(mask)
    return labels[int(hits[-1])] if len(hits) else None


def profile_words(norms, labels=None, skips=None, batch_norm: bool | None = None, shortcuts=None) -> Words:
    """The sentences shown beside the plots, with the claims behind them."""
    return summarise(norms, labels, skips, batch_norm, shortcuts).words
