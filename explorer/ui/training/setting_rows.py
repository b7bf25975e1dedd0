"""Form rows made from the declared training settings (``train/settings.py``).

``SettingRow(name)`` makes the widget a setting's declaration asks for, with its range,
unit, tooltip and choices: a spin box for a number (its "none" value, like "whole set" or
"off", as the spin box's lowest value), a check box for a switch, a drop-down for a choice.
``value()`` and ``set_value()`` speak in the setting's own terms (None for "whole set").
"""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox, QWidget

from ...train.settings import declared

QT_INT_MAX = 2 ** 31 - 1  # a QSpinBox holds a C int


class SettingRow:
    """One setting's widget (``widget``), read and written in the setting's own values."""

    def __init__(self, name: str):
        self.name = name
        self.meta = meta = declared()[name]
        self.widget: QWidget = self._make()
        self.widget.setToolTip(meta.help[:1].upper() + meta.help[1:] + ".")

    @property
    def label(self) -> str:
        return self.meta.label

    def _make(self) -> QWidget:
        m = self.meta
        if m.choices:
            box = QComboBox()
            for value, words in m.choices:
                box.addItem(words, value)
            return box
        if m.kind is bool:
            return QCheckBox(m.help.split(" (")[0])
        if m.kind is int:
            box = QSpinBox()
            lo = 0 if m.none_means else int(m.lo or 0)
            box.setRange(lo, int(min(m.hi if m.hi is not None else QT_INT_MAX, QT_INT_MAX)))
            box.setSingleStep(int(m.step))
            box.setAccelerated(True)
        elif m.kind is float:
            box = QDoubleSpinBox()
            box.setDecimals(m.decimals)
            smallest = 10.0 ** -m.decimals
            box.setRange(smallest if m.positive else float(m.lo or 0), float(m.hi if m.hi is not None else 1e9))
            box.setSingleStep(m.step)
        else:
            raise TypeError(f"no form row for the setting {self.name} ({m.kind.__name__})")
        if m.none_means:
            box.setSpecialValueText(m.none_means.removeprefix("the "))
        if m.unit:
            box.setSuffix(f" {m.unit}")
        return box

    def value(self):
        w, m = self.widget, self.meta
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        v = w.value()
        if m.none_means and v == 0 and m.lo is not None and m.lo > 0:  # 0 stands for None ("whole set")
            return None
        return v

    def set_value(self, value) -> None:
        w = self.widget
        if isinstance(w, QComboBox):
            w.setCurrentIndex(max(w.findData(value), 0))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        else:
            w.setValue(0 if value is None else value)

    def connect(self, slot) -> None:
        """Call ``slot()`` whenever the user changes the value."""
        w = self.widget
        if isinstance(w, QComboBox):
            w.currentIndexChanged.connect(lambda *_: slot())
        elif isinstance(w, QCheckBox):
            w.toggled.connect(lambda *_: slot())
        else:
            w.valueChanged.connect(lambda *_: slot())
