"""Residual-size words, table-driven: each sentence follows from the ratios and cosines it describes."""
from __future__ import annotations

import re

import numpy as np
import pytest

from explorer.experiments.residual_words import fmt_ratio, residual_trend, summarise_residual

N = np.nan
OK, PLAIN, OFF = "ok", "plain block", "skip switched off"

# name, ratios, cosines, status, verdict, must say, must not say
ROWS = [
    ("fresh resnet20-like: mixed", [1.4, 0.94, 0.73, 0.88], [-0.02, 0.02, -0.01, 0.0], [OK] * 4, "mixed",
     ["3 of 4 blocks add a correction smaller", "in the other one", "Largest corrections: block 1 (1.4x)",
      "nearly orthogonal", "median ||F(x)||/||x|| 0.91"], ["x plus a smaller change", "undefined"]),
    ("all small: x plus a small change", [0.1, 0.3, 0.05], [0.3, 0.5, 0.4], [OK] * 3, "small",
     ["Every block's correction is smaller", "0.05 to 0.3", "x plus a smaller change", "along the shortcut",
      "block 2 (0.3x)"], ["dominate"]),
    ("all large", [1.5, 2.0, 12.0], [-0.5, -0.4, -0.6], [OK] * 3, "large",
     ["at least as large", "1.5 to 12", "dominate", "against the shortcut", "block 3 (12x)"], ["smaller change"]),
    ("plain net: undefined", [N, N], [N, N], [PLAIN, PLAIN], "undefined",
     ["The ratio is undefined: every block is plain", "F(x) alone"], ["median"]),
    ("every skip off: undefined", [N, N, N], [N, N, N], [OFF] * 3, "undefined",
     ["every skip is switched off"], ["plain"]),
    ("some skips off", [0.3, N, 0.2], [0.05, N, 0.1], [OK, OFF, OK], "small",
     ["undefined for 1 block with the skip switched off", "median 0.25"], []),
    ("one block", [0.4], [0.0], [OK], "small", ["The largest correction: block 1 (0.4x)"], ["Largest corrections"]),
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
    ratio, cosine = np.asarray(ratio, float), np.asarray(cosine, float)
    ok = np.array([s == OK for s in status], dtype=bool)
    if ok.any():
        values = ratio[ok]
        # the quoted median, range and per-block figures are the numbers themselves
        assert f"median {fmt_ratio(float(np.median(values)))}" in summary.text or \
            f"median ||F(x)||/||x|| {fmt_ratio(float(np.median(values)))}" in summary.text
        for label, quoted in re.findall(r"(block \d+) \(([\d.]+)x\)", summary.text):
            assert quoted == fmt_ratio(float(ratio[int(label.split()[1]) - 1]))
        named = re.findall(r"(block \d+) \(", summary.text)
        assert named == [f"block {i + 1}" for i in np.argsort(-np.where(ok, ratio, -np.inf), kind="stable")
                         [:len(named)]]  # the largest, in order
        assert ("smaller change" in summary.text) == bool((values < 1).all())
        c = float(cosine[ok].mean())
        assert f"{c:+.2f}" in summary.text


@pytest.mark.parametrize("first,last,words", [
    ([0.5, 0.4], [0.8, 0.5], "grew from 0.45 to 0.65; the largest change is at block 1 (0.5 to 0.8)"),
    ([0.8, 0.6], [0.3, 0.6], "shrank from 0.7 to 0.45; the largest change is at block 1"),
    ([0.5, 0.5], [0.52, 0.5], "stayed about the same (0.5 to 0.51)"),
])
def test_the_trend_over_a_run_quotes_the_first_and_last_medians(first, last, words):
    text = residual_trend(first, last, [OK, OK], 10, 300)
    assert text.startswith("From step 10 to step 300 the median ||F(x)||/||x|| ") and words in text


def test_no_trend_from_a_single_step_or_undefined_blocks():
    assert residual_trend([0.5], [0.6], [OK], 10, 10) == ""
    assert residual_trend([N], [N], [PLAIN], 10, 300) == ""
