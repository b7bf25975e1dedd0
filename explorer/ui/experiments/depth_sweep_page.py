"""The depth sweep's page: settings, Run / Stop, error against depth, one depth's curves, the words.

The page presents ``explorer.experiments.depth_sweep``. It opens on the last sweep kept
in the user's cache folder (saying when it was measured), shows a cached sweep whenever
the form's settings match one, and while a sweep runs draws every network's numbers at
the last epoch all of them completed, so both curves grow together. A slider, or a
click on the sweep plot, picks the depth whose two training curves are drawn beside it.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from ...experiments import sweep_cache
from ...experiments.degradation import ArmResult
from ...experiments.depth_sweep import SweepResult, sweep_result, sweep_runner
from ...experiments.depth_sweep_words import sweep_verdict
from ...spec import SpecError
from ...train.api import EpochMetrics, RunFinished, StepMetrics
from ...train.clock import clock
from ...train.datasets import DatasetError
from ..presenter import follow_presenter
from ..theme import COLOUR, Theme
from .degradation_page import DETAIL_POINTS, VERDICT_COLOURS, VERDICT_POINTS
from .forms import SweepForm
from .page_parts import (StepwiseRun, WordsArea, centred_label, plots_column, progress_bar, run_stop_buttons, say,
                         scale_font, settings_column, side_by_side, status_line, words_html, words_label)
from .sweep_plots import DepthCurves, SweepPlot, legend_html
from .worker import ExperimentWorker

INTRO = ("A plain net and a ResNet at every depth train with one recipe, one step each in turn. The left "
         "plot shows each net's final training and test error against its depth: where does the plain curve "
         "turn? Pick a depth with the slider, or click it, to see its two nets' training curves.")
FORM_CHECK_MS = 300  # after the last edit, look for a cached sweep of the new settings


def when_text(stamp: float) -> str:
    return time.strftime("%a %d %b %Y, %H:%M", time.localtime(stamp))


class DepthSweepPage(StepwiseRun, QWidget):
    """``finished(verdict)`` when a sweep has ended (None when it could not start)."""

    finished = Signal(object)
    CLOSE_QUESTION = "The depth sweep is running. Stop it and close?"
    STILL_FINISHING = "A network is still finishing its step; close again in a moment."

    def __init__(self, parent: QWidget | None = None, make_runner=None, choose_folder=None, base_settings=None):
        super().__init__(parent)
        self._make_runner = make_runner or sweep_runner
        self.worker = ExperimentWorker(self)
        self.worker.eventsReady.connect(self._on_events)
        self.worker.runEnded.connect(self._on_run_ended)
        self.base_settings = base_settings  # what the form does not show (batch size, sizes); None: defaults
        self.result: SweepResult | None = None  # what the plots show (live, cached or just measured)
        self.settings_used = None
        self.runner = None  # the last runner that ended (its trainers hold each network's final weights)
        self.verdict = None
        self.saved_to = None
        self._progress: dict[int, tuple[int, int, float]] = {}
        self._started = 0.0
        self._cpu0 = 0.0
        self._stopping = False
        self._scale = 1.0
        self._words = ("Press Run: the result appears here in words when the sweep has ended.", "",
                       COLOUR.waiting_words)
        self._build(choose_folder)
        self._form_timer = QTimer(self)
        self._form_timer.setSingleShot(True)
        self._form_timer.setInterval(FORM_CHECK_MS)
        self._form_timer.timeout.connect(self._look_up_cache)
        self.form.changed.connect(self._form_timer.start)
        follow_presenter(self.set_presenter)
        self._update_buttons()
        self.open_latest()

    def _build(self, choose_folder) -> None:
        title = QLabel("<span style='font-size:large'><b>Depth sweep</b></span>: error against depth")
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.form = SweepForm(choose_folder=choose_folder)
        buttons = run_stop_buttons(self, "Run", "Train every network from scratch with these settings",
                                   "Stop every network after its current step; the words describe the sweep so far")
        self.progress = progress_bar(1000)
        self.status = status_line("Not running")
        self.measured = QLabel()  # which sweep the plots show, and when it was measured
        self.measured.setWordWrap(True)
        self.measured.setObjectName("measured")

        left = settings_column([title, intro, 6, self.form, buttons, self.progress, self.status, 6, self.measured])

        self.sweep_plot = SweepPlot()
        self.sweep_plot.depthClicked.connect(self.select_depth)
        self.depth_curves = DepthCurves()
        plots = QHBoxLayout()
        plots.addWidget(self.sweep_plot, 3)
        plots.addWidget(self.depth_curves, 2)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.setToolTip("Pick the depth whose training curves are drawn on the right")
        self.depth_label = QLabel()
        slider_row = QHBoxLayout()
        slider_row.addWidget(QLabel("Depth"))
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.depth_label)
        self.legend = centred_label()
        self.legend.setText(legend_html())
        self.legend.setWordWrap(True)
        self.words_label = words_label(min_height=60)
        self.words_label.setObjectName("verdict")
        side_by_side(self, left, plots_column((plots, 1), slider_row, self.legend, WordsArea(self.words_label)))

    # -- presenting ------------------------------------------------------------------------
    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        self._scale = Theme(presenter=on).scale
        scale_font(self.legend, 12.0 * self._scale)
        self._render_words()

    def _say(self, headline: str, details: str = "", colour: str = COLOUR.verdict_none) -> None:
        self._words = (headline, details, colour)
        self._render_words()

    def _render_words(self) -> None:
        headline, details, colour = self._words
        self.words_label.setText(words_html(headline, details, VERDICT_POINTS * self._scale,
                                            DETAIL_POINTS * self._scale, colour))

    def show_result(self, result: SweepResult | None, note: str = "") -> None:
        """Draw ``result`` (keeping the chosen depth where it still exists) and say which sweep it is."""
        keep = self.selected_depth()
        self.result = result
        depths = list(result.settings.depths) if result is not None else []
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(depths) - 1))
        if depths:
            default = keep if keep in depths else depths[len(depths) // 2]
            self.slider.setValue(depths.index(default))
        self.slider.blockSignals(False)
        self.slider.setEnabled(bool(depths))
        self.legend.setText(legend_html(len(result.settings.seeds) if result is not None else 1))
        self._draw()
        if note:
            self.measured.setText(note)

    def _draw(self) -> None:
        depth = self.selected_depth()
        self.depth_label.setText(f"{depth} layers" if depth is not None else "–")
        self.sweep_plot.show_result(self.result, depth)
        self.depth_curves.show_depth(self.result, depth)

    def show_verdict(self, verdict) -> None:
        self.verdict = verdict
        self._say(verdict.headline, verdict.words.sentences[1:],
                  VERDICT_COLOURS.get(verdict.outcome, COLOUR.verdict_none))

    def selected_depth(self) -> int | None:
        if self.result is None:
            return None
        depths = self.result.settings.depths
        return depths[min(self.slider.value(), len(depths) - 1)]

    @Slot(int)
    def select_depth(self, depth: int) -> None:
        if self.result is not None and depth in self.result.settings.depths:
            self.slider.setValue(list(self.result.settings.depths).index(depth))

    @Slot(int)
    def _on_slider(self, _value: int) -> None:
        self._draw()

    # -- the cache ---------------------------------------------------------------------------
    def open_latest(self) -> None:
        """Show the most recent sweep in the cache, with its settings in the form."""
        result = sweep_cache.latest()
        if result is None:
            self.measured.setText("No sweep measured yet on this computer.")
            return
        self.form.blockSignals(True)
        self.form.set_settings(result.settings)
        self.form.blockSignals(False)
        self._show_cached(result)

    def _show_cached(self, result: SweepResult) -> None:
        self.show_result(result, self._measured_note(result, "Measured"))
        self.show_verdict(sweep_verdict(result))

    def _measured_note(self, result: SweepResult, verb: str) -> str:
        how = "" if result.status == "finished" else f" ({result.status} at epoch {result.epoch})"
        cpu = f" ({clock(result.cpu_seconds)} of CPU time)" if result.cpu_seconds > 0 else ""
        return (f"{verb} {when_text(result.measured_at)}, in {clock(result.seconds)}{cpu}{how}: "
                f"{result.settings.describe()}.")

    @Slot()
    def _look_up_cache(self) -> None:
        """After an edit of the form: a cached sweep of the new settings is shown at once."""
        if self.is_running():
            return
        try:
            settings = self.form.settings(self.base_settings)
        except (SpecError, DatasetError):
            return
        if self.result is not None and self.result.settings == settings:
            return
        cached = sweep_cache.load(settings)
        if cached is not None:
            self._show_cached(cached)
        elif self.result is not None:
            self.measured.setText("These settings have not been measured yet; press Run. The plots still show "
                                  f"the sweep of {self.result.settings.describe()}.")

    # -- state and commands ------------------------------------------------------------------
    def _set_status(self, text: str, error: bool = False) -> None:
        say(self.status, text, error)

    @Slot()
    def run(self) -> bool:
        """Start a sweep; False (with the reason shown) when the settings are wrong."""
        if self.is_running():
            return False
        settings = self._form_settings((SpecError, DatasetError))
        if settings is None:
            return False
        self.settings_used = settings
        self.verdict = None
        self.saved_to = None
        self._progress = {}
        self._stopping = False
        runs = settings.runs()
        live = SweepResult(settings, [ArmResult(arm, status="running", seed=seed) for arm, seed in runs], "running")
        self.show_result(live, f"Measuring now: {settings.describe()}.")
        self._say(f"Training {len(runs)} networks for {settings.epochs} epochs; the result appears here at the end.",
                  colour=COLOUR.waiting_words)
        self.progress.setValue(0)
        self._started, self._cpu0 = time.monotonic(), time.process_time()
        self._set_status("Loading the data and building the networks…")
        self.worker.start(lambda: self._make_runner(settings))
        self._update_buttons()
        return True

    # -- events -------------------------------------------------------------------------------
    @Slot(list)
    def _on_events(self, events: list) -> None:
        live = self.result
        grew = False
        for i, event in events:
            if isinstance(event, StepMetrics):
                self._progress[i] = (int(event.steps[-1]), event.total_steps, event.eta_s)
            elif isinstance(event, EpochMetrics) and live is not None and i < len(live.arms):
                arm = live.arms[i]
                arm.train_errors.append(event.train_error)
                arm.test_errors.append(event.test_error)
                arm.train_losses.append(event.train_loss)
                arm.test_losses.append(event.test_loss)
                grew = True
            elif isinstance(event, RunFinished) and event.status == "failed" and live is not None:
                a = live.arms[i]
                self._set_status(f"{a.label} (seed {a.seed}) failed: {event.message}", error=True)
        if grew:
            self._draw()
        self._show_progress()

    def _show_progress(self) -> None:
        if not self._fill_progress():
            return
        left = sum(p[2] for p in self._progress.values())
        epochs = self.settings_used.epochs
        epoch = min(epochs, (self.result.epoch if self.result is not None else 0) + 1)
        self._set_status(f"Epoch {epoch} of {epochs} · {clock(time.monotonic() - self._started)} elapsed · "
                         f"about {clock(left)} left")

    @Slot(object)
    def _on_run_ended(self, runner) -> None:
        self.runner = runner
        self._stopping = False
        self._update_buttons()
        if runner.error:
            self._set_status(runner.error, error=True)
            self._say("No result: the sweep could not start.", runner.error, COLOUR.error_text)
            self.finished.emit(None)
            return
        result = sweep_result(self.settings_used, runner, time.monotonic() - self._started,
                              time.process_time() - self._cpu0)
        self.saved_to = sweep_cache.save(result)
        kept = ("; kept for next time" if self.saved_to is not None else
                "; not kept (a finished sweep of these settings is kept instead)" if result.epoch else "")
        self.show_result(result, self._measured_note(result, "Measured"))
        verdict = sweep_verdict(result)
        self.show_verdict(verdict)
        if runner.stopped:
            self._set_status(f"Stopped after {clock(result.seconds)}{kept}.")
        else:
            self.progress.setValue(self.progress.maximum())
            self._set_status(f"Finished after {clock(result.seconds)}{kept}.")
        self.finished.emit(verdict)
