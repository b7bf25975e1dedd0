"""The training panel's two run sizes: a quick run that fits a lesson, and a longer one.

The quick run is the window's default. It was chosen by measuring (``bench/bench_default_run.py``;
numbers in the README): ResNet-20 on 4,000 ``shapes`` images for 4 epochs with AdamW
reaches a few percent test error against 90% for guessing, its loss visibly falls within
the first seconds, and the whole run costs under a minute of one CPU core. In trials on
3,000 images for 3 epochs (batch 32, no augmentation), SGD at 0.05 ended at 85% test
error where AdamW at 0.002 reached 43%, and augmentation slows the first epochs, so the
quick run uses AdamW without it. The longer run trains on the whole set with
augmentation, for when there is time (or a GPU).
"""
from __future__ import annotations

import os
from dataclasses import replace

from .api import TrainSettings

QUICK_RUN = dict(dataset="shapes", train_size=4_000, test_size=1_000, epochs=4, batch_size=32,
                 optimizer="adamw", lr=0.003, weight_decay=1e-4, schedule="cosine", warmup_epochs=0.0,
                 augment=False)
LONGER_RUN = dict(dataset="shapes", train_size=None, test_size=2_000, epochs=15, batch_size=64,
                  optimizer="adamw", lr=0.002, weight_decay=5e-4, schedule="cosine", warmup_epochs=1.0,
                  augment=True)
RUN_SIZES = {"quick": QUICK_RUN, "longer": LONGER_RUN}


def lesson_settings(size: str = "quick", base: TrainSettings | None = None) -> TrainSettings:
    """``base`` (default: ``TrainSettings()``) with the quick or longer run's fields."""
    return replace(base if base is not None else TrainSettings(), **RUN_SIZES[size])


def app_cpu_threads(cores: int | None = None) -> int:
    """Torch's CPU threads in the window: one core is left to the GUI (and the gradient probe).

    Measured on a 2-core machine (``bench/bench_default_run.py``): the quick run took 39.7 s
    with one thread and 120 s with torch's default of two, which fight the GUI thread and
    each other for the same two cores.
    """
    cores = os.cpu_count() if cores is None else cores
    return max(1, (cores or 1) - 1)
