"""The inspector's forms: one page of editors per kind of selection.

Pages only build widgets; ``Inspector`` fills them from the document and turns their
changes into edits. Spin boxes have keyboard tracking off, so typing "64" is one value
(committed on Enter or focus loss), not "6" and then "64".
"""
from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QSpinBox, QWidget)

from ..spec import BlockKind, InitKind, Norm, PadPlacement, ShortcutKind, StemKind, StridePlacement
from ..spec.infer import (MAX_BLOCKS, MAX_CLASSES, MAX_INPUT_CHANNELS, MAX_INPUT_SIDE, MAX_STRIDE,
                          MAX_WIDTH)
from . import explanations as ex

SHORTCUT_LABELS = {
    ShortcutKind.AUTO: "Auto (identity or projection)",
    ShortcutKind.IDENTITY: "Identity",
    ShortcutKind.PROJECTION: "Projection (1x1 conv)",
    ShortcutKind.ZERO_PAD: "Zero-pad (option A)",
    ShortcutKind.NONE: "None",
}
STEM_LABELS = {StemKind.CIFAR: "CIFAR (3x3 conv)", StemKind.IMAGENET: "ImageNet (7x7 conv + max-pool)",
               StemKind.NONE: "None"}
PLACEMENT_LABELS = {StridePlacement.CONV3X3: "On the 3x3 (torchvision)",
                    StridePlacement.CONV1X1: "On the first 1x1 (2015 paper)"}
PAD_LABELS = {PadPlacement.END: "After the input's (appended)",
              PadPlacement.BOTH: "Half before, half after"}
NORM_LABELS = {Norm.BATCH: "Batch norm", Norm.NONE: "None"}
INIT_LABELS = {InitKind.HE: "He (Kaiming normal)", InitKind.GAUSSIAN: "Gaussian"}
ZERO_INIT_CHOICES = ((None, "Inherit from network"), (True, "On"), (False, "Off"))


def spin(lo: int, hi: int, tip: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setKeyboardTracking(False)
    box.setAccelerated(True)
    box.setToolTip(tip)
    return box


class ValueCombo(QComboBox):
    """A combo box over Python values (enums, None, bools) kept on the Python side.

    Qt would convert a ``str`` enum stored as item data back into a plain string, so
    the values live in a list and the items only carry labels.
    """

    def __init__(self, choices, tip: str = ""):
        super().__init__()
        self._values = []
        for value, label in choices:
            self._values.append(value)
            self.addItem(label)
        self.setToolTip(tip)

    def value(self):
        i = self.currentIndex()
        return self._values[i] if 0 <= i < len(self._values) else None

    def set_value(self, value) -> None:
        for i, v in enumerate(self._values):
            if v is value or (type(v) is type(value) and v == value):
                self.setCurrentIndex(i)
                return
        self.setCurrentIndex(-1)


def combo(choices, tip: str = "") -> ValueCombo:
    return ValueCombo(choices, tip)


def check(text: str, tip: str = "") -> QCheckBox:
    box = QCheckBox(text)
    box.setToolTip(tip)
    return box


def _form(page: QWidget) -> QFormLayout:
    form = QFormLayout(page)
    form.setContentsMargins(0, 0, 0, 0)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return form


class BlockPage(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        form = self.form = _form(self)
        self.kind = combo(((k, k.label) for k in BlockKind), "What the block's learned branch is made of.")
        self.width_box = spin(1, MAX_WIDTH, ex.OPTIONS["width"])
        self.stride = spin(1, MAX_STRIDE, ex.OPTIONS["stride"])
        self.shortcut = combo(SHORTCUT_LABELS.items(), "How the input reaches the addition.")
        self.skip = check("Skip connection on", ex.OPTIONS["skip"])
        self.placement = combo(PLACEMENT_LABELS.items(), "Bottlenecks only: which convolution carries the stride.")
        self.pad_placement = combo(PAD_LABELS.items(), "Zero-pad shortcuts only: where the new, all-zero "
                                                       "channels go.")
        self.zero_init = combo(ZERO_INIT_CHOICES, ex.OPTIONS["zero_init"])
        form.addRow("Kind", self.kind)
        form.addRow("Width", self.width_box)
        form.addRow("Stride", self.stride)
        form.addRow("Shortcut", self.shortcut)
        form.addRow("", self.skip)
        form.addRow("Stride on", self.placement)
        form.addRow("Zero channels", self.pad_placement)
        form.addRow("Zero-init", self.zero_init)

    def show_placement(self, visible: bool) -> None:
        self.form.setRowVisible(self.placement, visible)

    def show_pad_placement(self, visible: bool) -> None:
        self.form.setRowVisible(self.pad_placement, visible)


class StagePage(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        form = _form(self)
        self.count = spin(1, MAX_BLOCKS, "More blocks append copies of the last one; fewer remove from the end.")
        self.width_box = spin(1, MAX_WIDTH, "Sets the width of every block in the stage.")
        self.stride = spin(1, MAX_STRIDE, "The stride of the stage's first block.")
        form.addRow("Blocks", self.count)
        form.addRow("Width", self.width_box)
        form.addRow("First stride", self.stride)


class StemPage(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        form = _form(self)
        self.kind = combo(STEM_LABELS.items(), "The layers between the input and the first stage.")
        self.width_box = spin(1, MAX_WIDTH, "Output channels of the stem convolution.")
        self.activate = check("BN + ReLU after the conv", ex.OPTIONS["stem_activate"])
        form.addRow("Kind", self.kind)
        form.addRow("Width", self.width_box)
        form.addRow("", self.activate)


class HeadPage(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        form = _form(self)
        self.classes = spin(1, MAX_CLASSES, ex.OPTIONS["classes"])
        self.pre_norm = check("BN + ReLU before pooling", ex.OPTIONS["pre_norm"])
        form.addRow("Classes", self.classes)
        form.addRow("", self.pre_norm)


class NetworkPage(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        form = self.form = _form(self)
        self.name = QLineEdit()
        self.name.setMaxLength(200)
        self.name.setToolTip("The network's name, saved in its file.")
        self.input_channels = spin(1, MAX_INPUT_CHANNELS, "Input channels: 3 for colour images, 1 for grey.")
        self.input_height = spin(1, MAX_INPUT_SIDE, "Input height in pixels.")
        self.input_width = spin(1, MAX_INPUT_SIDE, "Input width in pixels.")
        shape = QWidget()
        row = QHBoxLayout(shape)
        row.setContentsMargins(0, 0, 0, 0)
        for label, box in (("C", self.input_channels), ("H", self.input_height), ("W", self.input_width)):
            tag = QLabel(label)
            tag.setBuddy(box)
            row.addWidget(tag)
            row.addWidget(box, 1)
        self.norm = combo(NORM_LABELS.items(), ex.NORMS[Norm.BATCH])
        self.init = combo(INIT_LABELS.items(), ex.INITS[InitKind.HE])
        self.std = QDoubleSpinBox()
        self.std.setDecimals(4)
        self.std.setRange(0.0001, 10.0)
        self.std.setSingleStep(0.005)
        self.std.setKeyboardTracking(False)
        self.std.setToolTip("Standard deviation of the Gaussian initialisation.")
        self.zero_init = check("Zero-init residual branches", ex.OPTIONS["zero_init_residual"])
        form.addRow("Name", self.name)
        form.addRow("Input", shape)
        form.addRow("Normalisation", self.norm)
        form.addRow("Initialisation", self.init)
        form.addRow("Std", self.std)
        form.addRow("", self.zero_init)

    def show_std(self, visible: bool) -> None:
        self.form.setRowVisible(self.std, visible)
