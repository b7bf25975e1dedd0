"""The metrics CSV: one writer for the command line's ``--metrics-csv`` and the app's export.

One row per epoch with ``EPOCH_COLUMNS``; the app also writes one row per step. Numbers
are written the same way everywhere: integers as integers, floats as the shortest text
that reads back as the same float (``repr``), NaN as ``nan``, so a run made in the window
and one made headless can be compared in the same notebook, digit for digit.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Iterable

from ..spec.atomic import atomic_write_text
from .api import EpochMetrics

EPOCH_COLUMNS = ("epoch", "step", "train_loss", "train_error", "test_loss", "test_error", "lr",
                 "images_per_s", "seconds")


def cell(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return str(value)


def table(columns: Iterable[str], rows: Iterable[Iterable]) -> str:
    """CSV text: a header row, then one line per row, cells formatted by ``cell``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(columns))
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


def epoch_table(epochs: Iterable[EpochMetrics]) -> str:
    return table(EPOCH_COLUMNS, ([e.epoch, e.step, float(e.train_loss), float(e.train_error),
                                  float(e.test_loss), float(e.test_error), float(e.lr),
                                  float(e.images_per_s), float(e.seconds)] for e in epochs))


def write_epochs(path: str | Path, epochs: Iterable[EpochMetrics]) -> None:
    """Write the per-epoch file atomically (an existing file is never left half-written)."""
    atomic_write_text(Path(path), epoch_table(epochs))
