"""Every experiment is named once (explorer/experiments/catalogue.py), and the CLI's help, the
app's Experiments menu and the help tour list every one: adding an experiment without them fails here."""
import pytest

from explorer.cli import make_parser
from explorer.experiments.catalogue import EXPERIMENTS, commands, tools


def _experiment_parser():
    parser = make_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sub, sub.choices["experiment"]


def test_every_experiment_command_is_in_the_catalogue_and_the_top_level_help():
    sub, experiment = _experiment_parser()
    inner = next(a for a in experiment._actions if a.dest == "experiment")
    assert sorted(inner.choices) == sorted(commands() + tools())
    helps = {a.dest: a.help for a in sub._choices_actions}
    for c in commands() + tools():
        assert c in helps["experiment"]


def test_the_menu_and_the_tour_name_every_experiment(qapp):
    from explorer.ui.help_tour import TOUR
    tour = next(s for s in TOUR if s.target == "experiments").text
    for e in EXPERIMENTS:
        assert e.title in tour


@pytest.mark.usefixtures("qapp")
def test_the_experiments_menu_has_an_entry_per_experiment(tmp_path):
    import torch  # noqa: F401  (torch before PySide6)
    from PySide6.QtCore import QSettings
    from explorer.spec import preset
    from explorer.ui.app_window import build_window
    from explorer.ui.document import Document

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    win, bench = build_window(Document(preset("resnet20")), settings=settings)
    try:
        entries = [a.text().replace("&", "").rstrip("…") for a in bench.experiments.menu.actions()]
        assert sorted(entries) == sorted(e.title for e in EXPERIMENTS)
    finally:
        bench.shutdown()
        win.close()
        win.deleteLater()
