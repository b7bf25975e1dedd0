"""Every training setting, declared once.

Each field of ``TrainSettings`` carries a ``Setting`` in its metadata: the words people
read (a form row's label and the word error messages and the run's header use), its type,
its range, its unit, its choices and a help sentence. From these come

- the command line's options (``cli/settings_options.py``: flag, type, choices, help),
- the training form's rows (``ui/training/setting_rows.py``: spin box range, suffix, tooltip),
- validation (``limits.check_ranges``: NaN, infinity and out-of-range values, each named),
- the run's header (``describe``: every value, with its unit),

so adding a setting is one field here plus the code that uses it. The named recipes that
fill these fields (the quick run, the paper's) are in ``train/recipes.py``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from ..spec.params import MAX_SEED  # noqa: F401 - the one rule for seeds (spec/params.py)

MAX_STEPS = 10 ** 9
MAX_EPOCHS = 10 ** 6
MAX_METRICS_EVERY = 100_000  # a buffer of this many floats lives on the device
MAX_IMAGES = 10 ** 9


@dataclass(frozen=True)
class Setting:
    """What one training setting is, for people and for the code that checks and shows it."""

    label: str  # the form row's label ("Learning rate")
    help: str  # one sentence: what it does
    kind: type = str  # int | float | bool | str (of the value when it is not None)
    word: str = ""  # the setting in sentences ("learning rate"); default: the label in lower case
    lo: float | None = None  # the range checked before a run (inclusive)
    hi: float | None = None
    unit: str = ""  # "epochs", "steps", "images": shown after the value
    choices: tuple[tuple[str, str], ...] = ()  # (value, words) for settings that take one of a few values
    none_means: str = ""  # what None (or, in a form, 0) stands for: "the whole set", "off"
    flag: str = ""  # the command-line option; default: --name-with-dashes ("-" alone: none)
    metavar: str = ""
    step: float = 1  # a form's spin step
    decimals: int = 0  # a form's decimals (floats)
    positive: bool = False  # above zero, not just at least ``lo``

    @property
    def sentence_word(self) -> str:
        return self.word or self.label.lower()


def setting(default, label: str, help: str, **meta):
    """A dataclass field whose metadata declares the setting (``kind`` from the default unless given)."""
    if "kind" not in meta:
        meta["kind"] = type(default)
    return field(default=default, metadata={"setting": Setting(label, help, **meta)})


@dataclass
class TrainSettings:
    dataset: str = setting(
        "shapes", "Dataset", "what to train on: shapes | digits | cifar10:PATH | cifar100:PATH | mnist:PATH | "
        "fashion-mnist:PATH | imagenette:PATH | folder:PATH, or a name fetched with `get` (cifar10, cifar100, "
        "mnist, fashion-mnist, imagenette)", metavar="D")
    train_size: int | None = setting(
        None, "Training images", "train on the first N images only", kind=int, word="train size",
        lo=1, hi=MAX_IMAGES, none_means="the whole set", unit="images", metavar="N", step=256)
    test_size: int | None = setting(
        None, "Test images", "measure the test error on the first N test images", kind=int, word="test size",
        lo=1, hi=MAX_IMAGES, none_means="the whole set", unit="images", metavar="N", step=256)
    epochs: int = setting(5, "Epochs", "epochs to train", lo=1, hi=MAX_EPOCHS, metavar="N")
    max_steps: int | None = setting(
        None, "Steps", "train for N steps instead of whole epochs", kind=int, word="steps", lo=1, hi=MAX_STEPS,
        none_means="whole epochs", flag="--steps", metavar="N")
    batch_size: int = setting(128, "Batch size", "images per step (per process under torchrun)",
                              lo=1, hi=MAX_IMAGES, metavar="B", step=16)
    optimizer: str = setting("sgd", "Optimizer", "the optimiser",
                             choices=(("sgd", "SGD"), ("adamw", "AdamW")))
    lr: float = setting(0.1, "Learning rate", "peak learning rate (after warm-up)", lo=0, hi=1e6, positive=True,
                        metavar="LR", step=0.01, decimals=6)
    momentum: float = setting(0.9, "Momentum", "SGD's momentum (AdamW does not use it)", lo=0, hi=1,
                              metavar="M", step=0.05, decimals=3)
    nesterov: bool = setting(False, "Nesterov", "Nesterov momentum (SGD)")
    weight_decay: float = setting(5e-4, "Weight decay", "L2 penalty on the weights (decoupled for AdamW)",
                                  lo=0, hi=1e3, metavar="WD", step=1e-4, decimals=6)
    schedule: str = setting("cosine", "Schedule", "how the learning rate changes over the run",
                            choices=(("cosine", "cosine"), ("multistep", "multi-step (÷10 at 50% and 75%)"),
                                     ("onecycle", "one-cycle"), ("constant", "constant")))
    warmup_epochs: float = setting(0.0, "Warm-up", "linear warm-up of the learning rate from near zero",
                                   lo=0, hi=MAX_EPOCHS, unit="epochs", flag="--warmup", metavar="EPOCHS",
                                   step=0.5, decimals=2)
    warmup_until: float = setting(
        0.0, "Warm-up until", "train at a tenth of the learning rate until the training error falls below this "
        "fraction, then at the full rate (He et al. 2015 warmed ResNet-110 up at 0.01 until its training error "
        "was below 80%, about 400 steps)", lo=0, hi=1, none_means="off", unit="training error",
        metavar="ERROR", step=0.05, decimals=2)
    # multistep: fractions of training where lr /= 10 (the paper's 32k and 48k of 64k steps)
    milestones: tuple[float, ...] = setting((0.5, 0.75), "Milestones", "multi-step: fractions of the run "
                                            "where the learning rate is divided by 10", kind=tuple, flag="-")
    label_smoothing: float = setting(0.0, "Label smoothing", "spread this much of each target over the "
                                     "other classes", lo=0, hi=0.999, metavar="E", step=0.05, decimals=3)
    augment: bool = setting(True, "Augmentation", "random crop with 4-pixel padding and horizontal flip")
    seed: int = setting(0, "Seed", "the seed of the initial weights and the data order", lo=0, hi=MAX_SEED,
                        metavar="S")
    device: str = setting("auto", "Device", "auto (cuda > mps > cpu) | cpu | cuda | cuda:N | mps", metavar="D")
    amp: str = setting("auto", "Mixed precision", "auto: bf16 on CUDA, off elsewhere", word="amp",
                       choices=(("auto", "auto"), ("bf16", "bf16"), ("off", "off")))
    channels_last: str = setting("auto", "Channels last", "memory layout (auto: channels last on CUDA)",
                                 word="channels_last", choices=(("auto", "auto"), ("on", "on"), ("off", "off")))
    compile: bool = setting(False, "Compile", "torch.compile the model (compiles before the first step)")
    metrics_every: int = setting(10, "Metrics every", "steps between reads of the on-device running sums "
                                 "(progress updates)", word="metrics_every", lo=1, hi=MAX_METRICS_EVERY,
                                 unit="steps", metavar="K")
    grad_every: int = setting(0, "Gradient flow every", "record per-block input-gradient norms every K steps",
                              word="grad_every", lo=0, hi=MAX_STEPS, unit="steps", none_means="off",
                              metavar="K", step=10)
    init_weights: str | None = setting(
        None, "Start from", "start from these weights: a torchvision state_dict, a weights file from "
        "import-weights, a training checkpoint (weights only; the optimizer starts fresh), or the name of weights "
        "fetched with `get` (resnet50). A head of another class count is replaced by a fresh one",
        none_means="a fresh random initialisation", metavar="FILE")
    freeze: str | None = setting(
        None, "Freeze", "train nothing up to and including UPTO: stem, stage1, stage2, ... (frozen BatchNorm "
        "layers keep their running statistics)", none_means="nothing", metavar="UPTO")
    normalise: str = setting("auto", "Normalise", "how input pixels are scaled: pretrained torchvision weights "
                             "expect ImageNet's mean and std",
                             # short: the settings column fits a 1280 px projector (the help says the rest)
                             choices=(("auto", "as the weights expect"),
                                      ("imagenet", "ImageNet's mean and std"),
                                      ("data", "the training images' own")))
    unreadable_images: str = setting(
        "skip", "Unreadable images", "a folder streamed from disk: skip an image that cannot be read and count it "
        "(the files are listed at the end and in the run's notes), or stop the run at the first one",
        choices=(("skip", "skip and count them"), ("stop", "stop the run at the first")))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["milestones"] = list(self.milestones)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "TrainSettings":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "milestones" in known:
            known["milestones"] = tuple(known["milestones"])
        return cls(**known)


def declared() -> dict[str, Setting]:
    """Field name -> its ``Setting``, in declaration order."""
    return {f.name: f.metadata["setting"] for f in fields(TrainSettings)}


def default_of(name: str):
    return TrainSettings.__dataclass_fields__[name].default


def value_text(name: str, value) -> str:
    """One setting's value as the header shows it: units, 'the whole set' for None, on/off."""
    meta = declared()[name]
    if value is None:
        return meta.none_means or "none"
    if meta.none_means == "off" and value == 0:
        return "off"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ", ".join(f"{v:g}" for v in value)
    if isinstance(value, int):
        text = f"{value:,}" if name != "seed" else str(value)
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    unit = meta.unit[:-1] if value == 1 and meta.unit.endswith("s") else meta.unit
    return f"{text} {unit}" if unit else text


def describe(s: TrainSettings, skip: tuple[str, ...] = ()) -> str:
    """Every value, in declaration order: 'dataset shapes, train size 4,000 images, ...'."""
    return ", ".join(f"{meta.sentence_word} {value_text(name, getattr(s, name))}"
                     for name, meta in declared().items() if name not in skip)
