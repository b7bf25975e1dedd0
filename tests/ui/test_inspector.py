"""The inspector drives real widgets: typed values, arrow clicks, combo choices, undo."""
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from explorer.spec import BlockKind, InitKind, ShortcutKind, preset
from explorer.ui.document import Document
from explorer.ui.inspector import Inspector
from explorer.ui.selection import Selection


@pytest.fixture
def doc_and_inspector(qtbot):
    document = Document(preset("resnet20"))
    inspector = Inspector(document)
    qtbot.addWidget(inspector)
    inspector.resize(380, 800)
    inspector.show()
    qtbot.waitExposed(inspector)
    return document, inspector


def type_value(qtbot, box, text):
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), text)
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)


def test_typed_width_is_one_undoable_edit(qtbot, doc_and_inspector):
    document, inspector = doc_and_inspector
    start = document.spec
    document.select(Selection.of_block(1, 1))
    type_value(qtbot, inspector.block_page.width_box, "48")
    assert document.spec.block(1, 1).width == 48
    assert document.spec.block(1, 0).width == 32  # only the selected block
    assert document.undo_stack.count() == 1  # "48" is one value, not "4" then "48"
    assert "Set width of stage 2, block 2" in document.undo_stack.undoText()
    document.undo_stack.undo()
    assert document.spec == start
    assert inspector.block_page.width_box.value() == 32  # refreshed from the undo
    assert document.undo_stack.count() == 1  # the refresh made no edit of its own


def test_arrow_clicks_merge_until_enter(qtbot, doc_and_inspector):
    document, inspector = doc_and_inspector
    document.select(Selection.of_stage(0))
    box = inspector.stage_page.width_box
    box.setFocus()
    for _ in range(3):
        qtbot.keyClick(box, Qt.Key.Key_Up)
    assert document.spec.stages[0].width == 19
    assert all(b.width == 19 for b in document.spec.stages[0].blocks)
    assert document.undo_stack.count() == 1
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)  # ends the run
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert document.undo_stack.count() == 2
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert document.spec == preset("resnet20")


def test_stage_count_appends_copies_and_removes_from_end(qtbot, doc_and_inspector):
    document, inspector = doc_and_inspector
    document.select(Selection.of_stage(1))
    type_value(qtbot, inspector.stage_page.count, "5")
    blocks = document.spec.stages[1].blocks
    assert len(blocks) == 5 and blocks[-1] == blocks[2]
    assert document.valid
    type_value(qtbot, inspector.stage_page.count, "1")
    blocks = document.spec.stages[1].blocks
    assert len(blocks) == 1 and blocks[0].stride == 2
    # Growing a one-block stage copies its first block without the stride.
    type_value(qtbot, inspector.stage_page.count, "2")
    assert [b.stride for b in document.spec.stages[1].blocks] == [2, 1]
    assert document.valid
    type_value(qtbot, inspector.stage_page.stride, "1")
    assert document.spec.stages[1].blocks[0].stride == 1


def test_combo_edits_and_bottleneck_only_rows(qtbot, doc_and_inspector):
    document, inspector = doc_and_inspector
    page = inspector.block_page
    document.select(Selection.of_block(2, 2))  # the last block: its output feeds only the head
    assert page.placement.isHidden()
    assert "3x3 convolutions" in inspector.explanation.text()
    page.kind.setCurrentIndex(list(BlockKind).index(BlockKind.BOTTLENECK))
    assert document.spec.block(2, 2).kind is BlockKind.BOTTLENECK
    assert not page.placement.isHidden()
    assert "four times" in inspector.explanation.text()
    assert "256x8x8" in inspector.details.text()  # 4 x width 64 out channels
    page.zero_init.setCurrentIndex(1)  # "On"
    assert document.spec.block(2, 2).zero_init is True
    page.skip.click()
    assert document.spec.block(2, 2).skip is False
    assert "(off)" in inspector.details.text()
    assert document.undo_stack.count() == 3


def test_plain_kind_drops_an_explicit_shortcut(qtbot, doc_and_inspector):
    document, inspector = doc_and_inspector
    document.select(Selection.of_block(1, 0))  # zero-pad shortcut in the preset
    inspector.block_page.kind.setCurrentIndex(list(BlockKind).index(BlockKind.PLAIN))
    block = document.spec.block(1, 0)
    assert block.kind is BlockKind.PLAIN and block.shortcut is ShortcutKind.AUTO
    assert document.valid
    assert not inspector.block_page.skip.isEnabled()


def test_invalid_block_shows_its_problem_in_place(qtbot, doc_and_inspector):
    document, inspector = doc_and_inspector
    document.select(Selection.of_block(1, 0))
    inspector.block_page.shortcut.set_value(ShortcutKind.IDENTITY)
    inspector.block_page.shortcut.currentIndexChanged.emit(inspector.block_page.shortcut.currentIndex())
    assert not document.valid
    text = inspector.details.text()
    assert "identity shortcut cannot carry 16x32x32 to 32x16x16" in text
    assert document.last_valid_spec == preset("resnet20")


def test_network_page_edits_input_and_init(qtbot, doc_and_inspector):
    document, inspector = doc_and_inspector
    document.select(Selection())
    page = inspector.network_page
    assert inspector.pages.currentWidget() is page
    assert page.std.isHidden()
    type_value(qtbot, page.input_height, "64")
    assert document.spec.input_shape == (3, 64, 32)
    page.init.setCurrentIndex(list(InitKind).index(InitKind.GAUSSIAN))
    assert document.spec.init.kind is InitKind.GAUSSIAN
    assert not page.std.isHidden()
    type_value(qtbot, page.std, "0.1")
    assert document.spec.init.std == pytest.approx(0.1)
    page.name.setFocus()
    page.name.selectAll()
    qtbot.keyClicks(page.name, "my net")
    qtbot.keyClick(page.name, Qt.Key.Key_Return)
    assert document.spec.name == "my net"


def test_stem_and_head_pages(qtbot, doc_and_inspector):
    document, inspector = doc_and_inspector
    document.select(Selection("head"))
    type_value(qtbot, inspector.head_page.classes, "100")
    assert document.spec.head.num_classes == 100
    assert "64x8x8" in inspector.details.text() and "6,500 (6.50K)" in inspector.details.text()
    document.select(Selection("stem"))
    type_value(qtbot, inspector.stem_page.width_box, "8")  # zero-pad shortcuts can widen 8 to 16
    assert document.spec.stem.width == 8
    assert "8x32x32" in inspector.details.text()
    type_value(qtbot, inspector.stem_page.width_box, "24")  # ...but cannot narrow 24 to 16
    assert not document.valid
    assert "appear once the design is valid" in inspector.details.text()


def test_external_change_refreshes_without_an_edit(qtbot, doc_and_inspector):
    document, inspector = doc_and_inspector
    document.select(Selection.of_block(2, 1))
    spec = document.spec
    document.edit(spec.with_block(2, 1, replace(spec.block(2, 1), width=80)), "canvas edit")
    assert inspector.block_page.width_box.value() == 80
    assert document.undo_stack.count() == 1


def test_empty_stage_gets_blocks_from_the_count(qtbot, doc_and_inspector):
    document, inspector = doc_and_inspector
    spec = document.spec
    document.replace(spec.with_stage(2, replace(spec.stages[2], blocks=())), None)
    assert not document.valid  # "a stage needs at least one block"
    document.select(Selection.of_stage(2))
    type_value(qtbot, inspector.stage_page.count, "2")
    assert [b.width for b in document.spec.stages[2].blocks] == [32, 32]
    assert document.valid


def test_zero_pad_blocks_choose_where_the_zero_channels_go(qtbot, doc_and_inspector):
    from explorer.spec import PadPlacement

    document, inspector = doc_and_inspector
    page = inspector.block_page
    document.select(Selection.of_block(1, 1))  # identity shortcut (auto): no zero channels to place
    assert page.pad_placement.isHidden()
    document.select(Selection.of_block(1, 0))  # the preset's zero-pad shortcut, 16 -> 32 channels
    assert not page.pad_placement.isHidden()
    assert page.pad_placement.value() is PadPlacement.END
    assert "The new all-zero channels come after" in inspector.explanation.text()
    page.pad_placement.setCurrentIndex(list(PadPlacement).index(PadPlacement.BOTH))
    assert document.spec.block(1, 0).pad_placement is PadPlacement.BOTH
    assert "Half of the new all-zero channels" in inspector.explanation.text()
    document.undo_stack.undo()
    assert document.spec.block(1, 0).pad_placement is PadPlacement.END
    assert page.pad_placement.value() is PadPlacement.END
