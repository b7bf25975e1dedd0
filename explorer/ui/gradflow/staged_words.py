"""The words of a probe that comes in two stages: a first look on a few images, then the full batch.

``StagedWords.render(outcome, summary, residual)`` returns the gradient paragraph and the
note that leads the residual-size words, for either stage. A first look's words open
with the images they rest on and say that the full batch follows; the full batch's open
with whether the first look's verdict held or changed, both values quoted
(``experiments/first_look_words.py``). A probe done whole at once (a batch of a few
images) has no such line: the status names its batch.
"""
from __future__ import annotations

from ...experiments.first_look_words import first_look_note, settled_gradient, settled_residual, settled_words


class StagedWords:
    def __init__(self):
        self._first = None  # (serial, images, FlowSummary, ResidualSummary | None) of the first look shown

    def clear(self) -> None:
        """Forget the first look (another network is coming)."""
        self._first = None

    def render(self, outcome, summary, residual) -> tuple[str, str]:
        """``summary``: the gradient's ``FlowSummary``; ``residual``: the ``ResidualSummary`` or None."""
        images, batch = outcome.result.batch, outcome.batch
        if outcome.first_look:
            self._first = (outcome.serial, images, summary, residual)
            return f"{first_look_note(images, batch)}\n{summary.text}", f"First look, on {images} of {batch} images:"
        first, self._first = self._first, None
        if first is None or first[0] != outcome.serial:
            return summary.text, ""
        _, first_images, first_summary, first_residual = first
        gradient = settled_words(settled_gradient(first_summary, summary, first_images, batch)).text
        note = ""
        if first_residual is not None and residual is not None:
            note = settled_words(settled_residual(first_residual, residual, first_images, batch)).text
        return f"{gradient}\n{summary.text}", note
