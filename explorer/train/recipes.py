"""The named recipes, one table for the app, ``train`` and every experiment.

A recipe fills the optimiser's settings and the epochs; the two run sizes (quick, longer)
fill the data too. ``train`` with no options, and the window's Start, run the quick
recipe; ``--recipe NAME`` picks another in ``train`` and in every training experiment;
the training panel's Run size buttons are the recipes with a button; the degradation
experiment's Recipe box lists the ones with depths.

The quick run was chosen by measuring (``bench/bench_default_run.py``): ResNet-20 on 4,000
``shapes`` images for 4 epochs with AdamW reaches a few percent test error against 90% for
guessing, its loss visibly falls within the first seconds, and the whole run costs under a
minute of one CPU core. In trials on 3,000 images for 3 epochs (batch 32, no augmentation),
SGD at 0.05 ended at 85% test error where AdamW at 0.002 reached 43%, and augmentation slows
the first epochs, so the quick run uses AdamW without it. The longer run trains on the whole
set with augmentation, for when there is time (or a GPU).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from .settings import TrainSettings, value_text

# the fields a recipe sets for whatever it trains (an experiment's own data stays its own)
OPTIMISER_FIELDS = ("optimizer", "lr", "momentum", "weight_decay", "schedule", "warmup_epochs", "batch_size",
                    "epochs")
# the fields only a run size sets: the data (the experiments choose their own)
DATA_FIELDS = ("dataset", "train_size", "test_size", "augment")


@dataclass(frozen=True)
class Recipe:
    name: str
    title: str  # who it is for, in a few words
    settings: dict  # TrainSettings fields: the OPTIMISER_FIELDS, and for a run size the DATA_FIELDS
    depths: tuple[int, ...] = ()  # the depths the degradation experiment compares with it
    button: str = ""  # the training panel's Run size button ("" for none)

    def optimiser(self) -> dict:
        return {k: v for k, v in self.settings.items() if k in OPTIMISER_FIELDS}

    def data(self) -> dict:
        return {k: v for k, v in self.settings.items() if k in DATA_FIELDS}

    def text(self, data: bool = True, depths: bool = True) -> str:
        """The recipe's values in one line: 'AdamW lr 0.003, weight decay 0.0001, ..., 4 epochs' (with
        ``data`` its data, with ``depths`` its depths)."""
        s = self.settings
        opt = "AdamW" if s["optimizer"] == "adamw" else "SGD"
        parts = [f"{opt} lr {s['lr']:g}"]
        if s["optimizer"] == "sgd":
            parts.append(f"momentum {s['momentum']:g}")
        parts += [f"weight decay {s['weight_decay']:g}", s["schedule"]]
        if s.get("warmup_epochs"):
            parts.append(f"warm-up {value_text('warmup_epochs', s['warmup_epochs'])}")
        parts += [f"batch {s['batch_size']}", f"{s['epochs']} epochs"]
        if data and "dataset" in s:
            parts.append(f"{s['dataset']}, {value_text('train_size', s['train_size'])}")
            parts.append("with augmentation" if s["augment"] else "without augmentation")
        if depths and self.depths:
            parts.append(f"depths {' and '.join(map(str, self.depths))}")
        return ", ".join(parts)


_SGD = dict(optimizer="sgd", momentum=0.9, schedule="cosine", warmup_epochs=0.0, batch_size=128)
RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("quick", "the quick run: about a minute on a laptop CPU, for a lesson",
           dict(optimizer="adamw", lr=0.003, momentum=0.9, weight_decay=1e-4, schedule="cosine", warmup_epochs=0.0,
                batch_size=32, epochs=4, dataset="shapes", train_size=4_000, test_size=1_000, augment=False),
           button="Quick run"),
    Recipe("longer", "the longer run: many minutes on a CPU, for when there is time or a GPU",
           dict(optimizer="adamw", lr=0.002, momentum=0.9, weight_decay=5e-4, schedule="cosine", warmup_epochs=1.0,
                batch_size=64, epochs=15, dataset="shapes", train_size=None, test_size=2_000, augment=True),
           button="Longer run"),
    # He et al. 2016's CIFAR recipe (cosine instead of steps), at the depths of their figure
    Recipe("paper", "He et al. 2016", dict(_SGD, lr=0.1, weight_decay=1e-4, epochs=30), depths=(20, 56)),
    # the lessons' exercise: plain and residual nets at 8 and 20 layers, compared on test accuracy
    Recipe("lesson", "the lessons' exercise", dict(_SGD, lr=0.1, weight_decay=5e-4, epochs=30), depths=(8, 20)),
)}
DEFAULT_RECIPE = "quick"  # train with no options, and the window's Start


def recipe(name: str) -> Recipe:
    """The recipe ``name``; ``TrainingError`` lists the names when there is none."""
    if name not in RECIPES:
        from .api import TrainingError  # (only here: building the CLI's parser must not load NumPy)

        raise TrainingError(f"unknown recipe {name!r}; expected {', '.join(RECIPES)}")
    return RECIPES[name]


def apply(name: str, base: TrainSettings | None = None, data: bool = True) -> TrainSettings:
    """``base`` (default: ``TrainSettings()``) with the recipe's fields (``data``: its data fields too)."""
    r = recipe(name)
    return replace(base if base is not None else TrainSettings(), **(r.settings if data else r.optimiser()))


def for_experiment(name: str, settings, depths: bool = False):
    """An experiment's settings dataclass with the recipe's optimiser and epochs (the fields it has),
    its ``recipe`` set to ``name``, and with ``depths`` the recipe's depths where it names some."""
    r = recipe(name)
    have = {f.name for f in fields(settings)}
    changes = {k: v for k, v in r.optimiser().items() if k in have}
    if "recipe" in have:
        changes["recipe"] = name
    if depths and r.depths and "depths" in have:
        changes["depths"] = r.depths
    return replace(settings, **changes)
