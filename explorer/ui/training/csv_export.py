"""Write a run's metrics as CSV: one file of per-epoch rows and one of per-step rows.

The per-epoch file is the command line's ``--metrics-csv`` file, written by the same code
(``explorer.train.metrics_csv``), so a run made in the window and one made headless can
be compared in the same notebook.
"""
from __future__ import annotations

from pathlib import Path

from ...spec.atomic import atomic_write_text
from ...train.metrics_csv import epoch_table, table
from .runs import RunEntry

STEP_COLUMNS = ("step", "loss", "loss_smoothed", "lr")


def steps_path(path: Path) -> Path:
    """Where the per-step file goes next to ``path``: ``metrics.csv`` -> ``metrics-steps.csv``."""
    return path.with_name(f"{path.stem}-steps{path.suffix or '.csv'}")


def step_table(entry: RunEntry) -> str:
    rows = zip(entry.steps.view.astype(int).tolist(), entry.loss.view.tolist(),
               entry.loss_ema.view.tolist(), entry.lr.view.tolist())
    return table(STEP_COLUMNS, rows)


def export_run(entry: RunEntry, path: str | Path) -> list[Path]:
    """Write ``path`` (per epoch) and its ``-steps`` sibling (per step); returns both paths.

    Each file is written atomically, so an existing file is never left half-written.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".csv")
    atomic_write_text(path, epoch_table(entry.epochs))
    per_step = steps_path(path)
    atomic_write_text(per_step, step_table(entry))
    return [path, per_step]
