"""Autosave and crash recovery: the open network is autosaved after changes; after the app is
killed, the next start offers it back (and discards it when declined)."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

from explorer.spec import preset
from explorer.ui.recovery import Autosave, find_orphans, offer_restore

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rename(window, name):
    window.document.edit(replace(window.document.spec, name=name), "rename")


def test_changes_are_autosaved_and_the_file_goes_when_saved(window, qtbot, tmp_path):
    autosave = Autosave(window, tmp_path / "recovery", delay_ms=20)
    rename(window, "work in progress")
    qtbot.waitUntil(autosave.file.exists, timeout=5000)
    record = json.loads(autosave.file.read_text())
    assert record["network"]["name"] == "work in progress" and record["path"] is None
    window.dialogs.save_answer = tmp_path / "mine.json"
    assert window.files.save()
    qtbot.waitUntil(lambda: not autosave.file.exists(), timeout=5000)


def test_undo_back_to_the_saved_state_removes_the_recovery_file(window, qtbot, tmp_path):
    autosave = Autosave(window, tmp_path / "recovery", delay_ms=20)
    rename(window, "tried something")
    qtbot.waitUntil(autosave.file.exists, timeout=5000)
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: not autosave.file.exists(), timeout=5000)


def test_a_failing_autosave_says_so_once_and_the_window_keeps_working(window, qtbot, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    autosave = Autosave(window, blocker / "recovery", delay_ms=20)
    rename(window, "one")
    qtbot.waitUntil(lambda: autosave.failed is not None, timeout=5000)
    assert "Autosave failed" in window.statusBar().currentMessage()
    rename(window, "two")
    assert window.document.spec.name == "two"


def test_a_recovery_file_of_a_running_app_is_left_alone(tmp_path):
    folder = tmp_path / "recovery"
    folder.mkdir()
    mine = folder / f"recovery-{os.getpid()}.json"
    mine.write_text("{}")
    assert find_orphans(folder) == ([], []) and mine.exists()


def test_a_damaged_recovery_file_is_dropped_with_a_message(window, tmp_path):
    folder = tmp_path / "recovery"
    folder.mkdir()
    dead = _dead_pid()
    (folder / f"recovery-{dead}.json").write_text('{"format": "resnet-explorer/recovery", "network": {"stages": 5')
    assert not offer_restore(window, folder)
    assert window.dialogs.restore_asked == []
    assert "damaged recovery file was removed" in window.statusBar().currentMessage()
    assert list(folder.iterdir()) == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


CHILD = textwrap.dedent("""
    import sys
    from dataclasses import replace
    import torch  # noqa: F401 - the app loads it before Qt
    from PySide6.QtCore import QTimer
    from explorer.ui.app import create_application, run_gui
    from explorer.ui import recovery

    recovery.AUTOSAVE_DELAY_MS = 100
    app = create_application([])

    def edit():
        window = next(w for w in app.topLevelWidgets() if hasattr(w, "autosave"))
        window.document.edit(replace(window.document.spec, name="edited before the crash"), "rename")
        print(window.autosave.file, flush=True)

    QTimer.singleShot(300, edit)
    sys.exit(run_gui([]))
""")


def test_after_a_kill_the_next_start_offers_the_autosaved_network(window, qtbot, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1",
           "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, cwd=str(tmp_path),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline().strip()  # the recovery file's path, once edited
        assert line, child.stderr.read()
        recovery_file = tmp_path / line
        deadline = time.monotonic() + 60
        while not recovery_file.exists():
            assert time.monotonic() < deadline and child.poll() is None, "no autosave appeared"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)  # a crash: no clean-up runs
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
    assert recovery_file.exists()
    # the same orphan twice, to answer both ways
    second = tmp_path / "second"
    second.mkdir()
    (second / recovery_file.name).write_bytes(recovery_file.read_bytes())

    window.dialogs.restore_answer = "discard"
    assert not offer_restore(window, second)
    assert "never saved" in window.dialogs.restore_asked[-1]
    assert window.document.spec.name == preset("resnet20").name and not window.document.modified
    assert list(second.iterdir()) == []  # declined: gone for good

    window.dialogs.restore_answer = "restore"
    assert offer_restore(window, recovery_file.parent)
    assert window.document.spec.name == "edited before the crash"
    assert window.document.modified  # unsaved until the user saves it
    assert not recovery_file.exists()  # asked only once
    assert len(window.dialogs.restore_asked) == 2
    assert not offer_restore(window, recovery_file.parent)  # nothing left to offer


def _orphan(folder, name="left by a crash"):
    """A recovery file of an app that is no longer running, holding ResNet-20 renamed ``name``."""
    from explorer.spec.fileformat import to_dict

    folder.mkdir(exist_ok=True)
    file = folder / f"recovery-{_dead_pid()}.json"
    record = {"format": "resnet-explorer/recovery", "saved_at": time.time(), "path": None,
              "network": to_dict(replace(preset("resnet20"), name=name))}
    file.write_text(json.dumps(record))
    return file


def test_quitting_while_the_restore_question_is_open_keeps_the_autosave(window, qtbot, tmp_path):
    """The real question box, ended without a click (what a quit or a log-out does to its loop):
    nothing is restored and nothing is deleted; the next start asks again. Only Discard deletes."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from explorer.ui.file_actions import Dialogs

    file = _orphan(tmp_path / "recovery")
    window.dialogs = Dialogs()
    seen = []

    def end_the_question():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, end_the_question)
            return
        seen.append(box.text())
        box.done(0)  # the nested loop ends with no button clicked

    QTimer.singleShot(0, end_the_question)
    assert not offer_restore(window, file.parent)
    assert seen and "stopped unexpectedly" in seen[0]
    assert file.exists() and window.document.spec.name == preset("resnet20").name
    # asked again at the next start; this time Discard, the one answer that deletes it
    window.dialogs = type("Answer", (), {"ask_restore": lambda self, parent, what: "discard"})()
    assert not offer_restore(window, file.parent) and not file.exists()


def test_a_fifo_as_a_recovery_file_does_not_block_the_start(window, tmp_path):
    import threading

    if not hasattr(os, "mkfifo"):
        import pytest
        pytest.skip("needs FIFOs")
    folder = tmp_path / "recovery"
    folder.mkdir()
    fifo = folder / f"recovery-{_dead_pid()}.json"
    os.mkfifo(fifo)
    result = []
    reader = threading.Thread(target=lambda: result.append(find_orphans(folder)), daemon=True)
    reader.start()
    reader.join(timeout=20)
    assert not reader.is_alive(), "reading the recovery folder blocked on a FIFO"
    found, problems = result[0]
    assert found == [] and "is not a regular file" in problems[0] and fifo.exists()
    assert not offer_restore(window, folder)  # on the GUI thread too: a message, no question
    assert window.dialogs.restore_asked == [] and "not a regular file" in window.statusBar().currentMessage()
