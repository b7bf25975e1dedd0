"""Entry point shared by ``python main.py`` and the ``resnet-explorer`` console script.

No arguments opens the window; anything else is the headless CLI, which never
imports Qt (GPU servers and cluster nodes often have no PySide6).

``RESNET_EXPLORER_QUIT_AFTER=SECONDS`` makes the window close itself after that many
seconds with exit status 0: a smoke test that an installation starts (CI runs the
installed wheel this way, offscreen).
"""
from __future__ import annotations

import math
import os
import sys

QUIT_AFTER_ENV = "RESNET_EXPLORER_QUIT_AFTER"


class LaunchError(ValueError):
    """A bad launch setting, reported as one ``error:`` line with exit status 2."""


def quit_after_seconds(environ=None) -> float | None:
    """The ``RESNET_EXPLORER_QUIT_AFTER`` setting in seconds; None when unset or empty."""
    raw = (os.environ if environ is None else environ).get(QUIT_AFTER_ENV, "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not 0 < seconds <= 24 * 3600:
        raise LaunchError(f"{QUIT_AFTER_ENV} must be a number of seconds between 0 and 86400, not {raw!r}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        try:
            quit_after = quit_after_seconds()
        except LaunchError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        # The window trains and probes models from its first second, so it needs torch;
        # load it before PySide6, the order that works with Windows' DLL search.
        import torch  # noqa: F401

        from .ui.app import run_gui  # the only path that imports Qt
        return run_gui(quit_after=quit_after)
    try:
        # first of all: from here on Ctrl+C only records the press (spec/interrupt.py), so
        # it can never raise inside torch's C++ code; the commands act on it at safe points
        from .spec import interrupt
        interrupt.install(speak=os.environ.get("RANK", "0") in ("", "0"))
        from .cli import main as cli_main
        status = cli_main(argv)
    except KeyboardInterrupt as err:  # a press before the handler was in place
        from .cli import interrupted
        status = interrupted(err)
    from .spec import interrupt
    return interrupt.finish(status)  # later presses are ignored; "interrupted" said means 130
