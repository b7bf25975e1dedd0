"""The error paths the window shares with the CLI: each shows one message naming the problem,
the open network stays as it was, and the window keeps working afterwards."""
import errno
import json
import os
from dataclasses import replace

import pytest
import torch  # noqa: F401  (torch before PySide6)

from explorer.spec import atomic, preset
from explorer.spec.fileformat import dumps, to_dict
from explorer.ui.document import Document
from explorer.ui.experiments.dropblock_page import DropBlockPage


def still_works(window):
    """An edit still goes through and can be undone."""
    before = window.document.spec
    window.document.edit(replace(before, name="still editable"), "rename")
    assert window.document.spec.name == "still editable"
    window.document.undo_stack.undo()
    assert window.document.spec == before


def _hostile_files(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    dup = tmp_path / "dup.json"
    dup.write_text(dumps(preset("resnet56"))[:-2] + ', "name": "again"}\n')
    escape = tmp_path / "escape.json"
    data = to_dict(preset("resnet56"))
    data["name"] = "\x1b[2Jwiped"
    escape.write_text(json.dumps(data))
    return {fifo: "is not a regular file", dup: "appears twice", escape: "'name' holds the character '\\x1b'"}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_opening_hostile_network_files_says_why_and_keeps_the_network(window, tmp_path):
    before = window.document.spec
    for path, expected in _hostile_files(tmp_path).items():
        window.dialogs.errors.clear()
        assert not window.files.open(path)
        assert len(window.dialogs.errors) == 1 and expected in window.dialogs.errors[0][1], path
        assert window.document.spec == before
    still_works(window)


def test_saving_onto_a_full_disk_says_so_and_keeps_the_changes(window, tmp_path, monkeypatch):
    window.document.edit(replace(window.document.spec, name="unsaved work"), "rename")
    target = tmp_path / "mine.json"
    window.dialogs.save_answer = target
    with monkeypatch.context() as mp:
        mp.setattr(atomic, "_write_all", lambda fd, data: (_ for _ in ()).throw(
            OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))))
        assert not window.files.save()
    title, text = window.dialogs.errors[-1]
    assert title == "Cannot save network file" and "No space left on device" in text
    assert window.document.modified and not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert window.files.save()  # space again: the same work is saved
    assert json.loads(target.read_text())["name"] == "unsaved work"


def test_exporting_the_diagram_onto_a_full_disk_says_so(window, tmp_path, monkeypatch):
    real = atomic._create

    def full(tmp, mode):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic, "_create", full)
    window.dialogs.save_answer = tmp_path / "diagram.png"
    assert not window.files.export_image()
    assert "No space left on device" in window.dialogs.errors[-1][1]
    monkeypatch.setattr(atomic, "_create", real)
    still_works(window)


def test_the_drop_block_page_names_a_malformed_checkpoint_field(qtbot, tmp_path):
    from explorer.nn import build

    spec = preset("resnet20")
    bad = tmp_path / "bad.pt"
    torch.save({"spec": to_dict(spec), "model": build(spec, seed=0).state_dict(), "optimizer": {},
                "scheduler": {}, "step": "ten", "epoch": 1, "settings": {"dataset": "shapes"}}, bad)
    page = DropBlockPage()
    qtbot.addWidget(page)
    page.resnet_file.setText(str(bad))
    assert not page.run()
    assert "checkpoint field 'step' must be a whole number" in page.status.text()
    assert page.run_button.isEnabled()  # nothing started; the page can be used again


def test_a_pasted_control_character_never_makes_a_file_that_cannot_be_opened(window, tmp_path):
    name_field = window.inspector.network_page.name
    name_field.setText("lesson\t3\x1b[31m")
    name_field.editingFinished.emit()
    assert window.document.spec.name == "lesson3[31m"
    window.dialogs.save_answer = tmp_path / "lesson.json"
    assert window.files.save()
    assert window.files.open(tmp_path / "lesson.json") and window.document.spec.name == "lesson3[31m"


@pytest.mark.parametrize("make, expected", [
    ("zero_images", "an image needs at least 1x1"),
    ("text_labels", "'labels' must be a list of whole numbers"),
    ("integer_weights", "holds torch.int64, not floating-point weights"),
])
def test_the_training_panel_reports_hostile_data_and_keeps_working(qtbot, tmp_path, make, expected):
    import pickle
    import struct

    import numpy as np

    from explorer.nn import build
    from explorer.train.api import TrainSettings
    from explorer.ui.training.panel import TrainingPanel

    settings = dict(dataset="shapes", train_size=64, test_size=32, batch_size=32, epochs=1, device="cpu")
    if make == "zero_images":
        def idx(shape, body=b""):
            return struct.pack(">HBB", 0, 8, len(shape)) + struct.pack(f">{len(shape)}I", *shape) + body
        (tmp_path / "train-images-idx3-ubyte").write_bytes(idx((2, 0, 0)))
        (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx((2,), bytes(2)))
        (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx((1, 4, 4), bytes(16)))
        (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx((1,), bytes(1)))
        settings["dataset"] = f"mnist:{tmp_path}"
    elif make == "text_labels":
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            with open(tmp_path / name, "wb") as f:
                pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": ["cat", "dog"]}, f)
        settings["dataset"] = f"cifar10:{tmp_path}"
    else:
        state = build(preset("resnet20"), seed=0).state_dict()
        state["conv1.weight"] = state["conv1.weight"].to(torch.int64)
        torch.save(state, tmp_path / "weights.pth")
        settings["init_weights"] = str(tmp_path / "weights.pth")
    panel = TrainingPanel(Document(preset("resnet20")))
    qtbot.addWidget(panel)
    panel.show()
    try:
        panel.form.set_settings(TrainSettings(**settings))
        with qtbot.waitSignal(panel.worker.runEnded, timeout=60_000):
            assert panel.start()
        assert expected in panel.message.text() and "Traceback" not in panel.message.text()
        assert panel.start_button.isEnabled() and not panel.is_running()
    finally:
        assert panel.shutdown(5.0)


def test_the_export_dialog_reports_a_full_disk_and_can_export_again(qtbot, tmp_path, monkeypatch):
    import explorer.export.api as api
    from explorer.ui.export_dialog import ExportDialog

    dialog = ExportDialog(Document(preset("resnet20")), lambda: [("fresh", "Fresh initialisation (seed 0)", None)])
    qtbot.addWidget(dialog)
    dialog.show()
    try:
        dialog.select_format("torchscript")
        dialog.file_edit.setText(str(tmp_path / "net.pt"))
        with monkeypatch.context() as mp:
            mp.setattr(api, "output_problem", lambda path: None)  # the disk fills after the check
            mp.setattr(atomic, "_write_all", lambda fd, data: (_ for _ in ()).throw(
                OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))))
            with qtbot.waitSignal(dialog.exportFailed, timeout=120_000) as failed:
                dialog.export_button.click()
            qtbot.waitUntil(lambda: not dialog.running)
        assert "No space left on device" in failed.args[0] and "No space left" in dialog.result_label.text()
        assert list(tmp_path.iterdir()) == []  # no half file, no temporary file
        assert dialog.export_button.isEnabled()
    finally:
        dialog.shutdown()
