"""He et al. 2015's published results, as a labelled reference beside what a run measured.

The figures are quoted from the paper ("Deep Residual Learning for Image Recognition",
He, Zhang, Ren and Sun, CVPR 2016; arXiv:1512.03385), each with its table, dataset and
recipe. They are never mixed with measurements: the words quote them as the paper's
(``Words.lesson`` with a ``source``), and compare a run with them only where the run's
dataset and recipe match the paper's (``mismatches`` says what differs otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass

from .claims import Compare, Count, Named, Words

SOURCE = "He et al. 2015 (arXiv:1512.03385)"
# what ``mismatches`` checks: dataset, image size, training images, augmentation, learning rate,
# momentum, weight decay, batch, schedule, epochs
CONDITIONS = 10
COMPARE_POINTS = 0.01  # a run "matches" the paper within 1 point of test error


@dataclass(frozen=True)
class Reference:
    source: str  # table or figure
    dataset: str
    metric: str
    recipe: str
    values: dict  # net name -> error (a fraction)


# Table 6: CIFAR-10 test error (%) of the CIFAR ResNets (110: the best of 5 runs; mean 6.61 +- 0.16)
CIFAR_TABLE6 = Reference(
    "Table 6", "CIFAR-10 (50k training images, 32x32, 10k test images)", "test error",
    "SGD 0.1, momentum 0.9, weight decay 1e-4, batch 128, learning rate / 10 at 32k and 48k iterations, "
    "stop at 64k (about 164 epochs); 4-pixel padding, random 32x32 crop and flip; ResNet-110 starts at 0.01 "
    "until the training error is below 80% (about 400 iterations)",
    {"ResNet-20": 0.0875, "ResNet-32": 0.0751, "ResNet-44": 0.0717, "ResNet-56": 0.0697, "ResNet-110": 0.0643,
     "ResNet-1202": 0.0793})

# Table 2: ImageNet top-1 error (%, 10-crop testing) of the 18- and 34-layer nets
IMAGENET_TABLE2 = Reference(
    "Table 2", "ImageNet (1.28M training images, 224x224, the 50k validation images)", "top-1 error (10-crop)",
    "SGD 0.1, momentum 0.9, weight decay 1e-4, batch 256, learning rate / 10 when the error plateaus, up to "
    "60e4 iterations; scale and colour augmentation",
    {"plain-18": 0.2794, "plain-34": 0.2854, "ResNet-18": 0.2788, "ResNet-34": 0.2503})

# Fig. 6 (left): the CIFAR-10 plain nets' training error ends higher the deeper the net
PLAIN_ORDER_FIG6 = ("plain-20", "plain-32", "plain-44", "plain-56")


def cifar_depths() -> list[int]:
    return [int(name.split("-")[1]) for name in CIFAR_TABLE6.values]


def paper_series() -> list[tuple[int, float]]:
    """(depth, test error) of Table 6, shallow first: the reference series a depth plot draws."""
    return sorted((int(name.split("-")[1]), err) for name, err in CIFAR_TABLE6.values.items())


def mismatches(settings) -> list[str]:
    """How a degradation or depth-sweep run's dataset and recipe differ from Table 6's (empty: they match).

    ``settings``: anything with dataset, image_size, augment, lr, momentum, weight_decay, batch_size,
    schedule, epochs and train_size (``DegradationSettings``, ``SweepSettings``).
    """
    out = []
    dataset = str(getattr(settings, "dataset", "")).lower()
    if not dataset.startswith("cifar10:") and dataset != "cifar10":
        out.append(f"dataset {getattr(settings, 'dataset', '?')} (the paper: CIFAR-10)")
    size = getattr(settings, "image_size", None)
    if size not in (None, 32):
        out.append(f"images {size}x{size} (the paper: 32x32)")
    train = getattr(settings, "train_size", None)
    if train is not None and train < 45_000:
        out.append(f"{train:,} training images (the paper: 50,000)")
    if not getattr(settings, "augment", False):
        out.append("no augmentation (the paper: padding, random crop and flip)")
    expected = (("lr", 0.1, "learning rate"), ("momentum", 0.9, "momentum"), ("weight_decay", 1e-4, "weight decay"),
                ("batch_size", 128, "batch"))
    for name, value, words in expected:
        got = getattr(settings, name, None)
        if got != value:
            out.append(f"{words} {got:g} (the paper: {value:g})" if isinstance(got, (int, float))
                       else f"{words} {got} (the paper: {value:g})")
    schedule = getattr(settings, "schedule", None)
    if schedule != "multistep":
        out.append(f"{schedule} schedule (the paper: steps of /10 at half and three quarters)")
    epochs = getattr(settings, "epochs", 0) or 0
    if not 150 <= epochs <= 200:
        out.append(f"{epochs} epochs (the paper: 64k iterations, about 164 epochs)")
    return out


def imagenet_and_plain_words() -> Words:
    """The paper's other degradation evidence, quoted as the paper's: ImageNet's Table 2 and CIFAR-10's Fig. 6."""
    w = Words()
    t2 = IMAGENET_TABLE2
    listing = ", ".join(f"{name} {100 * err:.2f}%" for name, err in t2.values.items())
    w.lesson(f"The paper's ImageNet {t2.metric} ({SOURCE}, {t2.source}): {listing}; there the 34-layer plain net "
             "ended higher than the 18-layer one, and ResNet-34 lower than ResNet-18.", source=f"{SOURCE}, {t2.source}")
    w.lesson(f"In the paper's Fig. 6 (CIFAR-10, the recipe of Table 6) the plain nets' training error ends higher "
             f"the deeper the net: {' < '.join(PLAIN_ORDER_FIG6)}.", source=f"{SOURCE}, Fig. 6")
    return w


def paper_words(settings, test_errors: dict) -> Words:
    """The paper's Table 6 beside a run: quoted as the paper's, and compared with the run's test
    errors (``{"ResNet-56": 0.071, ...}``) only where the run's dataset and recipe match.

    Every comparison is a claim; the quoted figures are marked as the paper's text.
    """
    w = Words()
    ref = CIFAR_TABLE6
    listing = ", ".join(f"{name} {100 * err:.2f}%" for name, err in ref.values.items())
    w.lesson(f"The paper's CIFAR-10 test error ({SOURCE}, {ref.source}): {listing}; trained with {ref.recipe}.",
             source=f"{SOURCE}, {ref.source}")
    shared = [name for name in ref.values if name in test_errors]
    if not shared:
        return w
    differ = mismatches(settings)
    if differ:
        w.say(f"This run is not compared with the paper: it differs in {len(differ)} of the {CONDITIONS} "
              f"conditions checked ({'; '.join(differ)}).",
              Count(len(differ), CONDITIONS, "recipe conditions that differ from the paper's"))
        return w
    for name in shared:
        c = Compare(Named(f"this run's {name}", test_errors[name]), Named(f"the paper's {name}", ref.values[name]),
                    COMPARE_POINTS)
        w.say(f"{name} ended at {100 * test_errors[name]:.2f}% test error, "
              f"{c.pick('more than 1 point above', 'more than 1 point below', 'within 1 point of')} the paper's "
              f"{100 * ref.values[name]:.2f}%.", c)
    return w
