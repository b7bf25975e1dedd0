"""The Edit menu's commands on the diagram, and what the status bar says after a skip switch.

Delete, Duplicate, Select All and Toggle Skip act on the diagram's selection. Their
shortcuts work while the diagram (or the menu) has the focus, so Delete typed in an
inspector field edits that field and never removes a block.

Every change of a skip switch, wherever it came from (the switch on the shortcut, the
context menu, the inspector, this menu), is announced in the status bar with the block
it changed and how to take it back.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence

from ..spec import BlockKind
from .canvas.menu import set_stage_skips
from .selection import Selection

STATUS_MS = 8000


def skip_changes(old, new) -> list[tuple[int, int, bool]]:
    """(stage, block, skip now) for every block whose skip differs, when nothing else does."""
    if old is None or new is None or old == new or old.with_skips(True) != new.with_skips(True):
        return []
    return [(si, bi, bool(b.skip)) for (si, bi, b), (_, _, a) in zip(new.iter_blocks(), old.iter_blocks())
            if bool(b.skip) != bool(a.skip)]


def skip_change_message(old, new, undone: bool) -> str | None:
    """The status bar's words after a skip switch (None when the change was not one).

    ``old`` and ``new`` are the spec before and after what just happened; when that was
    an undo (``undone``), the words name the edit it took back (from ``new`` to ``old``).
    Names the block, or the stage and how many blocks when several changed at once.
    """
    changes = skip_changes(new, old) if undone else skip_changes(old, new)
    if not changes:
        return None
    states = {on for _, _, on in changes}
    state = ("on" if states == {True} else "off") if len(states) == 1 else "on/off"
    if len(changes) == 1:
        si, bi, _ = changes[0]
        where = f"stage {si + 1}, block {bi + 1}"
        what = f"Skip {state} at {where}"
    else:
        stages = sorted({si for si, _, _ in changes})
        where = (f"stage {stages[0] + 1}" if len(stages) == 1
                 else "stages " + ", ".join(str(s + 1) for s in stages))
        what = f"Skips {state} for {len(changes)} blocks in {where}"
    if undone:
        return f"Undone: {what[0].lower() + what[1:]} — Ctrl+Shift+Z redoes it"
    return f"{what} — Ctrl+Z undoes it"


class EditCommands(QObject):
    """Builds the Edit menu's diagram commands for ``window`` (a ``MainWindow``)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        view = window.diagram
        self.delete_action = self._action("&Delete", self.delete, [QKeySequence.StandardKey.Delete],
                                          "Delete the selected block or stage")
        self.duplicate_action = self._action("D&uplicate", self.duplicate, [QKeySequence("Ctrl+D")],
                                             "Put a copy of the selected block or stage right after it")
        self.select_all_action = self._action("Select &All", self.select_all,
                                              [QKeySequence.StandardKey.SelectAll],
                                              "Select the whole network (the inspector shows its settings)")
        self.toggle_skip_action = self._action("&Toggle Skip", self.toggle_skip, [QKeySequence("Ctrl+T")],
                                               "Switch the selected block's skip connection on or off "
                                               "(a stage: all of its skips)")
        for action in self.actions():
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            view.addAction(action)  # the shortcut works while the diagram has the focus
        window.document.edited.connect(self._on_edited)

    def actions(self) -> list[QAction]:
        return [self.delete_action, self.duplicate_action, self.select_all_action, self.toggle_skip_action]

    def _action(self, text: str, slot, keys, tip: str) -> QAction:
        action = QAction(text, self.window)
        action.setShortcuts(keys)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda checked=False: slot())
        return action

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, STATUS_MS)

    # -- commands ---------------------------------------------------------------------
    @Slot()
    def delete(self) -> bool:
        if self.window.diagram.delete_selection():
            return True
        self._say("Select a block or a stage in the diagram to delete it.")
        return False

    @Slot()
    def duplicate(self) -> bool:
        if self.window.diagram.duplicate_selection():
            return True
        self._say("Select a block or a stage in the diagram to duplicate it.")
        return False

    @Slot()
    def select_all(self) -> None:
        self.window.document.select(Selection("network"))

    @Slot()
    def toggle_skip(self) -> bool:
        doc = self.window.document
        sel, spec = doc.selection, doc.spec
        if sel.part == "block" and sel.stage is not None and sel.block is not None:
            if spec.block(sel.stage, sel.block).kind is BlockKind.PLAIN:
                self._say("A plain block has no skip connection to switch.")
                return False
            self.window.diagram.toggle_skip(sel.stage, sel.block)
            return True
        if sel.part == "stage" and sel.stage is not None:
            residual = [b for b in spec.stages[sel.stage].blocks if b.kind is not BlockKind.PLAIN]
            if not residual:
                self._say(f"Stage {sel.stage + 1} has only plain blocks: no skip to switch.")
                return False
            set_stage_skips(doc, sel.stage, not all(b.skip for b in residual))
            return True
        self._say("Select a block (or a stage) in the diagram to switch its skip.")
        return False

    # -- status -----------------------------------------------------------------------
    @Slot(str, bool, object, object)
    def _on_edited(self, _text: str, undone: bool, new, old) -> None:
        message = skip_change_message(old, new, undone)
        if message:
            self._say(message)
