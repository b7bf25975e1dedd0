"""A toggle is answered in two stages: a first look on a few images, then the full batch.

The first look arrives before the full batch and its words name the images they rest on;
the full batch's words say whether the first look's verdict held or changed; a newer
request cancels both stages of an older one, whose results never appear.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch  # noqa: F401  (torch before PySide6)

from explorer.analysis.gradflow import ProbeResult
from explorer.spec import BlockKind, NetworkSpec, StemSpec, uniform_stage
from explorer.ui.document import Document
from explorer.ui.gradflow import GradflowPanel
from explorer.ui.gradflow.worker import FIRST_LOOK_IMAGES, ProbeOutcome, ProbeRunner
from explorer.ui.selection import Selection

TIMEOUT = 30_000


def small_spec(name="small") -> NetworkSpec:
    return NetworkSpec(name=name, input_shape=(3, 16, 16), stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, 2, 8, 1), uniform_stage(BlockKind.BASIC, 2, 16, 2)))


@pytest.fixture
def panel(qtbot):
    panel = GradflowPanel(Document(small_spec()))
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.last_outcome is not None, timeout=TIMEOUT)
    yield panel
    panel.shutdown()


def test_a_toggle_shows_a_first_look_naming_its_images_before_the_full_batch(qtbot, panel):
    seen = []  # (signal, outcome, the words and the status as the user saw them then)
    panel.firstLookShown.connect(lambda o: seen.append(("first", o, panel.words.text(), panel.status.text(),
                                                        panel.profile.current.copy())))
    panel.firstLookShown.connect(lambda o: seen.append(panel.ratio_label.text()))
    panel.profileUpdated.connect(lambda o: seen.append(("full", o, panel.words.text(), panel.status.text(),
                                                        panel.profile.current.copy())))
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.skips_off.click()
    headline = seen.pop(1)
    assert [s[0] for s in seen] == ["first", "full"]
    (_, first, first_words, first_status, first_norms), (_, full, full_words, full_status, full_norms) = seen
    assert "(first look, 4 images)" in headline
    assert first.serial == full.serial and first.batch == full.batch == 32
    assert first.result.batch == FIRST_LOOK_IMAGES and full.result.batch == 32
    assert first_words.startswith("First look, on 4 images of the 32-image probe batch; the full batch follows.")
    assert "first look on 4 of the 32 seeded random images" in first_status
    assert "probe batch of 32 seeded random images" in full_status and "first look" not in full_status
    # the full batch says what became of the first look's verdict, quoting both values
    assert full_words.startswith("Full batch of 32 images: the first look's verdict holds") \
        or full_words.startswith("The full batch of 32 images changed the verdict")
    assert "first look" not in panel.status.text()
    assert "(first look" not in panel.ratio_label.text() and "(all 32 images)" in panel.ratio_label.text()
    assert not np.array_equal(first_norms, full_norms)  # two measurements, each drawn
    # only the full batch is a heatmap column (the first probe and this one)
    assert panel.heatmap.columns == 2 and panel.first_look is None


def test_a_selected_blocks_ratio_names_the_images_it_is_the_mean_of(qtbot, panel):
    panel.document.select(Selection.of_block(1, 0))
    captions = []
    panel.firstLookShown.connect(lambda _: captions.append(panel.residual.images.caption.text()))
    with qtbot.waitSignal(panel.profileUpdated, timeout=TIMEOUT):
        panel.refresh(force=True)
    captions.append(panel.residual.images.caption.text())
    assert [("(mean over the 4 probe images)" in c, "(mean over the 32 probe images)" in c) for c in captions] == \
        [(True, False), (False, True)]


def test_the_full_batch_says_so_when_it_changes_the_first_looks_verdict(qtbot, panel):
    runner = panel.runner
    spec = panel.document.spec
    labels = panel.last_outcome.result.labels
    serial = runner.latest_serial

    def outcome(norms, images, first_look):
        result = ProbeResult(labels=labels, block_norms=np.array(norms, dtype=float), skips=[True] * 4,
                             shortcuts=[True] * 4, batch=images)
        return ProbeOutcome(serial, spec, result, "fresh He weights, seed 0", 0.01, batch=32, first_look=first_look)

    runner.firstLook.emit(outcome([0.2, 0.4, 0.7, 1.0], 4, True))  # fades: first ÷ last 0.2
    assert "(first look, 4 images)" in panel.ratio_label.text()
    assert panel.words.text().startswith("First look, on 4 images of the 32-image probe batch")
    assert "0.2 times the one at the last block" in panel.words.text()
    runner.finished.emit(outcome([1.5, 1.2, 1.1, 1.0], 32, False))  # carried: 1.5x
    words = panel.words.text()
    assert words.startswith("The full batch of 32 images changed the verdict: on the first 4 images the gradient "
                            "fades (0.2x); on all 32 it arrives at about the same size (1.5x).")
    assert "1.5x the one at the last block" in words and "(first look" not in panel.ratio_label.text()


def test_a_newer_request_cancels_both_stages_of_an_older_one(qtbot):
    runner = ProbeRunner()
    reported = []
    runner.firstLook.connect(lambda o: reported.append(("first", o.serial, o.spec.name)))
    runner.finished.connect(lambda o: reported.append(("full", o.serial, o.spec.name)))
    serials = []
    # as the old request's first look arrives, its full batch is running: a newer request comes then
    runner.firstLook.connect(lambda o: o.spec.name == "old" and serials.append(runner.request(small_spec("new"), None)))
    try:
        old = runner.request(small_spec("old"), None)
        qtbot.waitUntil(lambda: bool(serials) and not runner.busy, timeout=TIMEOUT)
        new = serials[0]
        assert reported == [("first", old, "old"), ("first", new, "new"), ("full", new, "new")]
    finally:
        runner.shutdown()


def test_a_batch_of_a_few_images_is_probed_whole_with_no_first_look(qtbot):
    runner = ProbeRunner()
    firsts, fulls = [], []
    runner.firstLook.connect(firsts.append)
    runner.finished.connect(fulls.append)
    spec = replace(small_spec("large images"), input_shape=(3, 96, 96))  # 4 images per probe
    try:
        runner.request(spec, None)
        qtbot.waitUntil(lambda: bool(fulls), timeout=TIMEOUT)
        assert firsts == [] and fulls[0].result.batch == fulls[0].batch == FIRST_LOOK_IMAGES
    finally:
        runner.shutdown()


def test_a_first_look_whose_full_batch_fails_no_longer_says_the_full_batch_follows(qtbot, panel):
    runner = panel.runner
    spec = panel.document.spec
    labels = panel.last_outcome.result.labels
    result = ProbeResult(labels=labels, block_norms=np.array([2.0, 1.5, 1.2, 1.0]), skips=[True] * 4,
                         shortcuts=[True] * 4, batch=4)
    serial = runner.latest_serial
    runner.firstLook.emit(ProbeOutcome(serial, spec, result, "fresh He weights, seed 0", 0.01, batch=32,
                                       first_look=True))
    runner.finished.emit(ProbeOutcome(serial, spec, None, "", 0.02, error="RuntimeError: out of memory", batch=32))
    assert panel.words.text().startswith("First look, on 4 images of the 32-image probe batch; the full batch could "
                                         "not be measured (RuntimeError: out of memory).")
    assert "follows" not in panel.words.text() and "out of memory" in panel.status.text()
    assert len(panel.profile.current) == 4  # the first look's profile stays, tagged as such
    assert "(first look, 4 images)" in panel.ratio_label.text()
