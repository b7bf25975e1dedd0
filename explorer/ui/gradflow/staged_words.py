"""The words of a probe that comes in two stages: a first look on a few images, then the full batch.

``StagedWords.render(outcome, summary, residual)`` returns the gradient paragraph and the
note that leads the residual-size words, for either stage. A first look's words open
with the images they rest on and say that the full batch follows; the full batch's open
with whether the first look's verdict held or changed, both values quoted
(``experiments/first_look_words.py``). A probe done whole at once (a batch of a few
images) has no such line: the status names its batch.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...experiments.first_look_words import (first_look_failed_note, first_look_note, settled_gradient,
                                             settled_residual, settled_words)


@dataclass(frozen=True)
class _FirstLook:
    serial: int  # the request's
    images: int
    batch: int
    summary: object  # FlowSummary
    residual: object  # ResidualSummary or None


class StagedWords:
    def __init__(self):
        self._first: _FirstLook | None = None  # the first look shown, until its full batch

    def clear(self) -> None:
        """Forget the first look (another network is coming)."""
        self._first = None

    def render(self, outcome, summary, residual) -> tuple[str, str]:
        """The gradient paragraph and the residual words' note for a result of either stage.

        ``summary``: the gradient's ``FlowSummary``; ``residual``: the ``ResidualSummary`` or None.
        """
        images, batch = outcome.result.batch, outcome.batch
        if outcome.first_look:
            self._first = _FirstLook(outcome.serial, images, batch, summary, residual)
            return f"{first_look_note(images, batch)}\n{summary.text}", f"First look, on {images} of {batch} images:"
        first = self._take(outcome.serial)
        if first is None:
            return summary.text, ""
        gradient = settled_words(settled_gradient(first.summary, summary, first.images, batch)).text
        note = ""
        if first.residual is not None and residual is not None:
            note = settled_words(settled_residual(first.residual, residual, first.images, batch)).text
        return f"{gradient}\n{summary.text}", note

    def failed(self, serial: int, error: str) -> str | None:
        """The paragraph of the first look shown for ``serial`` once its full batch failed (None: none shown)."""
        first = self._take(serial)
        if first is None:
            return None
        return f"{first_look_failed_note(first.images, first.batch, error)}\n{first.summary.text}"

    def _take(self, serial: int) -> _FirstLook | None:
        first, self._first = self._first, None
        return first if first is not None and first.serial == serial else None
