"""The problems panel: every error of the current design (and the warnings of a valid one).

Each entry names where the problem is and says what is wrong in words; clicking it
(or pressing Enter on it) selects the offending block, stage or part in the diagram.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from .icons import icon
from .selection import Selection
from .theme import COLOUR

_WHERE_PARTS = {"stem": "stem", "head": "head"}


def selection_for(problem) -> Selection:
    """Where a SpecError or SpecWarning points, as a selection (nothing for network-wide ones)."""
    stage, block = getattr(problem, "stage", None), getattr(problem, "block", None)
    if stage is not None and block is not None:
        return Selection.of_block(stage, block)
    if stage is not None:
        return Selection.of_stage(stage)
    part = _WHERE_PARTS.get(getattr(problem, "where", None))
    return Selection(part) if part else Selection()


def location_text(problem) -> str:
    stage, block = getattr(problem, "stage", None), getattr(problem, "block", None)
    if stage is not None and block is not None:
        return f"Stage {stage + 1}, block {block + 1}"
    if stage is not None:
        return f"Stage {stage + 1}"
    where = getattr(problem, "where", None)
    return where.capitalize() if where else "Network"


class ProblemsPanel(QWidget):
    """Lists ``document.errors`` (or, while valid, the analysis warnings)."""

    problemCountChanged = Signal(int)  # errors only

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.summary = QLabel()
        self.summary.setObjectName("problemsSummary")
        self.list = QListWidget()
        self.list.setObjectName("problemsList")
        self.list.setMinimumHeight(48)
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(False)
        self.list.setAlternatingRowColors(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        self.list.itemClicked.connect(self._go_to)
        self.list.itemActivated.connect(self._go_to)
        document.specChanged.connect(self._on_spec_changed)
        self._count = -1
        self.refresh()

    @property
    def count(self) -> int:
        """How many errors are listed."""
        return max(self._count, 0)

    @Slot(object, object)
    def _on_spec_changed(self, new, old) -> None:
        self.refresh()

    def refresh(self) -> None:
        errors = self.document.errors
        info = self.document.info
        warnings = list(info.warnings) if info is not None else []
        self.list.clear()
        for problem in errors:
            self._add(problem, "error")
        for problem in warnings:
            self._add(problem, "warning")
        if errors:
            noun = "problem" if len(errors) == 1 else "problems"
            self.summary.setText(f"<b style='color:{COLOUR.invalid_design}'>The design is invalid: "
                                 f"{len(errors)} {noun}.</b> "
                                 "Click one to select it. Training and export use the last valid design.")
        elif warnings:
            noun = "warning" if len(warnings) == 1 else "warnings"
            self.summary.setText(f"The design is valid, with {len(warnings)} {noun}.")
        else:
            self.summary.setText("No problems: the design is valid.")
        if len(errors) != self._count:
            self._count = len(errors)
            self.problemCountChanged.emit(self._count)

    def _add(self, problem, severity: str) -> None:
        where = location_text(problem)
        detail = getattr(problem, "detail", str(problem))
        item = QListWidgetItem(icon(severity), f"{where}: {detail}")
        item.setData(Qt.ItemDataRole.UserRole, selection_for(problem))
        item.setToolTip(f"{where}: {detail}")
        self.list.addItem(item)

    @Slot(QListWidgetItem)
    def _go_to(self, item: QListWidgetItem) -> None:
        selection = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(selection, Selection):
            self.document.select(selection)
