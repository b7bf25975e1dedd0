"""The pages show exactly the sentences the CLI prints: one word function serves both, and the
page renders every sentence of it (the lessons' text in italics), none left out, none added."""
from __future__ import annotations

import json

import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtGui import QTextDocument

from explorer.cli import main as cli_main
from explorer.experiments.arms import Arm
from explorer.experiments.degradation import ArmResult, DegradationSettings, conclude, result_table
from explorer.experiments.depth_sweep import SweepResult, SweepSettings
from explorer.experiments.depth_sweep_words import sweep_verdict


def plain_text(label) -> list[str]:
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText().split("\n")


def cli_sentences(capsys, tmp_path, result: dict) -> list[str]:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result))
    assert cli_main(["experiment", "report", str(path)]) == 0
    return [line.strip() for line in capsys.readouterr().out.strip().splitlines()]


def test_the_degradation_page_shows_the_sentences_the_cli_prints(qtbot, capsys, tmp_path):
    from explorer.ui.experiments.degradation_page import DegradationPage

    ends = {("plain", 20): 0.0, ("plain", 56): 0.592, ("resnet", 20): 0.0, ("resnet", 56): 0.006}
    arms = [ArmResult(Arm(k, d), [0.9, e], [0.9, e + 0.03], train_losses=[2.0, 3 * e]) for (k, d), e in ends.items()]
    verdict = conclude(arms, 2, DegradationSettings(epochs=2))
    printed = cli_sentences(capsys, tmp_path, {**result_table(DegradationSettings(epochs=2), arms, 1.0),
                                               **verdict.json_fields()})
    page = DegradationPage()
    qtbot.addWidget(page)
    page.show_verdict(verdict)
    shown = plain_text(page.verdict_label)
    assert printed == verdict.texts and len(printed) >= 5 and any(verdict.lessons)
    assert shown == [printed[0], " ".join(printed[1:])]
    assert "<i>" in page.verdict_label.text()  # the lessons' text set apart from the measurements


def test_the_depth_sweep_page_shows_the_sentences_the_cli_prints(qtbot, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the page opens on the cached sweep
    from explorer.ui.experiments.depth_sweep_page import DepthSweepPage

    arms = [ArmResult(Arm(k, d), [0.9, e], [0.9, e + 0.05], seed=0)
            for k, ends in (("plain", (0.005, 0.003, 0.3)), ("resnet", (0.03, 0.002, 0.001)))
            for d, e in zip((8, 14, 20), ends)]
    result = SweepResult(SweepSettings(epochs=2, depths=(8, 14, 20)), arms)
    verdict = sweep_verdict(result)
    printed = cli_sentences(capsys, tmp_path, {**result.to_dict(), **verdict.json_fields()})
    page = DepthSweepPage()
    qtbot.addWidget(page)
    page.show_verdict(verdict)
    assert printed == verdict.texts and len(printed) >= 4
    assert plain_text(page.words_label) == [printed[0], " ".join(printed[1:])]


def test_the_prepost_page_shows_the_sentences_the_cli_prints(qtbot, capsys, tmp_path):
    import numpy as np

    from explorer.experiments.prepost import GradientProfile, PrePostArm, PrePostSettings
    from explorer.experiments.prepost import result_table as prepost_table
    from explorer.experiments.prepost_words import prepost_words
    from explorer.ui.experiments.prepost_page import PrePostPage

    def profile(norms):
        return GradientProfile("init", [f"block {i}" for i in range(len(norms))], np.asarray(norms, float), 2.3)

    arms = [PrePostArm(Arm("resnet", 20), [12.2, 2.3], [0.9, 0.88], [0.9, 0.88], profile([1, 0.1])),
            PrePostArm(Arm("preact", 20), [1.5, 0.1], [0.5, 0.02], [0.5, 0.04], profile([1, 0.5]))]
    settings = PrePostSettings(depth=20, epochs=2)
    verdict = prepost_words(arms, 2, settings.lr)
    printed = cli_sentences(capsys, tmp_path, {**prepost_table(settings, arms, 1.0, 1.0), **verdict.json_fields()})
    page = PrePostPage()
    qtbot.addWidget(page)
    page.show_verdict(verdict)
    assert printed == verdict.texts and "diverged at learning rate 0.1" in printed[0]
    assert plain_text(page.words_label) == [printed[0], " ".join(printed[1:])]


def test_in_presenter_mode_long_words_scroll_and_the_plots_keep_their_room(qtbot, capsys, tmp_path):
    """At 1280x720 with every sentence of a diverged run, the words take at most their share of the
    window and scroll; before, they squeezed the plots to a sliver."""
    import numpy as np

    from explorer.experiments.prepost import GradientProfile, PrePostArm
    from explorer.experiments.prepost_words import prepost_words
    from explorer.ui.experiments.page_parts import WordsArea
    from explorer.ui.experiments.prepost_page import PrePostPage

    def profile(when, norms):
        return GradientProfile(when, [f"block {i}" for i in range(len(norms))], np.asarray(norms, float), 2.3)

    arms = [PrePostArm(Arm("resnet", 110), [12.9, 2.2, 2.35], [0.9, 0.825, 0.832], [0.9, 0.8, 0.8],
                       profile("init", [1.56, 0.038]), profile("end", [0.015, 0.004])),
            PrePostArm(Arm("preact", 110), [1.93, 0.77, 0.29], [0.59, 0.16, 0.048], [0.6, 0.2, 0.06],
                       profile("init", [0.97, 0.0089]), profile("end", [0.049, 0.0045]))]
    page = PrePostPage()
    qtbot.addWidget(page)
    page.resize(1280, 720)
    page.set_presenter(True)
    page.show_verdict(prepost_words(arms, 3, 0.1))
    page.show()
    qtbot.waitExposed(page)
    area = page.findChild(WordsArea)
    qtbot.waitUntil(lambda: area.height() <= 0.42 * page.height() + 1 and area.height() > 100)
    assert page.curves.height() >= 0.35 * page.height()
    assert area.verticalScrollBar().maximum() > 0  # the rest of the words is a scroll away, not cut off
    assert page.words_label.height() >= page.words_label.heightForWidth(page.words_label.width())
