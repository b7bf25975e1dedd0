"""The training settings as a form: reads and writes ``TrainSettings``.

Most rows are made from the settings' declarations (``setting_rows``: range, unit, tooltip,
choices); the dataset with its folder, the starting weights, the frozen part and the device
are built here. Defaults suit a lesson on a laptop CPU: the quick recipe
(``train/recipes.py``, the same as ``train`` with no options) trains ResNet-20 on 4,000
``shapes`` images in about a minute, its loss falling within seconds; the Run size buttons
are the recipes that have one, and every value shows in its field. Choices that need
something this machine lacks (a GPU kind, TensorBoard) are left out or greyed with a tooltip
that says why.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import replace

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit,
                               QPushButton, QWidget)

from ... import downloads
from ...train.api import TrainSettings
from ...train.recipes import DEFAULT_RECIPE, RECIPES, apply
from ..download_dialog import download_button
from .setting_rows import SettingRow

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
FREEZE_CHOICES = (("nothing (train every layer)", None), ("the stem", "stem"),
                  ("the stem and stage 1", "stage1"), ("up to stage 2", "stage2"), ("up to stage 3", "stage3"),
                  ("up to stage 4", "stage4"))
# the rows made from the declarations, in the form's order: (before the device, after it)
DECLARED_ROWS = ("train_size", "test_size", "epochs", "batch_size", "lr", "optimizer", "momentum", "schedule",
                 "warmup_epochs", "weight_decay", "label_smoothing", "augment", "seed")
DECLARED_ROWS_AFTER_DEVICE = ("grad_every", "compile", "unreadable_images")
GRAD_EVERY_IN_THE_WINDOW = 10  # the gradient heatmap streams by default; every 10 steps keeps it cheap


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


class TrainingSettingsForm(QWidget):
    """Every knob of ``TrainSettings`` a user sets by hand; ``settings()`` reads them."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.rows: dict[str, SettingRow] = {}  # the rows made from the settings' declarations

        self.dataset = QComboBox()
        self._choices = list(DATASETS)  # (label, kind, needs a folder), one per item of the combo
        for label, kind, _ in DATASETS:
            self.dataset.addItem(label, kind)
        self.dataset.setToolTip("What to train on. The 'from disk' sets read files you already have; "
                                "Download… fetches CIFAR, MNIST, Fashion-MNIST or Imagenette once, and they "
                                "are listed here by name from then on.")
        self.download_data = download_button("dataset", self._on_dataset_fetched, self._chosen_download, self)
        data_row = QHBoxLayout()
        data_row.setContentsMargins(0, 0, 0, 0)
        data_row.addWidget(self.dataset, 1)
        data_row.addWidget(self.download_data)
        form.addRow("Dataset", data_row)
        self._list_downloaded()

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

        self.run_size_buttons: dict[str, QPushButton] = {}  # recipe name -> its Run size button
        sizes = QHBoxLayout()
        sizes.setContentsMargins(0, 0, 0, 0)
        for r in RECIPES.values():
            if r.button:
                button = QPushButton(r.button)
                button.setToolTip(f"{r.title[:1].upper()}{r.title[1:]}: {r.text()}")
                button.clicked.connect(lambda _=False, name=r.name: self.use_run_size(name))
                sizes.addWidget(button)
                self.run_size_buttons[r.name] = button
        self._sizes_widget = QWidget()
        self._sizes_widget.setLayout(sizes)
        form.addRow("Run size", self._sizes_widget)

        self._add_declared_rows(form, DECLARED_ROWS)
        self.device = QComboBox()
        self.device.addItem("auto (best available)", "auto")
        self.device.addItem("CPU", "cpu")
        self.device.setToolTip("auto picks CUDA, then Apple MPS, then the CPU")
        form.addRow("Device", self.device)
        self._looked_for_accelerators = False
        # finding accelerators needs torch: look once the window is up, not while it opens
        QTimer.singleShot(0, self._add_accelerators)
        self._add_declared_rows(form, DECLARED_ROWS_AFTER_DEVICE)

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
        self.rows["optimizer"].connect(self._on_optimizer)
        for row in self.rows.values():
            row.connect(self.changed.emit)
        for box in (self.device, self.dataset, self.freeze):
            box.currentIndexChanged.connect(self.changed)
        self.tensorboard.toggled.connect(self.changed)
        self.folder.textChanged.connect(self.changed)
        self.init_weights.textChanged.connect(self.changed)
        self.init_weights.textChanged.connect(self._on_init_weights)
        self._base = TrainSettings()
        self._on_init_weights()
        self._on_dataset()
        self._on_optimizer()
        # the quick run, stated field by field (gradient recording on, for the heatmap)
        self.set_settings(apply(DEFAULT_RECIPE, replace(TrainSettings(), grad_every=GRAD_EVERY_IN_THE_WINDOW)))

    def _add_declared_rows(self, form: QFormLayout, names) -> None:
        for name in names:
            row = self.rows[name] = SettingRow(name)
            form.addRow(row.label, row.widget)

    # -- reading and writing ------------------------------------------------------
    def dataset_name(self) -> str:
        kind = self.dataset.currentData()
        needs_folder = self._choices[self.dataset.currentIndex()][2]
        return f"{kind}:{self.folder.text().strip()}" if needs_folder else kind

    def _list_downloaded(self) -> None:
        """A choice per dataset fetched with Download… (or `get`), by name, after the built-in ones."""
        for name in downloads.ready_names("dataset"):
            if not any(kind == name and not folder for _, kind, folder in self._choices):
                label = f"{name} (downloaded)"
                self._choices.append((label, name, False))
                self.dataset.addItem(label, name)

    def _index_of(self, kind: str, with_folder: bool) -> int:
        for i, (_, k, folder) in enumerate(self._choices):
            if k == kind and folder == with_folder:
                return i
        return next((i for i, (_, k, _f) in enumerate(self._choices) if k == kind), -1)

    def _chosen_download(self) -> str | None:
        kind = self.dataset.currentData()
        return kind if kind in downloads.DATASETS else None

    @Slot(str)
    def _on_dataset_fetched(self, name: str) -> None:
        self._list_downloaded()
        self.dataset.setCurrentIndex(self._index_of(name, False))

    @Slot(str)
    def _on_weights_fetched(self, name: str) -> None:
        self.init_weights.setText(name)

    def settings(self) -> TrainSettings:
        self._add_accelerators()  # a run may start before the deferred look (tests, scripts)
        device = self.device.currentData()
        on_cpu = device == "cpu" or (device == "auto" and self.device.count() == 2)
        # fields without a row here (max_steps, nesterov, amp...) keep the values last given to set_settings
        return replace(
            self._base,
            **{name: row.value() for name, row in self.rows.items()},
            dataset=self.dataset_name(),
            device=device,
            init_weights=os.path.expanduser(self.init_weights.text().strip()) or None,
            freeze=self.freeze.currentData() if self.init_weights.text().strip() else None,
            # CPU steps are slow and reading the loss costs nothing there: show every step.
            # On an accelerator read the on-device sums every 10 steps to avoid syncs.
            metrics_every=1 if on_cpu else 10,
        )

    def set_settings(self, s: TrainSettings) -> None:
        self._base = s
        self._add_accelerators()
        kind, _, path = s.dataset.partition(":")
        self._list_downloaded()
        index = self._index_of(kind, bool(path))
        self.dataset.setCurrentIndex(max(index, 0))
        self.folder.setText(path)
        for name, row in self.rows.items():
            row.set_value(getattr(s, name))
        self.device.setCurrentIndex(max(self.device.findData(s.device), 0))
        self.init_weights.setText(s.init_weights or "")
        self.freeze.setCurrentIndex(max(self.freeze.findData(s.freeze), 0))

    def use_run_size(self, name: str) -> None:
        """The recipe ``name``'s data, epochs and optimiser (``train --recipe NAME``); everything else stays."""
        self.set_settings(apply(name, self.settings()))

    def wants_tensorboard(self) -> bool:
        return self.tensorboard.isEnabled() and self.tensorboard.isChecked()

    def problem(self) -> str | None:
        """Why these settings cannot start a run (None when they can)."""
        weights = self.init_weights.text().strip()
        if weights:
            try:  # a name fetched with Download… (resnet50) stands for its file
                found = downloads.resolve_weights(os.path.expanduser(weights))
            except FileNotFoundError as err:
                return f"Start from: {err}."
            if not os.path.isfile(found):
                return f"Start from: {weights} is not a file."
        if self._choices[self.dataset.currentIndex()][2]:
            folder = self.folder.text().strip()
            label = self._choices[self.dataset.currentIndex()][0].removesuffix("…")
            if not folder:
                return f"{label}: choose the folder that holds its files."
        return None

    # -- starting from pretrained weights -------------------------------------------
    def _add_start_rows(self, form: QFormLayout) -> None:
        self.init_weights = QLineEdit()
        self.init_weights.setPlaceholderText("a fresh random initialisation")
        self.init_weights.setToolTip("Fine-tune: start from these weights (a torchvision state_dict, a weights "
                                     "file from import-weights, a training checkpoint, or the name of weights "
                                     "fetched with Download…, like resnet50). A head with another class count is "
                                     "replaced by a fresh one.")
        self.start_button = QPushButton("Start from weights…")
        self.start_button.clicked.connect(self._choose_weights)
        self.clear_weights = QPushButton("Clear")
        self.clear_weights.setToolTip("Start from a fresh random initialisation again")
        self.clear_weights.clicked.connect(self.init_weights.clear)
        form.addRow("Start from", self.init_weights)
        row = QHBoxLayout()  # the buttons on a line of their own: the file name keeps the row's width
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.start_button)
        self.download_weights = download_button(
            "weights", self._on_weights_fetched,
            lambda: self.init_weights.text().strip() if self.init_weights.text().strip() in downloads.WEIGHTS
            else None, self)
        row.addWidget(self.download_weights)
        row.addWidget(self.clear_weights)
        holder = QWidget()
        holder.setLayout(row)
        form.addRow("", holder)
        self.freeze = QComboBox()
        for label, value in FREEZE_CHOICES:
            self.freeze.addItem(label, value)
        self.freeze.setToolTip("Frozen parts get no gradient and their BatchNorm layers keep the statistics "
                               "of the weights.")
        form.addRow("Freeze", self.freeze)
        self._add_declared_rows(form, ("normalise",))
        self.normalise = self.rows["normalise"].widget

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
    def _on_optimizer(self) -> None:
        """Momentum is SGD's: greyed (its value kept) while AdamW is chosen."""
        self.rows["momentum"].widget.setEnabled(self.rows["optimizer"].value() == "sgd")

    @Slot()
    def _on_dataset(self) -> None:
        needs_folder = self._choices[self.dataset.currentIndex()][2]
        self._folder_widget.setEnabled(needs_folder)
        self.folder.setPlaceholderText("folder with the dataset's files" if needs_folder else "not needed")

    @Slot()
    def _browse(self) -> None:
        start = self.folder.text().strip() or os.path.expanduser("~")
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", start)
        if folder:
            self.folder.setText(folder)
