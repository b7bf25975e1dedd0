"""Pieces of the main window's frame that are not the window itself: the left side panel.

The left dock holds the block palette (drag a kind onto a stage) above the legend of
block colours and shortcut styles, both from the canvas package.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from .canvas import LegendWidget, PaletteWidget


def _titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 4, 6, 4)
    layout.setSpacing(4)
    label = QLabel(f"<b>{title}</b>")
    layout.addWidget(label)
    layout.addWidget(widget, 1)
    return box


def build_side_panel() -> QSplitter:
    """Palette on top, legend below, with a splitter so either can be given more room."""
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.setObjectName("sidePanel")
    splitter.setChildrenCollapsible(False)
    splitter.palette_widget = PaletteWidget()
    splitter.legend_widget = LegendWidget()
    splitter.addWidget(_titled("Drag onto a stage", splitter.palette_widget))
    splitter.addWidget(_titled("Legend", splitter.legend_widget))
    splitter.setStretchFactor(0, 3)
    splitter.setStretchFactor(1, 2)
    return splitter


def set_side_panel_presenter(panel: QSplitter, on: bool) -> None:
    panel.palette_widget.set_presenter(on)
    panel.legend_widget.set_presenter(on)
