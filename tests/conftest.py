"""Test setup: offscreen Qt, no stray threads, small and deterministic.

Tests of an optional extra (``export``: ONNX; ``tensorboard``) carry
``@pytest.mark.needs_extra("NAME")``: without the extra's packages they skip and say
which packages and how to install them. With ``RESNET_EXPLORER_REQUIRE_EXTRAS=1`` (set
by .ci/run, which installs every extra) a missing extra fails the test instead, so CI
never passes by skipping.
"""
import importlib.util
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import re
import sys
import threading
import tomllib

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

REQUIRE_EXTRAS_ENV = "RESNET_EXPLORER_REQUIRE_EXTRAS"


def optional_extras() -> dict[str, list[str]]:
    """Each optional extra in pyproject.toml (but ``dev``) and the modules it brings.

    Every package these extras name imports under its own distribution name.
    """
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        extras = tomllib.load(fh)["project"]["optional-dependencies"]
    return {name: [re.split(r"[\s<>=!~;\[]", req, maxsplit=1)[0] for req in reqs]
            for name, reqs in extras.items() if name != "dev"}


def missing_modules(extra: str) -> list[str]:
    modules = optional_extras()[extra]  # an unknown extra name is a KeyError: a typo in a test
    return [m for m in modules if importlib.util.find_spec(m) is None]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "needs_extra(name, ...): the test needs an optional extra from pyproject.toml; "
                   "it skips without it (fails when RESNET_EXPLORER_REQUIRE_EXTRAS=1)")


def _missing_extra(item) -> str | None:
    """Why ``item`` cannot run here (an extra it needs is missing), or None."""
    for mark in item.iter_markers("needs_extra"):
        for extra in mark.args:
            missing = missing_modules(extra)
            if missing:
                return (f"needs the '{extra}' extra ({', '.join(missing)} not installed): "
                        f"pip install -e '.[{extra}]'")
    return None


def pytest_collection_modifyitems(config, items):
    if os.environ.get(REQUIRE_EXTRAS_ENV) == "1":
        return  # pytest_runtest_setup fails them instead
    for item in items:
        reason = _missing_extra(item)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    reason = _missing_extra(item) if os.environ.get(REQUIRE_EXTRAS_ENV) == "1" else None
    if reason:
        pytest.fail(f"{reason}; {REQUIRE_EXTRAS_ENV}=1 requires every extra", pytrace=False)


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


class WorkAfterStop:
    """Counts the pieces of work (training steps, landscape points, ...) that begin, on any
    thread, while ``asked()`` says a stop was asked. What the code did, not how long it took:
    at most 1 means the work ended within the piece it was in, however loaded the machine."""

    def __init__(self, monkeypatch):
        from explorer.train.trainer import Trainer

        self.asked = lambda: False
        self.count = 0
        self._monkeypatch = monkeypatch
        self.watch(Trainer, "_train_step")

    def watch(self, cls, name: str) -> None:
        """Count calls of ``cls.name`` too."""
        real = getattr(cls, name)

        def counted(obj, *args, **kwargs):
            if self.asked():
                self.count += 1
            return real(obj, *args, **kwargs)

        self._monkeypatch.setattr(cls, name, counted)


@pytest.fixture
def work_after_stop(monkeypatch):
    """A ``WorkAfterStop`` counting training steps; set its ``asked`` (e.g. ``lambda: runner.stopped``)."""
    return WorkAfterStop(monkeypatch)


@pytest.fixture
def stop_from_another_thread(work_after_stop):
    """``run(runner, ready)``: ``runner.run`` here, ``runner.stop()`` from another thread as soon as
    ``ready(arm, event)`` first says so; returns how many training steps began after the stop.
    At most 1: only the arm whose turn it was when the stop came may still take the step it was
    starting; every other arm sees the stop before its next step."""

    def run(runner, ready) -> int:
        work_after_stop.asked = lambda: runner.stopped
        going = threading.Event()

        def stopper():
            going.wait()
            runner.stop()

        helper = threading.Thread(target=stopper, daemon=True)
        helper.start()
        runner.run(lambda arm, event: ready(arm, event) and going.set())
        going.set()  # the run may end before ready said so; the helper must still end
        helper.join()
        return work_after_stop.count

    return run


class FileServer:
    """An HTTP server on 127.0.0.1 for the download tests: ``files`` by name; ``mode[name]``:
    "error" (503), "truncate" (half, then close), "norange" (ignores Range), "slow" (16 KB
    pieces, 50 ms apart); ``ranges`` records the Range headers asked for."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.mode: dict[str, str] = {}
        self.ranges: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                body = server.files.get(name)
                mode = server.mode.get(name, "")
                if body is None:
                    self.send_error(404)
                    return
                if mode == "error":
                    self.send_error(503, "Service Unavailable")
                    return
                start = 0
                asked = self.headers.get("Range")
                if asked:
                    server.ranges.append(asked)
                if asked and mode != "norange":
                    start = int(asked.split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if mode == "truncate":
                    self.wfile.write(body[start:start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if mode == "slow":
                    for i in range(start, len(body), 16_384):
                        self.wfile.write(body[i:i + 16_384])
                        self.wfile.flush()
                        time.sleep(0.05)
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def file_server():
    """A ``FileServer`` started for the test and shut down after it."""
    s = FileServer()
    yield s
    s.close()
