"""The identity exercise page: can a block learn to output exactly its input?

The page presents ``explorer.experiments.identity``: one plain block and one residual block
trained to reproduce their input (left plot: error per step, with the plain block's floor
computed from the data as a dashed line), then stacks of k blocks of each kind (right plot:
the error each stack ended at, against k), and the words ``identity_words`` renders from
claims. The whole run takes a few seconds on a CPU.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget

from ...experiments.claims import sentence_text
from ...experiments.identity import IdentityRunner, IdentitySettings
from ...experiments.identity_words import err, identity_words
from ...spec import SpecError
from ..plot_style import PlotScaler
from ..presenter import follow_presenter
from ..theme import COLOUR, Theme
from .page_parts import (StepwiseRun, WordsArea, centred_label, plots_column, progress_bar, run_stop_buttons, say,
                         scale_font, settings_column, side_by_side, status_line, words_label)

INTRO = ("Can a block output exactly its input? A plain block ReLU(Wx + b) and a residual block x + ReLU(Wx + b) "
         "are trained to reproduce inputs of which half the components are negative; then stacks of k blocks "
         "of each kind. A few seconds on a CPU.")
VALUE_POINTS = 13.0
KIND_COLOURS = {"plain": COLOUR.arm_plain, "residual": COLOUR.arm_resnet}
VERDICT_COLOURS = {"shown": COLOUR.verdict_good, "not_shown": COLOUR.verdict_partial,
                   "no_verdict": COLOUR.verdict_none}


def _plot(title: str, short: str, bottom: str, left: str) -> tuple[pg.PlotWidget, PlotScaler]:
    widget = pg.PlotWidget(background=COLOUR.plot_background)
    plot = widget.getPlotItem()
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    scaler = PlotScaler()
    scaler.title(plot, title, 13.0, short=short)
    for name, label in (("bottom", bottom), ("left", left)):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(COLOUR.plot_axis))
        axis.enableAutoSIPrefix(False)
        scaler.axis(axis, label, label_points=11.0, tick_points=10.0)
    return widget, scaler


class IdentityForm(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        d = IdentitySettings()
        self.features = QSpinBox()
        self.features.setRange(1, 1024)
        self.features.setValue(d.features)
        self.samples = QSpinBox()
        self.samples.setRange(2, 1_000_000)
        self.samples.setValue(d.samples)
        self.steps = QSpinBox()
        self.steps.setRange(1, 100_000)
        self.steps.setValue(d.steps)
        self.depths = QLineEdit(", ".join(map(str, d.depths)))
        self.depths.setToolTip("The stacks' numbers of blocks, comma-separated (1 to 64)")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2 ** 31 - 1)
        self.seed.setValue(d.seed)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for label, w in (("Features", self.features), ("Samples", self.samples), ("Steps", self.steps),
                         ("Stacks", self.depths), ("Seed", self.seed)):
            layout.addRow(label, w)

    def settings(self, base: IdentitySettings) -> IdentitySettings:
        from ...spec.params import whole_number

        depths = tuple(whole_number(t) for t in self.depths.text().split(",") if t.strip())  # ASCII digits only
        if not depths or None in depths:
            raise SpecError(f"Stacks: {self.depths.text()!r} is not a comma-separated list of whole numbers",
                            where="experiment")
        return replace(base, features=self.features.value(), samples=self.samples.value(), steps=self.steps.value(),
                       depths=depths, seed=self.seed.value())


class IdentityPage(StepwiseRun, QWidget):
    """Run the exercise and show it; ``finished(words)`` when a run has ended (None: it failed)."""

    finished = Signal(object)
    CLOSE_QUESTION = "The identity exercise is running. Stop it and close?"
    STILL_FINISHING = "A model is still finishing its step; close again in a moment."

    def __init__(self, parent: QWidget | None = None, make_runner=None):
        super().__init__(parent)
        self._wire(make_runner, IdentityRunner, IdentitySettings())
        self.words = None
        self.fits: list = []
        self._items: list = []
        self._last_runner = None
        self._words_parts = ("Press Run: the result appears here in words when every model has trained.", "",
                             COLOUR.waiting_words)
        self._build()
        follow_presenter(self.set_presenter)
        self._update_buttons()

    def _build(self) -> None:
        title = QLabel("<span style='font-size:large'><b>Identity</b></span> (the lessons' exercise)")
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.form = IdentityForm()
        buttons = run_stop_buttons(self, "Run", stop_tip="Stop after the current step; the words describe the "
                                                         "models that finished")
        self.progress = progress_bar(1000)
        self.status = status_line("Not running")
        left = settings_column([title, intro, 6, self.form, buttons, self.progress, self.status])
        self.single_plot, self._single_scaler = _plot("One block: error while training", "One block", "step",
                                                      "mean squared error")
        self.stack_plot, self._stack_scaler = _plot("Stacks: error after training", "Stacks", "blocks in the stack",
                                                    "mean squared error")
        self.legend = centred_label()
        self.legend.setWordWrap(True)
        self.words_label = words_label(min_height=60)
        plots = QHBoxLayout()
        plots.addWidget(self.single_plot, 1)
        plots.addWidget(self.stack_plot, 1)
        column = QVBoxLayout()
        column.addLayout(plots, 1)
        column.addWidget(self.legend)
        side_by_side(self, left, plots_column((column, 1), WordsArea(self.words_label)))
        self._show_legend()

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        self._scale = Theme(presenter=on).scale
        for scaler in (self._single_scaler, self._stack_scaler):
            scaler.apply(self._scale)
        scale_font(self.legend, VALUE_POINTS * self._scale)
        self._draw()
        self._render_words()

    def _show_legend(self) -> None:
        parts = [f"<span style='color:{KIND_COLOURS[k]}'>━━━</span>&nbsp;{k}" for k in KIND_COLOURS]
        parts.append(f"<span style='color:{COLOUR.reference_line}'>╌╌╌</span>&nbsp;a plain block's floor "
                     "(from the data)")
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(parts))

    # -- commands -----------------------------------------------------------------------------
    @Slot()
    def run(self) -> bool:
        if self.is_running():
            return False
        settings = self._form_settings((SpecError,))
        if settings is None:
            return False
        self.settings_used = settings
        self.words, self.fits, self._progress, self._last_runner = None, [], {}, None
        self._stopping = False
        self._draw()
        self._words_parts = ("Training one block of each kind, then the stacks; the result appears here at "
                             "the end.", "", COLOUR.waiting_words)
        self._render_words()
        self._started = time.monotonic()
        say(self.status, "Training…")
        self.worker.start(lambda: self._make_runner(settings))
        self._update_buttons()
        return True

    # -- events -------------------------------------------------------------------------------
    @Slot(list)
    def _on_events(self, events: list) -> None:
        for _i, (fit, done, total) in events:
            self.fits.append(fit)
            self._progress = {0: (done, total)}
        self._draw()
        if self._fill_progress():
            done, total = self._progress[0]
            say(self.status, f"{done} of {total} models trained · {time.monotonic() - self._started:.0f} s")

    def _draw(self) -> None:
        for plot, item in self._items:
            plot.removeItem(item)
        self._items = []
        width = Theme(presenter=self._scale > 1).line(2.0)
        single = self.single_plot.getPlotItem()
        stack = self.stack_plot.getPlotItem()
        for fit in self.fits:
            if fit.blocks == 1 and len(fit.errors) > 1:
                item = pg.PlotDataItem(np.asarray(fit.steps, float), np.asarray(fit.errors, float),
                                       pen=pg.mkPen(KIND_COLOURS[fit.kind], width=width))
                single.addItem(item)
                self._items.append((single, item))
        for kind, colour in KIND_COLOURS.items():
            fits = sorted((f for f in self.fits if f.kind == kind), key=lambda f: f.blocks)
            if fits:
                item = pg.PlotDataItem(np.asarray([f.blocks for f in fits], float),
                                       np.asarray([f.final_error for f in fits], float),
                                       pen=pg.mkPen(colour, width=width), symbol="o", symbolSize=8 * self._scale,
                                       symbolBrush=colour, symbolPen=None)
                stack.addItem(item)
                self._items.append((stack, item))
        runner = self._last_runner
        floor = runner.result.floor if runner is not None and runner.result is not None and self.fits else None
        if floor is not None:
            for plot in (single, stack):
                line = pg.InfiniteLine(pos=floor, angle=0, pen=pg.mkPen(COLOUR.reference_line, width=width,
                                                                        style=Qt.PenStyle.DashLine))
                plot.addItem(line)
                self._items.append((plot, line))
        for plot in (single, stack):
            plot.enableAutoRange()

    @Slot(object)
    def _on_run_ended(self, runner) -> None:
        self._last_runner = runner
        self._stopping = False
        self._update_buttons()
        if runner.error or runner.result is None:
            message = runner.error or "The exercise ended before any model trained."
            say(self.status, message, error=True)
            self._words_parts = ("No result.", message, COLOUR.error_text)
            self._render_words()
            self.finished.emit(None)
            return
        words = identity_words(runner.result)
        self.words = words
        if not runner.stopped:
            self.progress.setValue(self.progress.maximum())
        say(self.status, f"{'Stopped' if runner.stopped else 'Finished'} after "
                         f"{time.monotonic() - self._started:.1f} s; floor of a plain block {err(runner.result.floor)}.")
        self._draw()
        sentences = words.words.sentences
        self._words_parts = (sentence_text(sentences[0]), sentences[1:],
                             VERDICT_COLOURS.get(words.outcome, COLOUR.verdict_none))
        self._render_words()
        self.finished.emit(words)
