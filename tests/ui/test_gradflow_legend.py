"""The depth profile's legend: a long caption wraps under the plot instead of being cut off."""
from __future__ import annotations

import numpy as np
import pytest
import torch  # noqa: F401 - torch before PySide6

from explorer.ui.gradflow.profile import DepthProfile

NOW = "3 of 4 skips on · trained, run #12 at step 15,800 (finished)"
BEFORE = "all skips on · trained, run #12 at step 15,800 (finished)"


def shown_profile(qtbot, width: int, presenter: bool) -> DepthProfile:
    profile = DepthProfile()
    qtbot.addWidget(profile)
    profile.resize(width, 420)
    profile.show()
    profile.set_presenter(presenter)
    labels = ["1.1", "1.2", "2.1", "2.2"]
    profile.set_ghost(np.array([0.4, 0.2, 0.1, 0.05]), BEFORE)
    profile.show_profile(np.array([0.5, 0.3, 0.2, 0.1]), labels, NOW)
    qtbot.waitUntil(lambda: profile.legend.isVisible())
    return profile


def caption_spans(profile):
    """Each caption's left and right edge in scene coordinates, with the plot's inner box."""
    vb = profile.plot.vb.sceneBoundingRect()
    spans = [label.mapRectToScene(label.item.mapRectToParent(label.item.boundingRect()))
             for _, label in profile.legend.items]
    return vb, spans


@pytest.mark.parametrize("width, presenter", [(380, False), (520, True), (420, True)])
def test_every_caption_lies_within_the_plot_whatever_its_length(qtbot, width, presenter):
    profile = shown_profile(qtbot, width, presenter)

    def inside():
        vb, spans = caption_spans(profile)
        return all(span.right() <= vb.right() + 1 for span in spans)

    qtbot.waitUntil(inside, timeout=5000)
    vb, spans = caption_spans(profile)
    wrapped = [label.item.textWidth() > 0 for _, label in profile.legend.items]
    assert any(wrapped)  # these captions are longer than the plot is wide
    for (_, label), span, w in zip(profile.legend.items, spans, wrapped):
        doc = label.item.document().clone()
        doc.setTextWidth(-1)
        one_line = doc.size().height()
        if w:
            assert span.height() > 1.5 * one_line  # on two lines, not squeezed
        else:
            assert span.height() == pytest.approx(one_line, abs=1)
    # the words are all still there: wrapping moves them, it never drops any
    assert [label.text for _, label in profile.legend.items] == [f"before: {BEFORE}", f"now: {NOW}"]


def test_a_wide_plot_keeps_both_captions_on_one_line_each(qtbot):
    profile = shown_profile(qtbot, 1800, False)
    qtbot.waitUntil(lambda: profile.legend.columnCount == 2, timeout=5000)
    assert all(label.item.textWidth() < 0 for _, label in profile.legend.items)
