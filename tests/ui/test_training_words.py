"""The training panel's sentences follow from the numbers they quote: table-driven, then over random
numbers (every claim holds, the sentence is backed, no cause is claimed that was not measured)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from explorer.experiments.claims import check
from explorer.train.api import EpochMetrics
from explorer.ui.training.words import (GAP, NEAR, WELL_BELOW, chance_error, learning_verdict, progress_text,
                                        run_end_text, run_end_words)


def epoch(n: int, test: float, train: float) -> EpochMetrics:
    return EpochMetrics(epoch=n, step=125 * n, train_loss=1.0, train_error=train, test_loss=1.0,
                        test_error=test, lr=0.001, images_per_s=100.0, seconds=10.0)


@pytest.mark.parametrize("test, train, classes, starts, has_gap", [
    (0.046, 0.059, 10, "well below chance (chance is 90.0%; at most half of it)", False),  # the default run
    (0.45, 0.40, 10, "well below chance (chance is 90.0%; at most half of it)", False),  # exactly half: well below
    (0.594, 0.544, 10, "below chance (chance is 90.0%) but not yet far below", False),
    (0.837, 0.844, 10, "near chance (chance is 90.0%; less than 10 points below it)", False),
    (0.90, 0.90, 10, "no better than chance (chance is 90.0%)", False),
    (0.95, 0.91, 10, "no better than chance (chance is 90.0%)", False),
    (0.30, 0.02, 10, "well below chance (chance is 90.0%; at most half of it)", True),  # overfits: 28 points apart
    (0.30, 0.21, 10, "well below chance (chance is 90.0%; at most half of it)", False),  # 9 points: no claim
    (0.40, 0.35, 2, "below chance (chance is 50.0%) but not yet far below", False),
    (0.20, 0.10, 100, "well below chance (chance is 99.0%; at most half of it)", False),  # exactly 10 points
])
def test_the_verdict_follows_from_test_error_chance_and_the_gap(test, train, classes, starts, has_gap):
    words = learning_verdict(test, train, classes)
    assert words.startswith(starts)
    assert ("points lower than test error" in words) is has_gap
    if has_gap:
        assert f"{100 * (test - train):.1f} points lower" in words


@pytest.mark.parametrize("status, step, total, last, classes, expected", [
    ("finished", 500, 500, epoch(4, 0.046, 0.059), 10,
     "Run #3 finished in 0:52: test error 4.6%, train error 5.9%; well below chance (chance is 90.0%; at most "
     "half of it)."),
    ("stopped", 300, 500, epoch(2, 0.594, 0.544), 10,
     "Run #3 stopped at step 300 of 500 after 0:52: test error 59.4% (after epoch 2), train error 54.4%; "
     "below chance (chance is 90.0%) but not yet far below."),
    ("stopped", 40, 500, None, 10,
     "Run #3 stopped at step 40 of 500 after 0:52, before its first test: no error measured yet"),
    # near chance: said as measured, no guessed cure ("more epochs or a lower learning rate may help")
    ("finished", 500, 500, epoch(4, 0.88, 0.87), 10,
     "Run #3 finished in 0:52: test error 88.0%, train error 87.0%; near chance (chance is 90.0%; less than 10 "
     "points below it)."),
    ("failed", 120, 500, epoch(1, 0.7, 0.7), 10, "Run #3 failed after 0:52"),
    ("finished", 500, 500, epoch(4, 0.3, 0.2), 0, "Run #3 finished in 0:52: test error 30.0%, train error 20.0%."),
])
def test_the_end_of_run_sentence(status, step, total, last, classes, expected):
    assert run_end_text(3, status, "0:52", step, total, last, classes) == expected


@settings(max_examples=200, deadline=None)
@given(test=st.floats(0, 1), train=st.floats(0, 1), classes=st.sampled_from([2, 3, 10, 100, 1000]),
       status=st.sampled_from(["finished", "stopped"]))
def test_every_end_of_run_sentence_is_backed_by_claims_that_hold(test, train, classes, status):
    words = run_end_words(3, status, "0:52", 300, 500, epoch(2, test, train), classes)
    assert len(words.sentences) == 1 and check(words.to_dict()) == []
    text = words.text
    chance = chance_error(classes)
    assert ("no better than chance" in text) == (test >= chance)
    assert ("near chance" in text) == (chance - NEAR < test < chance)
    assert ("well below chance" in text) == (test <= WELL_BELOW * chance)
    assert ("fits its training images better" in text) == (test - train > GAP)
    assert "may help" not in text and "more epochs" not in text


def test_progress_line_quotes_its_numbers():
    assert progress_text(125, 500, 1, 4, 812.4, "0:41") == \
        "Step 125 of 500 (25%) · epoch 1 of 4 · 812 images/s · ETA 0:41"
    assert chance_error(10) == pytest.approx(0.9)
