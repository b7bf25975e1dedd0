"""Residual-size words: each sentence is rendered from claims over the ratios and cosines of the blocks.

Table rows (with what must and must not be said), then random tables (hypothesis): every claim
holds on its numbers, every sentence is backed, and counts are counts of the blocks themselves
(a mean cosine near 0 is not "orthogonal" for every block).
"""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from explorer.experiments.claims import check
from explorer.experiments.residual_words import ORTHOGONAL_COS, fmt_ratio, residual_trend, summarise_residual

N = np.nan
OK, PLAIN, OFF = "ok", "plain block", "skip switched off"

# name, ratios, cosines, status, verdict, must say, must not say
ROWS = [
    ("fresh resnet20-like: mixed", [1.4, 0.94, 0.73, 0.88], [-0.02, 0.02, -0.01, 0.0], [OK] * 4, "mixed",
     ["smaller than what the shortcut carries (||F(x)||/||x|| below 1) in 3 of the 4 blocks; in the other one it is "
      "as large or larger", "Largest corrections: block 1 (1.4x)", "across the shortcut (|cosine| 0.2 or less) in 4",
      "median 0.91"], ["x plus a smaller change", "undefined"]),
    ("all small: x plus a small change", [0.1, 0.3, 0.05], [0.3, 0.5, 0.4], [OK] * 3, "small",
     ["in all 3 blocks, so each output is x plus a smaller change", "from 0.05 to 0.3", "block 2 (0.3x)",
      "along it, reinforcing it (cosine above +0.2), in 3"], ["at least as large"]),
    ("all large", [1.5, 2.0, 12.0], [-0.5, -0.4, -0.6], [OK] * 3, "large",
     ["in none of the 3 blocks: the branches are at least as large", "from 1.5 to 12", "block 3 (12x)",
      "against it, partly cancelling it (below -0.2), in 3"], ["smaller change"]),
    ("a mean cosine near 0 from +0.95 and -0.9 is not 'orthogonal'", [0.3, 0.4, 0.2], [0.95, -0.9, 0.0], [OK] * 3,
     "small", ["across the shortcut (|cosine| 0.2 or less) in 1, along it", "in 1, and against it", "in 1; the mean"],
     ["nearly orthogonal to the shortcut"]),
    ("plain net: undefined", [N, N], [N, N], [PLAIN, PLAIN], "undefined",
     ["The ratio is undefined where no shortcut is added (all 2 blocks are plain)", "F(x) alone"], ["median"]),
    ("every skip off: undefined", [N, N, N], [N, N, N], [OFF] * 3, "undefined",
     ["all 3 blocks have the skip switched off"], ["plain"]),
    ("some skips off", [0.3, N, 0.2], [0.05, N, 0.1], [OK, OFF, OK], "small",
     ["(1 of the 3 blocks has the skip switched off)", "median 0.25", "in all 2 blocks where it is defined"], []),
    ("one block", [0.4], [0.0], [OK], "small", ["The largest correction: block 1 (0.4x)", "in the one block"],
     ["Largest corrections"]),
    ("empty", [], [], [], "empty", ["no blocks"], []),
]


@pytest.mark.parametrize("name,ratio,cosine,status,verdict,must,must_not", ROWS, ids=[r[0] for r in ROWS])
def test_residual_words_follow_from_the_table(name, ratio, cosine, status, verdict, must, must_not):
    summary = summarise_residual(ratio, cosine, status)
    assert summary.verdict == verdict
    for phrase in must:
        assert phrase in summary.text, (phrase, summary.text)
    for phrase in must_not:
        assert phrase not in summary.text, (phrase, summary.text)
    consistent(summary, ratio, cosine, status)


def consistent(summary, ratio, cosine, status) -> None:
    assert check(json.loads(json.dumps(summary.words.to_dict()))) == []
    ratio, cosine = np.asarray(ratio, float), np.asarray(cosine, float)
    ok = np.array([s == OK for s in status], dtype=bool) & np.isfinite(ratio)
    if not ok.any():
        return
    values = ratio[ok]
    assert f"median {fmt_ratio(float(np.median(values)))}" in summary.text
    for label, quoted in re.findall(r"(block \d+) \(([\d.]+)x\)", summary.text):
        assert quoted == fmt_ratio(float(ratio[int(label.split()[1]) - 1]))
    named = re.findall(r"(block \d+) \(", summary.text)
    assert named == [f"block {i + 1}" for i in np.argsort(-np.where(ok, ratio, -np.inf), kind="stable")
                     [:len(named)]]  # the largest, in order
    assert ("smaller change" in summary.text) == bool((values < 1).all())
    cos = cosine[ok & np.isfinite(cosine)]
    if len(cos) > 1:
        across = int((np.abs(cos) <= ORTHOGONAL_COS).sum())
        assert f"across the shortcut (|cosine| 0.2 or less) in {across}," in summary.text


ratios = st.one_of(st.floats(1e-4, 100), st.just(N))
cosines = st.floats(-1, 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(ratios, cosines, st.sampled_from([OK, OK, OK, PLAIN, OFF])), max_size=20))
def test_random_tables_say_only_what_their_blocks_hold(rows):
    ratio = [r if s == OK else N for r, _, s in rows]
    cosine = [c if s == OK else N for _, c, s in rows]
    status = [s for *_, s in rows]
    consistent(summarise_residual(ratio, cosine, status), ratio, cosine, status)


@pytest.mark.parametrize("first,last,words", [
    ([0.5, 0.4], [0.8, 0.5], "grew from 0.45 to 0.65; it rose in 2 and fell in 0 of the 2 blocks, the most at "
                             "block 1 (0.5 to 0.8)"),
    ([0.8, 0.6], [0.3, 0.6],
     "shrank from 0.7 to 0.45; it rose in 0 and fell in 1 of the 2 blocks, the most at block 1"),
    ([0.5, 0.5], [0.52, 0.5], "stayed within 10% (0.5 to 0.51)"),
])
def test_the_trend_over_a_run_quotes_the_first_and_last_medians(first, last, words):
    trend = residual_trend(first, last, [OK, OK], 10, 300)
    assert trend.text.startswith("From step 10 to step 300 the median ||F(x)||/||x|| ") and words in trend.text
    assert check(trend.to_dict()) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(1e-3, 10), st.floats(1e-3, 10)), min_size=1, max_size=12))
def test_random_trends_are_backed(pairs):
    first, last = [a for a, _ in pairs], [b for _, b in pairs]
    trend = residual_trend(first, last, [OK] * len(pairs), 1, 2, over="run #1")
    assert check(json.loads(json.dumps(trend.to_dict()))) == []
    rose = int((np.array(last) > np.array(first)).sum())
    assert f"it rose in {rose} and" in trend.text


def test_no_trend_from_a_single_step_or_undefined_blocks():
    assert residual_trend([0.5], [0.6], [OK], 10, 10).text == ""
    assert residual_trend([N], [N], [PLAIN], 10, 300).text == ""
