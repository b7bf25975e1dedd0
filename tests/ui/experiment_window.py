"""The window the Experiments page tests open: ResNet-20 in the editor, settings in the test's folder,
fake dialogs; at the end every experiment is stopped before the window closes."""
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
