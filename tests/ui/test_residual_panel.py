"""Residual size in the gradient panel: profile, words, block maps, the heatmap over training."""
from __future__ import annotations

import numpy as np
import pytest
import torch  # (torch before PySide6)

from explorer.analysis.gradflow import residual_sizes, seeded_batch
from explorer.nn import build
from explorer.spec import BlockKind, NetworkSpec, StemSpec, uniform_stage
from explorer.train.api import GradColumn
from explorer.ui.document import Document
from explorer.ui.gradflow import GradflowPanel
from explorer.ui.selection import Selection

TIMEOUT = 30_000


def small_spec(name="small", kind=BlockKind.BASIC) -> NetworkSpec:
    return NetworkSpec(name=name, input_shape=(3, 16, 16), stem=StemSpec(width=8),
                       stages=(uniform_stage(kind, 2, 8, 1), uniform_stage(kind, 2, 16, 2)))


@pytest.fixture
def panel(qtbot):
    panel = GradflowPanel(Document(small_spec()))
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.last_outcome is not None, timeout=TIMEOUT)
    yield panel
    panel.shutdown()


def test_the_residual_profile_shows_the_measured_ratios_and_words(panel):
    spec = panel.document.spec
    x, _ = seeded_batch(spec.input_shape, spec.head.num_classes, 32, 0)
    expected = residual_sizes(build(spec, seed=0), x)
    np.testing.assert_allclose(panel.residual.profile.ratio, expected.ratio, rtol=1e-4)
    np.testing.assert_allclose(panel.residual.profile.cosine, expected.cosine, rtol=1e-3, atol=1e-4)
    words = panel.residual.words.text()
    assert "||F(x)||/||x||" in words and "Largest correction" in words
    assert "small" in panel.residual.profile.network
    assert panel.residual.heatmap.columns == 1  # the probe's column


def test_switching_skips_off_makes_the_ratio_undefined_and_says_so(qtbot, panel):
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.document.edit(panel.document.spec.with_skips(False), "All skips off")
    assert np.isnan(panel.residual.profile.ratio).all()
    assert "The ratio is undefined where no shortcut is added (all 4 blocks have the skip switched off)" in \
        panel.residual.words.text()
    assert "Undefined for every block" in panel.residual.profile.message_text
    profile = panel.residual.profile  # the message fits the plot's width at the panel's narrowest (it was cut)
    profile.resize(300, 330)
    profile.view.resize(300, 330)
    box = profile.top.vb.sceneBoundingRect()
    shown = profile.message.mapRectToScene(profile.message.boundingRect())
    assert shown.width() <= box.width(), (box, shown)


def test_a_new_network_clears_the_residual_numbers_at_once(qtbot, panel):
    panel.document.replace(small_spec("plain", BlockKind.PLAIN), None)
    assert panel.residual.profile.ratio is None and panel.residual.words.text() == ""
    assert panel.residual.heatmap.columns == 0
    qtbot.waitUntil(lambda: panel.last_outcome is not None, timeout=TIMEOUT)
    assert "(all 4 blocks are plain)" in panel.residual.words.text()


def test_selecting_a_block_shows_its_input_branch_and_sum_for_one_image(qtbot, panel):
    images = panel.residual.images
    assert not images.view.isVisibleTo(panel) and "Select a block" in images.caption.text()
    panel.document.select(Selection.of_block(1, 0))  # the stride-2 block: 8x16x16 in, 16x8x8 out
    assert images.view.isVisibleTo(panel)
    assert images.caption.text().startswith("stage 2, block 1, probe image 1")
    shown = [item.image for item in images.items]
    assert shown[0].shape == (16, 16) and shown[1].shape == (8, 8) and shown[2].shape == (8, 8)
    assert images.levels[0] == -images.levels[1]  # one symmetric colour scale for all three
    assert images.levels[1] == pytest.approx(max(float(np.abs(m).max()) for m in shown))
    result = panel.last_outcome.result.residual
    np.testing.assert_allclose(shown[1], result.images[2].branch)
    panel.document.select(Selection())
    assert not images.view.isVisibleTo(panel)


def test_training_columns_fill_the_residual_heatmap_and_the_trend_is_put_into_words(panel):
    labels = panel.last_outcome.result.labels
    panel.begin_run(labels, "run #1 (small)")
    for step, ratios in ((10, [0.5, 0.4, 0.3, 0.2]), (20, [0.6, 0.5, 0.4, 0.2]), (30, [0.9, 0.6, 0.4, 0.2])):
        panel.add_column(GradColumn(step=step, norms=np.ones(4), residual=np.array(ratios)))
    assert panel.residual.heatmap.columns == 3
    np.testing.assert_allclose(panel.residual.heatmap.values()[:, 2], np.log10([0.9, 0.6, 0.4, 0.2]), rtol=1e-5)
    assert ("Over run #1 (small), from step 10 to step 30 the median ||F(x)||/||x|| grew from 0.35 to 0.5; it rose "
            "in 3 and fell in 0 of the 4 blocks, the most at stage 1, block 1 (0.5 to 0.9).") in \
        panel.residual.words.text()
    panel.end_run()


def test_a_new_network_drops_the_last_runs_trend_with_its_heatmap(qtbot, panel):
    labels = panel.last_outcome.result.labels
    panel.begin_run(labels, "run #1 (small)")
    for step, ratios in ((10, [0.5, 0.4, 0.3, 0.2]), (30, [0.9, 0.6, 0.4, 0.2])):
        panel.add_column(GradColumn(step=step, norms=np.ones(4), residual=np.array(ratios)))
    panel.end_run()
    assert "Over run #1 (small)" in panel.residual.words.text()
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.document.replace(small_spec("other"), None)
    assert "Over run #1" not in panel.residual.words.text() and panel.residual.heatmap.columns == 1
