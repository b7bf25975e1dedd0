"""The main window as a user meets it: inspector edits, status bar, problems, closing, presets."""
import time
from dataclasses import replace

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel

from explorer.spec import PRESETS, BlockKind, ShortcutKind, preset
from explorer.ui.document import Document
from explorer.ui.main_window import MainWindow
from explorer.ui.selection import Selection
from fakes import FakeDialogs  # tests/ui is on sys.path (rootdir-relative imports)





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


def type_value(qtbot, box, text):
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), text)
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)


def test_starts_with_resnet20_and_its_counts(window):
    assert window.document.spec == preset("resnet20")
    assert window.status_params.text() == "Parameters: 269,722 (0.27M)"
    assert window.status_depth.text() == "Depth: 20"
    assert window.status_macs.text() == "MACs: 40.6M"
    assert window.status_invalid.isHidden()
    assert window.windowTitle().startswith("resnet20")


def test_inspector_width_changes_spec_and_status_then_undo(qtbot, window):
    start = window.document.spec
    window.document.select(Selection.of_block(2, 2))
    type_value(qtbot, window.inspector.block_page.width_box, "128")
    assert window.document.spec.block(2, 2).width == 128
    # 64->128 on the last block: a zero-pad shortcut widens, the fc grows.
    assert window.status_params.text() != "Parameters: 269,722 (0.27M)"
    assert window.isWindowModified()
    window.undo_action.trigger()
    assert window.document.spec == start
    assert window.status_params.text() == "Parameters: 269,722 (0.27M)"
    assert not window.isWindowModified()
    window.redo_action.trigger()
    assert window.document.spec.block(2, 2).width == 128
    assert window.history.stack() is window.document.undo_stack


def test_undo_shortcuts(qtbot, window):
    start = window.document.spec
    window.document.select(Selection.of_stage(0))
    type_value(qtbot, window.inspector.stage_page.count, "4")
    window.diagram.setFocus()
    qtbot.keyClick(window.diagram, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.spec == start
    qtbot.keyClick(window.diagram, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(window.document.spec.stages[0].blocks) == 4


def test_invalid_design_problems_panel_selects_block(qtbot, window):
    spec = window.document.spec
    broken = spec.with_block(1, 0, replace(spec.block(1, 0), shortcut=ShortcutKind.IDENTITY))
    window.document.edit(broken, "identity across a stride")
    assert window.status_invalid.text() == "Invalid design: 1 problem"
    assert not window.status_invalid.isHidden() and window.status_params.isHidden()
    assert window.document.last_valid_spec == preset("resnet20")
    lst = window.problems.list
    assert lst.count() == 1
    assert lst.item(0).text().startswith("Stage 2, block 1: an identity shortcut cannot carry")
    window.document.select(Selection())
    rect = lst.visualItemRect(lst.item(0))
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.document.selection == Selection.of_block(1, 0)
    assert window.inspector.pages.currentWidget() is window.inspector.block_page
    window.undo_action.trigger()
    assert lst.count() == 0 and window.status_invalid.isHidden()


def test_close_asks_about_unsaved_changes_then_guards(qtbot, window):
    window.document.edit(window.document.spec.with_skips(False), "all skips off")
    window.dialogs.unsaved_answer = "cancel"
    window.close()
    assert window.isVisible() and window.dialogs.unsaved_asked == 1
    calls = []
    window.add_close_guard(lambda parent: calls.append(parent) or False)
    window.dialogs.unsaved_answer = "discard"
    window.close()
    assert window.isVisible() and calls == [window]  # the guard said no
    window._close_guards.clear()
    window.add_close_guard(lambda parent: True)
    window.close()
    assert not window.isVisible()


def test_add_panel_docks_and_lists_it(qtbot, window):
    label = QLabel("training goes here")
    dock = window.add_panel("Training", label)
    assert isinstance(dock, QDockWidget) and dock.widget() is label
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    qtbot.waitUntil(lambda: window.problems_dock in window.tabifiedDockWidgets(dock))
    assert dock.toggleViewAction() in window.panels_menu.actions()


def test_presenter_mode_scales_fonts_and_persists(qtbot, window, tmp_path):
    app = QApplication.instance()
    base = app.font().pointSizeF()
    window.presenter_action.trigger()
    assert app.font().pointSizeF() == pytest.approx(base * 1.45)
    assert window.settings.value("view/presenter", type=bool) is True
    again = MainWindow(Document(preset("resnet20")), settings=window.settings, dialogs=FakeDialogs())
    qtbot.addWidget(again)
    assert again.presenter_action.isChecked()
    again.presenter_action.trigger()
    window.presenter_action.trigger()
    assert app.font().pointSizeF() == pytest.approx(base)


def test_orientation_and_zoom_actions_run(window):
    window.horizontal_action.trigger()
    assert window.settings.value("view/orientation") == "horizontal"
    for action in (window.zoom_in_action, window.zoom_out_action, window.fit_action,
                   window.reset_zoom_action, window.collapse_action, window.expand_action,
                   window.vertical_action):
        action.trigger()
    assert window.settings.value("view/orientation") == "vertical"


@pytest.mark.parametrize("name", ["resnet20", "resnet50", "resnet1202"])
def test_new_from_preset_menu(qtbot, window, name):
    action = next(a for a in window.new_menu.actions() if a.data() == name)
    started = time.perf_counter()
    action.trigger()
    QApplication.processEvents()
    elapsed = time.perf_counter() - started
    print(f"new from preset {name}: {elapsed * 1000:.0f} ms")
    assert window.document.spec == preset(name)
    assert window.document.path is None and not window.isWindowModified()
    assert name in window.windowTitle()


def test_every_preset_is_in_the_menu(window):
    names = [a.data() for a in window.new_menu.actions() if not a.isSeparator()]
    assert names == list(PRESETS)


def test_warnings_of_a_valid_design_are_listed(window):
    spec = window.document.spec
    mixed = spec.with_block(0, 1, replace(spec.block(0, 1), kind=BlockKind.PREACT_BASIC))
    window.document.edit(mixed, "mix pre- and post-activation")
    assert window.document.valid and window.status_invalid.isHidden()
    assert window.problems.list.count() == 1
    assert "Stage 1: mixes pre- and post-activation" in window.problems.list.item(0).text()
    assert "valid, with 1 warning" in window.problems.summary.text()


def test_every_kind_and_option_has_an_explanation():
    from explorer.spec import InitKind, Norm, PadPlacement, StemKind, StridePlacement
    from explorer.ui import explanations as ex
    for table, enum in ((ex.BLOCK_KINDS, BlockKind), (ex.SHORTCUTS, ShortcutKind), (ex.STEMS, StemKind),
                        (ex.STRIDE_PLACEMENTS, StridePlacement), (ex.PAD_PLACEMENTS, PadPlacement),
                        (ex.NORMS, Norm), (ex.INITS, InitKind)):
        assert set(table) == set(enum)
        assert all(len(text) > 40 for text in table.values())


STARTUP_SCRIPT = r"""
import sys, time
started = time.perf_counter()
import explorer.ui.app as app_module
import explorer.launcher as launcher

def check():
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    windows = [w for w in app.topLevelWidgets() if w.isVisible() and hasattr(w, "document")]
    modules = list(sys.modules)
    print("window", windows[0].windowTitle(), windows[0].document.spec.name)
    print("torch_first", modules.index("torch") < modules.index("PySide6"))
    print("seconds", round(time.perf_counter() - started, 2))
    windows[0].close()

create = app_module.create_application

def create_and_schedule(argv=None):
    app = create(argv)
    from PySide6.QtCore import QTimer
    QTimer.singleShot(0, check)
    return app

app_module.create_application = create_and_schedule
sys.exit(launcher.main([]))
"""


def test_gui_starts_with_resnet20_and_loads_torch_before_qt(tmp_path):
    """``python main.py``'s GUI path in a fresh process: the window opens on ResNet-20, torch loaded first."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", STARTUP_SCRIPT], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    print(f"GUI start-up to a shown window: {lines.get('seconds')} s")
    assert lines["window"].startswith("resnet20") and lines["window"].endswith("resnet20")
    assert lines["torch_first"] == "True"
    assert "QThread: Destroyed" not in done.stderr


def test_every_preset_loads_and_counts_match(window):
    """New from preset for all of them, one after another in one window (times printed, not asserted)."""
    from explorer.spec import analyse
    from explorer.ui.formatting import params_text
    times = []
    for name in PRESETS:
        started = time.perf_counter()
        assert window.files.new_from_preset(name)
        QApplication.processEvents()
        times.append((name, time.perf_counter() - started))
        assert window.document.spec == preset(name) and window.document.valid
        assert window.status_params.text() == f"Parameters: {params_text(analyse(preset(name)).params)}"
    print("  ".join(f"{n} {t * 1000:.0f} ms" for n, t in times))
