"""The gradient panel: edits re-measure the profile off the GUI thread; the heatmap streams."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch  # (torch before PySide6)

from explorer.nn import build
from explorer.spec import BlockKind, NetworkSpec, StemSpec, preset, uniform_stage
from explorer.train.api import GradColumn
from explorer.ui.document import Document
from explorer.ui.gradflow import GradflowPanel
from explorer.ui.gradflow.weights import Weights

TIMEOUT = 30_000  # ms; a probe of these nets takes well under a second when the machine is idle


def small_spec(name="small") -> NetworkSpec:
    return NetworkSpec(name=name, input_shape=(3, 16, 16), stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, 2, 8, 1), uniform_stage(BlockKind.BASIC, 2, 16, 2)))




@pytest.fixture
def panel(qtbot):
    document = Document(small_spec())
    panel = GradflowPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.last_outcome is not None, timeout=TIMEOUT)
    yield panel
    panel.shutdown()


def test_toggling_a_skip_in_the_document_updates_the_profile(qtbot, panel):
    before = panel.profile.current.copy()
    spec = panel.document.spec
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT) as blocker:
        panel.document.edit(spec.with_skips(False, where=[(1, 1)]), "Skip off")
    outcome = blocker.args[0]
    assert outcome.result.skips == [True, True, True, False]
    assert not np.allclose(panel.profile.current, before)
    np.testing.assert_array_equal(panel.profile.ghost, before)  # the ghost keeps the previous profile
    assert panel.heatmap.columns == 2  # the initial probe and this one
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.document.undo_stack.undo()
    np.testing.assert_allclose(panel.profile.current, before, rtol=1e-6)


def test_all_skips_buttons_push_undoable_edits_and_the_words_follow(qtbot):
    document = Document(preset("resnet20"))
    panel = GradflowPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    try:
        qtbot.waitUntil(lambda: panel.last_outcome is not None, timeout=TIMEOUT)
        assert "the skips carry the gradient back" in panel.words.text()
        on_ratio = panel.profile.current[0] / panel.profile.current[-1]
        with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
            panel.skips_off.click()
        assert document.undo_stack.undoText() == "All skips off"
        assert not any(b.skip for _, _, b in document.spec.iter_blocks())
        off_ratio = panel.profile.current[0] / panel.profile.current[-1]
        assert off_ratio > on_ratio  # plain20 with BN: the gradient grows faster towards the input
        assert "without skips" in panel.words.text().lower()
        assert "all skips off" in panel.status.text()
        with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
            panel.skips_on.click()
        assert document.undo_stack.undoText() == "All skips on"
        assert all(b.skip for _, _, b in document.spec.iter_blocks())
    finally:
        panel.shutdown()


def test_a_burst_of_edits_reports_only_the_latest(qtbot, panel):
    document = panel.document
    shown = []
    panel.profileUpdated.connect(lambda o: shown.append(o))
    spec = document.spec
    edits = [spec.with_skips(False, where=[(0, 0)]), spec.with_skips(False, where=[(0, 1)]),
             spec.with_skips(False, where=[(1, 0)]), spec.with_skips(False)]
    for i, s in enumerate(edits):
        document.edit(s, f"edit {i}")
    qtbot.waitUntil(lambda: bool(shown) and shown[-1].spec == edits[-1], timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not panel.runner.busy, timeout=TIMEOUT)
    assert [o.spec for o in shown] == [edits[-1]]  # stale results were dropped
    assert shown[-1].result.skips == [False] * 4


def test_weights_source_is_used_and_a_misfit_falls_back_to_fresh_weights(qtbot, panel):
    trained = build(small_spec(), seed=7)
    with torch.no_grad():
        for p in trained.parameters():
            p.mul_(0.5)
    state = Weights(trained.state_dict(), "trained, run #3 at step 40 (finished)")
    fresh = panel.profile.current.copy()
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT) as blocker:
        panel.set_weights_source(lambda: state)
    assert blocker.args[0].weights == "trained, run #3 at step 40 (finished)"
    assert "trained, run #3 at step 40" in panel.status.text()
    assert not np.allclose(panel.profile.current, fresh)
    other = Weights(build(preset("resnet20"), seed=0).state_dict(), "trained, run #4 at step 9 (stopped)")
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT) as blocker:
        panel.set_weights_source(lambda: other)
    assert blocker.args[0].weights.startswith("fresh He weights, seed 0")
    assert "do not fit" in blocker.args[0].weights and "do not fit" in panel.status.text()
    np.testing.assert_allclose(panel.profile.current, fresh, rtol=1e-6)


def test_training_columns_stream_into_the_heatmap(qtbot, panel):
    labels = panel.last_outcome.result.labels
    panel.begin_run(labels)
    assert panel.heatmap.columns == 0
    for step, scale in ((10, 1.0), (20, 0.1), (30, 100.0)):
        panel.add_column(GradColumn(step=step, norms=np.array([1.0, 0.5, 0.2, 0.1]) * scale))
    qtbot.waitUntil(lambda: panel.heatmap.image.image is not None  # drawn by the 10 Hz timer
                    and panel.heatmap.image.image.shape == (4, 3), timeout=TIMEOUT)
    values = panel.heatmap.values()
    np.testing.assert_allclose(values[:, 2], np.log10([100, 50, 20, 10]), rtol=1e-5)
    assert panel.heatmap.describe_cell(1, 0) == (
        "stage 1, block 1 · step 20 · ||dL/dx|| = 0.1 (log10 -1.00)")
    panel.add_column(GradColumn(step=40, norms=np.array([np.nan, 0.0, np.inf, 1e-3])))
    assert "not measured" in panel.heatmap.describe_cell(3, 0)
    assert "exactly 0" in panel.heatmap.describe_cell(3, 1)
    assert "infinite" in panel.heatmap.describe_cell(3, 2)
    assert panel.heatmap.describe_cell(3, 3).endswith("= 0.001 (log10 -3.00)")
    assert panel.heatmap.colorbar.levels() == (-6.0, 2.0)  # fixed levels, not rescaled per column
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):  # a probe during the run adds a probe column
        panel.document.edit(panel.document.spec.with_skips(False), "All skips off")
    assert panel.heatmap.column_label(4) == "probe"
    panel.end_run()


def test_an_invalid_design_keeps_the_last_profile_and_says_why(qtbot, panel):
    before = panel.profile.current.copy()
    spec = panel.document.spec
    broken = spec.with_block(0, 0, replace(spec.block(0, 0), width=0))
    panel.document.edit(broken, "Break it")
    assert "errors" in panel.status.text()
    assert not panel.skips_off.isEnabled()
    np.testing.assert_array_equal(panel.profile.current, before)


def test_a_hidden_panel_measures_nothing_until_it_is_shown(qtbot):
    document = Document(small_spec())
    panel = GradflowPanel(document)
    qtbot.addWidget(panel)
    try:
        document.edit(document.spec.with_skips(False), "All skips off")
        assert panel.runner is None and panel.last_outcome is None  # no thread, no probe while hidden
        with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT) as blocker:
            panel.show()
        assert blocker.args[0].result.skips == [False] * 4  # the design as it is now
    finally:
        panel.shutdown()


def test_the_panel_shows_the_sentences_gradflow_prints_for_the_same_network(qtbot, capsys, tmp_path, panel):
    """One word function serves the panel and ``gradflow``: the same fresh weights and probe batch give the
    same gradient and residual-size sentences, every one of them shown beside the plots."""
    import json

    from explorer.cli import main as cli_main
    from explorer.experiments.claims import check, sentence_text
    from explorer.spec import save

    path = tmp_path / "small.json"
    save(panel.document.spec, path)
    assert cli_main(["gradflow", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert check(report) == []
    texts = [sentence_text(s) for s in report["sentences"]]
    shown = panel.words.text() + " " + panel.residual.words.text()
    assert len(texts) >= 4 and any(t.startswith("The lessons say") for t in texts)
    for text in texts:
        assert text in shown, text


def test_the_lessons_text_is_set_in_italics_apart_from_the_measurement(qtbot, panel):
    """plain nets with BN at initialisation: the gradient grows towards the input; the words name the lessons'
    claim and the measurement, and the known effect the lessons mention is set apart in italics."""
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.skips_off.click()
    text = panel.words.text()
    assert "The lessons say that without skips the gradient shrinks on its way back to the input; here it" in text
    assert "<i>A known effect the lessons mention: with batch normalisation" in text
    assert "<i>The lessons say that without skips" not in text  # the measurement beside it is not italic


def test_another_network_shows_its_words_from_the_headline(qtbot, panel):
    panel.resize(900, 260)  # a short dock: the words scroll
    bar = panel._side_scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=TIMEOUT)
    bar.setValue(bar.maximum())  # the teacher scrolled down to the explanation
    panel.document.replace(small_spec("other"), None)  # File > New or Open
    assert bar.value() == 0  # the new network's headline is in view, not the old scroll position
