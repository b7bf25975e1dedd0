"""Experiments > Identity: a small run draws both kinds and shows exactly the sentences the CLI prints."""
from __future__ import annotations

import json

import pytest
import torch  # noqa: F401  (torch before PySide6)

from explorer.cli import main as cli_main
from explorer.experiments.claims import sentence_text

from experiment_window import experiment_window  # tests/ui is on sys.path (rootdir-relative imports)

ARGS = {"features": 6, "samples": 128, "steps": 60, "seed": 3}


@pytest.fixture
def window(qtbot, tmp_path):
    yield from experiment_window(tmp_path)


def open_page(window):
    menu = window.workbench.experiments
    action = next(a for a in menu.menu.actions() if a.text() == "&Identity…")
    action.trigger()
    page = menu.windows["identity"].page
    page.form.features.setValue(ARGS["features"])
    page.form.samples.setValue(ARGS["samples"])
    page.form.steps.setValue(ARGS["steps"])
    page.form.seed.setValue(ARGS["seed"])
    page.form.depths.setText("1, 3")
    return page


def test_a_run_draws_both_kinds_and_says_what_the_cli_says(qtbot, window, capsys, one_torch_thread):
    page = open_page(window)
    with qtbot.waitSignal(page.finished, timeout=60_000) as done:
        assert page.run()
    words = done.args[0]
    assert words is not None
    assert sorted((f.kind, f.blocks) for f in page.fits) == [("plain", 1), ("plain", 3), ("residual", 1),
                                                             ("residual", 3)]
    shown = page.words_label.text()
    assert cli_main(["experiment", "identity", "--depths", "1,3", "--json"]
                    + [a for k, v in ARGS.items() for a in (f"--{k}", str(v))]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert [sentence_text(s) for s in cli["sentences"]] == words.words.texts
    from html import escape
    for s in cli["sentences"]:
        assert escape(sentence_text(s)) in shown
    assert "Finished" in page.status.text()


def test_bad_stacks_are_named_on_the_status_line(qtbot, window):
    page = open_page(window)
    page.form.depths.setText("2, two")
    assert not page.run()
    assert "Stacks" in page.status.text() and not page.is_running()
