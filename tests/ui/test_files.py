"""Files from the window: save, reopen, malformed files, invalid designs, recent files, prompts."""
import json
from dataclasses import replace

import pytest
from PySide6.QtCore import QSettings

from explorer.spec import ShortcutKind, dumps, load, preset
from explorer.ui.document import Document
from explorer.ui.file_actions import MAX_RECENT
from explorer.ui.main_window import MainWindow
from fakes import FakeDialogs  # tests/ui is on sys.path (rootdir-relative imports)




@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(Document(preset("resnet20")), settings=settings, dialogs=FakeDialogs())
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


def widen(window, stage=1, block=0, width=40):
    spec = window.document.spec
    window.document.edit(spec.with_block(stage, block, replace(spec.block(stage, block), width=width)), "widen")


def test_save_and_reopen_equal(window, tmp_path):
    widen(window)
    edited = window.document.spec
    path = tmp_path / "mine.json"
    window.dialogs.save_answer = path
    assert window.files.save()  # no path yet: asks where (Save As)
    assert load(path, validate=False) == edited
    assert not window.document.modified and not window.isWindowModified()
    assert "mine.json" in window.windowTitle()
    window.files.new_from_preset("resnet32")
    assert window.document.spec == preset("resnet32")
    window.dialogs.open_answer = path
    assert window.files.open()
    assert window.document.spec == edited
    assert window.document.path == path
    assert window.document.undo_stack.count() == 0
    assert not window.dialogs.errors


def test_malformed_file_leaves_document_untouched(window, tmp_path):
    widen(window)
    before_spec, before_count = window.document.spec, window.document.undo_stack.count()
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "resnet-explorer/network", "version": 1, "name": ')  # truncated
    window.dialogs.open_answer = bad
    assert not window.files.open()
    assert len(window.dialogs.errors) == 1
    title, text = window.dialogs.errors[0]
    assert "broken.json" in text and "not valid JSON" in text
    assert window.document.spec == before_spec
    assert window.document.undo_stack.count() == before_count
    assert window.document.path is None and window.document.modified


def test_file_with_wrong_field_names_the_field(window, tmp_path):
    data = json.loads(dumps(preset("resnet20")))
    data["stages"][0]["blocks"][0]["width"] = "wide"
    bad = tmp_path / "typo.json"
    bad.write_text(json.dumps(data))
    assert not window.files.open(bad)
    text = window.dialogs.errors[0][1]
    assert "typo.json" in text and "width" in text and "whole number" in text
    assert window.document.spec == preset("resnet20")


def test_invalid_design_file_opens_with_its_problems(window, tmp_path):
    spec = preset("resnet20")
    broken = spec.with_block(1, 0, replace(spec.block(1, 0), shortcut=ShortcutKind.IDENTITY))
    path = tmp_path / "invalid.json"
    path.write_text(dumps(broken))
    assert window.files.open(path)
    assert window.document.spec == broken and not window.document.valid
    assert window.problems.count == 1
    assert "Invalid design: 1 problem" in window.status_invalid.text()


def test_unsaved_prompt_before_new(window, tmp_path):
    widen(window)
    edited = window.document.spec
    window.dialogs.unsaved_answer = "cancel"
    assert not window.files.new_from_preset("resnet56")
    assert window.document.spec == edited and window.dialogs.unsaved_asked == 1
    window.dialogs.unsaved_answer = "save"
    window.dialogs.save_answer = tmp_path / "kept.json"
    assert window.files.new_from_preset("resnet56")
    assert load(tmp_path / "kept.json", validate=False) == edited
    assert window.document.spec == preset("resnet56") and window.document.path is None


def test_save_failure_keeps_the_work(window, tmp_path):
    widen(window)
    window.dialogs.save_answer = tmp_path / "no such folder" / "x.json"
    assert not window.files.save()
    assert window.document.modified
    assert "could not be written" in window.dialogs.errors[0][1]


def test_recent_files_most_recent_first_capped_and_pruned(window, tmp_path):
    paths = []
    for i in range(MAX_RECENT + 2):
        path = tmp_path / f"net{i}.json"
        path.write_text(dumps(preset("resnet20")))
        paths.append(path)
        assert window.files.open(path)
    recent = window.files.recent_files()
    assert recent[0] == paths[-1] and len(recent) == MAX_RECENT
    paths[-1].unlink()
    assert not window.files.open_recent(paths[-1])
    assert "no longer exists" in window.dialogs.infos[-1][1]
    assert paths[-1] not in window.files.recent_files()
    paths[-2].unlink()
    window.recent_menu.aboutToShow.emit()  # building the menu prunes gone files too
    texts = [a.text() for a in window.recent_menu.actions()]
    assert not any(paths[-2].name in t for t in texts)
    assert any(paths[-3].name in t for t in texts)
    # The list lives in QSettings, so a new window sees it.
    again = MainWindow(Document(preset("resnet20")), settings=window.settings, dialogs=FakeDialogs())
    assert again.files.recent_files()[0] == paths[-3]
    again.deleteLater()


def test_export_diagram_png_and_svg(window, tmp_path):
    for suffix in (".png", ".svg"):
        path = tmp_path / f"diagram{suffix}"
        window.dialogs.save_answer = path
        assert window.files.export_image()
        assert path.stat().st_size > 1000
    assert (tmp_path / "diagram.png").read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in (tmp_path / "diagram.svg").read_bytes()[:2000]
