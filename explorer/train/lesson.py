"""The window's share of the CPU while it trains (the run sizes are recipes: ``train/recipes.py``)."""
from __future__ import annotations

import os


def app_cpu_threads(cores: int | None = None) -> int:
    """Torch's CPU threads in the window: one core is left to the GUI (and the gradient probe).

    Measured on a 2-core machine (``bench/bench_default_run.py``): the quick run took 39.7 s
    with one thread and 120 s with torch's default of two, which fight the GUI thread and
    each other for the same two cores.
    """
    cores = os.cpu_count() if cores is None else cores
    return max(1, (cores or 1) - 1)
