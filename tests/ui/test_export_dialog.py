"""The export dialog: fields, the TorchScript note, export off the GUI thread, errors, cancel."""
from dataclasses import replace

import pytest
import torch

from explorer.nn import build
from explorer.spec import ShortcutKind, load, preset
from explorer.ui.document import Document
from explorer.ui.export_dialog import FILE_ITEM, ExportDialog

RUN_LABEL = "Run 2: resnet20, SGD lr 0.1"


@pytest.fixture
def run_state():
    return build(preset("resnet20"), seed=3).state_dict()


@pytest.fixture
def dialog(qtbot, run_state):
    doc = Document(preset("resnet20"))
    dlg = ExportDialog(doc, lambda: [("fresh", "Fresh initialisation (seed 0)", None), ("run:2", RUN_LABEL, run_state)])
    qtbot.addWidget(dlg)
    dlg.show()
    yield dlg
    dlg.shutdown()


def test_fields_and_the_torchscript_note(dialog, tmp_path):
    assert dialog.format_combo.count() == 5
    assert dialog.current_format() == "torchscript"
    assert dialog.jit_note.isVisible() and "deprecated" in dialog.jit_note.text()
    assert dialog.input_edit.text() == "3x32x32"
    assert [dialog.weights_combo.itemText(i) for i in range(dialog.weights_combo.count())] == [
        "Fresh initialisation (seed 0)", RUN_LABEL, FILE_ITEM]
    dialog.file_edit.setText(str(tmp_path / "net.pt"))
    dialog.select_format("export")
    assert not dialog.jit_note.isVisible()
    assert dialog.file_edit.text() == str(tmp_path / "net.pt2")
    assert "269,722 parameters" in dialog.network_label.text()


def test_exporting_a_run_shows_the_measured_difference(dialog, qtbot, tmp_path, run_state):
    dialog.select_format("json")
    dialog.file_edit.setText(str(tmp_path / "mine"))
    dialog.select_weights("run:2")
    with qtbot.waitSignal(dialog.exportSucceeded, timeout=120_000) as blocker:
        dialog.export_button.click()
    result = blocker.args[0]
    qtbot.waitUntil(lambda: not dialog.running)
    assert "Verified" in dialog.result_label.text()
    assert result.max_diff < 1e-5
    assert f"largest difference from the live model {result.max_diff:.3g}" in dialog.result_label.text()
    assert f"weights: {RUN_LABEL}" in dialog.result_label.text()
    assert result.files == [tmp_path / "mine.json"]
    assert load(tmp_path / "mine.json") == preset("resnet20")
    assert dialog.export_button.isEnabled() and dialog.close_button.text() == "Close"


@pytest.mark.slow
def test_torchscript_runs_off_the_gui_thread_with_progress(dialog, qtbot, tmp_path, run_state):
    dialog.file_edit.setText(str(tmp_path / "r20.pt"))
    dialog.select_weights("run:2")
    messages = []
    dialog.export_button.click()
    assert dialog.running and dialog.progress_bar.isVisible()
    assert not dialog.export_button.isEnabled() and dialog.close_button.text() == "Cancel"
    dialog._task.eventsReady.connect(messages.extend)
    with qtbot.waitSignal(dialog.exportSucceeded, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: not dialog.running)
    assert any("fresh Python process" in m for m in messages)
    assert "fresh Python process that cannot import this app" in dialog.result_label.text()
    assert not dialog.progress_bar.isVisible()
    live = build(preset("resnet20"), seed=0)
    live.load_state_dict(run_state)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(torch.jit.load(str(tmp_path / "r20.pt"))(x), live.eval()(x))


def test_an_invalid_design_exports_the_last_valid_one(qtbot, tmp_path):
    doc = Document(preset("resnet20"))
    broken = preset("resnet20").with_block(1, 0, replace(preset("resnet20").block(1, 0),
                                                         shortcut=ShortcutKind.IDENTITY))
    doc.edit(broken, "identity across a shape change")
    assert not doc.valid
    dlg = ExportDialog(doc, lambda: [("fresh", "Fresh initialisation (seed 0)", None)])
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.invalid_label.isVisible() and "last valid version" in dlg.invalid_label.text()
    dlg.select_format("json")
    dlg.file_edit.setText(str(tmp_path / "last.json"))
    with qtbot.waitSignal(dlg.exportSucceeded, timeout=120_000):
        dlg.export_button.click()
    qtbot.waitUntil(lambda: not dlg.running)
    assert load(tmp_path / "last.json") == preset("resnet20")


def test_bad_input_size_and_folder_are_reported(dialog, qtbot, tmp_path):
    dialog.select_format("json")
    dialog.file_edit.setText(str(tmp_path / "x.json"))
    dialog.input_edit.setText("3x32")
    dialog.export_button.click()
    assert not dialog.running
    assert "Export failed" in dialog.result_label.text() and "not CxHxW" in dialog.result_label.text()
    dialog.input_edit.setText("3x32x32")
    dialog.file_edit.setText(str(tmp_path / "nowhere" / "x.json"))
    with qtbot.waitSignal(dialog.exportFailed, timeout=120_000) as blocker:
        dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.running)
    assert "does not exist" in blocker.args[0]
    assert "does not exist" in dialog.result_label.text()


def test_closing_during_an_export_cancels_it_and_writes_nothing(dialog, qtbot, tmp_path):
    dialog.select_format("python")
    dialog.file_edit.setText(str(tmp_path / "r20.py"))
    dialog.export_button.click()
    assert dialog.running
    dialog.close()
    assert not dialog.running
    assert list(tmp_path.iterdir()) == []


def test_a_weights_file_is_checked_before_it_is_offered(dialog, tmp_path):
    torch.save(build(preset("resnet18"), seed=0).state_dict(), tmp_path / "r18.pth")
    assert not dialog.add_weights_file(str(tmp_path / "r18.pth"))
    assert "'conv1.weight' is 64x3x7x7 in r18.pth" in dialog.result_label.text()
    torch.save(build(preset("resnet20"), seed=1).state_dict(), tmp_path / "r20.pth")
    assert dialog.add_weights_file(str(tmp_path / "r20.pth"))
    assert dialog.weights_combo.currentText() == "From state_dict r20.pth"
    assert dialog.weights_combo.currentData() is not None
