"""Pre- against post-activation in words: which trained lower, and how the gradient spread differs.

The two nets are compared at the last epoch both completed. A difference in training is
named only when it is clear (``prepost`` holds the thresholds); otherwise the words say
the run shows none. The gradient spread is the largest block's input-gradient norm over
the smallest, at initialisation and at the end; a spread counts as different when one is
1.5x the other or more.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .degradation import pct
from .prepost import CLEAR_POINTS, CLEAR_RATIO, EPOCHS_APART, FITTED, LOSS_FLOOR, GradientProfile, PrePostArm


@dataclass(frozen=True)
class PrePostVerdict:
    outcome: str  # pre_lower | post_lower | pre_faster | post_faster | no_difference | no_verdict
    headline: str
    details: tuple[str, ...]
    epoch: int  # the epoch compared at (0: none)

    @property
    def text(self) -> str:
        return " ".join((self.headline,) + self.details)

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "epoch": self.epoch, "headline": self.headline,
                "details": list(self.details)}


def _loss(x: float) -> str:
    return f"{x:.2g}" if x < 0.01 else f"{x:.3f}"


def _factor(x: float) -> str:
    if not math.isfinite(x):
        return "an unbounded factor (a block's gradient is zero)"
    return f"{x:.1f}x" if x < 100 else f"{x:.3g}x"


def clearly_lower(a: float, b: float, floor: float) -> bool:
    """``a`` is clearly below ``b``: by ``floor`` or more and by a factor of ``CLEAR_RATIO``."""
    return b - a >= floor and b >= CLEAR_RATIO * a


def training_words(post: PrePostArm, pre: PrePostArm, epoch: int) -> tuple[str, str, list[str]]:
    """(outcome, headline, details) about the training curves at ``epoch``."""
    i = epoch - 1
    e_post, e_pre = post.train_error[i], pre.train_error[i]
    l_post, l_pre = post.train_loss[i], pre.train_loss[i]
    when = f"after {epoch} epoch{'s' if epoch != 1 else ''}"
    details = [f"Training error {when}: {post.label} {pct(e_post)}, {pre.label} {pct(e_pre)}; training loss "
               f"{_loss(l_post)} and {_loss(l_pre)}."]
    f_post, f_pre = post.fitted_at(), pre.fitted_at()
    limit = pct(FITTED)
    if f_post is not None or f_pre is not None:
        parts = [f"{a.label} {'at epoch ' + str(f) if f is not None else f'not within {epoch} epochs'}"
                 for a, f in ((post, f_post), (pre, f_pre))]
        details.append(f"Training error {limit} or less reached: {', '.join(parts)}.")
    for lower, higher, e_lo, e_hi, outcome in ((pre, post, e_pre, e_post, "pre_lower"),
                                               (post, pre, e_post, e_pre, "post_lower")):
        if clearly_lower(e_lo, e_hi, CLEAR_POINTS):
            return outcome, (f"{lower.label} trained lower: {pct(e_lo)} training error against "
                             f"{higher.label}'s {pct(e_hi)} {when}."), details
    for lower, higher, l_lo, l_hi, outcome in ((pre, post, l_pre, l_post, "pre_lower"),
                                               (post, pre, l_post, l_pre, "post_lower")):
        if clearly_lower(l_lo, l_hi, LOSS_FLOOR):
            return outcome, (f"{lower.label} trained lower: training loss {_loss(l_lo)} against "
                             f"{higher.label}'s {_loss(l_hi)} {when}, at training errors within "
                             f"{CLEAR_POINTS * 100:.0f} point of each other."), details
    for faster, slower, f_a, f_b, outcome in ((pre, post, f_pre, f_post, "pre_faster"),
                                              (post, pre, f_post, f_pre, "post_faster")):
        if f_a is not None and (f_b is None or f_b - f_a >= EPOCHS_APART):
            later = f"epoch {f_b}" if f_b is not None else f"not within {epoch} epochs"
            return outcome, (f"Both ended alike, but {faster.label} fitted the training set sooner: "
                             f"{limit} training error at epoch {f_a}, {slower.label} {later}."), details
    return "no_difference", (f"This run shows no clear difference in training between {post.label} and "
                             f"{pre.label} {when}."), details


def spread_words(post: GradientProfile | None, pre: GradientProfile | None, post_label: str,
                 pre_label: str) -> str | None:
    """One sentence comparing the two profiles taken at the same moment, or None when one is missing."""
    if post is None or pre is None:
        return None
    moment = "At initialisation" if post.when == "init" else "At the end"
    sp, sq = post.spread, pre.spread
    numbers = (f"the gradient norm varies across the blocks by {_factor(sp)} in {post_label} and by "
               f"{_factor(sq)} in {pre_label}")
    if not (math.isfinite(sp) and math.isfinite(sq)):
        return f"{moment}, {numbers}."
    if sp >= CLEAR_RATIO * sq:
        return f"{moment}, {numbers}: the pre-activation twin spreads the gradient more evenly over depth."
    if sq >= CLEAR_RATIO * sp:
        return f"{moment}, {numbers}: here the post-activation net spreads it more evenly."
    return f"{moment}, {numbers}: no clear difference in spread."


def prepost_words(results: list[PrePostArm], planned_epochs: int) -> PrePostVerdict:
    post = next((r for r in results if r.arm.kind == "resnet"), None)
    pre = next((r for r in results if r.arm.kind == "preact"), None)
    if post is None or pre is None:
        return PrePostVerdict("no_verdict", "No verdict: the experiment needs a post-activation ResNet and its "
                              "pre-activation twin.", (), 0)
    missing = [r for r in (post, pre) if r.epochs_done == 0]
    spreads = [s for s in (spread_words(post.init, pre.init, post.label, pre.label),) if s]
    if missing:
        why = [f"{r.label}: {r.message or 'no epoch completed'}." for r in missing]
        return PrePostVerdict("no_verdict", "No verdict yet: " + " and ".join(r.label for r in missing)
                              + (" has" if len(missing) == 1 else " have") + " not completed an epoch.",
                              tuple(why + spreads), 0)
    epoch = min(post.epochs_done, pre.epochs_done)
    outcome, headline, details = training_words(post, pre, epoch)
    for r in (post, pre):
        if r.status == "failed":
            details.append(f"{r.label} failed: {r.message}.")
    if epoch < planned_epochs:
        details.append(f"The run stopped at epoch {epoch} of {planned_epochs}: these are the numbers at that "
                       "point, not at the end.")
    details.extend(spreads)
    end = spread_words(post.end, pre.end, post.label, pre.label)
    if end:
        details.append(end)
    return PrePostVerdict(outcome, headline, tuple(details), epoch)
