"""The training settings as a form: reads and writes ``TrainSettings``.

Defaults suit a lesson on a laptop CPU: the quick run (``train.lesson``) trains ResNet-20
on 4,000 ``shapes`` images in about a minute, its loss falling within seconds; the
"Longer run" button sets the bigger run in one click, and every value shows in its field. Choices that need something this machine lacks (a GPU kind, TensorBoard) are
left out or greyed with a tooltip that says why.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import replace

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QWidget)

from ...train.api import TrainSettings
from ...train.lesson import LONGER_RUN, QUICK_RUN, lesson_settings

# (label, dataset kind, needs a folder)
DATASETS = (
    ("shapes (procedural, instant)", "shapes", False),
    ("digits (scikit-learn)", "digits", False),
    ("CIFAR-10 from disk…", "cifar10", True),
    ("CIFAR-100 from disk…", "cifar100", True),
    ("MNIST from disk…", "mnist", True),
    ("Fashion-MNIST from disk…", "fashion-mnist", True),
    ("Image folder (one folder per class)…", "folder", True),
)
OPTIMIZERS = (("SGD (momentum 0.9)", "sgd"), ("AdamW", "adamw"))
FREEZE_CHOICES = (("nothing (train every layer)", None), ("the stem", "stem"),
                  ("the stem and stage 1", "stage1"), ("up to stage 2", "stage2"), ("up to stage 3", "stage3"),
                  ("up to stage 4", "stage4"))
NORMALISE_CHOICES = (("as the weights expect (ImageNet's for torchvision files)", "auto"),
                     ("ImageNet's mean and std", "imagenet"), ("the training images' own", "data"))
SCHEDULES = (("cosine", "cosine"), ("multi-step (÷10 at 50% and 75%)", "multistep"),
             ("one-cycle", "onecycle"), ("constant", "constant"))


def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def available_accelerators() -> list[tuple[str, str]]:
    """(label, value) pairs for the accelerators this machine has (CUDA devices, Apple MPS)."""
    devices = []
    import torch

    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        for i in range(count):
            name = torch.cuda.get_device_name(i)
            devices.append((f"CUDA {i}: {name}", "cuda" if count == 1 else f"cuda:{i}"))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append(("Apple MPS", "mps"))
    return devices


def _run_size_tip(name: str, fields: dict) -> str:
    images = "the whole set" if fields["train_size"] is None else f"{fields['train_size']:,} images"
    what = ("about a minute on a laptop CPU: for a lesson" if name == "quick"
            else "many minutes on a CPU: when there is time, or a GPU")
    aug = "with" if fields["augment"] else "without"
    return (f"{images}, {fields['epochs']} epochs, batch {fields['batch_size']}, {fields['optimizer']} "
            f"lr {fields['lr']:g}, {aug} augmentation ({what})")


def _spin(lo: int, hi: int, value: int, step: int = 1, special: str | None = None) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setValue(value)
    box.setAccelerated(True)
    if special:
        box.setSpecialValueText(special)
    return box


def _dspin(lo: float, hi: float, value: float, decimals: int, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    return box


class TrainingSettingsForm(QWidget):
    """Every knob of ``TrainSettings`` a user sets by hand; ``settings()`` reads them."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)

        self.dataset = QComboBox()
        for label, kind, _ in DATASETS:
            self.dataset.addItem(label, kind)
        self.dataset.setToolTip("What to train on. Nothing is downloaded: the 'from disk' sets read "
                                "files you already have.")
        form.addRow("Dataset", self.dataset)

        self.folder = QLineEdit()
        self.folder.setPlaceholderText("folder with the dataset's files")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.setContentsMargins(0, 0, 0, 0)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)
        self._folder_widget = QWidget()
        self._folder_widget.setLayout(folder_row)
        form.addRow("Folder", self._folder_widget)
        self._add_start_rows(form)

        self.quick_button = QPushButton("Quick run")
        self.quick_button.setToolTip(_run_size_tip("quick", QUICK_RUN))
        self.longer_button = QPushButton("Longer run")
        self.longer_button.setToolTip(_run_size_tip("longer", LONGER_RUN))
        self.quick_button.clicked.connect(lambda: self.use_run_size("quick"))
        self.longer_button.clicked.connect(lambda: self.use_run_size("longer"))
        sizes = QHBoxLayout()
        sizes.setContentsMargins(0, 0, 0, 0)
        sizes.addWidget(self.quick_button)
        sizes.addWidget(self.longer_button)
        self._sizes_widget = QWidget()
        self._sizes_widget.setLayout(sizes)
        form.addRow("Run size", self._sizes_widget)

        self.train_size = _spin(0, 10_000_000, 0, 256, special="whole set")
        self.train_size.setToolTip("Train on the first N images only (a quick look); 'whole set' uses all.")
        form.addRow("Training images", self.train_size)
        self.test_size = _spin(0, 10_000_000, 0, 256, special="whole set")
        self.test_size.setToolTip("Measure the test error on the first N test images; 'whole set' uses all.")
        form.addRow("Test images", self.test_size)
        self.epochs = _spin(1, 10_000, 5)
        form.addRow("Epochs", self.epochs)
        self.batch_size = _spin(1, 65_536, 128, 16)
        form.addRow("Batch size", self.batch_size)
        self.lr = _dspin(1e-6, 1e4, 0.1, 6, 0.01)
        self.lr.setToolTip("Peak learning rate (after warm-up).")
        form.addRow("Learning rate", self.lr)
        self.optimizer = QComboBox()
        for label, value in OPTIMIZERS:
            self.optimizer.addItem(label, value)
        form.addRow("Optimizer", self.optimizer)
        self.schedule = QComboBox()
        for label, value in SCHEDULES:
            self.schedule.addItem(label, value)
        form.addRow("Schedule", self.schedule)
        self.warmup = _dspin(0.0, 1000.0, 0.0, 2, 0.5)
        self.warmup.setSuffix(" epochs")
        self.warmup.setToolTip("Linear warm-up of the learning rate from near zero.")
        form.addRow("Warm-up", self.warmup)
        self.weight_decay = _dspin(0.0, 1.0, 5e-4, 6, 1e-4)
        form.addRow("Weight decay", self.weight_decay)
        self.label_smoothing = _dspin(0.0, 0.5, 0.0, 3, 0.05)
        form.addRow("Label smoothing", self.label_smoothing)
        self.augment = QCheckBox("random crop + horizontal flip")
        self.augment.setChecked(True)
        form.addRow("Augmentation", self.augment)
        self.seed = _spin(0, 2**31 - 1, 0)
        form.addRow("Seed", self.seed)
        self.device = QComboBox()
        self.device.addItem("auto (best available)", "auto")
        self.device.addItem("CPU", "cpu")
        self.device.setToolTip("auto picks CUDA, then Apple MPS, then the CPU")
        form.addRow("Device", self.device)
        self._looked_for_accelerators = False
        # finding accelerators needs torch: look once the window is up, not while it opens
        QTimer.singleShot(0, self._add_accelerators)
        # On by default in the window so the gradient heatmap streams (k = 10 keeps its cost small).
        self.grad_every = _spin(0, 1_000_000, 10, 10, special="off")
        self.grad_every.setSuffix(" steps")
        self.grad_every.setToolTip("Record the gradient reaching every block's input every k steps "
                                   "(the gradient-flow heatmap); 'off' records none.")
        form.addRow("Gradient flow every", self.grad_every)
        self.compile = QCheckBox("torch.compile the model")
        self.compile.setToolTip("Compiles before the first step (takes a while); faster on GPUs.")
        form.addRow("Compile", self.compile)

        self.tensorboard = QCheckBox("log to TensorBoard")
        if tensorboard_available():
            self.tensorboard.setToolTip("Write TensorBoard event files under runs/ next to the app's "
                                        "working folder.")
        else:
            self.tensorboard.setEnabled(False)
            self.tensorboard.setToolTip("TensorBoard is not installed: `pip install tensorboard` "
                                        "and restart to log runs for it.")
        form.addRow("Logging", self.tensorboard)

        self.dataset.currentIndexChanged.connect(self._on_dataset)
        for box in (self.train_size, self.test_size, self.epochs, self.batch_size, self.seed, self.grad_every):
            box.valueChanged.connect(self.changed)
        for box in (self.lr, self.warmup, self.weight_decay, self.label_smoothing):
            box.valueChanged.connect(self.changed)
        for box in (self.optimizer, self.schedule, self.device, self.dataset):
            box.currentIndexChanged.connect(self.changed)
        for box in (self.augment, self.compile, self.tensorboard):
            box.toggled.connect(self.changed)
        self.folder.textChanged.connect(self.changed)
        self.init_weights.textChanged.connect(self.changed)
        self.init_weights.textChanged.connect(self._on_init_weights)
        for box in (self.freeze, self.normalise):
            box.currentIndexChanged.connect(self.changed)
        self._base = TrainSettings()
        self._on_init_weights()
        self._on_dataset()
        # the quick run, stated field by field (gradient recording stays on, as set above)
        self.set_settings(lesson_settings("quick", replace(TrainSettings(), grad_every=self.grad_every.value())))

    # -- reading and writing ------------------------------------------------------
    def dataset_name(self) -> str:
        kind = self.dataset.currentData()
        needs_folder = DATASETS[self.dataset.currentIndex()][2]
        return f"{kind}:{self.folder.text().strip()}" if needs_folder else kind

    def settings(self) -> TrainSettings:
        self._add_accelerators()  # a run may start before the deferred look (tests, scripts)
        device = self.device.currentData()
        on_cpu = device == "cpu" or (device == "auto" and self.device.count() == 2)
        # fields without a control here (test_size, momentum, max_steps...) keep the values
        # last given to set_settings
        return replace(
            self._base,
            dataset=self.dataset_name(),
            train_size=self.train_size.value() or None,
            test_size=self.test_size.value() or None,
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            optimizer=self.optimizer.currentData(),
            lr=self.lr.value(),
            weight_decay=self.weight_decay.value(),
            schedule=self.schedule.currentData(),
            warmup_epochs=self.warmup.value(),
            label_smoothing=self.label_smoothing.value(),
            augment=self.augment.isChecked(),
            seed=self.seed.value(),
            device=device,
            compile=self.compile.isChecked(),
            grad_every=self.grad_every.value(),
            init_weights=os.path.expanduser(self.init_weights.text().strip()) or None,
            freeze=self.freeze.currentData() if self.init_weights.text().strip() else None,
            normalise=self.normalise.currentData(),
            # CPU steps are slow and reading the loss costs nothing there: show every step.
            # On an accelerator read the on-device sums every 10 steps to avoid syncs.
            metrics_every=1 if on_cpu else 10,
        )

    def set_settings(self, s: TrainSettings) -> None:
        self._base = s
        self._add_accelerators()
        kind, _, path = s.dataset.partition(":")
        index = self.dataset.findData(kind)
        self.dataset.setCurrentIndex(max(index, 0))
        self.folder.setText(path)
        self.train_size.setValue(s.train_size or 0)
        self.test_size.setValue(s.test_size or 0)
        self.epochs.setValue(s.epochs)
        self.batch_size.setValue(s.batch_size)
        self.lr.setValue(s.lr)
        self.optimizer.setCurrentIndex(max(self.optimizer.findData(s.optimizer), 0))
        self.schedule.setCurrentIndex(max(self.schedule.findData(s.schedule), 0))
        self.warmup.setValue(s.warmup_epochs)
        self.weight_decay.setValue(s.weight_decay)
        self.label_smoothing.setValue(s.label_smoothing)
        self.augment.setChecked(s.augment)
        self.seed.setValue(s.seed)
        self.device.setCurrentIndex(max(self.device.findData(s.device), 0))
        self.grad_every.setValue(s.grad_every)
        self.compile.setChecked(s.compile)
        self.init_weights.setText(s.init_weights or "")
        self.freeze.setCurrentIndex(max(self.freeze.findData(s.freeze), 0))
        self.normalise.setCurrentIndex(max(self.normalise.findData(s.normalise), 0))

    def use_run_size(self, size: str) -> None:
        """The quick or the longer run's data, epochs and optimiser; everything else stays."""
        self.set_settings(lesson_settings(size, self.settings()))

    def wants_tensorboard(self) -> bool:
        return self.tensorboard.isEnabled() and self.tensorboard.isChecked()

    def problem(self) -> str | None:
        """Why these settings cannot start a run (None when they can)."""
        weights = self.init_weights.text().strip()
        if weights and not os.path.isfile(os.path.expanduser(weights)):
            return f"Start from: {weights} is not a file."
        if DATASETS[self.dataset.currentIndex()][2]:
            folder = self.folder.text().strip()
            label = DATASETS[self.dataset.currentIndex()][0].removesuffix("…")
            if not folder:
                return f"{label}: choose the folder that holds its files."
        return None

    # -- starting from pretrained weights -------------------------------------------
    def _add_start_rows(self, form: QFormLayout) -> None:
        self.init_weights = QLineEdit()
        self.init_weights.setPlaceholderText("a fresh random initialisation")
        self.init_weights.setToolTip("Fine-tune: start from these weights (a torchvision state_dict, a weights "
                                     "file from import-weights or a training checkpoint). A head with another "
                                     "class count is replaced by a fresh one.")
        self.start_button = QPushButton("Start from weights…")
        self.start_button.clicked.connect(self._choose_weights)
        self.clear_weights = QPushButton("Clear")
        self.clear_weights.setToolTip("Start from a fresh random initialisation again")
        self.clear_weights.clicked.connect(self.init_weights.clear)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.init_weights, 1)
        row.addWidget(self.start_button)
        row.addWidget(self.clear_weights)
        holder = QWidget()
        holder.setLayout(row)
        form.addRow("Start from", holder)
        self.freeze = QComboBox()
        for label, value in FREEZE_CHOICES:
            self.freeze.addItem(label, value)
        self.freeze.setToolTip("Frozen parts get no gradient and their BatchNorm layers keep the statistics "
                               "of the weights.")
        form.addRow("Freeze", self.freeze)
        self.normalise = QComboBox()
        for label, value in NORMALISE_CHOICES:
            self.normalise.addItem(label, value)
        self.normalise.setToolTip("How input pixels are scaled: pretrained torchvision weights expect "
                                  "ImageNet's mean and std.")
        form.addRow("Normalise", self.normalise)

    @Slot()
    def _choose_weights(self) -> None:
        start = self.init_weights.text().strip() or os.path.expanduser("~")
        path, _ = QFileDialog.getOpenFileName(self, "Start from weights", start,
                                              "Weights (*.pth *.pt *.ckpt);;All files (*)")
        if path:
            self.init_weights.setText(path)

    @Slot()
    def _on_init_weights(self) -> None:
        on = bool(self.init_weights.text().strip())
        self.clear_weights.setEnabled(on)
        self.freeze.setEnabled(on)
        if not on:
            self.freeze.setCurrentIndex(0)

    # -- reactions ----------------------------------------------------------------
    @Slot()
    def _add_accelerators(self) -> None:
        if self._looked_for_accelerators:
            return
        self._looked_for_accelerators = True
        for label, value in available_accelerators():
            self.device.addItem(label, value)
        wanted = self._base.device
        if self.device.currentData() != wanted and self.device.findData(wanted) >= 0:
            self.device.setCurrentIndex(self.device.findData(wanted))

    @Slot()
    def _on_dataset(self) -> None:
        needs_folder = DATASETS[self.dataset.currentIndex()][2]
        self._folder_widget.setEnabled(needs_folder)
        self.folder.setPlaceholderText("folder with the dataset's files" if needs_folder else "not needed")

    @Slot()
    def _browse(self) -> None:
        start = self.folder.text().strip() or os.path.expanduser("~")
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", start)
        if folder:
            self.folder.setText(folder)
