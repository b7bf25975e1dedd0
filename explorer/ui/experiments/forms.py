"""The settings forms of the training experiments (degradation, depth sweep) and their dataset chooser.

``settings()`` builds the experiment's settings from the fields and raises ``SpecError``
(a bad depth or seed) or ``DatasetError`` (a missing folder) with the message the CLI
would print; the pages show it and start nothing.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QWidget)

from ... import downloads
from ...experiments.arms import parse_depths
from ...experiments.degradation import DegradationSettings
from ...experiments.depth_sweep import SweepSettings, parse_seeds
from ...train.datasets import check_name, parse_name
from ...train.datasets.base import DatasetError
from ...train.datasets.procedural import digits_split_sizes
from ...train.recipes import RECIPES
from ..training.setting_rows import SettingRow
from ..download_dialog import download_button

# the recipes the degradation page offers: those that name the depths to compare
COMPARISON_RECIPES = tuple(r for r in RECIPES.values() if r.depths)

# (label, dataset kind): the built-in sets need nothing; the others read a folder the user has
DATASETS = (
    (f"digits (built in, {digits_split_sizes()[0]:,} training images)", "digits"),
    ("shapes (built in, made on the fly)", "shapes"),
    ("CIFAR-10 (its folder)", "cifar10"),
    ("MNIST (its folder)", "mnist"),
    ("Image folder (one sub-folder per class)", "folder"),
)
FOLDER_KINDS = {"cifar10": "CIFAR-10's python version (data_batch_1 ... test_batch)",
                "mnist": "MNIST's IDX files (train-images-idx3-ubyte ...)",
                "folder": "images in one sub-folder per class (train/ and test/ optional)"}


class DatasetChooser(QWidget):
    """A dataset kind and, for the kinds read from disk, a folder with a chooser button.

    ``name()`` is the dataset name the CLI takes (``digits``, ``cifar10:/data/c10``);
    ``check()`` raises ``DatasetError`` for a missing folder, with ``train``'s message.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, choose_folder: Callable[[QWidget, str, str], str] | None = None):
        super().__init__(parent)
        self._choose_folder = choose_folder or (lambda parent, title, start: QFileDialog.getExistingDirectory(
            parent, title, start))
        self.kind = QComboBox()
        for label, kind in DATASETS:
            self.kind.addItem(label, kind)
        self.kind.setToolTip("The images every network trains on. CIFAR-10, MNIST and image folders are read "
                             "from a folder you already have; Download… fetches a dataset once, and it is "
                             "listed here by name from then on.")
        self.download = download_button("dataset", self._on_fetched, self._chosen_download, self)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("folder…")
        self.browse = QPushButton("Choose…")
        self.browse.setToolTip("Choose the dataset's folder")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        self._folder_row = QWidget()
        self._folder_row.setLayout(row)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.kind, 1)
        layout.addWidget(self.download)
        self.expects = dict(FOLDER_KINDS)  # kind -> what its folder holds
        self._list_downloaded()
        self.kind.activated.connect(self._on_kind_chosen)
        self.kind.currentIndexChanged.connect(self._update)
        self.folder.textChanged.connect(lambda _t: self.changed.emit())
        self.browse.clicked.connect(self.choose)
        self._update()

    def folder_row(self) -> QWidget:
        """The folder field and its button, for the form to place under the kind."""
        return self._folder_row

    def current_kind(self) -> str:
        data = self.kind.currentData()
        return data[1] if isinstance(data, tuple) else data  # ("downloaded", name) for a fetched set

    def needs_folder(self) -> bool:
        data = self.kind.currentData()
        return not isinstance(data, tuple) and data in self.expects

    def name(self) -> str:
        kind = self.current_kind()
        if self.needs_folder():
            return f"{kind}:{self.folder.text().strip()}"
        return kind

    def _list_downloaded(self) -> None:
        """A choice per dataset fetched with Download… (or `get`), by name."""
        for name in downloads.ready_names("dataset"):
            if self.kind.findData(("downloaded", name)) < 0:
                self.kind.addItem(f"{name} (downloaded)", ("downloaded", name))

    def _chosen_download(self) -> str | None:
        kind = self.current_kind()
        return kind if kind in downloads.DATASETS else None

    @Slot(str)
    def _on_fetched(self, name: str) -> None:
        self._list_downloaded()
        self.kind.setCurrentIndex(self.kind.findData(("downloaded", name)))

    def check(self) -> str:
        """The dataset name, checked the way ``train`` checks it (``DatasetError`` names the problem)."""
        kind = self.current_kind()
        if self.needs_folder() and not self.folder.text().strip():
            raise DatasetError(f"{self.kind.currentText().split(' (')[0]}: choose its folder "
                               f"({self.expects[kind]})")
        name = self.name()
        check_name(name)
        return name

    def set_name(self, name: str) -> None:
        """Show ``name`` (``digits``, ``cifar10:/data``, ...); an unknown one raises ``DatasetError``."""
        if name.strip().lower() in downloads.DATASETS:  # a fetched set, by name
            self._list_downloaded()
            key = ("downloaded", name.strip().lower())
            if self.kind.findData(key) < 0:
                self.kind.addItem(f"{key[1]} (not downloaded)", key)
            self.kind.setCurrentIndex(self.kind.findData(key))
            return
        kind, path = parse_name(name)
        index = self.kind.findData(kind)
        if index < 0:  # a kind the form does not list (cifar100, fashion-mnist): add it as it is
            self.kind.addItem(kind, kind)
            self.expects.setdefault(kind, f"{kind}'s files")
            index = self.kind.count() - 1
        self.kind.setCurrentIndex(index)
        self.folder.setText(path or "")

    @Slot(int)
    def _on_kind_chosen(self, _index: int) -> None:
        if self.needs_folder() and not self.folder.text().strip():
            self.choose()

    @Slot()
    def choose(self) -> None:
        start = self.folder.text().strip() or os.path.expanduser("~")
        path = self._choose_folder(self, f"Folder of {self.kind.currentText().split(' (')[0]}", start)
        if path:
            self.folder.setText(path)

    @Slot()
    def _update(self) -> None:
        needs = self.needs_folder()
        self._folder_row.setVisible(needs)
        if needs:
            self.folder.setToolTip(f"Expected: {self.expects[self.current_kind()]}")
        self.changed.emit()


class DegradationForm(QWidget):
    """Recipe, epochs, depths, dataset, image size and device; ``settings()`` raises for bad input."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, recipes: bool = True, choose_folder=None,
                 default: DegradationSettings | None = None):
        super().__init__(parent)
        default = default or DegradationSettings()
        self.recipe = QComboBox()
        for r in COMPARISON_RECIPES:
            self.recipe.addItem(r.title[:1].upper() + r.title[1:], r.name)
            self.recipe.setItemData(self.recipe.count() - 1, r.text(), Qt.ItemDataRole.ToolTipRole)
        self.recipe.setToolTip("The optimiser settings every network trains with, and the epochs and depths "
                               "they come with")
        self.recipe_note = QLabel()
        self.recipe_note.setWordWrap(True)
        self.epochs = SettingRow("epochs").widget  # the range every run checks (train/settings.py)
        self.epochs.setValue(default.epochs)
        self.epochs.setToolTip("Epochs for every network; the result needs enough of them (see the words)")
        self.depths = QLineEdit(", ".join(str(d) for d in default.depths))
        self.depths.setToolTip("Depths to compare, each 6n+2: 8, 14, 20, 32, 44, 56, 110, ...")
        self.dataset = DatasetChooser(choose_folder=choose_folder)
        self.image_size = QComboBox()
        self.image_size.addItem("8 px (digits' own, fastest)", 8)
        self.image_size.addItem("16 px", 16)
        self.image_size.addItem("32 px (the nets' own)", None)
        self.image_size.setToolTip("The side of the images the nets see; the depth, not the size, is what "
                                   "the experiment is about")
        self.image_size.setCurrentIndex(max(0, self.image_size.findData(default.image_size)))
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda", "mps"])
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        if recipes:
            self.form.addRow("Recipe", self.recipe)
            self.form.addRow("", self.recipe_note)
            self.recipe.currentIndexChanged.connect(self._apply_recipe)
        self.form.addRow("Epochs", self.epochs)
        self.form.addRow("Depths", self.depths)
        self.form.addRow("Dataset", self.dataset)
        self.form.addRow("", self.dataset.folder_row())
        self.form.addRow("Image size", self.image_size)
        self.form.addRow("Device", self.device)
        self._recipes = recipes
        self._show_recipe_note()
        for signal in (self.epochs.valueChanged, self.depths.textChanged, self.dataset.changed,
                       self.image_size.currentIndexChanged, self.device.currentIndexChanged):
            signal.connect(lambda *_: self.changed.emit())

    def recipe_name(self) -> str:
        return self.recipe.currentData() if self._recipes else "paper"

    def _show_recipe_note(self) -> None:
        self.recipe_note.setText(RECIPES[self.recipe_name()].text())

    @Slot()
    def _apply_recipe(self) -> None:
        r = RECIPES[self.recipe_name()]
        self.epochs.setValue(r.settings["epochs"])
        self.depths.setText(", ".join(str(d) for d in r.depths))
        self._show_recipe_note()

    def settings(self, base: DegradationSettings | None = None) -> DegradationSettings:
        """``base`` (default: the defaults) with the chosen recipe's optimiser and the form's fields. A
        base that already follows the chosen recipe is kept as it is (a page's own smaller batch)."""
        base = base or DegradationSettings()
        if self._recipes and base.recipe != self.recipe_name():
            base = base.with_recipe(self.recipe_name())  # the form's epochs and depths are set below
        return replace(base, epochs=self.epochs.value(), depths=parse_depths(self.depths.text()),
                       dataset=self.dataset.check(), image_size=self.image_size.currentData(),
                       device=self.device.currentText())

    def set_settings(self, s: DegradationSettings) -> None:
        if self._recipes:
            self.recipe.blockSignals(True)
            self.recipe.setCurrentIndex(max(0, self.recipe.findData(s.recipe)))
            self.recipe.blockSignals(False)
            self._show_recipe_note()
        self.epochs.setValue(s.epochs)
        self.depths.setText(", ".join(str(d) for d in s.depths))
        try:
            self.dataset.set_name(s.dataset)
        except DatasetError:
            pass  # a name this version does not know: keep the chooser as it is
        index = self.image_size.findData(s.image_size)
        if index < 0:
            self.image_size.addItem(f"{s.image_size} px", s.image_size)
            index = self.image_size.count() - 1
        self.image_size.setCurrentIndex(index)
        self.device.setCurrentText(s.device)


class SweepForm(DegradationForm):
    """The degradation form (no recipe choice) plus the seeds; ``settings()`` gives ``SweepSettings``."""

    def __init__(self, parent: QWidget | None = None, choose_folder=None):
        super().__init__(parent, recipes=False, choose_folder=choose_folder, default=SweepSettings())
        self.seeds = QLineEdit("0")
        self.seeds.setToolTip("One seed trains each network once; several (like 0, 1, 2) train each once per seed "
                              "and draw the spread as error bars, at that many times the cost")
        self.form.insertRow(2, "Seeds", self.seeds)
        self.seeds.textChanged.connect(lambda *_: self.changed.emit())

    def settings(self, base: SweepSettings | None = None) -> SweepSettings:
        seeds = parse_seeds(self.seeds.text())
        return replace(super().settings(base or SweepSettings()), seeds=seeds)

    def set_settings(self, s: SweepSettings) -> None:
        super().set_settings(s)
        self.seeds.setText(", ".join(str(x) for x in s.seeds))
