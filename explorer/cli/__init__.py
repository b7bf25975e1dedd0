"""The headless command line: ``python main.py <command>``. Imports no Qt.

Each command lives in its own module with ``register(subparsers)``, which adds a
subparser and sets ``func`` to a function taking the parsed arguments and returning
the exit status. Modules are imported lazily by name so that ``presets`` does not
pay for torch.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__

# command name -> module under explorer.cli that registers it
COMMANDS = {
    "presets": "info",
    "info": "info",
    "new": "info",
    "export": "export",
    "import-weights": "export",
    "gradflow": "gradflow",
    "train": "train",
    "experiment": "experiment",
}


class CliError(Exception):
    """A problem to report as one line on stderr with exit status 2."""


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resnet-explorer",
        description="Build residual networks, train them and watch why skip connections work. "
                    "Run with no command to open the app.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    seen = set()
    for module_name in COMMANDS.values():
        if module_name in seen:
            continue
        seen.add(module_name)
        importlib.import_module(f"{__name__}.{module_name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ..spec import SpecError

    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (SpecError, CliError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
