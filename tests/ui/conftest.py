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
