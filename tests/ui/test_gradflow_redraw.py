"""The gradient panel redraws only what a probe result changed, and never shows an older result's maps."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
import torch  # noqa: F401  (torch before PySide6)

from explorer.spec import BlockKind, NetworkSpec, StemSpec, uniform_stage
from explorer.ui.document import Document
from explorer.ui.gradflow import GradflowPanel
from explorer.ui.gradflow.profile import set_ranges
from explorer.ui.gradflow.residual_view import COSINE_RANGE
from explorer.ui.selection import Selection

TIMEOUT = 30_000


def small_spec() -> NetworkSpec:
    return NetworkSpec(name="small", input_shape=(3, 16, 16), stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, 2, 8, 1), uniform_stage(BlockKind.BASIC, 2, 16, 2)))


@pytest.fixture
def panel(qtbot):
    panel = GradflowPanel(Document(small_spec()))
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.last_outcome is not None, timeout=TIMEOUT)
    yield panel
    panel.shutdown()


@pytest.mark.parametrize("x, y", [((0.5, 27.5), (-3.2, -1.1)), ((0.5, 600.5), (-0.5, 0.5)), ((0.5, 4.5), (2.0, 9.0))])
def test_set_ranges_gives_the_ranges_set_x_and_y_range_give(qtbot, x, y):
    plain, joined = pg.PlotWidget(), pg.PlotWidget()
    qtbot.addWidget(plain)
    qtbot.addWidget(joined)
    plain.setXRange(*x, padding=0.02)
    plain.setYRange(*y, padding=0.08)
    set_ranges(joined.getPlotItem().vb, x, 0.02, y, 0.08)
    assert joined.getPlotItem().vb.viewRange() == plain.getPlotItem().vb.viewRange()


def test_set_ranges_leaves_a_view_that_shows_them_alone_but_undoes_a_zoom(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    vb = widget.getPlotItem().vb
    set_ranges(vb, (0.5, 20.5), 0.02, (-2.0, 1.0), 0.08)
    wanted = vb.viewRange()
    changes = []
    vb.sigRangeChanged.connect(lambda *_: changes.append(1))
    set_ranges(vb, (0.5, 20.5), 0.02, (-2.0, 1.0), 0.08)
    assert changes == []
    vb.scaleBy((0.5, 0.5))  # the user zoomed in
    assert vb.viewRange() != wanted
    set_ranges(vb, (0.5, 20.5), 0.02, (-2.0, 1.0), 0.08)
    assert vb.viewRange() == wanted


def test_the_same_result_again_keeps_every_range_and_the_cosine_range_is_minus_one_to_one(qtbot, panel):
    profile_vb, top_vb = panel.profile.plot.vb, panel.residual.profile.top.vb
    before = profile_vb.viewRange(), top_vb.viewRange()
    assert panel.residual.profile.bottom.vb.viewRange()[1] == COSINE_RANGE
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.refresh(force=True)
    assert (profile_vb.viewRange(), top_vb.viewRange()) == before


def test_a_selected_blocks_maps_follow_each_result_and_are_drawn_once_per_result(qtbot, panel, monkeypatch):
    images = panel.residual.images
    panel.document.select(Selection.of_block(1, 1))
    drawn = []
    original = images.show_block
    monkeypatch.setattr(images, "show_block", lambda *a: (drawn.append(a), original(*a)))
    results = []  # each probe comes as a first look on a few images, then the full batch: each is drawn
    panel.firstLookShown.connect(results.append)
    panel.profileUpdated.connect(results.append)
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.document.edit(panel.document.spec.with_skips(False, where=[(1, 1)]), "Skip off")
    assert [o.first_look for o in results] == [True, False] and len(drawn) == 2
    result = panel.last_outcome.result.residual
    assert result.status[3] != "ok"  # the block whose skip went off: no shortcut added now
    np.testing.assert_array_equal(images.items[1].image, result.images[3].branch)
    assert "no shortcut is added" in images.caption.text()
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.document.undo_stack.undo()
    assert len(results) == 4 and len(drawn) == 4
    result = panel.last_outcome.result.residual
    np.testing.assert_array_equal(images.items[1].image, result.images[3].branch)
    assert f"||F(x)||/||x|| = {float(result.ratio[3]):.2g}" in images.caption.text()
    panel.document.select(Selection.of_block(0, 0))  # another block: drawn at once
    assert len(drawn) == 5 and images.caption.text().startswith("stage 1, block 1")
    panel.document.select(Selection())
    assert not images.view.isVisibleTo(panel)


def test_the_heatmap_frames_probe_columns_again_only_when_they_move(qtbot):
    from explorer.ui.gradflow.heatmap import PROBE_LABEL, GradientHeatmap

    heatmap = GradientHeatmap()
    qtbot.addWidget(heatmap)
    heatmap.set_blocks(["stage 1, block 1", "stage 1, block 2"])
    heatmap.add_column(np.array([1.0, 0.5]), PROBE_LABEL)
    heatmap.flush()
    assert heatmap._probe_lines == []  # only probes: nothing to tell them apart from
    heatmap.add_column(np.array([1.0, 0.5]), "10")
    heatmap.flush()
    lines = list(heatmap._probe_lines)
    assert [line.value() for line in lines] == [0, 1]
    heatmap.add_column(np.array([1.0, 0.5]), "20")  # a training column: the frames stay as drawn
    heatmap.flush()
    assert heatmap._probe_lines == lines and all(line.scene() is not None for line in lines)
    heatmap.add_column(np.array([1.0, 0.5]), PROBE_LABEL)  # a new probe column is framed too
    heatmap.flush()
    assert [line.value() for line in heatmap._probe_lines] == [0, 1, 3, 4]
    assert all(line.scene() is None for line in lines)
