"""Write a run's metrics as CSV: one file of per-epoch rows and one of per-step rows.

The per-epoch columns match the command line's ``--metrics-csv`` file, so a run made in
the window and one made headless can be compared in the same notebook.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from ...spec.fileformat import atomic_write_text
from .runs import RunEntry

EPOCH_COLUMNS = ("epoch", "step", "train_loss", "train_error", "test_loss", "test_error", "lr",
                 "images_per_s", "seconds")
STEP_COLUMNS = ("step", "loss", "loss_smoothed", "lr")


def steps_path(path: Path) -> Path:
    """Where the per-step file goes next to ``path``: ``metrics.csv`` -> ``metrics-steps.csv``."""
    return path.with_name(f"{path.stem}-steps{path.suffix or '.csv'}")


def _cell(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return str(value)


def _table(columns, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def epoch_table(entry: RunEntry) -> str:
    rows = ([e.epoch, e.step, e.train_loss, e.train_error, e.test_loss, e.test_error, e.lr,
             e.images_per_s, e.seconds] for e in entry.epochs)
    return _table(EPOCH_COLUMNS, rows)


def step_table(entry: RunEntry) -> str:
    rows = zip(entry.steps.view.astype(int).tolist(), entry.loss.view.tolist(),
               entry.loss_ema.view.tolist(), entry.lr.view.tolist())
    return _table(STEP_COLUMNS, rows)


def export_run(entry: RunEntry, path: str | Path) -> list[Path]:
    """Write ``path`` (per epoch) and its ``-steps`` sibling (per step); returns both paths.

    Each file is written atomically, so an existing file is never left half-written.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".csv")
    atomic_write_text(path, epoch_table(entry))
    per_step = steps_path(path)
    atomic_write_text(per_step, step_table(entry))
    return [path, per_step]
