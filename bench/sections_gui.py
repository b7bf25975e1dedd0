"""The GUI measurements of ``run_all.py`` (offscreen Qt), each in its own process.

Stalls: a 10 ms QTimer ticks on the GUI thread; the longest gap between two ticks is the
worst freeze a user could feel. Each stall figure is compared with the same window idle,
measured first in the same process. Rows are dicts as in ``sections_cpu.row``. The
application object is set up as ``ui/app.py`` sets it up (``app()``): the cycle collector
runs on the GUI thread, the start-up heap is frozen and torch's compiler stack is imported
in the background before anything is measured; ``bench/stall_watch.py`` tells why a stall
happened when one needs explaining.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.dirname(BENCH))

import torch  # noqa: E402  (torch before PySide6)
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from sections_cpu import row  # noqa: E402

STALL_GOAL_MS = 50.0
FIRST_LOOK_GOAL = 0.4  # the first profile after a toggle, against a full-batch training forward/backward


class Ticker:
    """Gaps (ms) between ticks of a 10 ms GUI-thread timer while it runs."""

    def __init__(self):
        self.clock = QElapsedTimer()
        self.gaps: list[float] = []
        self.ends: list[float] = []
        self._last = None
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def _tick(self):
        now = self.clock.nsecsElapsed() / 1e6
        if self._last is not None:
            self.gaps.append(now - self._last)
            self.ends.append(now)
        self._last = now

    def since(self, ms: float) -> list[float]:
        """The gaps that ended after ``ms`` milliseconds of ticking."""
        return [g for g, end in zip(self.gaps, self.ends) if end > ms]

    def now_ms(self) -> float:
        return self.clock.nsecsElapsed() / 1e6

    def start(self):
        self.gaps, self.ends, self._last = [], [], None
        self.clock.start()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.gaps


def spin(seconds: float, until=lambda: False) -> None:
    """Run Qt's event loop for ``seconds`` or until ``until()`` (checked every 20 ms)."""
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(20)
    check.timeout.connect(lambda: until() and loop.quit())
    check.start()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    check.stop()


def idle_gaps(seconds: float) -> list[float]:
    ticker = Ticker()
    ticker.start()
    spin(seconds)
    return ticker.stop()


def stall_row(figure: str, busy: list[float], idle: list[float], note: str) -> dict:
    worst, base = max(busy), max(idle)
    return row("GUI", figure, f"longest stall {worst:.0f} ms (p99 {statistics.quantiles(busy, n=100)[98]:.0f} ms)",
               f"idle window {base:.0f} ms", worst / base, f"< {STALL_GOAL_MS:.0f} ms", worst < STALL_GOAL_MS,
               note + f"; {len(busy)} ticks of a 10 ms timer")


def app() -> QApplication:
    """The QApplication, with the app's collector regime (``ui/app.py``): collection on the GUI
    thread only, the start-up heap frozen, torch's compiler stack imported in the background
    (``ui/warm_up.py``); returns once that import is done, as it is a few seconds into a session."""
    torch.set_num_threads(1)
    qapp = QApplication.instance() or QApplication([])
    if getattr(qapp, "_bench_collector", None) is None:
        from explorer.ui.main_thread_gc import MainThreadCollector
        from explorer.ui.warm_up import ImportWarmer

        qapp._bench_collector = collector = MainThreadCollector(qapp)
        collector.freeze()
        warmer = ImportWarmer(collector, parent=qapp)
        warmer.start()
        spin(120, until=lambda: warmer.seconds is not None)
    return qapp


# -- while training ----------------------------------------------------------------------------

def gui_training(quick: bool) -> list[dict]:
    from sections_cpu import default_form_settings

    from explorer.spec import preset
    from explorer.train.api import StepMetrics
    from explorer.ui.document import Document
    from explorer.ui.training import TrainingPanel

    app()
    settings = replace(default_form_settings(), device="cpu", epochs=1000)
    panel = TrainingPanel(Document(preset("resnet20")))
    panel.resize(1400, 900)
    panel.show()
    idle = idle_gaps(3.0)
    steps = []
    panel.worker.eventsReady.connect(
        lambda events: steps.extend(int(s) for e in events if isinstance(e, StepMetrics) for s in e.steps))
    panel.form.set_settings(settings)
    panel.start()
    spin(120, until=lambda: bool(steps))  # measure once steps flow (not the data preparation)
    first = steps[-1] if steps else 0
    ticker = Ticker()
    ticker.start()
    spin(8 if quick else 20)
    busy = ticker.stop()
    done = (steps[-1] if steps else 0) - first
    panel.shutdown(5.0)
    return [stall_row("longest GUI stall while training", busy, idle,
                      f"the training panel training ResNet-20 with the app's default settings "
                      f"(gradient recording every {settings.grad_every} steps), {done} steps measured")]


# -- while probing, and the toggle round trip ---------------------------------------------------

def gui_probe(quick: bool) -> list[dict]:
    from torch import nn

    from explorer.analysis.gradflow import seeded_batch
    from explorer.nn import build
    from explorer.spec import preset
    from explorer.ui.document import Document
    from explorer.ui.gradflow import GradflowPanel
    from explorer.ui.gradflow.worker import FIRST_LOOK_IMAGES

    app()
    spec = preset("resnet56")
    model = build(spec, seed=0).to(memory_format=torch.channels_last)
    x, y = seeded_batch(spec.input_shape, 10, 32, 0)
    x = x.contiguous(memory_format=torch.channels_last)

    def bare():
        model.train()
        model.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()

    bare()
    bare_cpu = []
    for _ in range(5):
        c = time.process_time()
        bare()
        bare_cpu.append(time.process_time() - c)
    bare_ms = statistics.median(bare_cpu) * 1000
    del model

    document = Document(spec)
    panel = GradflowPanel(document)
    panel.resize(1400, 700)
    panel.show()
    marks: dict[str, tuple[float, float]] = {}  # "first" / "full": (wall, CPU) once drawn

    def mark(name):  # the slot has drawn into the widgets; the repaint is done by the next event-loop turn
        QTimer.singleShot(0, lambda: marks.setdefault(name, (time.perf_counter(), time.process_time())))

    panel.firstLookShown.connect(lambda _: mark("first"))
    panel.profileUpdated.connect(lambda _: mark("full"))
    spin(120, until=lambda: "full" in marks)  # the first probe builds the model
    idle = idle_gaps(3.0)
    firsts, trips, first_cpus, cpus = [], [], [], []
    ticker = Ticker()
    ticker.start()
    for i in range(6 if quick else 12):
        marks.clear()
        t, c = time.perf_counter(), time.process_time()
        (panel.skips_on if i % 2 else panel.skips_off).click()
        spin(60, until=lambda: "full" in marks)
        if "first" in marks:
            firsts.append(marks["first"][0] - t)
            first_cpus.append(marks["first"][1] - c)
        trips.append(marks["full"][0] - t)
        cpus.append(marks["full"][1] - c)
    busy = ticker.stop()
    panel.shutdown()
    trip, cpu = statistics.median(trips) * 1000, statistics.median(cpus) * 1000
    rows = []
    if firsts:
        first, first_cpu = statistics.median(firsts) * 1000, statistics.median(first_cpus) * 1000
        rows.append(row("Gradient flow", f"first profile after a toggle, ResNet-56 (first look on "
                                         f"{FIRST_LOOK_IMAGES} of 32 images)",
                        f"{first:.0f} ms wall ({first_cpu:.0f} CPU-ms)",
                        f"training forward/backward, batch 32: {bare_ms:.0f} CPU-ms", first_cpu / bare_ms,
                        f"<= {FIRST_LOOK_GOAL} (about 100 ms)", first_cpu / bare_ms <= FIRST_LOOK_GOAL,
                        f"median of {len(firsts)} toggles (all skips off/on) from the click to the first look drawn "
                        f"(worker thread and redraw); slowest {max(firsts) * 1000:.0f} ms wall. The ratio uses "
                        f"CPU-ms of the process (every thread), which a busy machine stretches far less than wall time"))
    rows += [
        row("Gradient flow", "toggle to the full-batch profile shown, ResNet-56 (all skips off/on)",
            f"{trip:.0f} ms wall ({cpu:.0f} CPU-ms)", f"training forward/backward {bare_ms:.0f} CPU-ms",
            cpu / bare_ms, "< 250 ms", trip < 250,
            f"median of {len(trips)} round trips through the document, the panel's worker thread (the first "
            f"look, then the full batch of 32) and the redraws; slowest {max(trips) * 1000:.0f} ms"),
        stall_row("longest GUI stall while probing", busy, idle,
                  "ResNet-56, the gradient panel re-probing after every skip toggle (first look, then full batch)")]
    return rows


# -- while an experiment runs --------------------------------------------------------------------

def gui_experiment(quick: bool) -> list[dict]:
    from explorer.ui.experiments.degradation_page import DegradationPage

    app()
    page = DegradationPage()
    page.resize(1400, 900)
    page.show()
    idle = idle_gaps(3.0)
    seconds = 15 if quick else 30
    from explorer.train.api import StepMetrics

    ticker = Ticker()
    ended, stepping, all_stepping = [], set(), []
    page.finished.connect(ended.append)

    def on_events(events):
        stepping.update(arm for arm, event in events if isinstance(event, StepMetrics))
        if not all_stepping and len(stepping) == len(page.settings_used.arms()):
            all_stepping.append(ticker.now_ms())

    page.worker.eventsReady.connect(on_events)
    ticker.start()
    page.run()
    QTimer.singleShot(int(seconds * 1000), page.stop)
    spin(seconds + 30, until=lambda: bool(ended))
    busy = ticker.stop()
    page.shutdown()
    labels = ", ".join(a.label for a in page.settings_used.arms())
    steady = ticker.since(all_stepping[0]) if all_stepping else []
    after = (f"; once every arm was stepping (after {all_stepping[0] / 1000:.1f} s: data loaded, nets and "
             f"optimizers built) the longest stall was {max(steady):.0f} ms" if steady else
             "; not every arm reached a step in the window")
    after += ("; torch._dynamo, which the first optimizer imports, was imported in the background "
              "before the click, as the app does after its first paint")
    return [stall_row("longest GUI stall while the degradation experiment runs", busy, idle,
                      f"the page's default settings ({labels}), stopped after {seconds} s, from the Run click"
                      + after)]


# -- one edit on ResNet-1202 ------------------------------------------------------------------------

def editor(quick: bool) -> list[dict]:
    from bench_editor import bench_network

    app()
    rows = bench_network("resnet1202", False, 7 if quick else 15)
    out = {what: (ms, base) for what, ms, base in rows}
    ms, base = out["skip toggle: edit -> repainted"]
    wide, _ = out["stage width: edit -> repainted"]
    return [row("Editor", "one edit on ResNet-1202 (skip toggle) to the diagram repainted",
                f"{ms:.0f} ms", f"validating the edited spec {base:.1f} ms", ms / base, "< 100 ms", ms < 100,
                f"median; widening a whole stage (every block redrawn) takes {wide:.0f} ms"),
            row("Editor", "one edit on ResNet-1202 (widen a stage of 200 blocks) to the diagram repainted",
                f"{wide:.0f} ms", f"validating {base:.1f} ms", wide / base, "< 100 ms", wide < 100, "median")]
