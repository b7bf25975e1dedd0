"""Entry point shared by ``python main.py`` and the ``resnet-explorer`` console script.

No arguments opens the window; anything else is the headless CLI, which never
imports Qt (GPU servers and cluster nodes often have no PySide6).
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        from .app import run_gui  # the only path that imports Qt
        return run_gui()
    from .cli import main as cli_main
    return cli_main(argv)
