"""The block-diagram canvas, driven through its real widgets (pytest-qt, offscreen)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from explorer.spec import BlockKind, ShortcutKind, preset
from explorer.ui.canvas import PART_MIME, STAGE_PART, DiagramView, LegendWidget, PaletteWidget, decode_part
from explorer.ui.canvas.paint import text_width
from explorer.ui.document import Document
from explorer.ui.selection import Selection


@pytest.fixture
def make_view(qtbot):
    def make(name="resnet20", spec=None):
        doc = Document(spec if spec is not None else preset(name))
        view = DiagramView(doc)
        qtbot.addWidget(view)
        view.resize(900, 800)
        view.show()
        qtbot.waitExposed(view)
        return doc, view
    return make


def _viewport_point(view, scene_point: QPointF) -> QPoint:
    return view.mapFromScene(scene_point)


def _show(view, item) -> QPoint:
    """Scroll ``item`` into view and return its centre in viewport coordinates."""
    view.centerOn(item)
    return _viewport_point(view, item.sceneBoundingRect().center())


def _arc_point(view, arc) -> QPoint:
    """A point on the arc's straight run (half-way along it)."""
    view.centerOn(arc.block)
    path = arc._path
    p = arc.mapToScene(path.pointAtPercent(0.5))
    return _viewport_point(view, p)


def _drag_drop(view, mime, scene_point: QPointF) -> bool:
    """The three events a real drag sends to the viewport; returns whether the drop was taken."""
    pos = QPointF(_viewport_point(view, scene_point))
    actions = Qt.DropAction.CopyAction
    vp = view.viewport()
    enter = QDragEnterEvent(pos.toPoint(), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, enter)
    move = QDragMoveEvent(pos.toPoint(), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, move)
    if not move.isAccepted():
        return False
    drop = QDropEvent(pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, drop)
    return drop.isAccepted()


def _undo_all(doc):
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()


# -- palette ------------------------------------------------------------------------------

def test_palette_offers_every_kind_and_a_stage_with_our_mime_type(qtbot):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    parts = [palette.part_at(r) for r in range(palette.count())]
    assert parts == list(BlockKind) + [STAGE_PART]
    for row, part in enumerate(parts):
        mime = palette.mimeData([palette.item(row)])
        assert mime.hasFormat(PART_MIME)
        assert decode_part(mime) == part
        assert not palette.item(row).icon().isNull()  # a drawn swatch, no icon theme
    assert palette.mimeTypes() == [PART_MIME]


def test_legend_lists_kinds_and_shortcut_styles(qtbot):
    legend = LegendWidget()
    qtbot.addWidget(legend)
    small = legend.sizeHint()
    legend.set_presenter(True)
    assert legend.sizeHint().height() > small.height() * 1.3
    image = legend.grab().toImage()
    assert image.width() > 100


# -- drawing ------------------------------------------------------------------------------

def test_draws_every_block_with_its_shortcut_style(make_view):
    doc, view = make_view("resnet20")
    scene = view.scene()
    assert len(scene.block_items()) == 9
    styles = {item.key: item.arc.style for item in scene.block_items()}
    # the paper's CIFAR nets: zero-pad where the shape changes, identity elsewhere
    assert styles[(1, 0)] == "zero_pad" and styles[(2, 0)] == "zero_pad"
    assert styles[(0, 1)] == "identity"
    assert scene.block_item(1, 0).data_.out_shape == "32x16x16"


def test_large_stages_start_collapsed_and_expand_from_the_chevron(make_view, qtbot):
    doc, view = make_view("resnet152")
    scene = view.scene()
    assert view.is_stage_collapsed(2)  # 36 blocks
    assert not view.is_stage_collapsed(1) and not view.is_stage_collapsed(0)  # 8 and 3 stay open
    assert scene.summary_item(2) is not None and scene.block_item(2, 0) is None
    frame = scene.frame_item(2)
    view.centerOn(frame)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=_viewport_point(view, frame.chevron_rect().center()))
    assert not view.is_stage_collapsed(2)
    assert scene.block_item(2, 35) is not None
    # collapse state is view state: it survives an edit of the spec
    doc.edit(doc.spec.with_skips(False, [(0, 0)]), "skip off")
    assert not view.is_stage_collapsed(2)
    view.collapse_all()
    assert all(view.is_stage_collapsed(i) for i in range(4)) and not scene.block_items()
    view.expand_all()
    assert len(scene.block_items()) == 50


def test_invalid_design_outlines_the_offending_block_and_names_the_problem(make_view):
    spec = preset("resnet20")
    bad = spec.with_block(1, 0, replace(spec.block(1, 0), shortcut=ShortcutKind.IDENTITY))
    doc, view = make_view(spec=bad)
    scene = view.scene()
    item = scene.block_item(1, 0)
    assert item.data_.error and "identity shortcut" in item.data_.error
    assert scene.block_item(0, 0).data_.error is None
    assert scene.banner.isVisible()
    # shapes are still shown around the error
    assert item.data_.in_shape == "16x32x32" and item.data_.out_shape == "32x16x16"
    # fixing it clears the outline and the banner
    doc.edit(spec, "fix")
    assert scene.block_item(1, 0).data_.error is None and not scene.banner.isVisible()


# -- editing by mouse and keyboard ---------------------------------------------------------

def test_clicking_an_arc_toggles_the_skip_and_undo_restores_it(make_view, qtbot):
    doc, view = make_view("resnet20")
    original = doc.spec
    arc = view.scene().block_item(0, 1).arc
    assert "switch this skip off" in arc.toolTip()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_arc_point(view, arc))
    assert doc.spec.block(0, 1).skip is False
    assert doc.undo_stack.undoText() == "Skip off: stage 1, block 2"
    assert view.scene().block_item(0, 1).arc.style == "off"
    assert "switch this skip on" in arc.toolTip()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_arc_point(view, arc))
    assert doc.spec.block(0, 1).skip is True
    _undo_all(doc)
    assert doc.spec == original


def test_clicks_select_and_selection_from_elsewhere_highlights(make_view, qtbot):
    doc, view = make_view("resnet20")
    scene = view.scene()
    item = scene.block_item(2, 1)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_show(view, item))
    assert doc.selection == Selection.of_block(2, 1)
    assert item.selected
    doc.select(Selection.of_stage(0))
    assert not item.selected and scene.frame_item(0).selected
    doc.select(Selection("stem"))
    assert scene.node_item("stem").selected


def test_selecting_a_block_in_a_collapsed_stage_expands_it(make_view):
    doc, view = make_view("resnet110")
    assert view.is_stage_collapsed(1)
    doc.select(Selection.of_block(1, 7))
    assert not view.is_stage_collapsed(1)
    assert view.scene().block_item(1, 7).selected


def test_delete_key_and_ctrl_d_edit_the_selected_block(make_view, qtbot):
    doc, view = make_view("resnet20")
    original = doc.spec
    item = view.scene().block_item(0, 2)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_show(view, item))
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert len(doc.spec.stages[0].blocks) == 2
    assert doc.undo_stack.undoText() == "Delete block: stage 1, block 3"
    assert len(view.scene().block_items()) == 8
    doc.select(Selection.of_block(1, 0))
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    blocks = doc.spec.stages[1].blocks
    assert len(blocks) == 4 and blocks[1] == replace(blocks[0], stride=1)
    assert doc.selection == Selection.of_block(1, 1)
    doc.select(Selection.of_stage(2))
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(doc.spec.stages) == 4 and doc.spec.stages[3] == doc.spec.stages[2]
    qtbot.keyClick(view, Qt.Key.Key_Backspace)  # the copy is selected: delete it
    assert len(doc.spec.stages) == 3
    _undo_all(doc)
    assert doc.spec == original


def test_drag_a_block_kind_from_the_palette_onto_a_stage(make_view, qtbot):
    doc, view = make_view("resnet20")
    original = doc.spec
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    mime = palette.mimeData([palette.item(palette.row_of(BlockKind.PREACT_BASIC))])
    scene = view.scene()
    # drop on the lower half of stage 2's first block: lands after it
    box = scene.block_item(1, 0).sceneBoundingRect()
    view.centerOn(box.center())
    assert _drag_drop(view, mime, QPointF(box.center().x(), box.bottom() - 4))
    stage = doc.spec.stages[1]
    assert len(stage.blocks) == 4
    assert stage.blocks[1].kind is BlockKind.PREACT_BASIC
    assert stage.blocks[1].width == 32 and stage.blocks[1].stride == 1
    assert doc.selection == Selection.of_block(1, 1)
    assert scene.block_item(1, 1).data_.kind is BlockKind.PREACT_BASIC
    assert not scene.indicator.isVisible()
    # outside every stage a block kind is refused and nothing changes
    before = doc.spec
    title = scene.title.sceneBoundingRect().center()
    view.centerOn(title)
    assert not _drag_drop(view, mime, title)
    assert doc.spec == before
    _undo_all(doc)
    assert doc.spec == original


def test_drag_a_new_stage_to_the_end(make_view, qtbot):
    doc, view = make_view("resnet20")
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    mime = palette.mimeData([palette.item(palette.row_of(STAGE_PART))])
    head = view.scene().node_item("head").sceneBoundingRect().center()
    view.centerOn(head)
    assert _drag_drop(view, mime, head)
    assert len(doc.spec.stages) == 4
    new = doc.spec.stages[3].blocks
    assert len(new) == 1 and new[0].kind is BlockKind.BASIC and new[0].width == 64
    assert doc.valid  # it keeps the shape it receives
    assert doc.undo_stack.undoText() == "Add stage 4"


def test_drag_a_block_to_reorder_it(make_view, qtbot):
    doc, view = make_view("resnet20")
    original = doc.spec
    spec = doc.spec.with_block(0, 2, replace(doc.spec.block(0, 2), width=24))
    doc.edit(spec, "widen")
    scene = view.scene()
    source = scene.block_item(0, 2)
    view.centerOn(scene.frame_item(0))
    start = _viewport_point(view, source.sceneBoundingRect().center())
    target_box = scene.block_item(0, 0).box_rect()
    target = _viewport_point(view, scene.block_item(0, 0).mapToScene(target_box.center()) - QPointF(0, 20))
    vp = view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 6):
        qtbot.mouseMove(vp, start + (target - start) * (k / 5))
    assert scene.indicator.isVisible()
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=target)
    assert [b.width for b in doc.spec.stages[0].blocks] == [24, 16, 16]
    assert doc.selection == Selection.of_block(0, 0)
    assert doc.undo_stack.undoText().startswith("Move block: stage 1, block 3")
    _undo_all(doc)
    assert doc.spec == original


def test_context_menu_offers_skip_toggle_collapse_and_delete(make_view):
    doc, view = make_view("resnet20")
    item = view.scene().block_item(0, 0)
    menu = view.context_menu_at(_show(view, item))
    texts = [a.text() for a in menu.actions() if a.text()]
    assert "Switch skip off" in texts and "Collapse stage 1" in texts
    assert any(t.startswith("Delete block") for t in texts)
    next(a for a in menu.actions() if a.text() == "Switch skip off").trigger()
    assert doc.spec.block(0, 0).skip is False
    menu = view.context_menu_at(_show(view, item))
    next(a for a in menu.actions() if a.text() == "Collapse stage 1").trigger()
    assert view.is_stage_collapsed(0)


def test_a_stage_insertion_keeps_collapse_state_with_its_stage(make_view):
    doc, view = make_view("resnet20")
    view.set_stage_collapsed(2, True)
    view.insert_part(STAGE_PART, 0)
    assert view.is_stage_collapsed(3) and not view.is_stage_collapsed(0)
    doc.undo_stack.undo()
    assert view.is_stage_collapsed(2)


# -- view controls and export ----------------------------------------------------------------

def test_wheel_zooms_and_fit_shows_everything(make_view, qtbot):
    doc, view = make_view("resnet20")
    before = view.zoom()
    pos = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(pos, QPointF(view.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom() == pytest.approx(before * 1.15 ** 2)
    view.zoom_out()
    assert view.zoom() == pytest.approx(before * 1.15 ** 2 / 1.25)
    view.reset_zoom()
    assert view.zoom() == 1.0
    view.fit_to_window()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.adjusted(-1, -1, 1, 1).contains(view.scene().content_rect)


def test_orientation_and_presenter_mode_relayout(make_view, qtbot):
    doc, view = make_view("resnet20")
    scene = view.scene()
    first, second = scene.frame_item(0).rect(), scene.frame_item(1).rect()
    assert second.left() > first.right() and second.top() < first.bottom()  # stages side by side
    view.set_stage_columns(False)
    first, second = scene.frame_item(0).rect(), scene.frame_item(1).rect()
    assert second.top() > first.bottom() and second.left() == first.left()  # one tall column
    rect = view.scene().content_rect
    assert rect.height() > rect.width()
    view.set_orientation("horizontal")
    assert view.orientation() == "horizontal"
    rect = view.scene().content_rect
    assert rect.width() > rect.height()
    arc = view.scene().block_item(2, 2).arc  # arcs still answer clicks after the relayout
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_arc_point(view, arc))
    assert doc.spec.block(2, 2).skip is False
    normal = view.scene().geom
    view.set_presenter(True)
    # presenter mode: every text 1.45x larger (the smallest lifted further), boxes fitted to it
    presenter = view.scene().geom
    assert presenter.text(14.5) == pytest.approx(normal.text(14.5) * 1.45)
    assert presenter.smallest_text >= normal.smallest_text * 1.45 * 1.15
    title = f"{doc.spec.block(0, 0).kind.label} · {doc.spec.block(0, 0).width}"
    assert view.scene().block_item(0, 0).box_rect().width() > text_width(title, presenter.text(14.5), True)
    with pytest.raises(ValueError):
        view.set_orientation("diagonal")


def test_export_png_and_svg_of_the_whole_diagram(make_view, tmp_path):
    doc, view = make_view("resnet20")
    doc.select(Selection.of_block(0, 0))
    view.zoom_in()
    png, svg = tmp_path / "net.png", tmp_path / "net.svg"
    view.export_image(png)
    view.export_image(svg)
    image = QImage(str(png))
    scene_rect = view.scene().content_rect
    assert image.width() >= 2 * scene_rect.width() and image.height() >= 2 * scene_rect.height()
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert "Stage 2" in svg.read_text()
    assert view.scene().block_item(0, 0).selected  # the highlight is back after the export
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        view.export_image(tmp_path / "net.gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.png", "net.svg"]


def test_an_edit_on_resnet1202_only_redraws_what_changed(make_view):
    doc, view = make_view("resnet1202")
    assert all(view.is_stage_collapsed(i) for i in range(3))
    view.set_stage_collapsed(1, False)
    scene = view.scene()
    items = {item.key: item for item in scene.block_items()}
    assert len(items) == 200
    before = {k: item.data_ for k, item in items.items()}
    doc.edit(doc.spec.with_skips(False, [(1, 50)]), "skip off")
    after = {item.key: item for item in scene.block_items()}
    assert all(after[k] is items[k] for k in items)  # no item was rebuilt
    changed = [k for k, item in after.items() if item.data_ != before[k]]
    assert changed == [(1, 50)]


def test_drop_a_stage_between_two_columns(make_view, qtbot):
    doc, view = make_view("resnet20")
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    mime = palette.mimeData([palette.item(palette.row_of(STAGE_PART))])
    first, second = view.scene().frame_item(0).rect(), view.scene().frame_item(1).rect()
    gap = QPointF((first.right() + second.left()) / 2, first.center().y())
    view.centerOn(gap)
    assert _drag_drop(view, mime, gap)
    assert len(doc.spec.stages) == 4
    assert doc.spec.stages[1].blocks[0].width == 16  # keeps stage 1's output shape
    assert doc.valid and doc.selection == Selection.of_stage(1)


def test_double_clicks_activate_a_block_and_expand_a_summary(make_view, qtbot):
    doc, view = make_view("resnet152")
    item = view.scene().block_item(0, 1)
    with qtbot.waitSignal(view.blockActivated) as activated:
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_show(view, item))
    assert activated.args == [Selection.of_block(0, 1)]
    summary = view.scene().summary_item(2)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_show(view, summary))
    assert not view.is_stage_collapsed(2)


def test_block_tooltip_tells_shapes_parameters_and_shortcut(make_view):
    doc, view = make_view("resnet20")
    tip = view.scene().block_item(1, 0).toolTip()
    info = doc.info.blocks[3]
    assert "in 16x32x32 → out 32x16x16" in tip
    assert f"parameters {info.params:,}" in tip and "zero-pad" in tip


def test_opening_another_network_resets_collapse_state(make_view):
    doc, view = make_view("resnet1202")
    view.set_stage_collapsed(2, False)
    doc.replace(preset("resnet152"), None)
    assert view.is_stage_collapsed(2)  # 36 blocks: collapsed by default again
    assert view.scene().summary_item(2) is not None and view.scene().block_item(0, 0) is not None


def test_in_presenter_mode_a_block_with_an_error_has_room_for_its_warning_sign(make_view):
    spec = preset("resnet20")
    bad = spec.with_block(1, 0, replace(spec.block(1, 0), shortcut=ShortcutKind.IDENTITY))
    doc, view = make_view(spec=bad)
    view.set_presenter(True)
    scene = view.scene()
    g = scene.geom
    item = scene.block_item(1, 0)
    assert item.data_.error
    title = f"⚠ {bad.block(1, 0).kind.label} · {bad.block(1, 0).width}"
    stride = text_width("stride 2", g.text(12.5), True) + g.s(12)  # drawn on the same line, right-aligned
    assert item.box_rect().width() >= text_width(title, g.text(14.5), True) + 2 * g.s(9) + stride


def test_in_presenter_mode_a_folded_stage_says_its_problems_whole(make_view):
    spec = preset("resnet20")
    bad = spec.with_block(1, 0, replace(spec.block(1, 0), shortcut=ShortcutKind.IDENTITY))
    doc, view = make_view(spec=bad)
    view.set_presenter(True)
    view.collapse_all()
    scene = view.scene()
    g = scene.geom
    counts = "1 problem inside · skips 3/3 on"
    assert counts in scene.summary_item(1).toolTip()  # the line the box draws, also in its tooltip
    # the box leaves 10 px of padding each side and the stacked cards' offset; the line must fit inside
    assert g.summary_width >= text_width(counts, g.text(12.5)) + g.s(40)
