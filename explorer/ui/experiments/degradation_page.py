"""The degradation experiment's page: settings, Run / Stop, the arms' curves and the result in words.

The page presents ``explorer.experiments.degradation``: it builds the settings from
its form, hands an ``ArmRunner`` to the worker, draws each arm's training error as the
epochs complete and, at the end, shows what ``conclude`` says, large enough to read on
a projector.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from ...experiments.degradation import DegradationSettings, conclude, degradation_runner, pct, results_from_outcomes
from ...spec import SpecError
from ...train.api import EpochMetrics, RunFinished, StepMetrics
from ...train.clock import clock
from ...train.datasets import DatasetError
from ..presenter import follow_presenter
from ..theme import COLOUR, Theme
from .curves import ArmCurves
from .forms import DegradationForm
from .page_parts import (StepwiseRun, WordsArea, centred_label, plots_column, progress_bar, run_stop_buttons, say,
                         scale_font, settings_column, side_by_side, status_line, words_html, words_label)
from .worker import ExperimentWorker

# what the plot menu offers: (label, view); "both" puts training loss and test accuracy side by side
VIEWS = (("Training error per epoch", "error"), ("Training loss per step", "loss"),
         ("Test accuracy per epoch", "accuracy"), ("Training loss and test accuracy, side by side", "both"))
VERDICT_POINTS = 17.0  # the result in words: legible from the back of a classroom
DETAIL_POINTS = 12.5
VALUE_POINTS = 13.0
INTRO = ("Plain nets and ResNets of two depths train side by side on the same data with the same "
         "recipe, one step each in turn. Watch the training error: does the deeper plain net end worse "
         "than the shallower one? Does the deeper ResNet?")
# green only when both halves showed; amber when the run was too short for one of them or
# did not separate the kinds; dark red when the plain nets ended alike
VERDICT_COLOURS = {"shown": COLOUR.verdict_good,
                   "plain_only": COLOUR.verdict_partial, "too_early": COLOUR.verdict_partial,
                   "mixed": COLOUR.verdict_partial, "not_shown": COLOUR.verdict_bad,
                   "no_verdict": COLOUR.verdict_none}




class DegradationPage(StepwiseRun, QWidget):
    """Run the experiment and show it; ``finished(verdict)`` when a run has ended."""

    finished = Signal(object)
    CLOSE_QUESTION = "The degradation experiment is running. Stop it and close?"
    STILL_FINISHING = "An arm is still finishing its step; close again in a moment."

    def __init__(self, parent: QWidget | None = None, make_runner=None, choose_folder=None):
        super().__init__(parent)
        self._choose_folder = choose_folder
        self._make_runner = make_runner or degradation_runner
        self.worker = ExperimentWorker(self)
        self.worker.eventsReady.connect(self._on_events)
        self.worker.runEnded.connect(self._on_run_ended)
        self.base_settings = DegradationSettings()  # what the form does not show (the recipe, sizes)
        self.settings_used: DegradationSettings | None = None
        self.verdict = None
        self.runner = None  # the last runner (its trainers hold the arms' final weights)
        self._progress: dict[int, tuple[int, int, float]] = {}
        self._values: dict[int, float] = {}
        self._started = 0.0
        self._stopping = False
        self._scale = 1.0
        self._verdict_parts = ("Press Run: the result appears here in words when the arms have finished.",
                               "", COLOUR.waiting_words, False)
        self._build()
        follow_presenter(self.set_presenter)
        self._update_buttons()

    def _build(self) -> None:
        title = QLabel("<span style='font-size:large'><b>Degradation</b></span> (He et al. 2016)")
        title.setObjectName("experimentTitle")
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.form = DegradationForm(choose_folder=self._choose_folder)
        buttons = run_stop_buttons(self, "Run", "Train every arm from scratch with these settings",
                                   "Stop every arm after its current step; the words describe the run so far")
        self.view = QComboBox()
        for label, view in VIEWS:
            self.view.addItem(label, view)
        self.view.currentIndexChanged.connect(self._on_view)
        self.progress = progress_bar(1000)
        self.progress.setValue(0)
        self.status = status_line("Not running")

        left = settings_column([title, intro, 6, self.form, buttons, self.progress, self.status, 6,
                                QLabel("Plot"), self.view])

        self.curves = ArmCurves()
        self.curves2 = ArmCurves()  # the right-hand plot of "side by side"
        self.curves2.set_view("accuracy")
        self.curves2.hide()
        self.values = centred_label()  # each arm's latest training error, in its colour
        self.verdict_label = words_label(min_height=60)
        self.verdict_label.setObjectName("verdict")
        plots = QHBoxLayout()
        plots.addWidget(self.curves, 1)
        plots.addWidget(self.curves2, 1)
        side_by_side(self, left, plots_column((plots, 1), self.values, WordsArea(self.verdict_label)))

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        self._scale = Theme(presenter=on).scale
        scale_font(self.values, VALUE_POINTS * self._scale)
        self._render_verdict()

    def _show_verdict(self, headline: str, details: str = "", colour: str = COLOUR.verdict_none,
                      bold: bool = False) -> None:
        self._verdict_parts = (headline, details, colour, bold)
        self._render_verdict()

    def _render_verdict(self) -> None:
        """The headline large, the numbers and the why a little smaller, both scaled for a projector."""
        headline, details, colour, bold = self._verdict_parts
        self.verdict_label.setText(words_html(headline, details, VERDICT_POINTS * self._scale,
                                              DETAIL_POINTS * self._scale, colour, bold))

    # -- commands ---------------------------------------------------------------------------
    @Slot()
    def run(self) -> bool:
        """Start the experiment; False (with the reason shown) when the settings are wrong."""
        if self.is_running():
            return False
        settings = self._form_settings((SpecError, DatasetError))
        if settings is None:
            return False
        self.settings_used = settings
        self.verdict = None
        self._progress = {}
        self._values = {}
        self._stopping = False
        arms = settings.arms()
        self.curves.set_arms(arms, settings.epochs)
        self.curves2.set_arms(arms, settings.epochs)
        self._show_values()
        self._show_verdict(f"Running {len(arms)} networks for {settings.epochs} epochs; the result "
                           "appears here at the end.", colour=COLOUR.waiting_words)
        self._started = time.monotonic()
        self._set_status("Loading the data and building the networks…")
        self.worker.start(lambda: self._make_runner(settings))
        self._update_buttons()
        return True

    # -- events ---------------------------------------------------------------------------
    @Slot(list)
    def _on_events(self, events: list) -> None:
        changed = False
        for arm, event in events:
            if isinstance(event, StepMetrics):
                for curves in (self.curves, self.curves2):
                    curves.add_steps(arm, event.steps, event.loss, event.total_steps)
                self._progress[arm] = (int(event.steps[-1]), event.total_steps, event.eta_s)
            elif isinstance(event, EpochMetrics):
                for curves in (self.curves, self.curves2):
                    curves.add_epoch(arm, event.epoch, event.train_error, event.test_error)
                self._values[arm] = event.train_error
                changed = True
            elif isinstance(event, RunFinished) and event.status == "failed":
                self._set_status(f"{self.curves.arms[arm].label} failed: {event.message}", error=True)
        if changed:
            self._show_values()
        self._show_progress()

    def _show_progress(self) -> None:
        if not self._fill_progress():
            return
        left = sum(p[2] for p in self._progress.values())  # each arm's own compute still to do
        epochs = self.settings_used.epochs
        steps = max(p[1] for p in self._progress.values()) / max(epochs, 1)
        epoch = min(epochs, int(min(p[0] for p in self._progress.values()) / max(steps, 1)) + 1)
        self._set_status(f"Epoch {epoch} of {epochs} · {clock(time.monotonic() - self._started)} elapsed · "
                         f"about {clock(left)} left")

    @Slot()
    def _on_view(self) -> None:
        view = self.view.currentData()
        both = view == "both"
        self.curves.set_view("loss" if both else view)
        self.curves2.setVisible(both)

    def _show_values(self) -> None:
        """The legend under the plot, with each arm's latest training error."""
        legend = self.curves.legend_html({i: pct(v) for i, v in self._values.items()})
        self.values.setText(("Latest training error: " if self._values else "") + legend)

    def _set_status(self, text: str, error: bool = False) -> None:
        say(self.status, text, error)

    @Slot(object)
    def _on_run_ended(self, runner) -> None:
        self.runner = runner
        self._stopping = False
        self._update_buttons()
        if runner.error:
            self._set_status(runner.error, error=True)
            self._show_verdict("No result: the experiment could not start.", runner.error, COLOUR.error_text)
            self.finished.emit(None)
            return
        settings = self.settings_used
        results = results_from_outcomes(settings, runner.outcomes)
        verdict = conclude(results, settings.epochs, settings)
        self.verdict = verdict
        self.progress.setValue(self.progress.maximum() if not runner.stopped else self.progress.value())
        elapsed = clock(time.monotonic() - self._started)
        self._set_status(f"{'Stopped' if runner.stopped else 'Finished'} after {elapsed}.")
        self.show_verdict(verdict)
        self.finished.emit(verdict)

    def show_verdict(self, verdict) -> None:
        """The words of ``verdict``, headline in the colour of its outcome."""
        self._show_verdict(verdict.headline, verdict.words.sentences[1:],
                           VERDICT_COLOURS.get(verdict.outcome, COLOUR.verdict_none), bold=True)
