"""The block-diagram editor: a view of the document's network that edits it by mouse and keyboard.

The view draws ``document.spec`` through a ``DiagramScene`` and refreshes on
``specChanged``; it never keeps its own copy of the design. Every edit becomes one
``document.edit`` call (one undo step): skip toggles by clicking the switch on an arc, blocks
and stages dropped from the palette, blocks dragged to a new place, Delete and
Ctrl+D. Only the switch drawn on a shortcut toggles its skip (a click beside the line
is a click on empty space). Zoom, pan, orientation, presenter mode and collapsed stages are view
state only.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QKeySequence, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsView, QMenu

from ...spec import BlockKind, edits
from .. import theme as th
from ..selection import Selection
from .export import export_scene
from .fitting import StageFolding
from .layout import HORIZONTAL, VERTICAL, Geometry
from .menu import context_menu
from .mime import STAGE_PART, decode_part
from .scene import DiagramScene
from .view_fit import ViewFitting


class DiagramView(ViewFitting, QGraphicsView):
    blockActivated = Signal(object)  # Selection of the double-clicked block

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        self._scene = DiagramScene(self)
        self.setScene(self._scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.folding = StageFolding(self)
        self._init_fitting()
        self._generation = document.generation  # a new one: the whole network was replaced
        self._press = None  # what the left button went down on
        self._moving = None  # (stage, block) being dragged to a new place
        self._pan_from: QPointF | None = None
        document.specChanged.connect(self._on_spec_changed)
        document.selectionChanged.connect(self._on_selection_changed)
        self.refresh()
        self._scene.set_selection(document.selection)

    # -- document -> scene ---------------------------------------------------------
    def refresh(self) -> None:
        """Redraw the document's spec (after a change of view state such as folding a stage)."""
        doc = self.document
        self._scene.sync(doc.spec, doc.info, doc.errors)

    def _on_spec_changed(self, new, old) -> None:
        if self.document.generation != self._generation:  # New, Open, Restore: another network
            self._generation = self.document.generation
            self.reset_view()
            return
        if old is not None and len(new.stages) != len(old.stages):
            at = next((i for i, (a, b) in enumerate(zip(new.stages, old.stages)) if a != b),
                      min(len(new.stages), len(old.stages)))
            delta = 1 if len(new.stages) > len(old.stages) else -1
            self._scene.shift_collapse(at, delta)
            self.folding.shift(at, delta)
        self.refresh()

    def _on_selection_changed(self, selection: Selection) -> None:
        if selection.part == "block" and selection.stage is not None \
                and self._scene.summary_item(selection.stage) is not None \
                and self._scene.block_item(selection.stage, selection.block or 0) is None \
                and self.document.spec.stages[selection.stage].blocks:
            self.set_stage_collapsed(selection.stage, False)  # show the block that was asked for
        item = self._scene.set_selection(selection)
        if item is not None:
            self.ensureVisible(item.sceneBoundingRect(), 40, 40)

    # -- public view controls --------------------------------------------------------
    def scene(self) -> DiagramScene:  # noqa: D102 - typed accessor
        return self._scene

    def select(self, selection: Selection) -> None:
        self.document.select(selection)

    def orientation(self) -> str:
        return self._scene.geom.orientation

    def set_orientation(self, orientation: str) -> None:
        if orientation not in (VERTICAL, HORIZONTAL):
            raise ValueError(f"orientation must be 'vertical' or 'horizontal', not {orientation!r}")
        if orientation != self.orientation():
            self._scene.set_geometry(Geometry(self._scene.geom.theme, orientation))
            self.refresh()
            self._refit()

    def stage_columns(self) -> bool:
        return self._scene.columns

    def set_stage_columns(self, on: bool) -> None:
        """Top to bottom: each stage in its own column, side by side (on) or one tall column (off)."""
        if bool(on) != self._scene.columns:
            self._scene.columns = bool(on)
            self.refresh()
            self._refit()

    def presenter(self) -> bool:
        return self._scene.geom.theme.presenter

    def set_presenter(self, on: bool) -> None:
        """Larger text and thicker lines; a fit in presenter mode may fold stages to keep text legible."""
        if bool(on) != self.presenter():
            if not on:
                self.folding.unfold()
            self.folding.enabled = bool(on)
            self._scene.set_geometry(Geometry(th.Theme(presenter=bool(on)), self.orientation()))
            self.refresh()
            self._refit()

    def is_stage_collapsed(self, stage: int) -> bool:
        return self._scene.is_collapsed(stage)

    def set_stage_collapsed(self, stage: int, collapsed: bool) -> None:
        if not 0 <= stage < len(self.document.spec.stages):
            raise IndexError(f"there is no stage {stage + 1}")
        self.folding.user_took_over()
        self._scene.set_collapsed(stage, collapsed)
        self.refresh()

    def collapse_all(self) -> None:
        """Fold every stage and fit the (much shorter) diagram to the window."""
        self.folding.user_took_over()
        self._scene.set_all_collapsed(True)
        self.refresh()
        self.fit_to_window()

    def expand_all(self) -> None:
        self.folding.user_took_over()
        self._scene.set_all_collapsed(False)
        self.refresh()
        self._refit()

    def export_image(self, path) -> None:
        """The whole diagram as PNG (2x, for slides) or SVG, chosen by the file's suffix."""
        scene = self._scene
        scene.hide_indicator()
        selection = self.document.selection
        scene.set_selection(Selection())  # the highlight is editing state, not part of the figure
        try:
            export_scene(scene, path, title=self.document.spec.name)
        finally:
            scene.set_selection(selection)

    # -- edits -------------------------------------------------------------------------------
    def toggle_skip(self, stage: int, block: int) -> None:
        if self.document.spec.block(stage, block).kind is BlockKind.PLAIN:
            return
        self.document.edit(*edits.toggle_skip(self.document.spec, stage, block))

    def delete_selection(self) -> bool:
        sel, spec = self.document.selection, self.document.spec
        if sel.part == "block" and sel.stage is not None and sel.block is not None:
            new, text = edits.delete_block(spec, sel.stage, sel.block)
        elif sel.part == "stage" and sel.stage is not None:
            new, text = edits.delete_stage(spec, sel.stage)
        else:
            return False
        self.document.edit(new, text)
        return True

    def duplicate_selection(self) -> bool:
        sel, spec = self.document.selection, self.document.spec
        if sel.part == "block" and sel.stage is not None and sel.block is not None:
            new, text = edits.duplicate_block(spec, sel.stage, sel.block)
            target = Selection.of_block(sel.stage, sel.block + 1)
        elif sel.part == "stage" and sel.stage is not None:
            new, text = edits.duplicate_stage(spec, sel.stage)
            target = Selection.of_stage(sel.stage + 1)
        else:
            return False
        self.document.edit(new, text)
        self.document.select(target)
        return True

    def insert_part(self, part, stage_or_index: int, index: int | None = None) -> None:
        """Apply a palette drop: a block kind into (stage, index), or a new stage at an index."""
        spec = self.document.spec
        if part == STAGE_PART:
            new, text = edits.add_stage(spec, stage_or_index)
            self.document.edit(new, text)
            self.document.select(Selection.of_stage(stage_or_index))
        else:
            new, text = edits.insert_block(spec, stage_or_index, index, part)
            self.document.edit(new, text)
            self.document.select(Selection.of_block(stage_or_index, index))

    # -- mouse -------------------------------------------------------------------------------
    def _hit(self, pos: QPoint):
        """The topmost diagram item under a viewport position, with its role."""
        for item in self.items(pos):
            role = getattr(item, "role", "")
            if role in ("arc", "block", "summary", "node", "stage"):
                return item, role
        return None, None

    def _selection_for(self, item, role) -> Selection:
        if role == "block":
            return Selection.of_block(*item.key)
        if role in ("stage", "summary"):
            return Selection.of_stage(item.stage)
        if role == "node" and item.part in ("stem", "head"):
            return Selection(item.part)
        return Selection()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        pos = event.position().toPoint()
        item, role = self._hit(pos)
        self._press = (item, role, pos)
        if role == "stage" and item.chevron_rect().contains(self.mapToScene(pos)):
            self.set_stage_collapsed(item.stage, not item.collapsed)
            self._press = None
        elif role in ("block", "stage", "summary", "node"):
            self.document.select(self._selection_for(item, role))
        elif role is None:
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        if self._pan_from is not None:
            delta = pos - self._pan_from
            self._pan_from = pos
            self._user_zoomed = True  # the user placed the view: a resize no longer refits it
            self._fitted = False
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            return
        if self._press and self._press[1] == "block" and event.buttons() & Qt.MouseButton.LeftButton:
            moved = (pos.toPoint() - self._press[2]).manhattanLength()
            if self._moving is None and moved >= QApplication.startDragDistance():
                self._moving = self._press[0].key
                self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            if self._moving is not None:
                target = self._scene.block_drop_target(self.mapToScene(pos.toPoint()))
                if target is None:
                    self._scene.hide_indicator()
                else:
                    self._scene.show_block_indicator(*target)
                return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        press, self._press = self._press, None
        pos = event.position().toPoint()
        self.viewport().unsetCursor()
        if self._pan_from is not None:
            self._pan_from = None
            if press and (pos - press[2]).manhattanLength() < QApplication.startDragDistance():
                self.document.select(Selection())  # a click on empty space clears the selection
            return
        if self._moving is not None:
            moving, self._moving = self._moving, None
            self._scene.hide_indicator()
            target = self._scene.block_drop_target(self.mapToScene(pos))
            if target is not None:
                self._apply_move(moving, target)
            return
        if press and press[1] == "arc":
            item, _ = self._hit(pos)
            if item is press[0]:
                self.toggle_skip(*item.block.key)
        event.accept()

    def _apply_move(self, source: tuple[int, int], target: tuple[int, int]) -> None:
        result = edits.move_block(self.document.spec, *source, *target)
        if result is None:
            return
        new, text, landed = result
        self.document.edit(new, text)
        self.document.select(Selection.of_block(*landed))

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        item, role = self._hit(event.position().toPoint())
        if role == "block":
            self.blockActivated.emit(Selection.of_block(*item.key))
        elif role == "summary":
            self.set_stage_collapsed(item.stage, False)
        elif role == "arc":
            self.toggle_skip(*item.block.key)  # the second click of a double-click toggles again
        event.accept()

    def wheelEvent(self, event) -> None:  # noqa: N802
        delta = event.angleDelta()
        if delta.y():
            self._zoom_by(1.15 ** (delta.y() / 120.0))
        elif delta.x():  # a sideways swipe pans
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - delta.x())
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not ctrl:
            if self.delete_selection():
                return
        elif key == Qt.Key.Key_D and ctrl:
            if self.duplicate_selection():
                return
        elif event.matches(QKeySequence.StandardKey.ZoomIn) or (ctrl and key == Qt.Key.Key_Equal):
            self.zoom_in()
            return
        elif event.matches(QKeySequence.StandardKey.ZoomOut):
            self.zoom_out()
            return
        super().keyPressEvent(event)

    # -- context menu ----------------------------------------------------------------------
    def context_menu_at(self, pos: QPoint) -> QMenu:
        """The menu for what is under ``pos`` (viewport coordinates); selects it first."""
        item, role = self._hit(pos)
        if role == "arc":
            item, role = item.block, "block"
        if role is not None:
            self.document.select(self._selection_for(item, role))
        return context_menu(self, item, role)

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        menu = self.context_menu_at(event.pos())
        menu.exec(event.globalPos())
        menu.deleteLater()

    # -- drops from the palette ---------------------------------------------------------------
    def _drop_target(self, event):
        part = decode_part(event.mimeData())
        if part is None:
            return None, None
        p = self.mapToScene(event.position().toPoint())
        if part == STAGE_PART:
            return part, (self._scene.stage_drop_target(p),)
        return part, self._scene.block_drop_target(p)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if decode_part(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        part, target = self._drop_target(event)
        if part is None or target is None:
            self._scene.hide_indicator()
            event.ignore()
            return
        if part == STAGE_PART:
            self._scene.show_stage_indicator(target[0])
        else:
            self._scene.show_block_indicator(*target)
        event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._scene.hide_indicator()
        event.accept()

    def dropEvent(self, event) -> None:  # noqa: N802
        self._scene.hide_indicator()
        part, target = self._drop_target(event)
        if part is None or target is None:
            event.ignore()
            return
        self.insert_part(part, *target)
        event.acceptProposedAction()

