"""What the Experiments page tests share: the window they open (ResNet-20 in the editor, settings in
the test's folder, fake dialogs; at the end every experiment is stopped before the window closes),
and pressing Stop on a page that trains."""
from __future__ import annotations

import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtCore import QSettings

from explorer.spec import preset
from explorer.ui.document import Document
from explorer.ui.app_window import build_window

from fakes import FakeDialogs  # tests/ui is on sys.path (rootdir-relative imports)


def experiment_window(tmp_path, size: tuple[int, int] = (1200, 800)):
    """Yields the shown window; use as ``yield from experiment_window(tmp_path)`` in a fixture."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win, bench = build_window(Document(preset("resnet20")), settings=settings, dialogs=FakeDialogs())
    win.resize(*size)
    win.show()
    yield win
    assert bench.experiments.shutdown(5.0)
    bench.shutdown()
    win.close()
    win.deleteLater()


def stop_within_a_step(qtbot, page, work_after_stop):
    """Press the page's Stop: the button greys at once, and the run ends with at most one more
    step begun (counted, not timed); returns what ``page.finished`` carried (the verdict)."""
    runner = page.worker.runner
    work_after_stop.asked = lambda: runner.stopped
    with qtbot.waitSignal(page.finished, timeout=120_000) as done:
        page.stop_button.click()
        assert not page.stop_button.isEnabled()
    assert work_after_stop.count <= 1
    return done.args[0]
