"""The pre- against post-activation page: both nets' training curves, their gradient profiles, the words.

The page presents ``explorer.experiments.prepost``: it hands an ``ArmRunner`` of the
post-activation ResNet and its pre-activation twin to the experiments' worker, draws the
training curves as the epochs complete, draws each net's gradient profile at
initialisation (dashed) and at the end (solid), and shows what ``prepost_words`` says.
"""
from __future__ import annotations

import time
from dataclasses import replace
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ... import downloads
from ...experiments.arms import Arm
from ...experiments.degradation import pct
from ...experiments.prepost import (DEFAULT_DEPTH, DEFAULT_EPOCHS, DEFAULT_IMAGE_SIZE, GradientProfile,
                                    PrePostSettings, prepost_runner, results_from_runner)
from ...experiments.prepost_words import prepost_words
from ...spec import SpecError
from ...train.api import EpochMetrics, RunFinished, StepMetrics
from ..download_dialog import download_button
from ..plot_style import PlotScaler, decades_until_data
from ..presenter import follow_presenter
from ..theme import COLOUR, Theme
from ..training.setting_rows import SettingRow
from .curves import ArmCurves, arm_colour
from .page_parts import (StepwiseRun, WordsArea, centred_label, plots_column, progress_bar, run_stop_buttons, say,
                         scale_font, settings_column, side_by_side, status_line, words_label)

INTRO = ("A post-activation ResNet and its pre-activation twin (BN and ReLU moved before each convolution, "
         "so the path from block to block is a pure identity) train side by side with one recipe. Which "
         "trains lower, and how does the gradient spread over depth at the start and at the end?")
VALUE_POINTS = 13.0
VERDICT_COLOURS = {"pre_lower": COLOUR.verdict_good, "pre_faster": COLOUR.verdict_good,
                   "post_lower": COLOUR.verdict_partial, "post_faster": COLOUR.verdict_partial,
                   "no_difference": COLOUR.verdict_none, "no_verdict": COLOUR.verdict_none,
                   "post_diverged": COLOUR.verdict_partial, "pre_diverged": COLOUR.verdict_partial,
                   "both_diverged": COLOUR.verdict_bad}


class ProfilePlot(pg.PlotWidget):
    """Per-block input-gradient norms (log scale): dashed at initialisation, solid at the end."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, background=COLOUR.plot_background)
        self.plot = self.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setLogMode(y=True)
        self.scaler = PlotScaler()
        self.scaler.title(self.plot, "Gradient profile: ||dL/dx|| at each block's input", 13.0,
                          short="||dL/dx|| per block")
        for name, label in (("bottom", "block (input side → output side)"), ("left", "gradient norm")):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(COLOUR.plot_axis))
            axis.setStyle(maxTickLevel=0)
            axis.enableAutoSIPrefix(False)  # the ticks are written out (0.002), no "(x0.001)" in the label
            short = label.split(" (")[0].split(" ")[-1]  # on a short plot: "block", "norm"
            self.scaler.axis(axis, label, label_points=11.0, tick_points=10.0, short=short)
        decades_until_data(self.plot)
        self.theme = Theme()
        self.arms: list[Arm] = []
        self.profiles: dict[tuple[int, str], GradientProfile] = {}
        self._items: list = []
        follow_presenter(self.set_presenter)

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        self.theme = Theme(presenter=on)
        self.scaler.apply(self.theme.scale)
        self._draw()

    def reset(self, arms: list[Arm]) -> None:
        self.arms = list(arms)
        self.profiles = {}
        self._draw()

    def add(self, arm: int, profile: GradientProfile) -> None:
        self.profiles[(arm, profile.when)] = profile
        self._draw()

    def values(self, arm: int, when: str) -> np.ndarray:
        p = self.profiles.get((arm, when))
        return np.asarray(p.norms) if p is not None else np.zeros(0)

    def _draw(self) -> None:
        for item in self._items:
            self.plot.removeItem(item)
        self._items = []
        for (arm, when), p in sorted(self.profiles.items()):
            ok = np.asarray(p.norms) > 0
            colour = QColor(arm_colour(self.arms[arm], 0, 1))
            style = Qt.PenStyle.DashLine if when == "init" else Qt.PenStyle.SolidLine
            pen = pg.mkPen(colour, width=self.theme.line(2.0 if when == "end" else 1.6), style=style)
            x = np.arange(1, len(p.norms) + 1, dtype=float)
            item = pg.PlotDataItem(x[ok], np.asarray(p.norms)[ok], pen=pen)
            self.plot.addItem(item)
            self._items.append(item)
        self._decade_ticks()
        self.plot.enableAutoRange()

    def _decade_ticks(self) -> None:
        """One labelled tick per power of ten (the log axis would otherwise label 0.2, 0.3, ... as well)."""
        norms = [np.asarray(p.norms) for p in self.profiles.values()]
        positive = np.concatenate([n[n > 0] for n in norms]) if norms else np.zeros(0)
        if positive.size == 0:
            decades_until_data(self.plot)
            return
        lo, hi = int(np.floor(np.log10(positive.min()))), int(np.ceil(np.log10(positive.max())))
        steps = (1, 2, 5) if hi - lo <= 2 else (1,)  # within two decades, 2x and 5x get a label too
        ticks = [(k + np.log10(m), f"{m * 10.0 ** k:g}") for k in range(lo, hi + 1) for m in steps]
        self.plot.getAxis("left").setTicks([ticks, []])

    def legend_html(self) -> str:
        parts = []
        for arm in self.arms:
            colour = arm_colour(arm, 0, 1)
            parts.append(f"<span style='color:{colour}'>╌╌╌</span>&nbsp;{escape(arm.label)} at initialisation"
                         f"&nbsp;&nbsp;<span style='color:{colour}'>━━━</span>&nbsp;at the end")
        return "<br>".join(parts)  # one line per net


class PrePostForm(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.depth = QComboBox()
        for d in (8, 14, 20, 32, 44, 56, 110):
            self.depth.addItem(str(d), d)
        self.depth.addItem("164 (bottleneck)", 164)  # He et al. 2016's bottleneck pair
        self.depth.setCurrentIndex(self.depth.findData(DEFAULT_DEPTH))
        self.depth.setToolTip("Both nets' depth (6n+2); the gap grows with depth")
        self.epochs = SettingRow("epochs").widget  # the range every run checks (train/settings.py)
        self.epochs.setValue(DEFAULT_EPOCHS)
        self.dataset = QComboBox()
        self.dataset.setEditable(True)
        self.dataset.addItems(["digits", "shapes"])
        self.dataset.addItems(downloads.ready_names("dataset"))  # fetched with Download… or `get`, by name
        self.dataset.setToolTip("digits, shapes, a dataset fetched with Download… (listed by name), or "
                                "FORMAT:PATH for files you have (cifar10:/data/c10)")
        self.download = download_button("dataset", self._on_fetched, lambda: None, self)
        self.image_size = QComboBox()
        self.image_size.addItem("8 px (digits' own, fastest)", 8)
        self.image_size.addItem("16 px", 16)
        self.image_size.addItem("32 px (the nets' own)", None)
        self.image_size.setCurrentIndex(max(0, self.image_size.findData(DEFAULT_IMAGE_SIZE)))
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda", "mps"])
        self.warm_up = QCheckBox("lr / 10 until error < 80%")
        self.warm_up.setToolTip("He et al. 2015's warm-up for ResNet-110: a tenth of the learning rate until the "
                                "training error is below 80%, then the full rate")
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        data_row = QHBoxLayout()
        data_row.setContentsMargins(0, 0, 0, 0)
        data_row.addWidget(self.dataset, 1)
        data_row.addWidget(self.download)
        for label, w in (("Depth", self.depth), ("Epochs", self.epochs), ("Dataset", data_row),
                         ("Image size", self.image_size), ("Device", self.device), ("Warm-up", self.warm_up)):
            layout.addRow(label, w)

    @Slot(str)
    def _on_fetched(self, name: str) -> None:
        if self.dataset.findText(name) < 0:
            self.dataset.addItem(name)
        self.dataset.setCurrentText(name)

    def settings(self, base: PrePostSettings) -> PrePostSettings:
        return replace(base, depth=self.depth.currentData(), epochs=self.epochs.value(),
                       dataset=self.dataset.currentText().strip() or "digits",
                       image_size=self.image_size.currentData(), device=self.device.currentText(),
                       warmup_until=0.8 if self.warm_up.isChecked() else 0.0)


class PrePostPage(StepwiseRun, QWidget):
    """Run the experiment and show it; ``finished(verdict)`` when a run has ended (None: it could not start)."""

    finished = Signal(object)
    CLOSE_QUESTION = "The pre- vs post-activation experiment is running. Stop it and close?"
    STILL_FINISHING = "A net is still finishing its step; close again in a moment."

    def __init__(self, parent: QWidget | None = None, make_runner=None):
        super().__init__(parent)
        self._wire(make_runner, prepost_runner, PrePostSettings())
        self.verdict = None
        self.runner = None
        self._values: dict[int, float] = {}
        self._words_parts = ("Press Run: the result appears here in words when both nets have finished.", "",
                             COLOUR.waiting_words)
        self._build()
        follow_presenter(self.set_presenter)
        self._update_buttons()

    def _build(self) -> None:
        title = QLabel("<span style='font-size:large'><b>Pre- vs post-activation</b></span> (He et al. 2016)")
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.form = PrePostForm()
        buttons = run_stop_buttons(self, "Run", stop_tip="Stop both nets after their current step; the words "
                                                         "describe the run so far")
        self.view = QComboBox()
        self.view.addItem("Training error per epoch", "error")
        self.view.addItem("Training loss per step", "loss")
        self.view.currentIndexChanged.connect(lambda _i: self.curves.set_view(self.view.currentData()))
        self.progress = progress_bar(1000)
        self.status = status_line("Not running")
        left = settings_column([title, intro, 6, self.form, buttons, self.progress, self.status, 6,
                                QLabel("Plot"), self.view])

        self.curves = ArmCurves()
        self.values = centred_label()
        self.profiles = ProfilePlot()
        self.profile_legend = centred_label()
        self.profile_legend.setWordWrap(True)
        self.words_label = words_label(min_height=60)
        plots = QHBoxLayout()
        col_a, col_b = QVBoxLayout(), QVBoxLayout()
        col_a.addWidget(self.curves, 1)
        col_a.addWidget(self.values)
        col_b.addWidget(self.profiles, 1)
        col_b.addWidget(self.profile_legend)
        plots.addLayout(col_a, 1)
        plots.addLayout(col_b, 1)
        side_by_side(self, left, plots_column((plots, 1), WordsArea(self.words_label)))

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        self._scale = Theme(presenter=on).scale
        for label in (self.values, self.profile_legend):
            scale_font(label, VALUE_POINTS * self._scale)
        self._render_words()

    # -- state and commands -------------------------------------------------------------------
    @Slot()
    def run(self) -> bool:
        if self.is_running():
            return False
        settings = self._form_settings((SpecError,))
        if settings is None:
            return False
        self.settings_used = settings
        self.verdict = None
        self._values, self._progress = {}, {}
        self._stopping = False
        arms = settings.arms()
        self.curves.set_arms(arms, settings.epochs)
        self.profiles.reset(arms)
        self.profile_legend.setText(self.profiles.legend_html())
        self._show_values()
        self._words_parts = (f"Training {arms[0].label} and {arms[1].label} for {settings.epochs} epochs; the "
                             "result appears here at the end.", "", COLOUR.waiting_words)
        self._render_words()
        self._started = time.monotonic()
        self._say("Loading the data, building both nets and measuring their gradients…")
        self.worker.start(lambda: self._make_runner(settings))
        self._update_buttons()
        return True

    def _say(self, text: str, error: bool = False) -> None:
        say(self.status, text, error)

    # -- events ---------------------------------------------------------------------------------
    @Slot(list)
    def _on_events(self, events: list) -> None:
        changed = False
        for arm, event in events:
            if isinstance(event, StepMetrics):
                self.curves.add_steps(arm, event.steps, event.loss, event.total_steps)
                self._progress[arm] = (int(event.steps[-1]), event.total_steps)
            elif isinstance(event, EpochMetrics):
                self.curves.add_epoch(arm, event.epoch, event.train_error)
                self._values[arm] = event.train_error
                changed = True
            elif isinstance(event, GradientProfile):
                self.profiles.add(arm, event)
            elif isinstance(event, RunFinished) and event.status == "failed":
                self._say(f"{self.curves.arms[arm].label} failed: {event.message}", error=True)
        if changed:
            self._show_values()
        if self._fill_progress():
            self._say(f"Training · {time.monotonic() - self._started:.0f} s elapsed")

    def _show_values(self) -> None:
        self.values.setText(self.curves.legend_html({i: pct(v) for i, v in self._values.items()}))

    @Slot(object)
    def _on_run_ended(self, runner) -> None:
        self.runner = runner
        self._stopping = False
        self._update_buttons()
        if runner.error:
            self._say(runner.error, error=True)
            self._words_parts = ("No result: the experiment could not start.", runner.error, COLOUR.error_text)
            self._render_words()
            self.finished.emit(None)
            return
        settings = self.settings_used
        verdict = prepost_words(results_from_runner(settings, runner), settings.epochs, settings.lr,
                                settings.warmup_until)
        self.verdict = verdict
        if not runner.stopped:
            self.progress.setValue(self.progress.maximum())
        self._say(f"{'Stopped' if runner.stopped else 'Finished'} after {time.monotonic() - self._started:.0f} s.")
        self.show_verdict(verdict)
        self.finished.emit(verdict)

    def show_verdict(self, verdict) -> None:
        """Every sentence of ``verdict`` (the CLI's), the headline in the colour of its outcome."""
        self._words_parts = (verdict.headline, verdict.words.sentences[1:],
                             VERDICT_COLOURS.get(verdict.outcome, COLOUR.verdict_none))
        self._render_words()
