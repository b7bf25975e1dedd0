"""Residual size in words: how big each block's correction is against its shortcut.

The numbers come from ``explorer.analysis.residual`` (per block: mean ``||F(x)||/||s(x)||``,
mean cosine, and whether the ratio is defined); this module only says what they show.
A ratio below 1 means the branch adds less than the shortcut carries: the block's
output is "x plus a smaller change". The cosine says whether the change points along
the shortcut (reinforcing it), against it (partly cancelling it) or across it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

OK = "ok"
# |mean cosine| below this reads "nearly orthogonal"
ORTHOGONAL_COS = 0.2
# a change of the median ratio within this fraction reads "about the same"
SAME_TREND = 0.1
TOP = 3  # blocks named as contributing most


@dataclass(frozen=True)
class ResidualSummary:
    verdict: str  # "small" | "mixed" | "large" | "undefined" | "empty"
    median: float  # median ratio over the blocks where it is defined (NaN when none)
    largest: str | None  # label of the block with the largest ratio
    text: str

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
    """Which blocks contribute most, whether corrections are small, and their direction."""
    ratio = np.asarray(ratio, dtype=np.float64)
    cosine = np.asarray(cosine, dtype=np.float64)
    n = len(ratio)
    labels = list(labels) if labels is not None else [f"block {i + 1}" for i in range(n)]
    if n == 0:
        return ResidualSummary("empty", math.nan, None, "This network has no blocks to measure.")
    defined = np.array([s == OK for s in status], dtype=bool) & np.isfinite(ratio)
    plain = sum(s == "plain block" for s in status)
    off = sum(s == "skip switched off" for s in status)
    undefined = _undefined_note(plain, off, n)
    if not defined.any():
        return ResidualSummary("undefined", math.nan, None, undefined)
    values = ratio[defined]
    names = [lab for lab, d in zip(labels, defined) if d]
    k = len(values)
    median = float(np.median(values))
    order = np.argsort(-values, kind="stable")
    largest = names[int(order[0])]
    below = int((values < 1).sum())
    if below == k:
        verdict = "small"
        head = (f"Every block's correction is smaller than what its shortcut carries: ||F(x)||/||x|| is "
                f"{fmt_ratio(float(values.min()))} to {fmt_ratio(float(values.max()))} (median "
                f"{fmt_ratio(median)}), so each output is x plus a smaller change.")
    elif below == 0:
        verdict = "large"
        head = (f"Every block's correction is at least as large as its shortcut (||F(x)||/||x|| from "
                f"{fmt_ratio(float(values.min()))} to {fmt_ratio(float(values.max()))}, median "
                f"{fmt_ratio(median)}): the branches dominate, not the skips.")
    else:
        verdict = "mixed"
        head = (f"{below} of {k} blocks add a correction smaller than their shortcut (median ||F(x)||/||x|| "
                f"{fmt_ratio(median)}); in the other {k - below} the branch is as large or larger.")
        if k - below == 1:
            head = head.replace("in the other 1 the branch is", "in the other one the branch is")
    top = [f"{names[int(i)]} ({fmt_ratio(float(values[int(i)]))}x)" for i in order[:min(TOP, k)]]
    most = (f" The largest correction: {top[0]}." if k == 1 else
            f" Largest corrections: {', '.join(top)}.")
    cos = cosine[defined]
    cos = cos[np.isfinite(cos)]
    direction = ""
    if len(cos):
        c = float(cos.mean())
        if abs(c) < ORTHOGONAL_COS:
            direction = f" The corrections are nearly orthogonal to the shortcut (mean cosine {c:+.2f})."
        elif c > 0:
            direction = f" The corrections mostly point along the shortcut, reinforcing it (mean cosine {c:+.2f})."
        else:
            direction = (f" The corrections mostly point against the shortcut, partly cancelling it "
                         f"(mean cosine {c:+.2f}).")
    text = head + most + direction + (f" {undefined}" if undefined else "")
    return ResidualSummary(verdict, median, largest, text)


def _undefined_note(plain: int, off: int, n: int) -> str:
    parts = []
    if plain:
        parts.append("every block is plain" if plain == n else f"{plain} plain block{'s' if plain > 1 else ''}")
    if off:
        parts.append("every skip is switched off" if off == n else
                     f"{off} block{'s' if off > 1 else ''} with the skip switched off")
    if not parts:
        return ""
    return (f"The ratio is undefined for {' and '.join(parts)}: no shortcut is added there, the output is F(x) "
            "alone.") if plain != n and off != n else (
        f"The ratio is undefined: {' and '.join(parts)}, so no shortcut is added and each output is F(x) alone.")


def residual_trend(first, last, status, first_step: int, last_step: int, labels=None) -> str:
    """How the ratio changed over a run: median at the first and the last recorded step."""
    first = np.asarray(first, dtype=np.float64)
    last = np.asarray(last, dtype=np.float64)
    labels = list(labels) if labels is not None else [f"block {i + 1}" for i in range(len(first))]
    ok = np.array([s == OK for s in status], dtype=bool) & np.isfinite(first) & np.isfinite(last)
    if not ok.any() or last_step <= first_step:
        return ""
    a, b = float(np.median(first[ok])), float(np.median(last[ok]))
    change = (b - a) / a if a > 0 else math.inf
    if abs(change) <= SAME_TREND:
        how = f"stayed about the same ({fmt_ratio(a)} to {fmt_ratio(b)})"
    elif change > 0:
        how = f"grew from {fmt_ratio(a)} to {fmt_ratio(b)}"
    else:
        how = f"shrank from {fmt_ratio(a)} to {fmt_ratio(b)}"
    diff = np.where(ok, last - first, np.nan)
    i = int(np.nanargmax(np.abs(diff)))
    moved = (f"; the largest change is at {labels[i]} ({fmt_ratio(float(first[i]))} to "
             f"{fmt_ratio(float(last[i]))})")
    return f"From step {first_step:,} to step {last_step:,} the median ||F(x)||/||x|| {how}{moved}."
