"""Residual size in words: how big each block's correction is against its shortcut, from claims.

The numbers come from ``explorer.analysis.residual`` (per block: mean ``||F(x)||/||s(x)||``,
mean cosine, and whether the ratio is defined); this module only says what they show, every
sentence backed by claims (``claims.py``) over the blocks themselves. A ratio below 1 means
the branch adds less than the shortcut carries: the block's output is "x plus a smaller
change". The cosine says whether the change points along the shortcut (reinforcing it),
against it (partly cancelling it) or across it; the blocks are counted on each side, so a
mean cosine near 0 is never read as "every block is orthogonal".
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .claims import Compare, Count, Named, Threshold, Words

OK = "ok"
# |cosine| at most this reads "across the shortcut" (nearly orthogonal)
ORTHOGONAL_COS = 0.2
# a change of the median ratio within this fraction reads "about the same"
SAME_TREND = 0.1
TOP = 3  # blocks named as contributing most


@dataclass(frozen=True)
class ResidualSummary:
    verdict: str  # "small" | "mixed" | "large" | "undefined" | "empty"
    median: float  # median ratio over the blocks where it is defined (NaN when none)
    largest: str | None  # label of the block with the largest ratio
    words: Words = field(default_factory=Words)

    @property
    def text(self) -> str:
        return self.words.text

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "median_ratio": self.median if math.isfinite(self.median) else None,
                "largest": self.largest, "text": self.text}


def fmt_ratio(x: float) -> str:
    """0.031 -> "0.031", 0.45 -> "0.45", 1.2 -> "1.2", 12.3 -> "12"."""
    if not math.isfinite(x):
        return "∞" if x > 0 else "?"
    if x >= 10:
        return f"{x:.0f}"
    return f"{x:.2g}"


def summarise_residual(ratio, cosine, status, labels=None) -> ResidualSummary:
    """Which blocks contribute most, how many corrections are small, and which way each points."""
    ratio = np.asarray(ratio, dtype=np.float64)
    cosine = np.asarray(cosine, dtype=np.float64)
    n = len(ratio)
    labels = list(labels) if labels is not None else [f"block {i + 1}" for i in range(n)]
    w = Words()
    if n == 0:
        w.say("This network has no blocks to measure.", Count(0, 0, what="blocks"))
        return ResidualSummary("empty", math.nan, None, w)
    defined = np.array([s == OK for s in status], dtype=bool) & np.isfinite(ratio)
    if not defined.any():
        _undefined_note(w, status, labels)
        return ResidualSummary("undefined", math.nan, None, w)
    values = [Named(lab, float(r)) for lab, r, d in zip(labels, ratio, defined) if d]
    k = len(values)
    nums = np.array([v.value for v in values])
    median = float(np.median(nums))
    small = Count.where(values, "below", 1.0, 0.0, what="blocks whose correction is smaller than the shortcut")
    verdict = {"all": "small", "none": "large"}.get(small.quantifier, "mixed")
    noun = "blocks where it is defined" if k < n else "blocks"
    if k == 1:
        noun = noun.replace("blocks", "block")
    tail = {"small": ", so each output is x plus a smaller change",
            "large": ": the branches are at least as large as the skips"}.get(
        verdict, f"; in the other {'one' if k - small.n == 1 else k - small.n} it is as large or larger")
    span = f"from {fmt_ratio(float(nums.min()))} to {fmt_ratio(float(nums.max()))}, " if k > 1 else ""
    w.say(f"The correction is smaller than what the shortcut carries (||F(x)||/||x|| below 1) in "
          f"{small.phrase(noun)}{tail} ({span}median {fmt_ratio(median)}).", small)
    order = np.argsort(-nums, kind="stable")[:min(TOP, k)]
    top = [values[int(i)] for i in order]
    named = ", ".join(f"{v.name} ({fmt_ratio(v.value)}x)" for v in top)
    larger = Count.where(values, "above", top[-1].value, 0.0, what="blocks with a larger ratio than the last named")
    w.say(f"The largest correction: {named}." if k == 1 else f"Largest corrections: {named}.", larger)
    cos = [Named(lab, float(c)) for lab, c, d in zip(labels, cosine, defined) if d and math.isfinite(c)]
    if cos:
        along = Count.where(cos, "above", 0.0, ORTHOGONAL_COS, what="corrections along the shortcut")
        against = Count.where(cos, "below", 0.0, ORTHOGONAL_COS, what="corrections against the shortcut")
        across = Count.where(cos, "within", 0.0, ORTHOGONAL_COS, what="corrections across the shortcut")
        mean = float(np.mean([c.value for c in cos]))
        mean = 0.0 if abs(mean) < 0.005 else mean  # no "-0.00"
        if len(cos) == 1:
            one = Threshold(cos[0], Named("zero", 0.0), ORTHOGONAL_COS)
            way = one.pick(above="along the shortcut, reinforcing it", below="against the shortcut, partly "
                           "cancelling it", within="across the shortcut (nearly orthogonal)")
            w.say(f"Its correction points {way} (cosine {mean:+.2f}; |cosine| {ORTHOGONAL_COS:g} or less reads as "
                  "across).", one)
        else:
            w.say(f"Of the {len(cos)} blocks, the correction points across the shortcut (|cosine| "
                  f"{ORTHOGONAL_COS:g} or less) in {across.n}, along it, reinforcing it (cosine above "
                  f"+{ORTHOGONAL_COS:g}), in {along.n}, and against it, partly cancelling it (below "
                  f"-{ORTHOGONAL_COS:g}), in {against.n}; the mean cosine is {mean:+.2f}.", across, along, against)
    _undefined_note(w, status, labels)
    return ResidualSummary(verdict, median, values[int(order[0])].name, w)


def _undefined_note(w: Words, status, labels) -> None:
    n = len(status)
    plain = tuple(lab for lab, s in zip(labels, status) if s == "plain block")
    off = tuple(lab for lab, s in zip(labels, status) if s == "skip switched off")
    parts, claims = [], []
    for members, noun in ((plain, "plain"), (off, "with the skip switched off")):
        if members:
            c = Count(len(members), n, what=f"blocks {noun}", members=members)
            claims.append(c)
            word = "block" if c.total == 1 else "blocks"
            parts.append(f"{c.phrase(word)} {'are' if c.n > 1 else 'is'} plain" if noun == "plain" else
                         f"{c.phrase(word)} {'have' if c.n > 1 else 'has'} the skip switched off")
    if parts:
        w.say(f"The ratio is undefined where no shortcut is added ({' and '.join(parts)}): the output there is "
              "F(x) alone.", *claims)


def residual_trend(first, last, status, first_step: int, last_step: int, labels=None, over: str = "") -> Words:
    """How the ratio changed over a run (``over``: the run's name), from the first and the last recorded step."""
    first = np.asarray(first, dtype=np.float64)
    last = np.asarray(last, dtype=np.float64)
    labels = list(labels) if labels is not None else [f"block {i + 1}" for i in range(len(first))]
    ok = np.array([s == OK for s in status], dtype=bool) & np.isfinite(first) & np.isfinite(last)
    w = Words()
    if not ok.any() or last_step <= first_step:
        return w
    a, b = float(np.median(first[ok])), float(np.median(last[ok]))
    cmp = Compare(Named(f"median ||F(x)||/||x|| at step {last_step:,}", b),
                  Named(f"median ||F(x)||/||x|| at step {first_step:,}", a), SAME_TREND * abs(a))
    how = cmp.pick(higher=f"grew from {fmt_ratio(a)} to {fmt_ratio(b)}",
                   lower=f"shrank from {fmt_ratio(a)} to {fmt_ratio(b)}",
                   within=f"stayed within {100 * SAME_TREND:.0f}% ({fmt_ratio(a)} to {fmt_ratio(b)})")
    changes = [Named(lab, float(y - x)) for lab, x, y, o in zip(labels, first, last, ok) if o]
    up = Count.where(changes, "above", 0.0, 0.0, what="blocks whose ratio rose")
    down = Count.where(changes, "below", 0.0, 0.0, what="blocks whose ratio fell")
    i = int(np.argmax([abs(c.value) for c in changes]))
    biggest = Count.where([Named(c.name, abs(c.value)) for c in changes], "above", abs(changes[i].value), 0.0,
                          what="blocks that changed more")
    j = labels.index(changes[i].name)
    lead = f"Over {over}, from" if over else "From"
    w.say(f"{lead} step {first_step:,} to step {last_step:,} the median ||F(x)||/||x|| {how}; it rose in {up.n} "
          f"and fell in {down.n} of the {len(changes)} block{'s' if len(changes) > 1 else ''}, the most at "
          f"{changes[i].name} ({fmt_ratio(float(first[j]))} to {fmt_ratio(float(last[j]))}).", cmp, up, down, biggest)
    return w
