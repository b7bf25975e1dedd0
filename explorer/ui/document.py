"""The open network: the one owner of the spec, with undo and change notification.

Every edit goes through ``Document.edit(new_spec, text)``, which pushes one
``QUndoCommand``; undo and redo swap whole specs (they are immutable, so this is
cheap and exact). Views subscribe to ``specChanged`` and refresh from
``document.spec`` / ``document.info``; they never keep a second copy.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from ..spec import NetworkInfo, NetworkSpec, SpecError, try_analyse
from .selection import Selection


def same_weights_layout(a: NetworkSpec, b: NetworkSpec) -> bool:
    """True when ``a`` and ``b`` differ only in skip switches (no rebuild needed)."""
    return a.with_skips(True) == b.with_skips(True)


class SpecEditCommand(QUndoCommand):
    """One edit: the spec before and after. ``merge_key`` lets repeated spin-box edits merge."""

    def __init__(self, document: "Document", old: NetworkSpec, new: NetworkSpec, text: str,
                 merge_key: str | None = None):
        super().__init__(text)
        self._document = document
        self.old = old
        self.new = new
        self._merge_key = merge_key

    def redo(self) -> None:
        self._document._set_spec(self.new)
        self._document.edited.emit(self.text(), False, self.new, self.old)

    def undo(self) -> None:
        self._document._set_spec(self.old)
        self._document.edited.emit(self.text(), True, self.old, self.new)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return 1 if self._merge_key else -1

    def mergeWith(self, other) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, SpecEditCommand) or other._merge_key != self._merge_key:
            return False
        self.new = other.new
        return True


class Document(QObject):
    """The spec being edited, its analysis, its file and its undo history."""

    specChanged = Signal(object, object)  # new spec, old spec
    selectionChanged = Signal(object)  # Selection
    pathChanged = Signal(object)  # Path or None
    modifiedChanged = Signal(bool)
    edited = Signal(str, bool, object, object)  # undo text, True when undone, new spec, old spec

    def __init__(self, spec: NetworkSpec, path: Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._spec = spec
        self._path = path
        self._info, self._errors = try_analyse(spec)
        self._last_valid = spec if self._info is not None else None
        self._selection = Selection()
        # Counts whole-content replacements (new, open, restore): weights trained on an earlier
        # content never belong to the new one, even when the layouts happen to match; the
        # diagram shows a new one as a fresh start does.
        self.generation = 0
        # A bound slot (not a lambda) is disconnected when the document is destroyed, so the
        # stack's last cleanChanged during teardown cannot reach a deleted document.
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    def _on_clean_changed(self, clean: bool) -> None:
        self.modifiedChanged.emit(not clean)

    # -- state --------------------------------------------------------------
    @property
    def spec(self) -> NetworkSpec:
        return self._spec

    @property
    def info(self) -> NetworkInfo | None:
        """Shapes and counts, or None while the design is invalid."""
        return self._info

    @property
    def errors(self) -> list[SpecError]:
        return list(self._errors)

    @property
    def valid(self) -> bool:
        return self._info is not None

    @property
    def last_valid_spec(self) -> NetworkSpec | None:
        """The most recent valid design: what training and export use while the current one is broken."""
        return self._last_valid

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def selection(self) -> Selection:
        return self._selection

    def select(self, selection: Selection) -> None:
        selection = selection.clamped(self._spec)
        if selection != self._selection:
            self._selection = selection
            self.selectionChanged.emit(selection)

    # -- changes ------------------------------------------------------------
    def edit(self, new_spec: NetworkSpec, text: str, merge_key: str | None = None) -> None:
        """Apply an edit as one undoable step (no-op when nothing changes)."""
        if new_spec == self._spec:
            return
        self.undo_stack.push(SpecEditCommand(self, self._spec, new_spec, text, merge_key))

    def replace(self, spec: NetworkSpec, path: Path | None) -> None:
        """A new document content (open, new from preset): history starts afresh."""
        self.undo_stack.clear()
        self.generation += 1
        self._set_spec(spec)
        self.set_path(path)
        self.undo_stack.setClean()

    def set_path(self, path: Path | None) -> None:
        self._path = path
        self.pathChanged.emit(path)

    def mark_saved(self, path: Path) -> None:
        self.set_path(path)
        self.undo_stack.setClean()

    def _set_spec(self, spec: NetworkSpec) -> None:
        old = self._spec
        self._spec = spec
        self._info, self._errors = try_analyse(spec)
        if self._info is not None:
            self._last_valid = spec
        self.specChanged.emit(spec, old)
        self.select(self._selection)  # drop a selection the edit removed
