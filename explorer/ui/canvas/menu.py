"""The diagram's context menu: what can be done with the block, stage or view under the mouse."""
from __future__ import annotations

from PySide6.QtWidgets import QMenu

from ...spec import BlockKind, edits
from .layout import HORIZONTAL, VERTICAL


def context_menu(view, item, role: str | None) -> QMenu:
    """The menu for ``item`` (its ``role``: block, stage, summary, node or None) in ``view``,
    a ``DiagramView`` whose document has already selected it."""
    menu = QMenu(view)
    spec = view.document.spec
    sel = view.document.selection
    if role == "block":
        si, bi = item.key
        block = spec.block(si, bi)
        if block.kind is not BlockKind.PLAIN:
            menu.addAction("Switch skip " + ("off" if block.skip else "on"),
                           lambda: view.toggle_skip(si, bi))
        menu.addAction("Duplicate block\tCtrl+D", view.duplicate_selection)
        menu.addAction("Delete block\tDel", view.delete_selection)
        menu.addSeparator()
    if sel.part in ("stage", "block") and sel.stage is not None:
        si = sel.stage
        if role in ("stage", "summary"):
            residual = [b for b in spec.stages[si].blocks if b.kind is not BlockKind.PLAIN]
            if residual:
                on = not all(b.skip for b in residual)
                menu.addAction(f"Switch all skips in stage {si + 1} " + ("on" if on else "off"),
                               lambda: set_stage_skips(view.document, si, on))
            menu.addAction("Duplicate stage\tCtrl+D", view.duplicate_selection)
            menu.addAction("Delete stage\tDel", view.delete_selection)
        collapsed = view.is_stage_collapsed(si)
        menu.addAction(("Expand" if collapsed else "Collapse") + f" stage {si + 1}",
                       lambda: view.set_stage_collapsed(si, not collapsed))
        menu.addSeparator()
    menu.addAction("Collapse all stages", view.collapse_all)
    menu.addAction("Expand all stages", view.expand_all)
    menu.addAction("Fit to window", view.fit_to_window)
    other = HORIZONTAL if view.orientation() == VERTICAL else VERTICAL
    menu.addAction("Lay out left to right" if other == HORIZONTAL else "Lay out top to bottom",
                   lambda: view.set_orientation(other))
    if view.orientation() == VERTICAL:
        columns = view.stage_columns()
        menu.addAction("Stack stages in one column" if columns else "Stages side by side",
                       lambda: view.set_stage_columns(not columns))
    return menu


def set_stage_skips(document, si: int, on: bool) -> None:
    """Every skip of stage ``si`` on or off, as one undo step."""
    document.edit(*edits.set_stage_skips(document.spec, si, on))
