"""The gradient panel never shows one network's numbers as another's (switching, "before", weights)."""
from __future__ import annotations

import numpy as np
import pytest
import torch  # (torch before PySide6)

from explorer.nn import build
from explorer.spec import BlockKind, NetworkSpec, StemSpec, preset, uniform_stage
from explorer.ui.document import Document
from explorer.ui.gradflow import GradflowPanel
from explorer.ui.gradflow.weights import Weights

TIMEOUT = 30_000


def small_spec(name="small", blocks=2) -> NetworkSpec:
    return NetworkSpec(name=name, input_shape=(3, 16, 16), stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, blocks, 8, 1),
                               uniform_stage(BlockKind.BASIC, blocks, 16, 2)))


@pytest.fixture
def make_panel(qtbot):
    panels = []

    def make(spec):
        panel = GradflowPanel(Document(spec))
        qtbot.addWidget(panel)
        panel.show()
        panels.append(panel)
        qtbot.waitUntil(lambda: panel.last_outcome is not None, timeout=TIMEOUT)
        return panel
    yield make
    for panel in panels:
        panel.shutdown()


def legend_texts(panel) -> list[str]:
    return [label.text for _, label in panel.profile.legend.items]


def test_switching_to_a_big_network_clears_the_old_curve_at_once_and_shows_progress(qtbot, make_panel):
    panel = make_panel(preset("resnet20"))
    assert len(panel.profile.current) == 9
    shown = []
    panel.profileUpdated.connect(shown.append)
    panel.document.replace(preset("resnet1202"), None)
    # at once, before any probe of the new network has finished
    assert panel.profile.current is None and panel.profile.ghost is None
    assert panel.last_outcome is None and panel.ratio_label.text() == ""
    assert "8.2x" not in panel.words.text() and "resnet1202" in panel.words.text()
    assert "resnet1202" in panel.profile.network and panel.heatmap.columns == 0
    # what is measured (network, batch) and how far it has got
    qtbot.waitUntil(lambda: "pass, block" in panel.status.text(), timeout=TIMEOUT)
    status = panel.status.text()
    assert status.startswith("Measuring resnet1202 (600 blocks, all skips on) on a batch of 4 seeded images")
    assert "resnet1202" in panel.profile.message_text
    # switching back supersedes the big probe: it stops between blocks, its numbers never appear
    panel.document.replace(small_spec("back"), None)
    qtbot.waitUntil(lambda: panel.last_outcome is not None, timeout=TIMEOUT)
    assert [o.spec.name for o in shown] == ["back"]
    assert len(panel.profile.current) == 4 and panel.profile.ghost is None


def test_a_different_network_never_gets_a_before_line(qtbot, make_panel):
    panel = make_panel(preset("resnet20"))
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.document.replace(preset("plain56"), None)
    assert len(panel.profile.current) == 27
    assert panel.profile.ghost is None and "before" not in panel.ratio_label.text()
    assert legend_texts(panel) == ["before: none yet",
                                   "now: no skips (plain blocks) · fresh He weights, seed 0"]
    assert panel.heatmap.columns == 1 and len(panel.heatmap.block_labels) == 27
    assert "plain56" in panel.profile.network


def test_opening_a_network_with_the_same_blocks_still_starts_afresh(qtbot, make_panel):
    panel = make_panel(small_spec())
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.document.edit(panel.document.spec.with_skips(False), "All skips off")
    assert panel.profile.ghost is not None
    panel.document.replace(small_spec("same blocks, another file"), None)
    assert panel.profile.current is None and panel.profile.ghost is None  # at once
    qtbot.waitUntil(lambda: panel.last_outcome is not None, timeout=TIMEOUT)
    assert panel.profile.ghost is None and "before" not in panel.ratio_label.text()


def test_an_edit_that_changes_the_blocks_clears_the_before_line(qtbot, make_panel):
    panel = make_panel(small_spec())
    spec = panel.document.spec
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.document.edit(spec.with_skips(False), "All skips off")
    assert panel.profile.ghost is not None
    deeper = small_spec(blocks=3).with_skips(False)
    panel.document.edit(deeper, "Add blocks")
    assert panel.profile.current is None and panel.profile.ghost is None  # at once
    qtbot.waitUntil(lambda: panel.last_outcome is not None, timeout=TIMEOUT)
    assert len(panel.profile.current) == 6 and panel.profile.ghost is None


def test_before_is_the_same_network_before_its_last_skip_change_and_labels_name_the_weights(qtbot, make_panel):
    panel = make_panel(small_spec())
    fresh_on = panel.profile.current.copy()
    spec = panel.document.spec
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.document.edit(spec.with_skips(False), "All skips off")
    np.testing.assert_array_equal(panel.profile.ghost, fresh_on)
    assert legend_texts(panel) == ["before: all skips on · fresh He weights, seed 0",
                                   "now: all skips off · fresh He weights, seed 0"]
    assert "before: " in panel.ratio_label.text() and "(all skips on · fresh He weights, seed 0)" in \
        panel.ratio_label.text()
    # new weights with the same skips: "now" names them, "before" stays the state before the skip change
    trained = build(spec, seed=3)
    with torch.no_grad():
        for p in trained.parameters():
            p.mul_(0.7)
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.set_weights_source(lambda: Weights(trained.state_dict(), "trained, run #1 at step 30 (finished)"))
    np.testing.assert_array_equal(panel.profile.ghost, fresh_on)
    assert legend_texts(panel) == ["before: all skips on · fresh He weights, seed 0",
                                   "now: all skips off · trained, run #1 at step 30 (finished)"]
    # the ratio printed for each line is that line's own first/last ratio
    ratio = panel.profile.current[0] / panel.profile.current[-1]
    from explorer.experiments.gradflow import format_factor
    assert f"{format_factor(ratio)}x" in panel.ratio_label.text().split("before")[0]
    assert f"{format_factor(fresh_on[0] / fresh_on[-1])}x (all skips on" in panel.ratio_label.text()


def test_a_result_for_a_network_no_longer_shown_is_dropped(qtbot, make_panel):
    panel = make_panel(small_spec())
    shown = []
    panel.profileUpdated.connect(shown.append)
    panel.refresh(force=True)  # a probe of "small" is now in flight...
    panel.hide()
    panel.document.replace(small_spec("other", blocks=3), None)  # ...and the network changes while hidden
    qtbot.waitUntil(lambda: not panel.runner.busy, timeout=TIMEOUT)
    assert shown == [] and panel.profile.current is None  # the old network's result was dropped
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.show()
    assert shown[-1].spec.name == "other" and len(panel.profile.current) == 6


def test_shutdown_stops_a_big_probe_between_blocks(qtbot, make_panel):
    panel = make_panel(small_spec())
    panel.document.replace(preset("resnet1202"), None)
    qtbot.waitUntil(lambda: "forward pass, block" in panel.status.text(), timeout=TIMEOUT)
    ended = []
    panel.runner._task.finished.connect(ended.append)
    panel.shutdown()  # returns once the probe has stopped, its end handled
    assert not panel.runner._task.is_running() and not panel.runner.busy
    assert [o.result.cancelled for o in ended] == [True]  # stopped mid-way, not run to the end
    assert panel.last_outcome is None


def test_progress_shows_only_once_a_probe_has_run_a_while(qtbot, make_panel):
    """A skip toggle's probe is done within a few tenths of a second: its progress would only
    lay the words out again; a probe that takes longer says how far it has got."""
    from explorer.ui.gradflow.panel import PROGRESS_AFTER_S

    panel = make_panel(preset("resnet20"))
    panel.runner.finished.disconnect(panel._on_probe_done)  # keep the request pending here
    panel.skips_off.click()
    serial = panel.runner.latest_serial
    before = panel.status.text()
    panel.runner.progress.emit(serial, "forward", 3, 9)
    assert panel.status.text() == before and "pass, block" not in before
    panel._requested_at[serial] -= PROGRESS_AFTER_S  # as if it had been running that long
    panel.runner.progress.emit(serial, "forward", 3, 9)
    assert panel.status.text().endswith("forward pass, block 3 of 9")
