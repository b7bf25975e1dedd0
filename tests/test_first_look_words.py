"""The words of a two-stage probe: a first look names its images; the full batch says what became of it."""
from __future__ import annotations

import numpy as np
import pytest

from explorer.experiments.first_look_words import (first_look_note, settled_gradient, settled_residual,
                                                    settled_words)
from explorer.experiments.gradflow import summarise
from explorer.experiments.residual_words import OK, summarise_residual

LABELS = [f"block {i + 1}" for i in range(6)]


def test_a_first_look_names_the_images_it_rests_on_and_what_follows():
    assert first_look_note(4, 32) == "First look, on 4 images of the 32-image probe batch; the full batch follows."
    assert first_look_note(1, 2).startswith("First look, on 1 image of the 2-image")


@pytest.mark.parametrize("first_ratio, full_ratio, relation, must_say", [
    (8.2, 9.1, "held", ["Full batch of 32 images: the first look's verdict holds, the gradient grows modestly "
                        "towards the input (8.2x on 4 images, 9.1x on 32)."]),
    (0.2, 1.5, "changed", ["The full batch of 32 images changed the verdict: on the first 4 images the gradient "
                           "fades (0.2x); on all 32 it arrives at about the same size (1.5x)."]),
    (2e3, 600.0, "changed", ["the gradient explodes (2,000x)", "it grows steadily towards the input (600x)"]),
])
def test_the_full_batch_says_whether_the_first_looks_gradient_verdict_held(first_ratio, full_ratio, relation, must_say):
    first = summarise(np.geomspace(first_ratio, 1.0, 6), LABELS, [True] * 6, True, [True] * 6)
    full = summarise(np.geomspace(full_ratio, 1.0, 6), LABELS, [True] * 6, True, [True] * 6)
    claim = settled_gradient(first, full, 4, 32)
    assert claim.relation == relation and claim.holds()
    assert claim.to_dict()["relation"] == ("held" if first.verdict == full.verdict else "changed")
    words = settled_words(claim)
    assert words.claims_of(0) == [claim]
    for phrase in must_say:
        assert phrase in words.text


def test_the_residual_verdict_is_settled_the_same_way():
    status = [OK] * 6
    first = summarise_residual(np.full(6, 0.4), np.zeros(6), status, LABELS)
    full = summarise_residual(np.array([0.4, 0.5, 1.3, 0.3, 0.2, 0.6]), np.zeros(6), status, LABELS)
    text = settled_words(settled_residual(first, full, 4, 32)).text
    assert text == ("The full batch of 32 images changed the verdict: on the first 4 images the residual size is "
                    "smaller than the shortcut in every block (median 0.4); on all 32 it is smaller than the "
                    "shortcut in some blocks only (median 0.45).")


def test_the_one_checker_checks_settled_claims_too():
    from explorer.experiments import claims as C
    from explorer.experiments.first_look_words import Settled

    held = Settled("the gradient", "vanishes", "vanishes", 40.0, 38.0, 4, 32).to_dict()
    changed = Settled("the gradient", "vanishes", "is carried back", 40.0, 3.0, 4, 32).to_dict()
    assert C.check_claim(held) is None and C.check_claim(changed) is None
    assert C.check_claim(dict(held, relation="changed")) is not None
    assert C.check_claim(dict(changed, relation="held")) is not None
    assert C.check_claim(dict(held, first_images=32)) is not None
