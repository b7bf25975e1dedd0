"""The loss-landscape page: the loss around a trained ResNet and its plain twin, coarse to fine.

The weights come from the last degradation run (a ResNet and the plain net of one
depth), from two checkpoint files, or from two runs trained in the editor. The grid is
measured off the GUI thread (``experiments.landscape.LandscapeRunner``, the same object
the CLI uses) through the experiments' worker; the heatmaps, the 1D slice and the words
follow the points as they arrive.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QRadioButton, QSpinBox,
                               QWidget)

from ...analysis.landscape import coarse_complete
from ...experiments.landscape import (LandscapeRunner, LandscapeSettings, net_from_checkpoint, net_from_record,
                                      summaries_of)
from ...experiments.landscape_words import landscape_verdict
from ...spec import SpecError
from ...train.api import TrainingError
from ..presenter import follow_presenter
from .landscape_view import LandscapeView
from .page_parts import (MeasuringPage, WordsArea, centred_label, checkpoint_rows, plots_column, progress_bar,
                         run_stop_buttons, settings_column, side_by_side, status_line, words_label)
from .worker import ExperimentWorker

INTRO = ("Around a trained network's weights, the training loss along two random directions (Li et al. "
         "2018): the same directions for the ResNet and its plain twin, each scaled filter by filter to the "
         "net's own weights. A coarse grid comes first and sharpens as the points arrive.")
GRIDS = (("9 then 25 points per side", 9, 25), ("5 then 13 (quick)", 5, 13), ("9 then 49 (fine, slower)", 9, 49))


class LandscapePage(MeasuringPage, QWidget):
    """``finished(words)`` when a measurement has ended (None when it could not start)."""

    CLOSE_QUESTION = "The loss landscape is being measured. Stop and close?"
    STILL_FINISHING = "A point is still being measured; close again in a moment."

    finished = Signal(object)

    def __init__(self, parent: QWidget | None = None, degradation_source=None, editor_runs=None,
                 sweep_source=None):
        super().__init__(parent)
        self._degradation_source = degradation_source or (lambda: None)
        self._sweep_source = sweep_source or (lambda: None)
        self._editor_runs = editor_runs or (lambda: [])
        self.worker = ExperimentWorker(self)
        self.worker.eventsReady.connect(self._on_events)
        self.worker.runEnded.connect(self._on_run_ended)
        self.runner: LandscapeRunner | None = None
        self.words = None
        self._grids = []
        self._started = 0.0
        self._coarse_s: float | None = None
        self._scale = 1.0
        self._words_parts = ("Choose the weights and press Measure.", "")
        self._build()
        follow_presenter(self.set_presenter)
        self.refresh_sources()

    # -- building -------------------------------------------------------------------------
    def _build(self) -> None:
        title = QLabel("<span style='font-size:large'><b>Loss landscape</b></span> (Li et al. 2018)")
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.from_run = QRadioButton("From the degradation or depth-sweep run")
        self.from_editor = QRadioButton("From runs trained in the editor")
        self.from_files = QRadioButton("From checkpoint files")
        self.depth = QComboBox()
        self.depth.setToolTip("The ResNet and the plain net of this depth from the last degradation run or "
                              "depth sweep (its first seed)")
        self.run_a = QComboBox()
        self.run_b = QComboBox()
        for combo in (self.run_a, self.run_b):
            combo.setToolTip("Train a ResNet, switch its skips off (or pick its plain twin) and train again")
        self.resnet_file = QLineEdit()
        self.resnet_file.setPlaceholderText("resnet20.pt")
        self.plain_file = QLineEdit()
        self.plain_file.setPlaceholderText("plain20.pt (optional)")
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.from_run)
        form.addRow("Depth", self.depth)
        form.addRow(self.from_editor)
        form.addRow("First run", self.run_a)
        form.addRow("Second run", self.run_b)
        form.addRow(self.from_files)
        checkpoint_rows(self, form, (("ResNet", self.resnet_file), ("Plain twin", self.plain_file)))
        self.grid = QComboBox()
        for text, coarse, points in GRIDS:
            self.grid.addItem(text, (coarse, points))
        self.span = QDoubleSpinBox()
        self.span.setRange(0.05, 5.0)
        self.span.setSingleStep(0.25)
        self.span.setValue(1.0)
        self.span.setToolTip("The grid covers -span..span along each direction, in filter norms")
        self.images = QSpinBox()
        self.images.setRange(8, 8192)
        self.images.setValue(512)
        self.images.setToolTip("Training images the loss is measured on (the same ones at every point)")
        self.seed = QSpinBox()
        self.seed.setRange(0, 10_000)
        self.seed.setToolTip("Which pair of random directions; another seed gives another slice")
        form.addRow("Grid", self.grid)
        form.addRow("Span", self.span)
        form.addRow("Images", self.images)
        form.addRow("Directions", self.seed)
        for radio in (self.from_run, self.from_editor, self.from_files):
            radio.toggled.connect(lambda _on: self._update_buttons())
        buttons = run_stop_buttons(self, "Measure", "Evaluate the loss over the grid, coarse first",
                                   "Stop after the point being measured; the words describe the points so far")
        self.progress = progress_bar()
        self.status = status_line()

        left = settings_column([title, intro, 6, form, buttons, self.progress, self.status])

        self.view = LandscapeView()
        self.legend = centred_label()
        self.words_label = words_label()
        side_by_side(self, left, plots_column((self.view, 1), self.legend, WordsArea(self.words_label)))

    # -- sources ----------------------------------------------------------------------------
    def refresh_sources(self) -> None:
        """Offer the last degradation run's depths and the editor's runs that kept their weights."""
        if self.is_running():
            return
        self.depth.clear()
        for key, name, source in (("degradation", "degradation run", self._degradation_source()),
                                  ("sweep", "depth sweep", self._sweep_source())):
            if source is not None:
                for d in source[0].depths:
                    self.depth.addItem(f"ResNet-{d} and plain-{d} ({name})", (key, d))
        has_run = self.depth.count() > 0
        if not has_run:
            self.depth.addItem("no degradation run or depth sweep yet")
        self.from_run.setEnabled(has_run)
        records = [r for r in self._editor_runs() if r.model_state is not None]
        for combo, default in ((self.run_a, -2), (self.run_b, -1)):
            combo.clear()
            for i, record in enumerate(records):
                combo.addItem(f"{i + 1}. {record.name}", i)
            if len(records) >= 2:
                combo.setCurrentIndex(len(records) + default)
        self._records = records
        has_editor = len(records) >= 1
        if not has_editor:
            for combo in (self.run_a, self.run_b):
                combo.addItem("no trained run yet")
        self.from_editor.setEnabled(has_editor)
        if has_run:
            self.from_run.setChecked(True)
        elif has_editor:
            self.from_editor.setChecked(True)
        else:
            self.from_files.setChecked(True)
        self._update_buttons()

    def _nets(self) -> list:
        if self.from_run.isChecked():
            return self._nets_from_run()
        if self.from_editor.isChecked():
            picked = {self.run_a.currentData(), self.run_b.currentData()} - {None}
            if not picked:
                raise TrainingError("train a network in the editor first")
            return [net_from_record(self._records[i], source=f"run {i + 1}") for i in sorted(picked)]
        nets = []
        for edit, required in ((self.resnet_file, True), (self.plain_file, False)):
            path = edit.text().strip()
            if not path:
                if required:
                    raise TrainingError("choose the ResNet's checkpoint file")
                continue
            nets.append(net_from_checkpoint(path))
        return nets

    def _nets_from_run(self) -> list:
        from ...experiments.landscape import LandscapeNet
        choice = self.depth.currentData()
        key, depth = choice if choice is not None else (None, None)
        source = self._degradation_source() if key == "degradation" else self._sweep_source() if key else None
        if source is None:
            raise TrainingError("there is no finished degradation run or depth sweep to take weights from")
        settings, runner = source
        order = settings.runs()  # (arm, seed) in the runner's order; a sweep of several seeds gives its first
        first_seed = order[0][1]
        nets = []
        for kind in ("resnet", "plain"):
            i = next(i for i, (a, seed) in enumerate(order)
                     if a.kind == kind and a.depth == depth and seed == first_seed)
            outcome, trainer = runner.outcomes[i], runner.trainers[i]
            if outcome.record is None or outcome.record.model_state is None:
                raise TrainingError(f"{outcome.label} has no trained weights ({outcome.error or outcome.status})")
            nets.append(LandscapeNet(trainer.spec, outcome.record.model_state, settings.dataset,
                                     settings.train_size, settings.test_size,
                                     source="depth sweep" if key == "sweep" else "degradation run"))
        return nets

    def settings(self) -> LandscapeSettings:
        coarse, points = self.grid.currentData()
        return LandscapeSettings(points=points, coarse=coarse, span=self.span.value(), images=self.images.value(),
                                 seed=self.seed.value())

    # -- state and commands -------------------------------------------------------------------
    def _update_buttons(self) -> None:
        running = self.is_running()
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        mode_run, mode_editor = self.from_run.isChecked(), self.from_editor.isChecked()
        self.depth.setEnabled(not running and mode_run)
        for w in (self.run_a, self.run_b):
            w.setEnabled(not running and mode_editor)
        for w in (self.resnet_file, self.plain_file):
            w.setEnabled(not running and not mode_run and not mode_editor)
        for w in (self.grid, self.span, self.images, self.seed, self.from_files):
            w.setEnabled(not running)
        self.from_run.setEnabled(not running and self.depth.currentData() is not None)
        self.from_editor.setEnabled(not running and bool(getattr(self, "_records", [])))

    @Slot()
    def run(self) -> bool:
        """Start measuring; False (with the reason shown) when the choice of weights or settings is wrong."""
        if self.is_running():
            return False
        try:
            settings = self.settings()
            nets = self._nets()
            if not nets:
                raise TrainingError("choose the weights to measure")
        except (TrainingError, SpecError, ValueError) as err:
            self._say(str(err), error=True)
            return False
        self.words = None
        self._coarse_s = None
        self._words_parts = ("Measuring the 1D slice first, then the coarse grid…", "")
        self._render_words()
        self._started = time.monotonic()
        self._say("Loading the data and building the networks…")
        self.worker.start(lambda: LandscapeRunner(nets, settings))
        runner = self.runner = self.worker.runner
        self._grids = [s.values for s in runner.surfaces]
        self.view.reset(runner.plan, [n.label for n in runner.nets], [n.kind for n in runner.nets])
        self.legend.setText(self.view.legend_html())
        self.progress.setRange(0, runner.plan.points ** 2)
        self.progress.setValue(0)
        self._update_buttons()
        return True

    @Slot()
    def stop(self) -> None:
        if self.is_running():
            self.worker.stop()
            self._say("Stopping after the point being measured…")
            self.stop_button.setEnabled(False)

    # -- events -------------------------------------------------------------------------------
    @Slot(list)
    def _on_events(self, events: list) -> None:
        if self.runner is None or not events:
            return
        self._refresh()

    def _refresh(self) -> None:
        runner = self.runner
        plan = runner.plan
        self.view.show_grids(self._grids)
        done = min(s.evaluated for s in runner.surfaces)
        self.progress.setValue(done)
        elapsed = time.monotonic() - self._started
        if self._coarse_s is None and all(coarse_complete(plan, g) for g in self._grids):
            self._coarse_s = elapsed
        if not self.stop_button.isEnabled() and self.is_running():
            return  # "Stopping…" stays until the run has ended
        if self._coarse_s is None:
            self._say(f"Coarse {plan.coarse}x{plan.coarse} grid: {done} of {plan.coarse_count} points · "
                      f"{elapsed:.0f} s")
        else:
            self._say(f"Coarse grid done in {self._coarse_s:.0f} s · refining to {plan.points}x{plan.points}: "
                      f"{done} of {plan.points ** 2} points · {elapsed:.0f} s")
        self._show_words()

    def _show_words(self) -> None:
        verdict = landscape_verdict(summaries_of(self.runner), self.runner.plan, self.runner.weights)
        self.words = verdict  # the CLI's sentences for the same grids, every one (the lessons in italics)
        self._words_parts = (verdict.headline, verdict.words.sentences[1:])
        self._render_words()

    @Slot(object)
    def _on_run_ended(self, runner) -> None:
        self._update_buttons()
        if runner.error:
            self._say(runner.error, error=True)
            self._words_parts = ("No result.", runner.error)
            self._render_words()
            self.finished.emit(None)
            return
        self._refresh()
        elapsed = time.monotonic() - self._started
        self._say(f"{'Stopped' if runner.stopped else 'Done'} after {elapsed:.0f} s: loss on {runner.images} "
                  f"training images of {runner.dataset}.")
        self.finished.emit(self.words)
