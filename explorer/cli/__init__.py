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
    "get": "get",
}
# commands that never load torch (the others load it first, at a safe point for Ctrl+C)
WITHOUT_TORCH = {"presets", "info", "new", "get"}


class CliError(Exception):
    """A problem to report as one line on stderr with exit status 2."""


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="resnet-explorer",
        description="Build residual networks, train them and watch why skip connections work. "
                    "Run with no command to open the app.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    seen = set()
    for module_name in COMMANDS.values():
        if module_name in seen:
            continue
        seen.add(module_name)
        importlib.import_module(f"{__name__}.{module_name}").register(sub)
    return parser


def terminal_safe(text: str) -> str:
    """``text`` with control characters (ANSI escape sequences among them) and characters
    that cannot be encoded (lone surrogates from odd file names) shown as escapes, so that
    nothing a file or a name holds can drive the terminal or crash the printing."""
    out = []
    for ch in str(text):
        code = ord(ch)
        if ch == "\t" or (code >= 0x20 and code != 0x7F and not 0x80 <= code < 0xA0 and not 0xD800 <= code < 0xE000):
            out.append(ch)
        else:
            out.append(ascii(ch)[1:-1])
    return "".join(out)


def _is_main_rank() -> bool:
    """Under torchrun every rank parses the same arguments; only rank 0 reports."""
    import os

    return os.environ.get("RANK", "0") in ("", "0")


def report(message: str, every_rank: bool = False) -> None:
    """One ``error: ...`` line on stderr (under torchrun rank 0 only, unless ``every_rank``)."""
    if every_rank or _is_main_rank():
        line = " ".join(terminal_safe(message).split("\n"))
        print(f"error: {line}", file=sys.stderr, flush=True)


def interrupted(err: BaseException | None = None) -> int:
    """Ctrl+C: further presses are ignored while this is said (a second press arriving here
    would otherwise end the process with a traceback); exit status 130."""
    import signal

    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        previous = None
    from ..spec.interrupt import Interrupted

    try:
        if _is_main_rank() and not isinstance(err, Interrupted):
            print("\ninterrupted", file=sys.stderr, flush=True)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: rank 0 only, no control characters
        if _is_main_rank():
            self.print_usage(sys.stderr)
            print(f"{self.prog}: error: {terminal_safe(message)}", file=sys.stderr, flush=True)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    from ..spec import SpecError
    from ..spec.atomic import WriteError

    for stream in (sys.stdout, sys.stderr):  # a file name that is not valid UTF-8 must not crash a print
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if getattr(args, "short_openmp_spin", False):
        from .common import short_openmp_spin
        short_openmp_spin()
    try:
        if args.command not in WITHOUT_TORCH:
            _load_torch()
        return int(args.func(args) or 0)
    except (SpecError, CliError, WriteError) as err:
        report(str(err), getattr(err, "every_rank", False))
        return 2
    except KeyboardInterrupt as err:
        return interrupted(err)
    except BrokenPipeError:
        return 0


def _load_torch() -> None:
    """Import torch between two safe points: a Ctrl+C while its C++ code loads is only recorded
    (``spec/interrupt.py``) and ends the command right after, with "interrupted" and 130."""
    from ..spec import interrupt

    interrupt.check("importing torch")
    import torch  # noqa: F401
    interrupt.check("torch loaded")
