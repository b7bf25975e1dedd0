"""Test setup: offscreen Qt, no stray threads, small and deterministic."""
import os
import sys
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@pytest.fixture(autouse=True)
def _no_leaked_threads():
    """Fail a test that leaves a Python thread (or a QThread) running."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    for t in leaked:
        t.join(timeout=2.0)
    leaked = [t for t in leaked if t.is_alive()]
    assert not leaked, f"test left threads running: {leaked}"
    if "PySide6.QtCore" in sys.modules:
        import gc
        import warnings

        from PySide6.QtCore import QThread
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # isinstance on lazy module proxies can warn
            running = [o for o in gc.get_objects() if _is_running_qthread(o, QThread)]
        assert not running, f"test left QThreads running: {running}"


def _is_running_qthread(obj, qthread_type) -> bool:
    try:
        return type(obj) is not type and isinstance(obj, qthread_type) and _is_running(obj)
    except ReferenceError:  # a dead weak proxy (torch.compile leaves some behind)
        return False


def _is_running(thread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # C++ object already deleted
        return False


@pytest.fixture
def one_torch_thread():
    """Tiny networks gain nothing from a thread pool, and on a shared 2-core machine
    OpenMP's spinning threads slow them (and every other process) down badly."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_net(tmp_path):
    """A two-stage network file small enough for CLI and torchrun tests (path as a string)."""
    from explorer.spec import BlockKind, NetworkSpec, StemSpec, save, uniform_stage

    spec = NetworkSpec(name="tiny", stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, 1, 8, 1), uniform_stage(BlockKind.BASIC, 1, 16, 2)))
    path = tmp_path / "tiny.json"
    save(spec, path)
    return str(path)
