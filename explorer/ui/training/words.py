"""The sentences the training panel writes about a run, from its numbers alone (no Qt here).

Every claim is a comparison the sentence itself quotes: the test error against chance
for the network's class count (90% for ten classes), the training error against the
test error. The rules are tested table-driven in ``tests/ui/test_training_words.py``.
"""
from __future__ import annotations

WELL_BELOW = 0.5  # "well below chance": at most half of chance's error
NEAR = 0.10  # "near chance": within 10 points of it
GAP = 0.10  # "fits its training images better": training error 10 points or more lower


def chance_error(classes: int) -> float:
    """The error of guessing one class at random (or always the same one, balanced classes)."""
    return 1.0 - 1.0 / max(int(classes), 1)


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


def learning_verdict(test_error: float, train_error: float, classes: int) -> str:
    """How the last test error compares with chance, and the train-test gap when there is one."""
    chance = chance_error(classes)
    where = f"chance is {_pct(chance)}"
    if test_error >= chance:
        words = f"no better than chance ({where}): the network has not learned the task yet"
    elif test_error > chance - NEAR:
        words = (f"near chance ({where}): the network has barely started to learn; more epochs "
                 "or a lower learning rate may help")
    elif test_error > WELL_BELOW * chance:
        words = f"below chance ({where}) but not yet far below"
    else:
        words = f"well below chance ({where})"
    gap = test_error - train_error
    if gap >= GAP:
        words += (f"; training error is {100 * gap:.1f} points lower than test error: it fits its "
                  "training images better than new ones")
    return words


def progress_text(step: int, total: int, epoch: int, epochs: int, images_per_s: float, eta: str) -> str:
    """The line under the progress bar while a run trains."""
    total = max(int(total), 1)
    return (f"Step {step:,} of {total:,} ({100 * step // total}%) · epoch {epoch} of {epochs} · "
            f"{images_per_s:,.0f} images/s · ETA {eta}")


def run_end_text(number: int, status: str, elapsed: str, step: int, total: int, last_epoch,
                 classes: int) -> str:
    """What the panel says when run #``number`` ends (``last_epoch``: its last EpochMetrics or None)."""
    if status == "failed":
        return f"Run #{number} failed after {elapsed}"
    if status == "stopped":
        head = f"Run #{number} stopped at step {step:,} of {max(total, step):,} after {elapsed}"
    else:
        head = f"Run #{number} finished in {elapsed}"
    if last_epoch is None:
        return head + ", before its first test: no error measured yet"
    which = "" if status == "finished" else f" (after epoch {last_epoch.epoch})"
    text = f"{head}: test error {_pct(last_epoch.test_error)}{which}, train error {_pct(last_epoch.train_error)}"
    if classes >= 2:  # no class count, no chance to compare with
        text += "; " + learning_verdict(last_epoch.test_error, last_epoch.train_error, classes)
    return text + "."
