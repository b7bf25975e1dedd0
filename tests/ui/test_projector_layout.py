"""Every window, dock, page and dialog whole on a projector: 1280x720, 1600x1000 and 1920x1080, presenter
mode on and off (``layout_check`` says what "whole" means and names each defect it finds).

Each test's one window serves every size and mode; the training panel and the experiment pages show fixed
numbers (a scripted trainer and scripted runners, no training), so the checks do not depend on
what a tiny run happens to reach, and the module runs in seconds.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox, QSplitter

from explorer.experiments.runner import ArmOutcome
from explorer.spec import preset
from explorer.train.api import EpochMetrics, RunFinished, RunRecord, StepMetrics, TrainSettings
from explorer.ui.app_window import build_window
from explorer.ui.document import Document
from explorer.ui.help_tour import TOUR
from explorer.ui.presenter import presenter_mode
from explorer.ui.theme import Theme

from fakes import FakeDialogs  # tests/ui is on sys.path (rootdir-relative imports)
from layout_check import problems

SCREENS = ((1280, 720), (1600, 1000), (1920, 1080))
MODES = (False, True)
EPOCHS = 30
# A run's errors as a class sees them: high at first, falling, the deeper plain net worst.
TRAIN_ERRORS = {"plain-20": 0.62, "plain-56": 0.78, "ResNet-20": 0.55, "ResNet-56": 0.48}


def _falling(start: float, end: float, n: int) -> list[float]:
    return [float(v) for v in start + (end - start) * (1 - np.exp(-np.arange(1, n + 1) / 6)) / (1 - np.exp(-n / 6))]


def _epoch_events(start: float, end: float, epochs: int, steps_per_epoch: int = 10) -> list:
    events = []
    for e, err in enumerate(_falling(start, end, epochs), start=1):
        steps = np.arange((e - 1) * steps_per_epoch + 1, e * steps_per_epoch + 1)
        loss = np.full(len(steps), 2.3 * err)
        events.append(StepMetrics(steps, loss, np.full(len(steps), 0.1), EPOCHS * steps_per_epoch, e, 900.0, 60.0))
        events.append(EpochMetrics(e, int(steps[-1]), 2.3 * err, err, 2.4 * err, min(1.0, err + 0.04), 0.1,
                                   900.0, 3.0))
    return events


class ScriptedTrainer:
    """The training panel's trainer: fixed epochs, then (``hold``) waits until stopped."""

    def __init__(self, spec, settings, control, hold: threading.Event | None):
        self.settings, self.control, self.hold = settings, control, hold
        self.model = None

    def run(self, on_event):
        events = _epoch_events(0.9, 0.12, EPOCHS if self.hold is None else 12)
        for event in events:
            on_event(event)
        while self.hold is not None and not self.control.stopped:
            self.hold.wait(0.05)
        record = RunRecord(name="resnet20", spec_json={}, settings=self.settings,
                           epochs=[e for e in events if isinstance(e, EpochMetrics)],
                           status="stopped" if self.hold is not None else "finished")
        on_event(RunFinished(record.status, "", 0, 0))
        return record


class ScriptedArms:
    """An experiment runner with fixed curves: every arm's first epochs, then it waits for
    ``release`` (the rest, "finished") or ``stop`` (what it has, "stopped")."""

    def __init__(self, labels: list[str], epochs: int, shown: int, errors: dict[str, float] | None = None):
        self.labels, self.epochs, self.shown = labels, epochs, shown
        self.errors = errors or {}
        self.error = ""
        self.stopped = False
        self.trainers: list = []
        self.outcomes = [ArmOutcome(label) for label in labels]
        self._go = threading.Event()
        self.started = threading.Event()

    def release(self) -> None:
        self._go.set()

    def stop(self) -> None:
        self.stopped = True
        self._go.set()

    def run(self, on_event):
        curves = [_epoch_events(0.9, self.errors.get(label, 0.3 + 0.05 * i), self.epochs)
                  for i, label in enumerate(self.labels)]
        def emit(until: int) -> None:
            for i, events in enumerate(curves):
                for event in events:
                    if isinstance(event, (StepMetrics, EpochMetrics)) and event.epoch <= until \
                            and event.epoch > getattr(self, f"_sent{i}", 0):
                        on_event(i, event)
                setattr(self, f"_sent{i}", until)
        emit(self.shown)
        self.started.set()
        self._go.wait(30)
        done = self.shown if self.stopped else self.epochs
        emit(done)
        settings = TrainSettings(dataset="shapes", epochs=self.epochs)
        for i, events in enumerate(curves):
            epochs = [e for e in events if isinstance(e, EpochMetrics) and e.epoch <= done]
            self.outcomes[i] = ArmOutcome(self.labels[i], record=RunRecord(
                name=self.labels[i], spec_json={}, settings=settings, epochs=epochs,
                status="stopped" if self.stopped else "finished"))
        return self.outcomes


@pytest.fixture
def app(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    hold = threading.Event()
    script = {"hold": None}
    window, bench = build_window(Document(preset("resnet20")), settings=settings, dialogs=FakeDialogs(),
                                 trainer_factory=lambda spec, s, control: ScriptedTrainer(spec, s, control,
                                                                                           script["hold"]))
    window.resize(*SCREENS[0])
    window.show()
    yield window, bench, script, hold
    window.presenter_action.setChecked(False)
    assert bench.experiments.shutdown(5.0)
    assert bench.training.shutdown(5.0)
    bench.shutdown()
    window.close()
    window.deleteLater()
    presenter_mode().set_on(False)


def settle(qtbot, window) -> None:
    """Wait until the diagram's fit, any gradient probe in flight and every pending layout have run
    (conditions, not time): words that change while the page is measured are measured stale."""
    qtbot.waitUntil(lambda: not window.diagram.fit_pending(), timeout=10_000)
    runner = getattr(getattr(window.workbench, "gradflow", None), "runner", None)
    if runner is not None:
        qtbot.waitUntil(lambda: not runner.busy, timeout=30_000)
    QApplication.processEvents()
    QApplication.processEvents()  # a layout request posted while the first batch of events ran


def whole(found: list[str]) -> None:
    assert not found, f"{len(found)} defects:\n" + "\n".join(found)


def show_at(qtbot, window, screen, on: bool, *others) -> None:
    window.presenter_action.setChecked(on)
    window.resize(*screen)
    for other in others:
        other.resize(*screen)
    settle(qtbot, window)


def each_screen(qtbot, window, look, *others) -> list[str]:
    """``look(where)`` at every screen size in both modes; every problem found."""
    found = []
    for screen in SCREENS:
        for on in MODES:
            show_at(qtbot, window, screen, on, *others)
            found += look(f"{screen[0]}x{screen[1]} {'presenter' if on else 'normal'}", screen,
                          Theme(presenter=on).scale)
    return found


def test_the_editor_training_and_every_gradient_tab_fit_every_screen(qtbot, app):
    window, bench, script, _hold = app
    script["hold"] = None
    panel = bench.training
    with qtbot.waitSignal(panel.runFinished, timeout=20_000):
        assert panel.start()
    tabs = bench.gradflow.heatmaps

    def look(where, screen, scale):
        found = []
        bench.training_dock.raise_()
        settle(qtbot, window)
        found += problems(window, screen, scale, f"{where} training")
        bench.gradflow_dock.raise_()
        qtbot.waitUntil(lambda: bench.gradflow.last_outcome is not None, timeout=20_000)
        settle(qtbot, window)
        for i in range(tabs.count()):
            tabs.setCurrentIndex(i)
            found += problems(window, screen, scale, f"{where} gradient flow, {tabs.tabText(i)}")
        return found

    whole(each_screen(qtbot, window, look))


def test_all_skips_off_the_gradient_words_and_plots_still_fit(qtbot, app):
    window, bench, _script, _hold = app
    from explorer.spec.edits import set_stage_skips

    bench.gradflow_dock.raise_()
    spec = window.document.spec
    for si in range(len(spec.stages)):
        spec = set_stage_skips(spec, si, False)[0]
    window.document.edit(spec, "all skips off")
    qtbot.waitUntil(lambda: bench.gradflow.residual.profile.message_text != "", timeout=20_000)

    def look(where, screen, scale):
        return problems(window, screen, scale, f"{where} all skips off")

    try:
        whole(each_screen(qtbot, window, look))
    finally:
        window.document.undo_stack.undo()


def test_presenter_mode_twice_gives_every_layout_back(qtbot, app):
    window, bench, _script, _hold = app
    show_at(qtbot, window, SCREENS[1], False)
    pages = [bench.experiments.open_degradation(), bench.experiments.open_prepost()]
    for page in pages:
        page.resize(*SCREENS[1])
    window.activateWindow()

    def sizes() -> dict[str, tuple[int, int]]:
        out = {}
        for top in [window, *pages]:
            for w in top.findChildren(QSplitter):
                out[f"{top.windowTitle()} splitter {w.objectName() or id(w)}"] = tuple(w.sizes())
            out[f"{top.windowTitle()} minimum"] = (top.minimumSizeHint().width(), top.minimumSizeHint().height())
            out[f"{top.windowTitle()} size"] = (top.width(), top.height())
        for dock in (bench.training_dock, bench.gradflow_dock, window.palette_dock, window.inspector_dock):
            if not dock.visibleRegion().isEmpty():  # a tab behind another keeps a stale size
                out[dock.windowTitle()] = (dock.width(), dock.height())
        return out

    for dock in (bench.gradflow_dock, bench.training_dock):
        dock.raise_()
        settle(qtbot, window)
        before = sizes()
        for on in (True, False, True, False):
            window.presenter_action.setChecked(on)
            settle(qtbot, window)
        after = sizes()
        changed = {k: (before[k], after.get(k)) for k in before
                   if after.get(k) is None or any(abs(a - b) > 2 for a, b in zip(before[k], after[k]))}
        assert changed == {}, f"{dock.windowTitle()} in front: {changed}"


def _open_each_experiment(bench) -> list:
    """Every page the Experiments menu opens (a page added later is checked too)."""
    menu = bench.experiments
    for action in menu.menu.actions():
        if not action.isSeparator() and action.menu() is None:
            action.trigger()
    assert len(menu.windows) >= 6
    return list(menu.windows.values())


def test_every_experiment_page_empty_fits_every_screen(qtbot, app):
    window, bench, _script, _hold = app
    wins = _open_each_experiment(bench)

    def look(where, screen, scale):
        return [p for w in wins for p in problems(w, screen, scale, f"{where} {w.windowTitle()} (empty)")]

    whole(each_screen(qtbot, window, look, *wins))


def _arm_labels(page) -> list[str]:
    return [arm.label for arm in page.form.settings(page.base_settings).arms()]


@pytest.mark.parametrize("key", ["degradation", "depth_sweep", "prepost"])
def test_a_training_experiment_running_and_finished_fits_every_screen(qtbot, app, key, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    window, bench, _script, _hold = app
    win = {"degradation": bench.experiments.open_degradation, "depth_sweep": bench.experiments.open_depth_sweep,
           "prepost": bench.experiments.open_prepost}[key]()
    page = win.page
    settings = page.form.settings(page.base_settings)
    labels = [arm.label for arm, _seed in settings.runs()] if hasattr(settings, "runs") \
        else [arm.label for arm in settings.arms()]
    runner = ScriptedArms(labels, settings.epochs, max(1, settings.epochs // 3), TRAIN_ERRORS)
    page._make_runner = lambda _settings: runner
    with qtbot.waitSignal(page.worker.eventsReady, timeout=10_000):
        assert page.run()
    found = each_screen(qtbot, window, lambda where, screen, scale: problems(
        win, screen, scale, f"{where} {win.windowTitle()} (running)"), win)
    with qtbot.waitSignal(page.finished, timeout=10_000):
        runner.release()
    found += each_screen(qtbot, window, lambda where, screen, scale: problems(
        win, screen, scale, f"{where} {win.windowTitle()} (finished)"), win)
    whole(found)


def test_export_dialog_fits_every_screen(qtbot, app):
    window, bench, _script, _hold = app
    bench.open_export_dialog()
    dialog = bench._export_dialog
    try:
        whole(each_screen(qtbot, window, lambda where, screen, scale: problems(
            dialog, screen, scale, f"{where} export")))
    finally:
        dialog.hide()


def test_every_tour_step_fits_every_screen(qtbot, app):
    window, bench, _script, _hold = app
    # the gradient panel's probe finishes first: its words must not change while the steps are measured
    # (a result landing mid-tour was measured before its layout ran: a check that depended on timing)
    bench.gradflow_dock.raise_()
    qtbot.waitUntil(lambda: bench.gradflow.last_outcome is not None, timeout=20_000)
    settle(qtbot, window)
    window.show_tour()
    tour = window.tour

    def look(where, screen, scale):
        found = []
        tour.start()
        for i in range(len(TOUR)):
            assert tour.index == i
            settle(qtbot, window)
            found += problems(window, screen, scale, f"{where} tour step {i + 1}")
            if not window.rect().contains(tour.geometry()):
                found.append(f"{where} tour step {i + 1}: the panel {tour.geometry()} leaves the window")
            target = tour.target_rect(tour.step().target)
            if target.isValid() and tour.geometry().intersects(target):
                found.append(f"{where} tour step {i + 1}: the panel covers the part it describes")
            if i + 1 < len(TOUR):
                tour.next()
        return found

    try:
        whole(each_screen(qtbot, window, look))
    finally:
        tour.finish()


def test_the_restore_offer_fits_every_screen(qtbot, app, monkeypatch):
    window, _bench, _script, _hold = app
    from explorer.ui.file_actions import Dialogs

    found: list[str] = []
    where = {"now": ""}

    def exec_(box):
        box.show()
        QApplication.processEvents()
        found.extend(problems(box, where["screen"], where["scale"], f"{where['now']} restore offer"))
        box.hide()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)

    def look(now, screen, scale):
        where.update(now=now, screen=screen, scale=scale)
        Dialogs().ask_restore(window, "ResNet-20 (3 stages, 9 blocks)")
        return []

    each_screen(qtbot, window, look)
    whole(found)


def test_a_window_grown_in_presenter_mode_gives_the_plots_their_share(qtbot, app):
    """Moved from a 1280x720 projector to a 1600x1000 one without leaving presenter mode: the bottom
    panels grow with the window (they stayed at 298 px, the heatmap 46 px tall)."""
    from explorer.ui.main_window import PRESENTER_PLOTS_SHARE

    window, bench, _script, _hold = app
    bench.gradflow_dock.raise_()
    show_at(qtbot, window, (1280, 720), True)
    window.resize(1600, 1000)
    share = int(0.95 * PRESENTER_PLOTS_SHARE * 1000)  # without the fix the area kept its 720-px height (363)
    qtbot.waitUntil(lambda: window._bottom_area_height() >= share, timeout=5_000)
    window.presenter_action.setChecked(False)  # outside presenter mode a resize leaves the user's heights
    settle(qtbot, window)
    before = window._bottom_area_height()
    window.resize(1280, 720)
    settle(qtbot, window)
    window.resize(1600, 1000)
    settle(qtbot, window)
    assert abs(window._bottom_area_height() - before) <= 2
