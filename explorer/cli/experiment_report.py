"""``experiment report FILE.json``: the words of a saved ``--json`` result, rendered again.

Registered by ``explorer.cli.experiment``. The words come from the result's table alone
(``experiments.reports``), by the same functions the experiments and the app's pages use.
"""
from __future__ import annotations

from . import CliError
from .common import print_json, print_words


def register(exp) -> None:
    from ..experiments.catalogue import TOOLS
    from ..experiments.reports import RENDERERS

    p = exp.add_parser(
        "report", help=dict(TOOLS)["report"],
        description="Read a result saved with --json (" + ", ".join(sorted(RENDERERS)) + ") and print what it "
                    "shows in words, rendered again from its numbers: every sentence is backed by claims "
                    "that can be checked against them (docs/WORDS.md).")
    p.add_argument("file", metavar="FILE.json", help="a result saved from an experiment's --json output")
    p.add_argument("--json", action="store_true",
                   help="print the words as JSON: the verdict, sentences and the claims behind them")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from ..experiments.reports import ReportError, read

    try:
        result, verdict = read(args.file)
    except ReportError as err:
        raise CliError(str(err)) from None
    if args.json:
        print_json({"experiment": result["experiment"], **verdict.json_fields()})
    else:
        print_words(verdict)
    return 0

