"""The degradation experiment's result in words, from the arms' training errors.

The rules (each margin is stated in the words that use it):

- the deeper plain net is *clearly worse* when it ends at least ``CLEAR_GAP`` (2 points)
  and ``CLEAR_RATIO`` (1.5x) above the shallower one;
- a deeper ResNet is *no worse* when it ends within ``SAME_GAP`` (1 point) of the
  shallower one, and *almost* no worse within ``NEAR_GAP`` (3 points) when that is also
  under a quarter of the plain nets' gap;
- "Degradation shown" needs both halves: the plain net clearly worse AND the ResNet no
  (or almost no) worse. A clearly worse plain net next to a ResNet that has not caught up
  is only the plain half, and the words say the run is too short for the ResNet half;
- nothing is concluded while the shallower plain net has not fitted the training set
  (above ``UNTRAINED``, 10%): deeper nets of every kind start slower.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

CLEAR_GAP = 0.02  # the deeper plain net is "clearly worse" when 2 points or more behind ...
CLEAR_RATIO = 1.5  # ... and at least 1.5x the shallower one's error
SAME_GAP = 0.01  # a deeper ResNet within 1 point of the shallower one is "no worse"
NEAR_GAP = 0.03  # ... within 3 points (and a quarter of the plain gap): "almost no worse"
UNTRAINED = 0.10  # a shallow plain net above 10% training error has not fitted the data yet

# shown / mostly: both halves; plain_only: the ResNet half missing (too short);
# too_early: the shallow plain net has not fitted yet; mixed: both kinds worse alike;
# not_shown: the plain nets end alike; no_verdict: an arm has no epoch (or arms missing)
OUTCOMES = ("shown", "mostly", "plain_only", "too_early", "mixed", "not_shown", "no_verdict")


@dataclass(frozen=True)
class Verdict:
    outcome: str  # one of OUTCOMES
    headline: str  # one sentence, shown large
    details: tuple[str, ...]  # the numbers and the why, one sentence each
    epoch: int  # the epoch the numbers were compared at (0: none)
    errors: dict  # arm label -> training error at that epoch

    @property
    def shown(self) -> bool:
        """True only when both halves showed: the deeper plain net worse, the deeper ResNet not."""
        return self.outcome in ("shown", "mostly")

    @property
    def text(self) -> str:
        return " ".join((self.headline,) + self.details)

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "shown": self.shown, "epoch": self.epoch, "headline": self.headline,
                "details": list(self.details), "training_error": dict(self.errors)}


def pct(x: float) -> str:
    """0.135 -> "13.5%", 0.0004 -> "0.04%"."""
    if not math.isfinite(x):
        return "?"
    v = 100.0 * x
    return f"{v:.2g}%" if 0 < v < 0.1 else f"{v:.1f}%"


def points(x: float) -> str:
    """A difference of error fractions in percentage points."""
    v = 100.0 * abs(x)
    return f"{v:.1f} point{'' if round(v, 1) == 1.0 else 's'}"


def more_epochs(planned: int) -> int:
    """The number of epochs to suggest when a run was too short."""
    return max(2 * planned, planned + 10)


def _deeper(depth: int) -> int:
    return 110 if depth < 110 else depth * 2 + 2


WHY = ("Adding layers to a plain net made even the training set harder to fit: that is not overfitting "
       "(which lowers training error) but a net that is harder to optimise.")


def conclude(results: list, planned_epochs: int) -> Verdict:
    """What this run shows, in words, from each arm's training error per epoch (``ArmResult``s).

    The arms are compared at the last epoch every arm completed, so a stopped run is
    judged on equal terms. The shallowest and the deepest net of each kind decide.
    """
    plains = sorted((r for r in results if not r.arm.residual), key=lambda r: r.arm.depth)
    resnets = sorted((r for r in results if r.arm.residual), key=lambda r: r.arm.depth)
    if len(plains) < 2 or len(resnets) < 2:
        return Verdict("no_verdict", "No verdict: the experiment needs a plain net and a ResNet at two "
                       "depths at least.", (), 0, {})
    missing = [r for r in results if r.epochs_done == 0]
    if missing:
        why = []
        for r in missing:
            reason = r.message or ("stopped before its first epoch ended" if r.status == "stopped"
                                   else "no epoch completed")
            why.append(f"{r.label}: {reason}.")
        return Verdict("no_verdict", "No verdict yet: "
                       + ", ".join(r.label for r in missing)
                       + (" has" if len(missing) == 1 else " have") + " not completed an epoch.",
                       tuple(why), 0, {})
    epoch = min(r.epochs_done for r in results)
    errors = {r.label: r.train_errors[epoch - 1] for r in results}
    p_lo, p_hi = plains[0].label, plains[-1].label
    r_lo, r_hi = resnets[0].label, resnets[-1].label
    e_plo, e_phi = errors[p_lo], errors[p_hi]
    e_rlo, e_rhi = errors[r_lo], errors[r_hi]
    plain_gap = e_phi - e_plo
    res_gap = e_rhi - e_rlo
    early = epoch < planned_epochs
    more = more_epochs(planned_epochs)
    so_far = f"So far (epoch {epoch} of {planned_epochs}): " if early else ""
    ended = "is at" if early else "ended at"

    listing = ", ".join(f"{r.label} {pct(errors[r.label])}" for r in plains + resnets)
    details = [f"Training error after {epoch} epoch{'s' if epoch != 1 else ''}: {listing}."]
    for r in results:
        if r.status == "failed":
            details.append(f"{r.label} failed: {r.message}.")
    if early:
        details.append(f"The run stopped at epoch {epoch} of {planned_epochs}, so these are the numbers "
                       "at that point, not at the end.")
    run_longer = (f"Let it run to the end, or run more epochs (say {more})." if early
                  else f"Run more epochs (say {more}).")

    def verdict(outcome: str, headline: str, *more_details: str) -> Verdict:
        return Verdict(outcome, headline, tuple(details) + more_details, epoch, errors)

    if not (plain_gap >= CLEAR_GAP and e_phi >= CLEAR_RATIO * e_plo):
        relation = "below" if plain_gap < 0 else "close to" if plain_gap < CLEAR_GAP else "not clearly above"
        headline = (f"{so_far}This run did NOT show degradation: {p_hi} {ended} {pct(e_phi)} training error, "
                    f"{relation} {p_lo}'s {pct(e_plo)}.")
        if e_plo > UNTRAINED:
            why = (f"The run was too short: even {p_lo} has not fitted the training set yet "
                   f"({pct(e_plo)} is above {pct(UNTRAINED)}). {run_longer}")
        elif early:
            why = "Let it run to the end: the gap usually opens as the learning rate falls."
        else:
            why = (f"Both plain nets fitted this training set. A deeper plain net (e.g. "
                   f"{_deeper(plains[-1].arm.depth)}) or a larger dataset shows the effect.")
        return verdict("not_shown", headline, why)

    if e_plo > UNTRAINED:
        headline = (f"{so_far}Too early to tell: {p_hi} is behind {p_lo} ({pct(e_phi)} against {pct(e_plo)} "
                    f"training error), but {p_lo} has not fitted the training set yet either.")
        return verdict("too_early", headline,
                       f"Deeper nets start slower, with or without skips; degradation is about where they end, "
                       f"once the shallower net fits the training set (under {pct(UNTRAINED)}). {run_longer}")

    has_more = "has more" if early else "ended with more"
    head = (f"{so_far}Degradation shown: {p_hi} {has_more} training error than {p_lo} "
            f"({pct(e_phi)} against {pct(e_plo)})")
    if res_gap <= SAME_GAP:
        relation = "no higher than" if res_gap <= 0 else f"within {points(SAME_GAP)} of"
        verb = "is" if early else "ended"
        return verdict("shown", f"{head}, while {r_hi} did not ({pct(e_rhi)} against {pct(e_rlo)}).", WHY,
                       f"{r_hi} {verb} {relation} {r_lo}: with skips, the same extra depth cost nothing here.")
    if res_gap <= NEAR_GAP and res_gap <= plain_gap / 4:
        headline = (f"{head}; {r_hi} came within {points(res_gap)} of {r_lo} ({pct(e_rhi)} against "
                    f"{pct(e_rlo)}), against the plain nets' {points(plain_gap)}.")
        return verdict("mostly", headline, WHY,
                       f"That is more than the {points(SAME_GAP)} counted here as no worse, but under "
                       f"{points(NEAR_GAP)}: the ResNets mostly avoid it, and more epochs usually close the rest.")
    if res_gap <= plain_gap / 2:
        headline = (f"{so_far}Only the plain half is shown: {p_hi} {ended} {pct(e_phi)} training error against "
                    f"{p_lo}'s {pct(e_plo)}, but {r_hi} is still {points(res_gap)} behind {r_lo} "
                    f"({pct(e_rhi)} against {pct(e_rlo)}).")
        return verdict("plain_only", headline, WHY,
                       f"This run is too short for the ResNet half: {r_hi} has not caught up with {r_lo}, so it "
                       f"cannot tell yet whether the skips avoid degradation. {run_longer}")
    headline = (f"{so_far}Both deeper nets trained worse here: {p_hi} {pct(e_phi)} against {p_lo} {pct(e_plo)}, "
                f"and {r_hi} {pct(e_rhi)} against {r_lo} {pct(e_rlo)}, so this run does not separate plain "
                "nets from ResNets.")
    return verdict("mixed", headline,
                   f"Deeper nets of both kinds need more steps at first; {run_longer[0].lower()}{run_longer[1:]}")
