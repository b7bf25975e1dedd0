"""The gradient-flow panel: depth profile, heatmap, the numbers in words, skip buttons.

``GradientPanel(document)`` listens to ``document.specChanged`` and re-measures the
current design off the GUI thread (``ProbeRunner``: newest request wins). The weights
come from ``set_weights_source(fn)``: ``fn()`` returns a state_dict (a copy the panel
may keep) or None for fresh weights; a state_dict that no longer fits the design
falls back to fresh weights and says so. While training, the training panel calls
``begin_run(labels)``, ``add_column(GradColumn)`` and ``end_run()``; the heatmap
then shows the recorder's columns, and probe columns marked "probe" in between.

Importing this module does not load torch; the first probe does (``worker.py``), and
probes run only while the panel is visible: edits made while it is hidden are
measured once, when it is shown again. Presenter mode (``theme.follow_presenter``)
scales the words beside the plots along with the plots themselves.
"""
from __future__ import annotations

import math
import time
from typing import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy,
                               QSplitter, QVBoxLayout, QWidget)

from ...experiments.gradflow import format_factor, summarise
from ...spec import Norm
from ..theme import follow_presenter, presenter_mode
from .heatmap import PROBE_LABEL, GradientHeatmap
from .profile import DepthProfile

VERDICT_COLOURS = {
    "carried": "#1b7f3b", "grows": "#8a6d00", "explodes": "#b3261e", "fades": "#6a3fb0",
    "vanishes": "#6a3fb0", "dead": "#6a3fb0", "empty": "#444444",
}


class GradientPanel(QWidget):
    profileUpdated = Signal(object)  # ProbeOutcome shown in the profile
    probeFailed = Signal(str)

    # Normal point sizes of the words beside the plots (the plots scale themselves).
    TEXT_POINTS = {"ratio": 20.0, "before": 12.0, "words": 14.0, "help": 11.0, "status": 10.0, "button": 12.0}
    # A plot shorter than this (times the presenter scale) cannot show its title, axes and
    # rows legibly: in a short dock the profile and the heatmap sit side by side instead.
    PLOT_MIN_HEIGHT = 230
    PLOT_MIN_WIDTH = 380

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self._weights_source: Callable[[], dict | None] | None = None
        self._running = False
        self._requested_at: dict[int, float] = {}
        self.last_outcome = None  # the ProbeOutcome shown
        self.last_round_trip_s: float | None = None
        self._previous_ratio: str | None = None
        self._ratio_headline = ""  # the verdict line, and the one before it (smaller)
        self._ratio_before: str | None = None
        self._before_points = "12.0pt"
        self._scale = 1.0  # presenter mode's

        self.profile = DepthProfile()
        self.heatmap = GradientHeatmap()
        self.ratio_label = QLabel("")
        self.ratio_label.setWordWrap(True)
        self.words = QLabel("Measuring...")
        self.words.setWordWrap(True)
        self.words.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.words.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.help = QLabel(
            "Each point is the size of the loss gradient arriving at a block's input, measured on one "
            "fixed batch. Much larger near the input: the early layers get huge, unstable updates. "
            "Much smaller: they barely learn. Residual nets keep it within a modest factor.")
        self.help.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.skips_off = QPushButton("All skips off")
        self.skips_on = QPushButton("All skips on")
        self.skips_off.setToolTip("Switch off every shortcut (undoable): the network becomes a plain net")
        self.skips_on.setToolTip("Switch every shortcut back on (undoable)")
        self.skips_off.clicked.connect(lambda: self._set_all_skips(False))
        self.skips_on.clicked.connect(lambda: self._set_all_skips(True))

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(8, 4, 4, 4)
        side_layout.addWidget(self.ratio_label)
        side_layout.addWidget(self.words)
        side_layout.addSpacing(8)
        side_layout.addWidget(self.help)
        side_layout.addStretch(1)
        side_layout.addWidget(self.status)
        # In a short dock the words scroll rather than overlap; the buttons stay in view under them.
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(8, 0, 4, 4)
        buttons.addWidget(self.skips_off)
        buttons.addWidget(self.skips_on)
        side_column = self.side_column = QWidget()
        column = QVBoxLayout(side_column)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(scroll, 1)
        column.addLayout(buttons)
        side_column.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        plots = self.plots = QSplitter(Qt.Orientation.Vertical)
        plots.setChildrenCollapsible(False)
        plots.addWidget(self.profile)
        plots.addWidget(self.heatmap)
        plots.setStretchFactor(0, 1)
        plots.setStretchFactor(1, 1)
        # The plots get most of the width; the user can drag the divider.
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(plots)
        split.addWidget(side_column)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

        follow_presenter(self.set_presenter)

        self.runner = None  # made by the first probe, which loads torch
        self._stale = True
        document.specChanged.connect(self._on_spec_changed)
        self._update_buttons()
        self.refresh()

    # -- presenter mode -----------------------------------------------------------
    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        """The verdict, its explanation and the buttons grow with the plots for a projector."""
        self._scale = scale = presenter_mode().scale if on else 1.0
        pt = {key: f"{size * scale:.1f}pt" for key, size in self.TEXT_POINTS.items()}
        self._before_points = pt["before"]
        self.ratio_label.setStyleSheet(f"font-size: {pt['ratio']}; font-weight: 600;")
        self.words.setStyleSheet(f"font-size: {pt['words']}; color: #222;")
        self.help.setStyleSheet(f"font-size: {pt['help']}; color: #444;")
        self.status.setStyleSheet(f"font-size: {pt['status']}; color: #555;")
        for button in (self.skips_off, self.skips_on):
            button.setStyleSheet(f"font-size: {pt['button']}; padding: {6 * scale:.0f}px {12 * scale:.0f}px;")
        # room for both skip buttons side by side; the plots keep the rest of the width
        self.side_column.setMinimumWidth(round(340 * scale))
        self.side_column.setMaximumWidth(round(420 * scale))
        self._arrange_plots()
        self._show_ratio()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._arrange_plots()

    def _arrange_plots(self) -> None:
        scale = self._scale
        width = self.width() - self.side_column.minimumWidth()
        side_by_side = (self.height() < 2 * self.PLOT_MIN_HEIGHT * scale
                        and width >= 2 * self.PLOT_MIN_WIDTH * scale)
        orientation = Qt.Orientation.Horizontal if side_by_side else Qt.Orientation.Vertical
        if self.plots.orientation() != orientation:
            self.plots.setOrientation(orientation)
            total = self.plots.width() if side_by_side else self.plots.height()
            self.plots.setSizes([total // 2, total - total // 2])

    def _show_ratio(self) -> None:
        if not self._ratio_headline:
            return
        text = self._ratio_headline
        if self._ratio_before is not None:
            text += (f"<br><span style='font-size:{self._before_points}; font-weight:400; color:#555'>"
                     f"before: {self._ratio_before}</span>")
        self.ratio_label.setText(text)

    # -- public API -------------------------------------------------------------
    def set_weights_source(self, fn: Callable[[], dict | None] | None) -> None:
        """``fn()`` returns the state_dict to probe (None: fresh weights); re-measures now."""
        self._weights_source = fn
        self.refresh()

    def refresh(self, force: bool = False) -> None:
        """Measure the document's current design at the current weights (off the GUI thread).

        While the panel is hidden this only marks it out of date (unless ``force``).
        """
        if not (force or self.isVisible()):
            self._stale = True
            return
        spec = self.document.spec if self.document.valid else None
        if spec is None:
            self.status.setText("The design has errors; fix them to measure the gradients again. "
                                "The plots show the last valid design.")
            return
        self._stale = False
        state = self._weights_source() if self._weights_source is not None else None
        serial = self._runner().request(spec, state)
        self._requested_at[serial] = time.perf_counter()

    def _runner(self):
        if self.runner is None:
            from .worker import ProbeRunner  # loads torch
            self.runner = ProbeRunner(self)
            self.runner.finished.connect(self._on_probe_done)
            self.runner.busyChanged.connect(self._on_busy)
        return self.runner

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def begin_run(self, block_labels: list[str]) -> None:
        self._running = True
        self.heatmap.set_blocks(block_labels)

    def add_column(self, column) -> None:
        """One recorder column (``GradColumn``) from the training run; drawn at most ten times a second."""
        if len(column.norms) == len(self.heatmap.block_labels):
            self.heatmap.add_column(column.norms, str(column.step))

    def end_run(self) -> None:
        self._running = False
        self.heatmap.flush()

    def shutdown(self) -> None:
        """Stop the probe thread and wait for it (call from the window's closeEvent)."""
        self.heatmap.stop()
        if self.runner is not None:
            self.runner.shutdown()

    # -- reactions ----------------------------------------------------------------
    @Slot(object, object)
    def _on_spec_changed(self, new, old) -> None:
        self._update_buttons()
        self.refresh()

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        if busy:
            self.status.setText("Measuring...")

    @Slot(object)
    def _on_probe_done(self, outcome) -> None:
        started = self._requested_at.pop(outcome.serial, None)
        self._requested_at = {s: t for s, t in self._requested_at.items() if s > outcome.serial}
        if started is not None:
            self.last_round_trip_s = time.perf_counter() - started
        if outcome.error:
            self.status.setText(f"The probe failed: {outcome.error}")
            self.probeFailed.emit(outcome.error)
            return
        self.last_outcome = outcome
        result = outcome.result
        spec = outcome.spec
        skips = result.skips
        summary = summarise(result.block_norms, result.labels, skips, batch_norm=spec.norm is Norm.BATCH)
        on = sum(skips)
        caption = ("all skips on" if on == len(skips) and on else "all skips off" if on == 0
                   else f"{on} of {len(skips)} skips on")
        trained = outcome.weights == "the trained weights"
        self.profile.show_profile(result.block_norms, result.labels,
                                  f"{caption}, {'trained' if trained else 'fresh'} weights")
        if self.heatmap.block_labels != result.labels:
            if self._running:
                caption += " (not added to the heatmap: the blocks differ from the run's)"
            else:
                self.heatmap.set_blocks(result.labels)
        if self.heatmap.block_labels == result.labels:
            self.heatmap.add_column(result.block_norms, PROBE_LABEL)
        colour = VERDICT_COLOURS.get(summary.verdict, "#222222")
        if math.isfinite(summary.ratio) and summary.ratio > 0:
            text = f"first ÷ last block: <span style='color:{colour}'>{format_factor(summary.ratio)}x</span>"
        else:
            text = f"<span style='color:{colour}'>{summary.verdict}</span>"
        self._ratio_headline, self._ratio_before = text, self._previous_ratio
        self._show_ratio()
        self._previous_ratio = (f"{format_factor(summary.ratio)}x ({self._previous_caption_for(caption)})"
                                if math.isfinite(summary.ratio) and summary.ratio > 0 else summary.verdict)
        self.words.setText(summary.text)
        trip = f", {self.last_round_trip_s * 1000:.0f} ms" if self.last_round_trip_s is not None else ""
        self.status.setText(f"{spec.name}, {caption}: {outcome.weights}; probe batch of "
                            f"{result.batch} seeded random images, train-mode BN "
                            f"(probe {outcome.seconds * 1000:.0f} ms{trip}).")
        self.profileUpdated.emit(outcome)

    @staticmethod
    def _previous_caption_for(caption: str) -> str:
        return caption.split(" (")[0]

    def _update_buttons(self) -> None:
        valid = self.document.valid
        info = self.document.info
        has_shortcuts = bool(info) and any(b.has_shortcut for b in info.blocks)
        self.skips_off.setEnabled(valid and has_shortcuts)
        self.skips_on.setEnabled(valid and has_shortcuts)

    def _set_all_skips(self, on: bool) -> None:
        spec = self.document.spec
        self.document.edit(spec.with_skips(on), "All skips on" if on else "All skips off")
