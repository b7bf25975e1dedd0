"""``experiment report`` on tables nobody checked: whatever a saved result holds, the report either
renders words whose every claim holds on its numbers, or names the problem in one ReportError."""
from __future__ import annotations

import json
import math

from hypothesis import given, settings, strategies as st

from explorer.experiments import claims
from explorer.experiments.reports import ReportError, render

ODD = st.sampled_from([0.0, 0.01, 1.0, 1.5, -0.1, math.nan, math.inf, None, "x", True])
VALUE = st.one_of(st.floats(0, 1), ODD)


def arm(kind: str, depth: int):
    return st.fixed_dictionaries({
        "kind": st.just(kind), "depth": st.just(depth), "seed": st.sampled_from([0, 1]),
        "status": st.sampled_from(["finished", "stopped", "failed"]), "message": st.just(""),
        "train_error": st.lists(VALUE, max_size=4), "test_error": st.lists(VALUE, max_size=4),
        "train_loss": st.lists(st.one_of(st.floats(0, 20), ODD), max_size=4),
        "classes": st.sampled_from([10, 2, 1, "x"])})


@st.composite
def results(draw):
    experiment = draw(st.sampled_from(["degradation", "depth-sweep", "prepost"]))
    if experiment == "prepost":
        kinds = draw(st.lists(st.sampled_from(["resnet", "preact"]), max_size=3))
        arms = [draw(arm(k, 20)) for k in kinds]
        s = {"epochs": draw(st.sampled_from([1, 3, 0])), "lr": draw(st.sampled_from([0.1, "x"]))}
    else:
        depths = draw(st.sampled_from([[8, 14], [8], [8, 14, 20]]))
        arms = [draw(arm(k, d)) for k in ("plain", "resnet") for d in depths if draw(st.integers(0, 9))]
        s = {"epochs": draw(st.sampled_from([1, 3, 0])), "depths": depths,
             "seeds": draw(st.sampled_from([[0], [0, 1]]))}
    return json.loads(json.dumps({"experiment": experiment, "settings": s, "arms": arms}))


@settings(max_examples=80, deadline=None)
@given(results())
def test_a_report_is_true_or_names_the_problem(result):
    try:
        verdict = render(result, "table.json")
    except ReportError as err:
        assert str(err).startswith("table.json: ") and "\n" not in str(err)
        return
    assert claims.check(json.loads(json.dumps(verdict.words.to_dict()))) == []
