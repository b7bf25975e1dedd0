"""Entry point shared by ``python main.py`` and the ``resnet-explorer`` console script.

No arguments opens the window; anything else is the headless CLI, which never
imports Qt (GPU servers and cluster nodes often have no PySide6).
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        # The window trains and probes models from its first second, so it needs torch;
        # load it before PySide6, the order that works with Windows' DLL search.
        import torch  # noqa: F401

        from .ui.app import run_gui  # the only path that imports Qt
        return run_gui()
    from .cli import main as cli_main
    return cli_main(argv)
