"""One recipe table and one declaration per setting: ``train`` with no options is the quick run
(the window's Start), ``--recipe`` works in ``train`` and every experiment, the header echoes
every value, and the CLI's options, the checks and the help all come from the declarations."""
from dataclasses import fields, replace

import pytest

from explorer.cli import main, make_parser
from explorer.cli.train import TRAIN_OPTIONS, settings_from_args
from explorer.train.api import TrainSettings
from explorer.train.optim import check_settings
from explorer.train.recipes import RECIPES, apply
from explorer.train.settings import declared

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _train_settings(*argv):
    return settings_from_args(make_parser().parse_args(["train", "resnet20", *argv]))[1]


def test_train_with_no_options_is_the_quick_run():
    s = _train_settings()
    assert s == apply("quick")
    assert (s.optimizer, s.lr, s.epochs, s.train_size, s.batch_size) == ("adamw", 0.003, 4, 4_000, 32)


@pytest.mark.parametrize("name", list(RECIPES))
def test_train_takes_every_recipe_and_options_beside_it_win(name):
    s = _train_settings("--recipe", name, "--epochs", "2")
    r = RECIPES[name]
    assert s.epochs == 2
    assert all(getattr(s, k) == v for k, v in r.settings.items() if k != "epochs")


def test_a_dataset_other_than_the_recipes_keeps_the_optimiser_but_not_its_sizes():
    s = _train_settings("--dataset", "digits")
    assert (s.dataset, s.train_size, s.test_size, s.optimizer, s.lr) == ("digits", None, None, "adamw", 0.003)


def test_every_experiment_takes_every_recipe():
    parse = make_parser().parse_args
    for argv in (["experiment", "degradation"], ["experiment", "depth-sweep"], ["experiment", "prepost"]):
        for name in RECIPES:
            assert parse([*argv, "--recipe", name]).recipe == name
    from explorer.cli.experiment import degradation_settings
    from explorer.cli.experiment_prepost import prepost_settings
    from explorer.cli.experiment_sweep import sweep_settings

    lesson = degradation_settings(parse(["experiment", "degradation", "--recipe", "lesson"]))
    assert (lesson.weight_decay, lesson.depths, lesson.epochs) == (5e-4, (8, 20), 30)
    quick = prepost_settings(parse(["experiment", "prepost", "--recipe", "quick", "--epochs", "2"]))
    assert (quick.optimizer, quick.lr, quick.epochs, quick.train_settings().optimizer) == ("adamw", 0.003, 2, "adamw")
    sweep = sweep_settings(parse(["experiment", "depth-sweep", "--recipe", "lesson"]))
    assert sweep.weight_decay == 5e-4 and len(sweep.depths) > 2  # the sweep keeps its own depths


def test_every_setting_is_declared_and_train_offers_each_one_a_user_sets():
    names = {f.name for f in fields(TrainSettings)}
    assert set(declared()) == names
    help_text = make_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for name in TRAIN_OPTIONS:
        meta = declared()[name]
        assert (meta.flag or f"--{name.replace('_', '-')}") in help_text


@pytest.mark.parametrize("name", [n for n, m in declared().items() if m.lo is not None or m.hi is not None])
def test_the_declared_range_is_the_range_checked(name):
    meta = declared()[name]
    base = apply("quick")
    if meta.hi is not None:
        too_big = meta.hi + (1 if meta.kind is int else meta.hi)
        with pytest.raises(Exception, match=meta.sentence_word):
            check_settings(replace(base, **{name: meta.kind(too_big)}))
    if meta.lo is not None and meta.lo > 0:
        with pytest.raises(Exception, match=meta.sentence_word):
            check_settings(replace(base, **{name: meta.kind(meta.lo) - 1}))
    check_settings(replace(base, **{name: meta.kind(meta.hi if meta.hi is not None and meta.hi < 10 else
                                                    max(meta.lo or 0, 1))}))


def test_the_header_echoes_every_value(tiny_net, capsys):
    assert main(["train", tiny_net, "--steps", "1", "--train-size", "64", "--test-size", "8",
                 "--momentum", "0.8", "--weight-decay", "0.0007", "--progress", "none"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("settings (the quick recipe, with the options given)"))
    assert "momentum 0.8" in line and "weight decay 0.0007" in line
    for meta in declared().values():
        assert f" {meta.sentence_word} " in line


def test_the_recipe_table_in_the_docs_is_the_one_in_the_code():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "CLI.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip().strip("`"): line for line in doc.splitlines() if line.startswith("| `")}
    assert set(rows) == set(RECIPES)
    for name, r in RECIPES.items():
        s = r.settings
        assert f"lr {s['lr']:g}" in rows[name] and f"{s['epochs']} epochs" in rows[name], rows[name]
        assert f"batch {s['batch_size']}" in rows[name], rows[name]
        assert ("AdamW" if s["optimizer"] == "adamw" else "SGD") in rows[name]
