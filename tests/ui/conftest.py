"""Shared set-up for the widget tests."""
import pytest
import torch  # noqa: F401  (torch before PySide6)


@pytest.fixture(autouse=True)
def _widgets_use_one_torch_thread(one_torch_thread):
    """Every widget test trains or probes tiny models: see ``one_torch_thread``."""


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_gui_thread(qapp):
    """As in the app: no collection on worker threads (it could destroy Qt objects there and
    deadlock against the GUI thread); the GUI thread collects, and everything at the end."""
    from explorer.ui.main_thread_gc import MainThreadCollector

    collector = MainThreadCollector()
    yield collector
    collector.stop()
    collector.deleteLater()


@pytest.fixture(autouse=True)
def _settings_in_tmp(tmp_path_factory):
    """A QSettings() made without a file (the app's own default) reads and writes a folder of
    the test's, never the user's settings: a test cannot see or leave behind a remembered
    folder, a presenter switch or the first-run tour's 'seen' mark."""
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    yield folder


@pytest.fixture
def patient_close(monkeypatch):
    """Closing a window with work running waits for the stop however loaded the machine is (the
    app gives up after ``STOP_WAIT_S``, 2 s, and says the work is still running): tests count
    the work done after the stop (``work_after_stop``) instead of timing it."""
    from explorer.ui import stop_on_close

    monkeypatch.setattr(stop_on_close, "STOP_WAIT_S", 120.0)


@pytest.fixture
def window(qtbot, tmp_path):
    """The main window on ResNet-20, shown, with its own settings file and fake dialogs. Test
    files whose window needs more (a size, a workbench, a teardown) define their own ``window``."""
    from PySide6.QtCore import QSettings

    from explorer.spec import preset
    from explorer.ui.document import Document
    from explorer.ui.main_window import MainWindow
    from fakes import FakeDialogs  # tests/ui is on sys.path (rootdir-relative imports)

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(Document(preset("resnet20")), settings=settings, dialogs=FakeDialogs())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win
