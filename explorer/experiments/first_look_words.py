"""What a progressive probe's words rest on: a first look on a few images, then the full batch.

After a skip toggle the gradient panel probes the first few images of its fixed batch
first (a profile within a tenth of a second) and then the whole batch. The words shown
for the first look name the images they rest on and say that the full batch follows;
the words for the full batch say that they replace the first look and whether its
verdict held or changed, quoting both values. A claim therefore never changes without
the words saying so.

The sentence about the two results is rendered from a ``Settled`` claim (both verdicts,
both values, and whether the verdict held, computed from them); the words for "held"
and "changed" are looked up from that computed relation. What each verdict means is
decided elsewhere (``experiments/gradflow.py``, ``experiments/residual_words.py``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .claims import Claim, Words
from .gradflow import format_factor
from .residual_words import fmt_ratio

# How each verdict reads after "the gradient" / "the residual size".
GRADIENT_VERDICT_WORDS = {
    "carried": "arrives at about the same size", "modest": "grows modestly towards the input",
    "grows": "grows steadily towards the input", "explodes": "explodes",
    "fades": "fades", "vanishes": "vanishes", "dead": "is zero", "empty": "has no blocks to measure",
}
RESIDUAL_VERDICT_WORDS = {
    "small": "is smaller than the shortcut in every block", "large": "is at least the shortcut's in every block",
    "mixed": "is smaller than the shortcut in some blocks only", "undefined": "is undefined (no shortcut added)",
    "empty": "has no blocks to measure",
}
# The sentence for each relation a ``Settled`` claim computes.
SETTLED_TEMPLATES = {
    "held": ("Full batch of {batch} images: the first look's verdict holds, {quantity} {full} ({first_value} on "
             "{first_images}, {full_value} on {batch})."),
    "changed": ("The full batch of {batch} images changed the verdict: on the first {first_images} {quantity} "
                "{first} ({first_value}); on all {batch} it {full} ({full_value})."),
}


def images_words(n: int) -> str:
    return f"{n:,} image" + ("" if n == 1 else "s")


def first_look_note(images: int, batch: int) -> str:
    """The words that open a first look: which images it rests on, and what follows."""
    return f"First look, on {images_words(images)} of the {batch:,}-image probe batch; the full batch follows."


def first_look_failed_note(images: int, batch: int, error: str) -> str:
    """The opening words of a first look whose full batch could not be measured."""
    return (f"First look, on {images_words(images)} of the {batch:,}-image probe batch; the full batch could not "
            f"be measured ({error}).")


def first_look_tag(images: int) -> str:
    """A short tag for the headline: "first look, 4 images"."""
    return f"first look, {images_words(images)}"


def full_batch_tag(batch: int) -> str:
    """The same tag for the full batch that follows a first look: "all 32 images"."""
    return f"all {batch:,} images"


@dataclass(frozen=True)
class Settled(Claim):
    """One quantity's verdict on the first look and on the full batch, with the value each rests on."""

    quantity: str  # "the gradient", "the residual size"
    first_verdict: str
    full_verdict: str
    first_value: float  # the number each verdict quotes (first ÷ last, or the median ratio)
    full_value: float
    first_images: int
    batch: int
    kind = "settled"

    @property
    def relation(self) -> str:
        """``held`` iff both verdicts are the same, ``changed`` otherwise."""
        return "held" if self.first_verdict == self.full_verdict else "changed"

    def holds(self) -> bool:
        return 0 < self.first_images < self.batch and bool(self.first_verdict) and bool(self.full_verdict)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "quantity": self.quantity, "first": self.first_verdict, "full": self.full_verdict,
                "first_value": self.first_value, "full_value": self.full_value, "first_images": self.first_images,
                "batch": self.batch, "relation": self.relation}


def settled_gradient(first, full, first_images: int, batch: int) -> Settled:
    """``first``, ``full``: the ``FlowSummary`` of the first look and of the full batch."""
    return Settled("the gradient", first.verdict, full.verdict, first.ratio, full.ratio, first_images, batch)


def settled_residual(first, full, first_images: int, batch: int) -> Settled:
    """``first``, ``full``: the ``ResidualSummary`` of the first look and of the full batch."""
    return Settled("the residual size", first.verdict, full.verdict, first.median, full.median, first_images, batch)


def settled_words(claim: Settled) -> Words:
    """One sentence: the full batch's verdict against the first look's, both values quoted."""
    gradient = claim.quantity == "the gradient"
    verdicts = GRADIENT_VERDICT_WORDS if gradient else RESIDUAL_VERDICT_WORDS
    value = _factor if gradient else _median
    words = Words()
    words.say(SETTLED_TEMPLATES[claim.relation].format(
        batch=f"{claim.batch:,}", first_images=images_words(claim.first_images), quantity=claim.quantity,
        first=verdicts.get(claim.first_verdict, claim.first_verdict),
        full=verdicts.get(claim.full_verdict, claim.full_verdict),
        first_value=value(claim.first_value), full_value=value(claim.full_value)), claim)
    return words


def _factor(ratio: float) -> str:
    """The first ÷ last ratio as the headline prints it."""
    return f"{format_factor(ratio)}x" if math.isfinite(ratio) else "no finite ratio"


def _median(median: float) -> str:
    return f"median {fmt_ratio(median)}" if math.isfinite(median) else "no ratio defined"
