"""The metrics CSV that both the command line and the app's export write."""
import csv
import math

from explorer.train.api import EpochMetrics
from explorer.train.metrics_csv import epoch_table, write_epochs

ROWS = [EpochMetrics(epoch=1, step=40, train_loss=2.302585092994046, train_error=0.8875, test_loss=1.9,
                     test_error=0.71875, lr=0.1, images_per_s=1234.5678, seconds=4.25),
        EpochMetrics(epoch=2, step=80, train_loss=float("nan"), train_error=1.0, test_loss=float("nan"),
                     test_error=0.9, lr=0.0, images_per_s=1300.0, seconds=4.0)]


def test_the_text_is_exact():
    assert epoch_table(ROWS) == (
        "epoch,step,train_loss,train_error,test_loss,test_error,lr,images_per_s,seconds\n"
        "1,40,2.302585092994046,0.8875,1.9,0.71875,0.1,1234.5678,4.25\n"
        "2,80,nan,1.0,nan,0.9,0.0,1300.0,4.0\n")


def test_numbers_read_back_as_the_same_floats(tmp_path):
    path = tmp_path / "m.csv"
    write_epochs(path, ROWS)
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row, e in zip(rows, ROWS):
        assert int(row["epoch"]) == e.epoch and int(row["step"]) == e.step
        for name in ("train_loss", "train_error", "test_loss", "test_error", "lr", "images_per_s", "seconds"):
            got, want = float(row[name]), getattr(e, name)
            assert got == want or (math.isnan(got) and math.isnan(want)), name
