"""The checks every word function's tests run on its words (imported by the tests: tests/ is on sys.path).

``assert_words_hold(verdict)``: the words as a saved ``--json`` result has them (a JSON round
trip) pass the one generic checker ``claims.check``: every claim holds on its own numbers,
every claim points at a sentence, every sentence that is not the lessons' text has a claim
behind it. ``assert_report_renders_the_same(table, verdict)``: ``experiment report`` renders
the very same sentences from the saved table alone.
"""
from __future__ import annotations

import json

from explorer.experiments import claims
from explorer.experiments.reports import render


def roundtrip(d: dict) -> dict:
    return json.loads(json.dumps(d))


def assert_words_hold(verdict) -> dict:
    saved = roundtrip(verdict.words.to_dict())
    problems = claims.check(saved)
    assert problems == [], "\n".join(problems + verdict.texts)
    assert verdict.texts and all(t.strip() for t in verdict.texts)
    return saved


def assert_report_renders_the_same(table: dict, verdict) -> None:
    again = render(roundtrip({**table, **verdict.json_fields()}))
    assert again.texts == verdict.texts
    assert again.outcome == verdict.outcome
