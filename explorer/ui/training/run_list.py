"""The session's runs as a checkable list: tick the ones to overlay, select one to export."""
from __future__ import annotations

import textwrap

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from ...train.settings import describe
from ..presenter import follow_presenter, presenter_mode
from ..theme import COLOUR
from .runs import RunEntry

_STATUS_COLOURS = {"failed": COLOUR.failed, "stopped": COLOUR.run_stopped, "running": COLOUR.run_running,
                   "paused": COLOUR.run_paused}


SWATCH_PX = 12


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(2 * SWATCH_PX, 2 * SWATCH_PX)  # sharp in presenter mode too
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100.0 * value:.1f}%"


class RunList(QTreeWidget):
    """One row per run: checkbox (overlay), status, last epoch's errors and steps."""

    visibilityChanged = Signal(object, bool)  # RunEntry, shown
    currentRunChanged = Signal(object)  # RunEntry or None

    COLUMNS = ("Run", "Status", "Train err", "Test err", "Steps")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setColumnCount(len(self.COLUMNS))
        self.setHeaderLabels(self.COLUMNS)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(self.COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self._items: dict[int, tuple[QTreeWidgetItem, RunEntry]] = {}
        self._updating = False
        self.itemChanged.connect(self._on_item_changed)
        self.currentItemChanged.connect(self._on_current)
        follow_presenter(self.set_presenter)

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        """The colour swatches grow with the text (the text follows the application font)."""
        side = round(SWATCH_PX * presenter_mode().scale) if on else SWATCH_PX
        self.setIconSize(QSize(side, side))

    def set_compact(self, compact: bool) -> None:
        """Narrow: keep the run's name, status and test error; hide training error and steps."""
        for column in (2, 4):
            self.setColumnHidden(column, compact)

    def add_run(self, entry: RunEntry) -> None:
        item = QTreeWidgetItem()
        item.setIcon(0, _swatch(entry.colour))
        self._items[entry.number] = (item, entry)
        self._updating = True
        self.addTopLevelItem(item)
        self._updating = False
        self.update_run(entry)
        self.setCurrentItem(item)

    def remove_run(self, entry: RunEntry) -> None:
        item, _ = self._items.pop(entry.number)
        self.takeTopLevelItem(self.indexOfTopLevelItem(item))

    def update_run(self, entry: RunEntry) -> None:
        item, _ = self._items[entry.number]
        self._updating = True
        try:
            # "#2 resnet20": short and unique (the number); the settings are in the tooltip, so a
            # narrow list in presenter mode never cuts the name to "#2 resn..."
            item.setText(0, entry.short_label)
            tip = entry.label
            if entry.settings.init_weights:
                tip += f"\nstarted from {entry.settings.init_weights}"
            # every value the run used, as `train` echoes them in its first lines
            tip += "\n\n" + textwrap.fill(describe(entry.settings), 72)
            item.setToolTip(0, tip)
            flags = item.flags() | Qt.ItemFlag.ItemIsUserCheckable
            if entry.active:  # the active run is always shown
                flags &= ~Qt.ItemFlag.ItemIsUserCheckable
            item.setFlags(flags)
            item.setCheckState(0, Qt.CheckState.Checked if entry.visible or entry.active
                               else Qt.CheckState.Unchecked)
            status = entry.shown_status
            item.setText(1, status)
            item.setForeground(1, QBrush(QColor(_STATUS_COLOURS.get(status, COLOUR.run_status))))
            item.setToolTip(1, entry.message or status)
            last = entry.epochs[-1] if entry.epochs else None
            item.setText(2, _percent(last.train_error if last else None))
            item.setText(3, _percent(last.test_error if last else None))
            step = int(entry.steps.last) if len(entry.steps) else 0
            item.setText(4, f"{step:,}" + (f" / {entry.total_steps:,}" if entry.total_steps else ""))
        finally:
            self._updating = False

    def current_run(self) -> RunEntry | None:
        item = self.currentItem()
        for candidate, entry in self._items.values():
            if candidate is item:
                return entry
        return None

    def set_checked(self, entry: RunEntry, on: bool) -> None:
        """Tick or untick a run as a user would (emits ``visibilityChanged``)."""
        item, _ = self._items[entry.number]
        item.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    @Slot(QTreeWidgetItem, int)
    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._updating or column != 0:
            return
        for candidate, entry in self._items.values():
            if candidate is item:
                on = item.checkState(0) == Qt.CheckState.Checked
                if entry.active and not on:  # the active run is always shown
                    self.update_run(entry)
                    return
                if on != entry.visible:
                    entry.visible = on
                    self.visibilityChanged.emit(entry, on)
                return

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_current(self, current, previous) -> None:
        self.currentRunChanged.emit(self.current_run())
