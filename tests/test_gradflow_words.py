"""Gradient verdicts: every sentence is rendered from claims over the norms it describes.

A table of result tables (per-block ||dL/dx||, skip switches, which blocks have a shortcut,
BN or not) with what the words must and must not say, then random tables (hypothesis):
every claim holds on its numbers (``claims.check``), every sentence that is not the lessons'
text is backed, and the regime words, the counts and the lessons' comparison follow the norms.
"""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from explorer.experiments.claims import check, threshold_relation
from explorer.experiments.gradflow import (EXPLODE_RATIO, FADE_RATIO, GROWS_RATIO, MARK_FACTOR, SAME_SIZE_RATIO,
                                           STEP_TOLERANCE, VANISH_RATIO, format_factor, summarise)

LABELS9 = [f"stage {s}, block {b}" for s in (1, 2, 3) for b in (1, 2, 3)]


def geo(first_over_last: float, n: int) -> np.ndarray:
    return np.geomspace(first_over_last, 1.0, n)


# name, norms, skips, shortcuts, batch_norm, verdict, must say, must not say
ROWS = [
    ("resnet20 at init: 8.2x, skips on", geo(8.2, 9), [True] * 9, [True] * 9, True, "modest",
     ["8.2x the one at the last block", "grows modestly", "about 1.30x per block", "With all 9 skips on",
      "here it does not vanish: the first block gets 8.2x the last block's"],
     ["explodes", "vanishes", "barely learn"]),
    ("near-flat with skips", geo(1.3, 9), [True] * 9, [True] * 9, True, "carried",
     ["about the same size", "here it does not vanish"], ["grows modestly", "explode"]),
    ("slightly smaller at the input, plain 20 blocks", geo(0.7, 20), [False] * 20, [True] * 20, True, "carried",
     ["0.7x", "about the same size", "With none of the 20 skips on",
      "The lessons say that without skips the gradient shrinks on its way back to the input; here it does"],
     ["grows modestly", "grows instead", "explode", "vanish"]),
    ("steady growth, skips on", geo(300, 27), [True] * 27, [True] * 27, True, "grows",
     ["300 times larger", "grows steadily", "does not explode"], ["vanishes on", "modestly"]),
    ("mixed switches: no lesson is set against a half-plain net", geo(100, 9), [True] * 4 + [False] * 5, [True] * 9,
     True, "grows", ["With 4 of the 9 skips on"], ["The lessons say"]),
    ("plain blocks are not counted as switched-off skips", geo(5, 6), [True, True, False, False, True, False],
     [True, True, False, False, True, True], True, "modest", ["With 3 of the 4 skips on"], ["of the 6 skips"]),
    ("a plain net with no shortcuts at all", geo(3, 9), [False] * 9, [False] * 9, True, "modest",
     ["With a shortcut in none of the 9 blocks", "here it grows instead"], ["skips carry"]),
    ("plain56 explodes with BN: the lessons say vanish, here it explodes", geo(2e4, 27), [False] * 27, [True] * 27,
     True, "explodes",
     ["20,000 times larger", "explodes towards the input", "here it grows instead: the first block gets 20,000x",
      "batch normalisation"], ["vanishes"]),
    ("plain without BN explodes", geo(5e3, 27), [False] * 27, [True] * 27, False, "explodes",
     ["5,000 times larger", "here it grows instead"], ["batch normalisation"]),
    ("resnet1202: a tiny growth per block compounds", geo(1600, 600), [True] * 600, [True] * 600, True,
     "explodes", ["1,600 times larger", "about 1.01x per block", "over 599 steps", "past the explosion line"],
     ["amplify"]),
    ("one block halves it: counted, not 'every factor larger than 1'",
     np.array([40.0, 20.0, 40.0, 10.0, 5.0, 2.0, 1.0]), [False] * 7, [True] * 7, True, "grows",
     ["grows by more than 1% at 5 of the 6 steps, shrinks by more than 1% at 1"], ["every", "factor larger"]),
    ("fades", geo(0.2, 9), [True] * 9, [True] * 9, True, "fades",
     ["0.2 times the one at the last block", "fades", "here it fades all the same"], ["barely learn", "explode"]),
    ("vanishes without skips or BN", geo(1e-5, 9), [False] * 9, [True] * 9, False, "vanishes",
     ["1/100,000 of the one at the last block", "vanishes", "here it does: the first block gets 1/100,000 of"],
     ["explode", "barely learn"]),
    ("dead", np.zeros(4), [False] * 4, [True] * 4, True, "dead", ["exactly zero at all 4 blocks", "usual cause"], []),
    ("cut off near the input", np.array([0.0, 0.0, 0.5, 1.0]), [False] * 4, [True] * 4, True, "vanishes",
     ["exactly zero at half of the blocks (2 of 4), from the first block up to block 2"], []),
    ("overflow", np.array([np.inf, 1.0]), [False] * 2, [True] * 2, True, "explodes", ["not a finite number"], []),
    ("empty", np.array([]), [], [], True, "empty", ["no residual blocks"], []),
]


@pytest.mark.parametrize("name,norms,skips,shortcuts,bn,verdict,must,must_not", ROWS, ids=[r[0] for r in ROWS])
def test_words_follow_from_the_table(name, norms, skips, shortcuts, bn, verdict, must, must_not):
    labels = LABELS9 if len(norms) == 9 else None
    summary = summarise(norms, labels, skips, batch_norm=bn, shortcuts=shortcuts)
    assert summary.verdict == verdict
    for phrase in must:
        assert phrase in summary.text, (phrase, summary.text)
    for phrase in must_not:
        assert phrase not in summary.text, (phrase, summary.text)
    check_consistent(summary, np.asarray(norms, dtype=np.float64), labels, skips, shortcuts)


def check_consistent(summary, norms, labels, skips, shortcuts) -> None:
    """Every claim holds, every sentence is backed, and the words quote the numbers they rest on."""
    report = json.loads(json.dumps(summary.words.to_dict()))
    assert check(report) == []
    text = summary.text
    if len(norms) == 0 or not np.all(np.isfinite(norms)) or norms[-1] == 0 or norms[0] == 0:
        return
    labels = labels or [f"block {i + 1}" for i in range(len(norms))]
    ratio = norms[0] / norms[-1]
    per_block = ratio ** (1 / (len(norms) - 1)) if len(norms) > 1 else 1.0
    assert math.isclose(summary.ratio, ratio, rel_tol=1e-9)
    if ratio >= FADE_RATIO:
        assert f"is {format_factor(ratio)}" in text
    for quoted in re.findall(r"about (\d+\.\d\d)x per block", text):
        assert quoted == f"{per_block:.2f}"
    head = summary.words.texts[0]
    assert ("explodes towards" in head) == (ratio >= EXPLODE_RATIO)
    assert ("vanishes on its way" in head) == (ratio < VANISH_RATIO)
    assert ("fades" in head) == (VANISH_RATIO <= ratio < FADE_RATIO)
    assert ("about the same size" in head) == (FADE_RATIO <= ratio < SAME_SIZE_RATIO)
    assert ("modestly" in head) == (SAME_SIZE_RATIO <= ratio < GROWS_RATIO)
    assert ("grows steadily" in head) == (GROWS_RATIO <= ratio < EXPLODE_RATIO)
    rel = norms / norms[-1]
    for where in re.findall(r"already 100x at ([^,.]+, block \d+|block \d+)", text):
        assert rel[labels.index(where)] >= MARK_FACTOR
    for where in re.findall(r"below 1/100 already at ([^,.]+, block \d+|block \d+)", text):
        assert rel[labels.index(where)] <= 1 / MARK_FACTOR
    both = (norms[:-1] > 0) & (norms[1:] > 0)
    steps = norms[:-1][both] / norms[1:][both]
    for up, total in re.findall(r"grows by more than 1% at (?:all )?(\d+)(?: of the (\d+))? steps?", text):
        assert int(up) == sum(threshold_relation(float(x), 1.0, STEP_TOLERANCE) == "above" for x in steps)
    if shortcuts is not None and any(shortcuts):
        for k, n in re.findall(r"With (\d+) of the (\d+) skips on", text):
            assert int(n) == sum(shortcuts) and int(k) == sum(s and h for s, h in zip(skips, shortcuts))
    if "here it grows instead" in text:
        assert ratio > 1 and not any(s and h for s, h in zip(skips, shortcuts or skips))
    if "here it does:" in text:
        assert ratio < 1


norms_strategy = st.lists(st.one_of(st.floats(1e-8, 1e8), st.just(0.0), st.just(math.inf)), min_size=0,
                          max_size=30)


@settings(max_examples=200, deadline=None)
@given(norms=norms_strategy, data=st.data(), bn=st.sampled_from([True, False, None]))
def test_random_profiles_say_only_what_their_norms_hold(norms, data, bn):
    n = len(norms)
    shortcuts = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    skips = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    summary = summarise(np.array(norms), None, skips, batch_norm=bn, shortcuts=shortcuts)
    check_consistent(summary, np.asarray(norms, dtype=np.float64), None, skips, shortcuts)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.3, 3.0), min_size=2, max_size=12))
def test_the_steps_are_counted_not_read_from_the_mean(factors):
    norms = np.cumprod([1.0] + factors)[::-1]  # going back one block multiplies by factors[i]
    summary = summarise(norms, skips=[True] * len(norms), shortcuts=[True] * len(norms))
    f = norms[:-1] / norms[1:]  # close to factors[::-1]; counted by the stated rule (claims.threshold_relation)
    grows = sum(threshold_relation(float(x), 1.0, STEP_TOLERANCE) == "above" for x in f)
    shrinks = sum(threshold_relation(float(x), 1.0, STEP_TOLERANCE) == "below" for x in f)
    assert np.allclose(f, factors[::-1])
    assert f"shrinks by more than 1% at {shrinks} and" in summary.text
    up = re.search(r"grows by more than 1% at (?:all |the one )?(?:(\d+) of the \d+ |none of the \d+ )?", summary.text)
    assert up is not None
    assert check(summary.words.to_dict()) == []
    counts = [c for c, _ in summary.words.backing if getattr(c, "what", "") == "steps back that make it grow"]
    assert counts[0].n == grows
