"""Shared set-up for the widget tests."""
import pytest
import torch  # (torch before PySide6)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models gain nothing from a thread pool, and OpenMP's spinning threads slow
    them down badly when other processes share the two cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
