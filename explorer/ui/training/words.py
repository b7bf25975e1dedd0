"""The sentences the training panel writes about a run, rendered from claims (no Qt here).

The end-of-run sentence quotes the run's last test and training error and says where the
test error stands against chance for the network's class count (90% for ten classes), each
word backed by a ``Threshold`` claim over the numbers it quotes (``experiments.claims``):
*no better than chance* (at or above it), *near chance* (less than ``NEAR`` = 10 points
below it), *below chance but not yet far below* (more than ``WELL_BELOW`` = half of it),
*well below chance* (at most half of it). A training error more than ``GAP`` = 10 points
lower than the test error is said, from a ``Compare`` claim. No cause is claimed ("more
epochs may help"): the panel does not measure why. Tested table-driven and over random
numbers in ``tests/ui/test_training_words.py``.
"""
from __future__ import annotations

import math

from ...experiments.claims import Compare, Named, Threshold, Words
from ...experiments.verdict import pct

WELL_BELOW = 0.5  # "well below chance": at most half of chance's error
NEAR = 0.10  # "near chance": within 10 points of it
GAP = 0.10  # "fits its training images better": training error more than 10 points lower


def chance_error(classes: int) -> float:
    """The error of guessing one class at random (or always the same one, balanced classes)."""
    return 1.0 - 1.0 / max(int(classes), 1)


def _pct(fraction: float) -> str:
    return pct(fraction)  # the one rule for percentages (experiments/verdict.py)


def _verdict_claims(test_error: float, train_error: float, classes: int) -> tuple[str, list]:
    """The words after the errors (where the test error stands against chance, the gap) and their claims."""
    chance = chance_error(classes)
    test = Named("test error", test_error)
    at_chance = Threshold(test, Named("chance", chance), 0.0)
    near = Threshold(test, Named(f"{100 * NEAR:.0f} points below chance", chance - NEAR), 0.0)
    well = Threshold(test, Named("half of chance", WELL_BELOW * chance), 0.0)
    where = f"chance is {_pct(chance)}"
    if at_chance.relation != "below":
        words, claims = f"no better than chance ({where})", [at_chance]
    elif near.relation == "above":
        words, claims = f"near chance ({where}; less than {100 * NEAR:.0f} points below it)", [at_chance, near]
    elif well.relation == "above":
        words, claims = f"below chance ({where}) but not yet far below", [near, well]
    else:
        words, claims = f"well below chance ({where}; at most half of it)", [well]
    gap = Compare(test, Named("training error", train_error), GAP)
    words += gap.pick(higher=f"; training error is {100 * gap.difference:.1f} points lower than test error: it fits "
                             "its training images better than new ones",
                      lower=f"; training error is {-100 * gap.difference:.1f} points higher than test error",
                      within="")
    if gap.relation != "within":
        claims.append(gap)
    return words, claims


def learning_verdict(test_error: float, train_error: float, classes: int) -> str:
    """How the last test error compares with chance, and the train-test gap when there is one."""
    return _verdict_claims(test_error, train_error, classes)[0]


def progress_text(step: int, total: int, epoch: int, epochs: int, images_per_s: float, eta: str) -> str:
    """The line under the progress bar while a run trains."""
    total = max(int(total), 1)
    return (f"Step {step:,} of {total:,} ({100 * step // total}%) · epoch {epoch} of {epochs} · "
            f"{images_per_s:,.0f} images/s · ETA {eta}")


def _head(number: int, status: str, elapsed: str, step: int, total: int) -> str:
    if status == "failed":
        return f"Run #{number} failed after {elapsed}"
    if status == "stopped":
        return f"Run #{number} stopped at step {step:,} of {max(total, step):,} after {elapsed}"
    return f"Run #{number} finished in {elapsed}"


def run_end_words(number: int, status: str, elapsed: str, step: int, total: int, last_epoch,
                  classes: int) -> Words:
    """The measured part of the end-of-run sentence, backed by claims (empty when nothing was measured,
    the run failed, or the class count is unknown so there is no chance to compare with)."""
    w = Words()
    if status == "failed" or last_epoch is None or classes < 2:
        return w
    if not (math.isfinite(last_epoch.test_error) and math.isfinite(last_epoch.train_error)):
        return w  # nothing to set against chance: the numbers alone are quoted
    which = "" if status == "finished" else f" (after epoch {last_epoch.epoch})"
    words, claims = _verdict_claims(last_epoch.test_error, last_epoch.train_error, classes)
    w.say(f"{_head(number, status, elapsed, step, total)}: test error {_pct(last_epoch.test_error)}{which}, "
          f"train error {_pct(last_epoch.train_error)}; {words}.", *claims)
    return w


def run_end_text(number: int, status: str, elapsed: str, step: int, total: int, last_epoch,
                 classes: int) -> str:
    """What the panel says when run #``number`` ends (``last_epoch``: its last EpochMetrics or None)."""
    words = run_end_words(number, status, elapsed, step, total, last_epoch, classes)
    if words.sentences:
        return words.text
    head = _head(number, status, elapsed, step, total)
    if status == "failed":
        return head
    if last_epoch is None:
        return head + ", before its first test: no error measured yet"
    which = "" if status == "finished" else f" (after epoch {last_epoch.epoch})"
    # no class count: no chance to compare with, so only the numbers themselves
    return f"{head}: test error {_pct(last_epoch.test_error)}{which}, train error {_pct(last_epoch.train_error)}."
