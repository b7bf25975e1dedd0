"""Shared set-up for the widget tests."""
import pytest
import torch  # noqa: F401  (torch before PySide6)


@pytest.fixture(autouse=True)
def _widgets_use_one_torch_thread(one_torch_thread):
    """Every widget test trains or probes tiny models: see ``one_torch_thread``."""
