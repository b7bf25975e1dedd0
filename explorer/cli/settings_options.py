"""Command-line options made from the declared training settings (``train/settings.py``).

``add_setting_options(parser, names)`` adds one option per setting (its flag, type,
choices, metavar and help, with the default recipe's value), ``setting_changes(args,
names)`` reads back the ones given, and ``add_recipe_option`` adds ``--recipe`` with the
recipe table's names.
"""
from __future__ import annotations

import argparse


def _flag(name: str, meta) -> str:
    return meta.flag or f"--{name.replace('_', '-')}"


def add_setting_options(p, names, defaults=None) -> None:
    """One option per setting in ``names`` (``defaults``: the settings the help quotes as defaults)."""
    from ..train.settings import declared

    meta_of = declared()
    for name in names:
        meta = meta_of[name]
        flag = _flag(name, meta)
        shown = f" ({_default_words(name, getattr(defaults, name))})" if defaults is not None else ""
        if meta.kind is bool:  # --augment / --no-augment
            p.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None,
                           help=(meta.help + shown).replace("%", "%%"))
            continue
        kwargs = dict(dest=name, help=(meta.help + shown).replace("%", "%%"))
        if meta.choices:
            kwargs["choices"] = [v for v, _ in meta.choices]
        else:
            kwargs["metavar"] = meta.metavar or name.upper()
        if meta.kind in (int, float):
            kwargs["type"] = meta.kind
        p.add_argument(flag, **kwargs)


def _default_words(name: str, value) -> str:
    from ..train.settings import value_text

    return f"default {value_text(name, value)}"


def setting_changes(args, names) -> dict:
    """The settings among ``names`` given on the command line, by field name."""
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def add_recipe_option(p, default: str, what: str = "the optimiser and epochs", data: bool = False,
                      depths: bool = False) -> None:
    """``--recipe NAME``: one of the recipe table's names (train/recipes.py); ``default`` says what
    runs without it; ``data``/``depths``: the recipes' data fields (``train``) or depths (degradation)
    apply here and are listed."""
    from ..train.recipes import RECIPES

    listing = "; ".join(f"{r.name}: {r.text(data=data, depths=depths)}" for r in RECIPES.values())
    p.add_argument("--recipe", choices=list(RECIPES), metavar="NAME",
                   help=f"take {what} from a named recipe (default: {default}); options given beside it "
                        f"override its values. Recipes -- {listing}")
