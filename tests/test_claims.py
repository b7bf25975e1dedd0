"""The claims module: each kind computes its relation by the rule it states, and the one
checker recomputes every claim of a result from its own numbers (a wrong relation, count,
trend or divergence is found; a sentence with no claim behind it is found)."""
import json
import math

import pytest
from hypothesis import given, settings, strategies as st

from explorer.experiments import claims as C

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
tol = st.floats(min_value=0, max_value=10, allow_nan=False)
anyfloat = st.one_of(finite, st.sampled_from([math.inf, -math.inf, math.nan]))


def roundtrip(d: dict) -> dict:
    """A claim as a saved --json result reads it back."""
    return json.loads(json.dumps(d))


@given(a=finite, b=finite, t=tol)
def test_compare_relation_is_the_stated_rule_and_checks(a, b, t):
    c = C.Compare(C.Named("a", a), C.Named("b", b), t)
    expected = "higher" if a - b > t else "lower" if b - a > t else "within"
    assert c.relation == expected
    assert C.check_claim(roundtrip(c.to_dict())) is None
    for wrong in set(C.RELATIONS) - {expected}:
        d = c.to_dict() | {"relation": wrong}
        assert C.check_claim(d) is not None


def test_the_degradation_example_is_not_within_zero_tolerance():
    # "ResNet-56 did not (0.6% against 0.0%)": with no tolerance, 0.6% is higher
    c = C.Compare(C.Named("ResNet-56", 0.006), C.Named("ResNet-20", 0.0), 0.0)
    assert c.relation == "higher"
    assert c.pick("more training error than", "less training error than", "as much training error as") \
        == "more training error than"
    assert C.Compare(C.Named("ResNet-56", 0.006), C.Named("ResNet-20", 0.0), 0.01).relation == "within"


@given(n=st.integers(0, 50), extra=st.integers(0, 50))
def test_count_quantifiers_are_exact(n, extra):
    total = n + extra
    c = C.Count(n, total)
    q = c.quantifier
    if total:
        assert (q == "all") == (n == total)
        assert (q == "none") == (n == 0)
        assert (q == "most") == (0 < n < total and 2 * n > total)
        assert (q == "half") == (0 < n < total and 2 * n == total)
        assert (q == "some") == (0 < n and 2 * n < total)
    assert C.check_claim(roundtrip(c.to_dict())) is None
    for wrong in set(C.QUANTIFIERS) - C.quantifiers_that_hold(n, total):
        assert C.check_claim(c.to_dict() | {"quantifier": wrong}) is not None


def test_most_is_never_said_of_exactly_half():
    assert C.Count(2, 4).quantifier == "half"
    assert C.Count(3, 4).quantifier == "most"
    assert C.Count(1, 4).phrase("ResNets") == "1 of the 4 ResNets"
    assert C.Count(4, 4).phrase("ResNets") == "all 4 ResNets"
    assert C.Count(0, 4).phrase("ResNets") == "none of the 4 ResNets"


@given(vals=st.lists(finite, min_size=1, max_size=12), limit=finite, t=tol,
       rel=st.sampled_from(C.THRESHOLD_RELATIONS))
def test_count_where_counts_its_values_and_the_checker_recounts(vals, limit, t, rel):
    named = [(f"v{i}", v) for i, v in enumerate(vals)]
    c = C.Count.where(named, rel, limit, t)
    assert c.n == sum(C.threshold_relation(v, limit, t) == rel for v in vals)
    d = roundtrip(c.to_dict())
    assert C.check_claim(d) is None
    # a table edited behind the claim's back: one value moved across the limit
    moved = dict(d, values=[dict(v) for v in d["values"]])
    v0 = moved["values"][0]
    v0["value"] = limit + t + 1 if C.threshold_relation(v0["value"], limit, t) != "above" else limit - t - 1
    if C.threshold_relation(vals[0], limit, t) == rel or rel == "above":
        assert C.check_claim(moved) is not None


@given(v=finite, limit=finite, t=tol)
def test_threshold_relation_is_the_stated_rule(v, limit, t):
    c = C.Threshold(C.Named("error", v), C.Named("chance", limit), t)
    expected = "above" if v - limit > t else "below" if limit - v > t else "within"
    assert c.relation == expected
    assert C.check_claim(roundtrip(c.to_dict())) is None
    for wrong in set(C.THRESHOLD_RELATIONS) - {expected}:
        assert C.check_claim(c.to_dict() | {"relation": wrong}) is not None


@given(vals=st.lists(finite, min_size=2, max_size=10), t=tol)
def test_trend_first_against_last_and_monotone(vals, t):
    c = C.Trend("loss", tuple(vals), t)
    first, last = vals[0], vals[-1]
    assert c.direction == ("rising" if last - first > t else "falling" if first - last > t else "flat")
    if c.direction == "rising":
        assert c.monotone == all(b >= a - t for a, b in zip(vals, vals[1:]))
    assert C.check_claim(roundtrip(c.to_dict())) is None
    assert C.check_claim(c.to_dict() | {"monotone": not c.monotone}) is not None
    other = next(d for d in C.DIRECTIONS if d != c.direction)
    assert C.check_claim(c.to_dict() | {"direction": other}) is not None


@given(vals=st.lists(anyfloat, min_size=1, max_size=8), chance=st.floats(0.1, 10), t=st.floats(0, 1))
def test_divergence_rules(vals, chance, t):
    c = C.Diverged("post-act ResNet-110", tuple(vals), chance, t)
    if not all(math.isfinite(v) for v in vals):
        assert c.reason == "not_finite"
    elif len(vals) >= 2 and vals[-1] - vals[0] > t:
        assert c.reason == "rising"
    elif vals[-1] >= chance - t:
        assert c.reason == "at_chance"
    else:
        assert c.reason is None
    d = c.to_dict()
    assert C.check_claim(d) is None
    assert C.check_claim(d | {"diverged": not c.diverged}) is not None


def test_a_net_stuck_at_chance_is_diverged_and_a_learning_one_is_not():
    ln10 = math.log(10)
    assert C.Diverged("post", (12.2, 2.31, 2.30), ln10, 0.05).reason == "at_chance"
    assert C.Diverged("post", (2.3, 1.1, 0.4), ln10, 0.05).reason is None
    assert C.Diverged("post", (2.3, math.nan), ln10, 0.05).reason == "not_finite"


def test_words_back_every_sentence_and_the_checker_finds_what_is_not():
    w = C.Words()
    c = C.Compare(C.Named("plain-56", 0.592), C.Named("plain-20", 0.0), 0.01)
    w.say(f"plain-56 ended with {c.pick('more', 'less', 'as much')} training error than plain-20.", c)
    w.lesson("The lessons say extra layers should not hurt a net that can learn the identity.")
    out = w.to_dict()
    assert C.check(roundtrip(out)) == []
    assert out["sentences"][1] == {"text": w.texts[1], "lesson": True}
    assert out["claims"][0]["sentence"] == 0
    with pytest.raises(ValueError):
        w.say("An unbacked sentence.")
    bad = roundtrip(out)
    bad["sentences"].append("A sentence nobody checked.")
    assert any("no claim behind it" in p for p in C.check(bad))
    bad = roundtrip(out)
    bad["claims"][0]["relation"] = "lower"
    assert any("numbers say higher" in p for p in C.check(bad))
    bad = roundtrip(out)
    bad["claims"][0]["sentence"] = 7
    assert any("points at sentence 7" in p for p in C.check(bad))


def test_extend_keeps_each_claim_on_its_sentence():
    a, b = C.Words(), C.Words()
    t = C.Threshold(C.Named("error", 0.5), C.Named("chance", 0.9), 0.0)
    a.say("first", t)
    b.lesson("why")
    b.say("second", C.Count(1, 2))
    a.extend(b)
    d = a.to_dict()
    assert [c["sentence"] for c in d["claims"]] == [0, 2]
    assert C.check(d) == []


@settings(max_examples=50)
@given(st.dictionaries(st.text(max_size=5), st.integers()))
def test_the_checker_never_raises_on_malformed_claims(junk):
    problems = C.check({"sentences": ["s"], "claims": [dict(junk, sentence=0)]})
    assert problems  # an unknown or malformed claim is reported, not a crash
