"""Classroom use: no accidental skip toggles, findable commands, state that never goes stale."""
from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from explorer.export import EXPORT_INSTALL
from explorer.spec import BlockKind, preset, try_analyse
from explorer.spec import edits
from explorer.ui.document import Document
from explorer.ui.edit_menu import skip_change_message
from explorer.ui.folders import documents_folder, start_folder
from explorer.ui.help_tour import KEYS_AND_MOUSE, TOUR, TOUR_SEEN_KEY
from explorer.ui.main_window import MainWindow
from explorer.ui.selection import Selection
from fakes import FakeDialogs  # tests/ui is on sys.path (rootdir-relative imports)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(Document(preset("resnet20")), settings=settings, dialogs=FakeDialogs())
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    QApplication.instance().setFont(win._base_font)


def _switch_point(view, arc) -> QPoint:
    view.centerOn(arc.block)
    return view.mapFromScene(arc.mapToScene(arc.switch_rect().center()))


def _beside_line_point(view, arc) -> QPoint:
    """Empty canvas a few pixels outside the shortcut line, away from its switch."""
    view.centerOn(arc.block)
    path = arc._path
    on_line = arc.mapToScene(path.pointAtPercent(0.3))
    return view.mapFromScene(on_line) + QPoint(7, 0)  # the line runs top to bottom: step right


def _switch_pixels(view, arc, hovered: bool) -> bytes:
    arc.hovered = hovered
    arc.update()
    rect = view.mapFromScene(arc.mapToScene(arc.switch_rect())).boundingRect()
    image = view.viewport().grab(rect).toImage()
    return bytes(image.constBits())


# -- 4. no accidental edits -------------------------------------------------------------------

def test_a_click_beside_a_shortcut_line_deselects_and_never_toggles(qtbot, window):
    view, doc = window.diagram, window.document
    arc = view.scene().block_item(0, 1).arc
    doc.select(Selection.of_block(2, 0))
    point = _beside_line_point(view, arc)
    assert not arc.switch_rect().contains(arc.mapFromScene(view.mapToScene(point)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert doc.spec == preset("resnet20")  # nothing toggled
    assert not doc.undo_stack.canUndo()
    # the click did what a click on that spot of the stage's frame does: select the stage
    assert doc.selection == Selection.of_stage(0)
    # a click right on the line itself does not toggle either: only the switch does
    on_line = view.mapFromScene(arc.mapToScene(arc._path.pointAtPercent(0.3)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=on_line)
    assert doc.spec == preset("resnet20")


def test_the_switch_shows_hover_and_its_click_toggles_with_a_status_message(qtbot, window):
    view, doc = window.diagram, window.document
    arc = view.scene().block_item(0, 1).arc
    point = _switch_point(view, arc)
    assert arc.acceptHoverEvents()
    assert "Click the switch" in arc.toolTip() and "Ctrl+Z" in arc.toolTip()
    # the hover state is drawn: the switch under the mouse looks different
    assert _switch_pixels(view, arc, hovered=True) != _switch_pixels(view, arc, hovered=False)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert doc.spec.block(0, 1).skip is False
    assert window.statusBar().currentMessage() == "Skip off at stage 1, block 2 — Ctrl+Z undoes it"
    doc.undo_stack.undo()
    assert doc.spec.block(0, 1).skip is True
    assert window.statusBar().currentMessage() == "Undone: skip off at stage 1, block 2 — Ctrl+Shift+Z redoes it"


def test_every_way_to_toggle_says_which_block_changed(qtbot, window):
    doc, bar = window.document, window.statusBar()
    # the inspector's Skip box
    doc.select(Selection.of_block(1, 2))
    window.inspector.block_page.skip.click()
    assert doc.spec.block(1, 2).skip is False
    assert bar.currentMessage() == "Skip off at stage 2, block 3 — Ctrl+Z undoes it"
    # the context menu on a block
    menu = window.diagram.context_menu_at(window.diagram.mapFromScene(
        window.diagram.scene().block_item(2, 0).sceneBoundingRect().center()))
    action = next(a for a in menu.actions() if a.text().startswith("Switch skip"))
    action.trigger()
    assert bar.currentMessage() == "Skip off at stage 3, block 1 — Ctrl+Z undoes it"
    # Edit > Toggle Skip on a selected stage switches all of its skips
    doc.select(Selection.of_stage(0))
    window.edit_commands.toggle_skip_action.trigger()
    assert all(not b.skip for b in doc.spec.stages[0].blocks)
    assert bar.currentMessage() == "Skips off for 3 blocks in stage 1 — Ctrl+Z undoes it"


@pytest.mark.parametrize("change, undone, expected", [
    ([(0, 1)], False, "Skip off at stage 1, block 2 — Ctrl+Z undoes it"),
    ([(0, 1)], True, "Undone: skip on at stage 1, block 2 — Ctrl+Shift+Z redoes it"),  # old -> new was the undo
    ([(1, 0), (1, 1)], False, "Skips off for 2 blocks in stage 2 — Ctrl+Z undoes it"),
    ([(0, 0), (2, 2)], False, "Skips off for 2 blocks in stages 1, 3 — Ctrl+Z undoes it"),
])
def test_skip_messages_follow_the_change(change, undone, expected):
    old = preset("resnet20")
    new = old.with_skips(False, where=change)
    assert skip_change_message(old, new, undone) == expected


def test_skip_message_is_silent_for_other_edits():
    old = preset("resnet20")
    wider = old.with_block(0, 0, replace(old.block(0, 0), width=32))
    assert skip_change_message(old, wider, False) is None
    assert skip_change_message(old, old, False) is None


# -- 6. findable ----------------------------------------------------------------------------

def _menu(window, title):
    return next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == title)


def test_edit_menu_lists_delete_duplicate_select_all_and_toggle_skip_with_shortcuts(qtbot, window):
    edit = _menu(window, "Edit")
    texts = {a.text().replace("&", ""): a for a in edit.actions() if a.text()}
    for name, keys in (("Delete", QKeySequence(QKeySequence.StandardKey.Delete)),
                       ("Duplicate", QKeySequence("Ctrl+D")),
                       ("Select All", QKeySequence(QKeySequence.StandardKey.SelectAll)),
                       ("Toggle Skip", QKeySequence("Ctrl+T"))):
        assert name in texts, name
        assert texts[name].shortcut() == keys
    doc = window.document
    doc.select(Selection.of_block(0, 0))
    texts["Duplicate"].trigger()
    assert len(doc.spec.stages[0].blocks) == 4 and doc.selection == Selection.of_block(0, 1)
    texts["Delete"].trigger()
    assert doc.spec == preset("resnet20")
    texts["Select All"].trigger()
    assert doc.selection.part == "network"
    assert all(window.diagram.scene().frame_item(i).selected for i in range(3))
    texts["Delete"].trigger()  # the whole network is not deleted: the status bar says what to do
    assert doc.spec == preset("resnet20")
    assert "Select a block or a stage" in window.statusBar().currentMessage()


def test_shortcuts_work_in_the_diagram_but_delete_in_a_field_edits_the_field(qtbot, window):
    doc = window.document
    doc.select(Selection.of_block(0, 2))
    window.diagram.setFocus()
    qtbot.waitUntil(window.diagram.hasFocus, timeout=30_000)
    qtbot.keyClick(window.diagram, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert doc.spec.block(0, 2).skip is False
    box = window.inspector.block_page.width_box
    box.setFocus()
    qtbot.waitUntil(box.hasFocus, timeout=30_000)
    box.lineEdit().selectAll()
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Delete)
    assert len(doc.spec.stages[0].blocks) == 3  # the block is still there


def test_help_lists_keys_and_the_tour_walks_the_window_then_remembers(qtbot, tmp_path):
    from explorer.ui.app_window import build_window

    settings = QSettings(str(tmp_path / "tour.ini"), QSettings.Format.IniFormat)
    win, bench = build_window(Document(preset("resnet20")), settings=settings, dialogs=FakeDialogs())
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    try:
        assert getattr(win, "tour", None) is None  # a window built by a script opens no tour
        help_menu = _menu(win, "Help")
        names = [a.text().replace("&", "") for a in help_menu.actions() if a.text()]
        assert names[:2] == ["Keyboard and Mouse…", "Tour of the Window"]
        win.keys_action.trigger()
        text = win.keys_dialog.text.toPlainText()
        for what, _how in KEYS_AND_MOUSE:
            assert what in text
        assert "Ctrl+T" in text and "Ctrl+D" in text and "Delete" in text
        win.tour_action.trigger()
        tour = win.tour
        seen = []
        for i, step in enumerate(TOUR):
            assert tour.isVisible() and tour.index == i
            assert f"{i + 1} of {len(TOUR)}" in tour.title.text()
            target = tour.target_rect(step.target)
            assert target.isValid() and win.rect().intersects(target), step.target
            assert not tour.geometry().contains(target.center()), step.target  # it does not hide its subject
            seen.append(step.target)
            tour.next_button.click()
        assert seen == ["palette", "stage", "inspector", "training", "gradflow", "experiments"]
        assert not tour.isVisible() and not tour.outline.isVisible()
        assert settings.value(TOUR_SEEN_KEY, False, type=bool)
    finally:
        bench.shutdown()
        win.close()
        win.deleteLater()


# -- 5. stale or inconsistent state -------------------------------------------------------------

def test_collapse_all_refits_the_diagram(qtbot, window):
    view = window.diagram
    window.document.replace(preset("resnet56"), None)
    view.fit_to_window()
    before = view.zoom()
    view.collapse_all()
    after = view.zoom()
    assert after > before * 1.2  # the short diagram is drawn larger, not left tiny
    view.fit_to_window()
    assert view.zoom() == pytest.approx(after)  # as large as Fit makes it
    rect = view.mapFromScene(view.scene().content_rect).boundingRect()
    assert view.viewport().rect().contains(rect)


def test_a_shape_error_from_an_inserted_block_names_that_block():
    spec, text = edits.insert_block(preset("resnet20"), 0, 2, BlockKind.BOTTLENECK)
    assert text == "Add bottleneck block: stage 1, block 3"
    _, errors = try_analyse(spec)
    assert str(errors[0]).startswith("stage 1, block 4:")
    assert "comes from stage 1, block 3" in str(errors[0])


def test_save_as_and_export_start_in_documents_then_in_the_last_folder(qtbot, window, tmp_path):
    suggested = {}
    dialogs = window.dialogs
    dialogs.save_path = lambda parent, s: suggested.setdefault("save", s) and None
    dialogs.image_path = lambda parent, s: suggested.setdefault("image", s) and None
    window.files.save_as()
    window.files.export_image()
    assert Path(suggested["save"]).parent == documents_folder()
    assert Path(suggested["image"]).parent == documents_folder()
    folder = tmp_path / "lesson"
    folder.mkdir()
    dialogs.save_path = lambda parent, s: folder / "mine.json"
    assert window.files.save_as()
    suggested.clear()
    dialogs.image_path = lambda parent, s: suggested.setdefault("image", s) and None
    window.files.export_image()
    assert Path(suggested["image"]).parent == folder
    assert start_folder(window.settings) == folder


def test_export_dialog_starts_in_the_last_folder_and_clears_an_old_result(qtbot, tmp_path):
    from explorer.ui.export_dialog import ExportDialog

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    folder = tmp_path / "exports"
    folder.mkdir()
    settings.setValue("files/last_dir", str(folder))
    dlg = ExportDialog(Document(preset("resnet20")), lambda: [("fresh", "Fresh initialisation (seed 0)", None)],
                       settings=settings)
    qtbot.addWidget(dlg)
    try:
        assert Path(dlg.file_edit.text()).parent == folder
        dlg.select_format("json")
        (tmp_path / "written").mkdir()
        dlg.file_edit.setText(str(tmp_path / "written" / "net"))
        with qtbot.waitSignal(dlg.exportSucceeded, timeout=120_000):
            dlg.export_button.click()
        qtbot.waitUntil(lambda: not dlg.running, timeout=10_000)
        assert "Wrote" in dlg.result_label.text()
        assert start_folder(settings) == tmp_path / "written"  # remembered for Save As too
        dlg.select_format("python")
        assert dlg.result_label.text() == "" and dlg.status_label.text() == ""
    finally:
        dlg.shutdown()


def test_one_onnx_install_command_from_the_export_extra_matching_the_readme():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(req.startswith("onnx") for req in extras["export"])
    command = re.search(r"pip install[^(]*", EXPORT_INSTALL).group(0).strip()
    assert "'.[export]'" in command
    assert command in (ROOT / "README.md").read_text()
    sources = [p.read_text() for p in (ROOT / "explorer").rglob("*.py")]
    for text in sources:  # no other install line for ONNX anywhere in the app
        assert not re.search(r"pip install onnx", text)


# -- training panel: paused, stale notes, the error legend ------------------------------------

def _tiny():
    from explorer.spec.model import NetworkSpec, StemSpec, uniform_stage

    return NetworkSpec(name="tiny", stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, 1, 8, 1), uniform_stage(BlockKind.BASIC, 1, 16, 2)))


def test_paused_runs_say_paused_and_the_shape_note_goes_when_the_run_stops(qtbot):
    from explorer.train.api import TrainSettings
    from explorer.ui.training import TrainingPanel
    from explorer.ui.training.panel import SHAPE_EDIT_MESSAGE

    doc = Document(_tiny())
    panel = TrainingPanel(doc)
    qtbot.addWidget(panel)
    panel.show()
    try:
        panel.form.set_settings(TrainSettings(dataset="shapes", train_size=256, test_size=64, batch_size=64,
                                              epochs=500, augment=False, device="cpu", lr=0.05))
        assert panel.start()
        entry = panel.store.active
        qtbot.waitUntil(lambda: len(entry.steps) > 0, timeout=60_000)
        panel.pause_button.click()
        assert panel.run_list.topLevelItem(0).text(1) == "paused"
        panel.pause_button.click()
        assert panel.run_list.topLevelItem(0).text(1) == "running"
        wider = doc.spec.with_block(0, 0, replace(doc.spec.block(0, 0), width=12))
        doc.edit(wider, "widen")
        assert panel.message.isVisible() and panel.message.text() == SHAPE_EDIT_MESSAGE
        with qtbot.waitSignal(panel.runFinished, timeout=30_000):
            panel.stop()
        assert not panel.message.isVisible()  # the edit applies to the next run: nothing to warn about
        assert panel.run_list.topLevelItem(0).text(1) == "stopped"
        doc.edit(doc.spec.with_skips(False, where=[(0, 0)]), "skip")  # no stale note comes back
        assert not panel.message.isVisible()
    finally:
        assert panel.shutdown(5.0)


def test_the_error_plot_says_which_line_is_train_and_which_is_test(qtbot):
    from explorer.ui.training.plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    labels = [label.text for _, label in plots.error_legend.items]
    assert labels == ["test", "train"]
    samples = [sample.item for sample, _ in plots.error_legend.items]
    assert samples[0].opts["pen"].style() == Qt.PenStyle.SolidLine and samples[0].opts["symbol"] == "o"
    assert samples[1].opts["pen"].style() == Qt.PenStyle.DashLine and samples[1].opts["symbol"] == "t"


def test_close_probe_columns_are_labelled_once(qtbot):
    import numpy as np

    from explorer.ui.gradflow.heatmap import PROBE_LABEL, GradientHeatmap

    heatmap = GradientHeatmap()
    qtbot.addWidget(heatmap)
    heatmap.set_blocks(["stage 1, block 1", "stage 1, block 2"])
    for label in ("10", PROBE_LABEL, PROBE_LABEL, PROBE_LABEL, "20"):
        heatmap.add_column(np.array([1.0, 0.5]), label)
    axis = heatmap._plot.getAxis("bottom")
    words = axis.tickStrings([0.5, 1.5, 2.5, 3.5, 4.5], 1.0, 1.0)
    assert words == ["10", PROBE_LABEL, "", "", "20"]
