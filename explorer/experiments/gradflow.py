"""Gradient flow in words: turn per-block norms into the sentence a student reads.

The numbers come from ``explorer.analysis.gradflow`` (or a recorder column); this module
only decides what they mean and says it plainly. The thresholds are deliberately
coarse: the point is to name the regime (carried back, exploding, vanishing, dead),
and the exact ratio is always printed next to the verdict.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# first/last ratio beyond which we call it an explosion; CIFAR ResNets with BN stay
# below a few hundred at initialisation, plain nets of 56 layers reach 1e4.
EXPLODE_RATIO = 1e3
# below this the gradient reaching the first block is "fading"; below VANISH_RATIO it vanishes.
FADE_RATIO = 0.5
VANISH_RATIO = 1e-2
# how far from the last block's value a block must be to be named as the place it happens
MARK_FACTOR = 100.0
# first/last below this reads "about the same size"; from GROWS_RATIO on it "grows steadily"
SAME_SIZE_RATIO = 2.0
GROWS_RATIO = 30.0
# a per-block factor below this is "only a little" (an explosion then comes from depth alone)
GENTLE_STEP = 1.05


@dataclass(frozen=True)
class FlowSummary:
    verdict: str  # "carried" | "grows" | "explodes" | "fades" | "vanishes" | "dead" | "empty"
    ratio: float  # first block's norm / last block's norm
    per_block: float  # geometric mean growth factor from one block to the previous one
    where: str | None  # label of the block where it crosses MARK_FACTOR (or 1/MARK_FACTOR)
    headline: str  # the ratio in words
    explanation: str  # why, in one sentence

    @property
    def text(self) -> str:
        return f"{self.headline} {self.explanation}".strip()

    def to_dict(self) -> dict:
        finite = math.isfinite(self.ratio)
        return {"verdict": self.verdict, "ratio": self.ratio if finite else None,
                "per_block": self.per_block if math.isfinite(self.per_block) else None,
                "where": self.where, "text": self.text}


def format_factor(x: float) -> str:
    """9x, 90x, 5,000x, 2.4e7x: readable across ten orders of magnitude."""
    if not math.isfinite(x):
        return "∞" if x > 0 else "?"
    if x >= 1:
        x = float(f"{x:.2g}")  # two significant digits, so 99,999.99 reads as 1e5
    if x >= 1e5:
        mant, exp = f"{x:.1e}".split("e")
        return f"{mant.rstrip('0').rstrip('.')}e{int(exp)}"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.0f}"
    if x >= 1:
        return f"{x:.1f}".rstrip("0").rstrip(".")
    return f"{x:.2g}"


def _fraction(x: float) -> str:
    """0.3 -> "0.3 of", 0.002 -> "1/500 of"."""
    if x >= 0.1:
        return f"{x:.1g} times"
    return f"1/{format_factor(1.0 / x)} of"


def summarise(norms, labels=None, skips=None, batch_norm: bool | None = None,
              shortcuts=None) -> FlowSummary:
    """Read per-block ``||dL/dx_l||`` (depth order) and say what they show.

    ``skips`` (one bool per block, the active switches), ``shortcuts`` (whether each
    block has a shortcut at all; plain blocks do not) and ``batch_norm`` only shape
    the explanation; the verdict comes from the numbers alone.
    """
    norms = np.asarray(norms, dtype=np.float64)
    n = len(norms)
    labels = list(labels) if labels is not None else [f"block {i + 1}" for i in range(n)]
    if n == 0:
        return FlowSummary("empty", math.nan, math.nan, None, "This network has no residual blocks to measure.", "")
    if not np.all(np.isfinite(norms)):
        bad = labels[int(np.flatnonzero(~np.isfinite(norms))[0])]
        return FlowSummary("explodes", math.inf, math.inf, bad,
                           f"The gradient overflows (is not a finite number) at {bad}.",
                           "The loss or the activations have blown up; lower the learning rate or "
                           "use normalisation.")
    first, last = float(norms[0]), float(norms[-1])
    if skips is not None and shortcuts is not None and len(shortcuts) == len(skips):
        switchable = sum(bool(h) for h in shortcuts)
        n_skips = sum(bool(s) and bool(h) for s, h in zip(skips, shortcuts))
    else:
        switchable = len(skips) if skips is not None else None
        n_skips = sum(bool(s) for s in skips) if skips is not None else None
    all_off = n_skips == 0
    if last == 0.0:
        return FlowSummary("dead", math.nan, math.nan, labels[-1],
                           "No gradient reaches even the last block: it is exactly zero.",
                           "Nothing before it can learn at these weights. A usual cause is a forward signal "
                           "that died on the way (every activation zero after a ReLU), for example with "
                           "weights far too small for this depth.")
    if first == 0.0:
        alive = np.flatnonzero(norms > 0)
        where = labels[int(alive[0])] if len(alive) else labels[-1]
        return FlowSummary("vanishes", 0.0, 0.0, where,
                           f"The gradient vanishes completely: it is exactly zero before {where}.",
                           _vanish_reason(all_off, batch_norm, "vanishes"))
    ratio = first / last
    per_block = ratio ** (1.0 / (n - 1)) if n > 1 else 1.0
    step = f"about {per_block:.2f}x per block"
    rel = norms / last
    if ratio >= EXPLODE_RATIO:
        where = _crossing(rel >= MARK_FACTOR, labels)
        head = (f"The gradient reaching the first block is {format_factor(ratio)} times larger than at the "
                f"last block: it explodes towards the input")
        head += f" (already {format_factor(MARK_FACTOR)}x at {where})." if where else "."
        if all_off and batch_norm is not False:
            why = (f"Without skips every block multiplies it again ({step}), and BN's rescaling makes "
                   "each factor larger than 1; the early layers get huge, noisy updates.")
        elif all_off:
            why = f"Without skips every block multiplies it again by a factor larger than 1 ({step})."
        elif per_block < GENTLE_STEP:
            why = (f"Each block adds only a little ({step}), but over {n} blocks that compounds to "
                   f"{format_factor(ratio)}x.")
        else:
            which = "with skips on" if n_skips == switchable else f"with {n_skips} of {switchable} skips on"
            why = f"Even {which}, the branches amplify it at these weights ({step})."
        return FlowSummary("explodes", ratio, per_block, where, head, why)
    if ratio < FADE_RATIO:
        where = _crossing(rel <= 1.0 / MARK_FACTOR, labels)
        verdict = "vanishes" if ratio < VANISH_RATIO else "fades"
        head = (f"The gradient reaching the first block is {_fraction(ratio)} the one at the last block: "
                + ("it vanishes on its way back to the input" if verdict == "vanishes"
                   else "it fades (vanishes slowly) on its way back to the input"))
        head += f" (below 1/{format_factor(MARK_FACTOR)} already at {where})." if where else "."
        return FlowSummary(verdict, ratio, per_block, where, head, _vanish_reason(all_off, batch_norm, verdict))
    verdict = "carried" if ratio < GROWS_RATIO else "grows"
    head = f"The gradient reaching the first block is {format_factor(ratio)}x the one at the last block"
    if ratio < SAME_SIZE_RATIO:
        core, carried = "it arrives at about the same size", "the skips carry it back at about the same size"
    elif ratio < GROWS_RATIO:
        core = f"it grows modestly on the way back ({step})"
        carried = f"the skips carry it back, growing modestly ({step})"
    else:
        core = f"it grows steadily with depth ({step}) but does not explode"
        carried = f"the skips carry it back, but it grows steadily with depth ({step}); it does not explode"
    if n_skips and n_skips == switchable:
        how = f": {carried}."
    elif n_skips:
        how = f": with {n_skips} of {switchable} skips on, {core}."
    elif all_off:
        how = (f": {core}, even without skips over this few blocks; a deeper plain net shows the problem."
               if n <= 12 and ratio < GROWS_RATIO else f": {core}, without skips.")
    else:
        how = f": {core}."
    return FlowSummary(verdict, ratio, per_block, None, head + how, "")


def _crossing(mask: np.ndarray, labels) -> str | None:
    """The label of the block nearest the output at which ``mask`` holds (walking back)."""
    hits = np.flatnonzero(mask)
    return labels[int(hits[-1])] if len(hits) else None


def _vanish_reason(all_off: bool, batch_norm: bool | None, verdict: str) -> str:
    effect = ("the early layers barely learn" if verdict == "vanishes"
              else "the early layers get smaller updates than the late ones")
    if all_off and batch_norm is False:
        return f"Without skips or normalisation every block multiplies it by a factor smaller than 1, so {effect}."
    if all_off:
        return f"Without skips every block multiplies it by a factor smaller than 1, so {effect}."
    if batch_norm is False:
        return f"The branches shrink it and nothing rescales the activations; {effect}."
    return f"At these weights {effect}."


def profile_words(norms, labels=None, skips=None, batch_norm: bool | None = None, shortcuts=None) -> str:
    """The one paragraph shown beside the plots."""
    return summarise(norms, labels, skips, batch_norm, shortcuts).text
