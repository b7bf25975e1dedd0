"""What the training experiments' commands share: their common options and the epoch table.

``experiment.py`` and each ``experiment_*.py`` import from here; this module imports none of
them, so the commands' modules import each other one way only.
"""
from __future__ import annotations

from . import CliError


ALL_DATASETS = "digits (default) | shapes | cifar10:PATH | mnist:PATH | folder:PATH | ..."


def add_common_options(p, epochs_default: int, nets: str = "every network", datasets: str = ALL_DATASETS) -> None:
    """The options every training experiment takes (degradation, depth-sweep, prepost)."""
    p.add_argument("--epochs", type=int, metavar="N", help=f"epochs for {nets} (default {epochs_default})")
    p.add_argument("--dataset", metavar="D", help=datasets)
    p.add_argument("--image-size", metavar="S",
                   help="input side in pixels (default 8: digits are 8x8 drawings); 'native' for the nets' 32")
    p.add_argument("--device", metavar="D", help="auto (default) | cpu | cuda | cuda:N | mps")
    p.add_argument("--seed", type=int, metavar="S")
    p.add_argument("--train-size", type=int, metavar="N", help="use N training images")
    p.add_argument("--test-size", type=int, metavar="N", help="use N test images")


def common_changes(args) -> dict:
    """The settings the common options change (only those given), checked; CliError names a bad one."""
    from ..experiments.arms import parse_depths

    changes = {}
    if args.epochs is not None:
        if args.epochs < 1:
            raise CliError(f"--epochs must be at least 1, got {args.epochs}")
        changes["epochs"] = args.epochs
    if getattr(args, "depths", None) is not None:
        changes["depths"] = parse_depths(args.depths)  # SpecError names the bad depth
    for name in ("train_size", "test_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise CliError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    for name in ("dataset", "device", "seed", "train_size", "test_size", "augment"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if args.image_size is not None:
        changes["image_size"] = parse_image_size(args.image_size)
    return changes


def parse_image_size(text: str) -> int | None:
    """``--image-size``: pixels (8 to 256), or None for 'native' (the nets' 32); CliError names ``text``."""
    cleaned = text.strip().lower()
    if cleaned in ("native", "none", "32"):
        return None
    from ..spec.params import whole_number

    size = whole_number(cleaned)  # ASCII digits only
    if size is None:
        raise CliError(f"--image-size: {text!r} is not a number of pixels or 'native'")
    if not 8 <= size <= 256:
        raise CliError(f"--image-size must be between 8 and 256 pixels, got {size}")
    return size



class EpochTable:
    """Collects the arms' epoch metrics and hands back a whole row once every arm reported it."""

    def __init__(self, labels: list[str]):
        self.labels = list(labels)
        self.ended: set[str] = set()
        self.rows: dict[int, dict[str, float]] = {}
        self.printed = 0

    def add(self, label: str, epoch: int, train_error: float) -> list[tuple[int, dict[str, float]]]:
        self.rows.setdefault(epoch, {})[label] = train_error
        return self._complete()

    def end(self, label: str) -> list[tuple[int, dict[str, float]]]:
        self.ended.add(label)
        return self._complete()

    def _complete(self):
        done = []
        while (self.printed + 1) in self.rows:
            row = self.rows[self.printed + 1]
            if not all(label in row or label in self.ended for label in self.labels):
                break
            self.printed += 1
            done.append((self.printed, row))
        return done
