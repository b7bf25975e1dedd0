"""Gradient verdicts, table-driven: every sentence follows from the norms it describes.

Each row is a result table (per-block ||dL/dx||, skip switches, which blocks have a
shortcut, BN or not) and what the words must and must not say. ``check_consistent``
then re-derives every number the sentence quotes from the norms themselves.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

from explorer.experiments.gradflow import (EXPLODE_RATIO, FADE_RATIO, GROWS_RATIO, MARK_FACTOR, SAME_SIZE_RATIO,
                                           VANISH_RATIO, format_factor, summarise)

LABELS9 = [f"stage {s}, block {b}" for s in (1, 2, 3) for b in (1, 2, 3)]


def geo(first_over_last: float, n: int) -> np.ndarray:
    return np.geomspace(first_over_last, 1.0, n)


# name, norms, skips, shortcuts, batch_norm, verdict, must say, must not say
ROWS = [
    ("resnet20 at init: 8.2x, skips on", geo(8.2, 9), [True] * 9, [True] * 9, True, "carried",
     ["8.2x the one at the last block", "skips carry it back", "growing modestly", "about 1.30x per block"],
     ["undiminished", "explode", "vanish"]),
    ("near-flat with skips", geo(1.3, 9), [True] * 9, [True] * 9, True, "carried",
     ["about the same size", "skips carry it back"], ["grows", "explode"]),
    ("slightly smaller at the input, plain 20 blocks", geo(0.7, 20), [False] * 20, [True] * 20, True, "carried",
     ["0.7x", "about the same size", "without skips"], ["grows", "explode", "vanish"]),
    ("steady growth, skips on", geo(300, 27), [True] * 27, [True] * 27, True, "grows",
     ["300x", "grows steadily", "does not explode", "skips carry it back"], ["vanish", "modestly"]),
    ("mixed switches", geo(100, 9), [True] * 4 + [False] * 5, [True] * 9, True, "grows",
     ["with 4 of 9 skips on"], ["the skips carry it back"]),
    ("plain blocks are not counted as switched-off skips", geo(5, 6), [True, True, False, False, True, False],
     [True, True, False, False, True, True], True, "carried", ["with 3 of 4 skips on"], ["of 6 skips"]),
    ("a plain net with no shortcuts at all, few blocks", geo(3, 9), [False] * 9, [False] * 9, True, "carried",
     ["even without skips over this few blocks"], ["skips carry"]),
    ("plain56 explodes with BN", geo(2e4, 27), [False] * 27, [True] * 27, True, "explodes",
     ["20,000 times larger", "explodes towards the input", "Without skips", "BN's rescaling"], ["vanish"]),
    ("plain without BN explodes", geo(5e3, 27), [False] * 27, [True] * 27, False, "explodes",
     ["5,000 times larger", "factor larger than 1"], ["BN"]),
    ("resnet1202: a tiny growth per block compounds", geo(1600, 600), [True] * 600, [True] * 600, True,
     "explodes", ["1,600 times larger", "about 1.01x per block", "over 600 blocks", "compounds to 1,600x"],
     ["amplify it strongly"]),
    ("skips on but the branches amplify", geo(1e4, 9), [True] * 9, [True] * 9, True, "explodes",
     ["Even with skips on", "about 3.16x per block"], []),
    ("fades", geo(0.2, 9), [True] * 9, [True] * 9, True, "fades",
     ["0.2 times the one at the last block", "fades", "smaller updates"], ["barely learn", "explode"]),
    ("vanishes without skips or BN", geo(1e-5, 9), [False] * 9, [True] * 9, False, "vanishes",
     ["1/1e5 of the one at the last block", "vanishes", "normalisation", "barely learn"], ["explode"]),
    ("dead", np.zeros(4), [False] * 4, [True] * 4, True, "dead", ["exactly zero", "A usual cause"],
     ["has died (every"]),
    ("cut off near the input", np.array([0.0, 0.0, 0.5, 1.0]), [False] * 4, [True] * 4, True, "vanishes",
     ["exactly zero before block 3"], []),
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
    """Every number and claim in the sentence, re-derived from the norms."""
    text = summary.text
    if len(norms) == 0 or not np.all(np.isfinite(norms)) or norms[-1] == 0 or norms[0] == 0:
        return
    labels = labels or [f"block {i + 1}" for i in range(len(norms))]
    ratio = norms[0] / norms[-1]
    per_block = ratio ** (1 / (len(norms) - 1))
    assert math.isclose(summary.ratio, ratio, rel_tol=1e-9)
    # the ratio is quoted as the number it is
    if ratio >= FADE_RATIO:
        assert f"is {format_factor(ratio)}" in text
    # "about N.NNx per block" is the geometric mean factor
    for quoted in re.findall(r"about (\d+\.\d\d)x per block", text):
        assert quoted == f"{per_block:.2f}"
    # regime words match the thresholds
    assert ("explode" in text and "does not explode" not in text) == (ratio >= EXPLODE_RATIO)
    assert ("vanishes on its way" in text) == (ratio < VANISH_RATIO)
    assert ("fades" in text) == (VANISH_RATIO <= ratio < FADE_RATIO)
    assert ("about the same size" in text) == (FADE_RATIO <= ratio < SAME_SIZE_RATIO)
    assert ("modestly" in text) == (SAME_SIZE_RATIO <= ratio < GROWS_RATIO)
    assert ("grows steadily" in text) == (GROWS_RATIO <= ratio < EXPLODE_RATIO)
    # a block named as "already 100x" / "below 1/100 already" really is
    rel = norms / norms[-1]
    for where in re.findall(r"already 100x at ([^)]+)\)", text):
        assert rel[labels.index(where)] >= MARK_FACTOR
    for where in re.findall(r"below 1/100 already at ([^)]+)\)", text):
        assert rel[labels.index(where)] <= 1 / MARK_FACTOR
    # "k of n skips on" counts only blocks that have a shortcut
    for k, n in re.findall(r"(\d+) of (\d+) skips on", text):
        assert int(n) == sum(shortcuts) and int(k) == sum(s and h for s, h in zip(skips, shortcuts))
    if "the skips carry it back" in text:
        assert all(s for s, h in zip(skips, shortcuts) if h) and any(shortcuts)
    for blocks in re.findall(r"over (\d+) blocks", text):
        assert int(blocks) == len(norms)
