"""The gradient-flow panel: depth profile, heatmap, the numbers in words, skip buttons.

``GradflowPanel(document)`` listens to ``document.specChanged`` and re-measures the
current design off the GUI thread (``ProbeRunner``: newest request wins and stops the
older one). The weights come from ``set_weights_source(fn)``: ``fn()`` returns a
``Weights`` (a state_dict with its name in words) or None for fresh weights; weights
that no longer fit the design fall back to fresh weights and say so. While training,
the training panel calls ``begin_run(labels)``, ``add_column(GradColumn)`` and
``end_run()``; the heatmap then shows the recorder's columns, and probe columns
marked "probe" in between.

Never another network's numbers: when an edit changes the network's blocks (or a new
network is opened), the profile, the words and (outside a run) the heatmap are
cleared at once and the plot says what is being measured, with its progress. The
dashed "before" line is only ever the same network before its last skip change, and
both labels say which skips and which weights. A result that arrives for a design no
longer shown is dropped.

A probe of more than a few images comes in two stages (``worker.py``): a first look on
the batch's first images, drawn as soon as it arrives (``firstLookShown``), then the full
batch (``profileUpdated``). The words of the first look name the images they rest on;
the words of the full batch say whether the first look's verdict held or changed
(``experiments/first_look_words.py``). Only a full-batch profile becomes a "before" line
and a heatmap column.

Importing this module does not load torch; the first probe does (``worker.py``), and
probes run only while the panel is visible: edits made while it is hidden are
measured once, when it is shown again. Presenter mode (``presenter.follow_presenter``)
scales the words beside the plots along with the plots themselves.
"""
from __future__ import annotations

import math
import time
from html import escape
from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from ...experiments.claims import is_lesson
from ...experiments.first_look_words import first_look_tag, full_batch_tag
from ...experiments.gradflow import format_factor, summarise
from ...spec import Norm, try_analyse
from ..presenter import SplitterMemory, follow_presenter, presenter_mode
from ..theme import COLOUR
from .heatmap import PROBE_LABEL, GradientHeatmap
from .profile import DepthProfile
from .residual_part import ResidualPart
from .staged_words import StagedWords
from .weights import Weights, network_key, skips_caption

# Progress ("forward pass, block 9 of 27") shows once a probe has run this long. Each change of
# the status line lays the words beside the plots out again (3 ms on a 2-core machine), so the
# progress of a probe done in 0.2 s cost the GUI thread a quarter of its time in the round trip.
PROGRESS_AFTER_S = 0.5

VERDICT_COLOURS = {
    "carried": COLOUR.gradient_carried, "modest": COLOUR.gradient_carried, "grows": COLOUR.gradient_grows,
    "explodes": COLOUR.gradient_explodes,
    "fades": COLOUR.gradient_fades, "vanishes": COLOUR.gradient_fades, "dead": COLOUR.gradient_fades,
    "empty": COLOUR.gradient_none,
}


class GradflowPanel(QWidget):
    profileUpdated = Signal(object)  # ProbeOutcome of a full batch shown in the profile
    firstLookShown = Signal(object)  # ProbeOutcome of a first look (a few images) shown; the full batch follows
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
        self._weights_source: Callable[[], Weights | None] | None = None
        self._running = False
        self._requested_at: dict[int, float] = {}
        self.last_outcome = None  # the full-batch ProbeOutcome shown
        self.first_look = None  # the first look shown while its full batch is measured (None once it is)
        self.last_round_trip_s: float | None = None  # edit to the full batch's profile
        self.first_look_round_trip_s: float | None = None  # edit to the first look's profile
        self._shown_key = None  # _key() of the design whose numbers (first look or full batch) are shown
        # the last full-batch profile shown, the only one a "before" line may show:
        # (key, skips, norms, "all skips on · fresh He weights, seed 0", ratio words)
        self._full_shown: tuple | None = None
        self._ghost_skips: list[bool] | None = None
        self._staged_words = StagedWords()  # the words of a first look, then of its full batch
        self._pending: str = ""  # "resnet1202 (600 blocks) on 4 seeded images" while a probe runs
        self._ratio_headline = ""  # the verdict line, and the one before it (smaller)
        self._ratio_before: str | None = None
        self._before_points = "12.0pt"
        self._scale = 1.0  # presenter mode's

        self.profile = DepthProfile()
        self.heatmap = GradientHeatmap()
        self.residual = ResidualPart(self)  # ||F(x)||/||x|| per block: profile, heatmap, words, block maps
        self.ratio_label = QLabel("")
        self.ratio_label.setWordWrap(True)
        self.words = QLabel("Measuring...")
        self.words.setTextFormat(Qt.TextFormat.RichText)  # words_html: the lessons' text in italics
        self.words.setWordWrap(True)
        self.words.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.words.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.help = QLabel(
            "Each point is the size of the loss gradient arriving at a block's input, measured on one "
            "fixed batch. Much larger near the input: the early layers get huge, unstable updates. "
            "Much smaller: they get tiny updates. Residual nets keep it within a modest factor. "
            "The residual-size plot compares each block's branch output F(x) with what its shortcut "
            "carries: below the dashed line the block adds a smaller change to its input.")
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
        side_layout.addSpacing(6)
        side_layout.addWidget(self.residual.words)
        side_layout.addWidget(self.residual.images)
        side_layout.addSpacing(8)
        side_layout.addWidget(self.help)
        side_layout.addStretch(1)
        side_layout.addWidget(self.status)
        # In a short dock the words scroll rather than overlap; the buttons stay in view under them.
        scroll = self._side_scroll = QScrollArea()
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
        profiles = self.profiles = QSplitter(Qt.Orientation.Horizontal)
        profiles.setChildrenCollapsible(False)
        profiles.addWidget(self.profile)
        profiles.addWidget(self.residual.profile)
        profiles.setStretchFactor(0, 3)
        profiles.setStretchFactor(1, 2)
        self.heatmaps = QTabWidget()
        self.heatmaps.addTab(self.heatmap, "Gradient over training")
        self.heatmaps.addTab(self.residual.heatmap, "Residual over training")
        plots.addWidget(profiles)
        plots.addWidget(self.heatmaps)
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
        self._splitter_memory = SplitterMemory(self, [split, plots, profiles])

        self._profile_shares = [3, 2]  # the two profiles' widths before the residual one went into a tab
        self.runner = None  # made by the first probe, which loads torch
        self._stale = True
        document.specChanged.connect(self._on_spec_changed)
        document.selectionChanged.connect(self._on_selection)
        self._update_buttons()
        self._clear_for(document.spec)
        self.refresh()

    # -- presenter mode -----------------------------------------------------------
    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        """The verdict, its explanation and the buttons grow with the plots for a projector."""
        self._scale = scale = presenter_mode().scale if on else 1.0
        pt = {key: f"{size * scale:.1f}pt" for key, size in self.TEXT_POINTS.items()}
        self._before_points = pt["before"]
        self.ratio_label.setStyleSheet(f"font-size: {pt['ratio']}; font-weight: 600;")
        self.words.setStyleSheet(f"font-size: {pt['words']}; color: {COLOUR.explanation};")
        self.residual.set_points(pt["help"], scale)
        self.help.setStyleSheet(f"font-size: {pt['help']}; color: {COLOUR.help_text};")
        self.status.setStyleSheet(f"font-size: {pt['status']}; color: {COLOUR.status_text};")
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
        # The residual profile sits beside the gradient profile unless three plots in a row
        # would be too narrow (a short dock in presenter mode): then it is a tab by the heatmaps.
        in_tab = side_by_side and width < 3 * self.PLOT_MIN_WIDTH * scale
        # Neither two plots side by side nor one above the other fit (a short, narrow dock: presenter
        # mode at 1280x720): every plot is a tab of its own, at the whole height of the panel.
        one_at_a_time = not side_by_side and self.height() < 2 * self.PLOT_MIN_HEIGHT * scale
        in_tab = in_tab or one_at_a_time
        if one_at_a_time and self.heatmaps.indexOf(self.profile) < 0:
            self._profile_shares = self.profiles.sizes() if self.profiles.count() == 2 else self._profile_shares
            self.heatmaps.insertTab(0, self.profile, "Gradient per block")
            self.heatmaps.setCurrentIndex(0)
            self.profiles.hide()
        elif not one_at_a_time and self.heatmaps.indexOf(self.profile) >= 0:
            self.heatmaps.removeTab(self.heatmaps.indexOf(self.profile))
            self.profiles.insertWidget(0, self.profile)
            self.profile.show()
            self.profiles.show()
        residual = self.residual.profile
        if in_tab and self.heatmaps.indexOf(residual) < 0:
            if self.profiles.count() == 2:
                self._profile_shares = self.profiles.sizes()
            after = self.heatmaps.indexOf(self.profile)  # after the gradient profile's tab, else first
            self.heatmaps.insertTab(after + 1 if after >= 0 else 1, residual, "Residual per block")
        elif not in_tab and self.profiles.indexOf(residual) < 0:
            self.heatmaps.removeTab(self.heatmaps.indexOf(residual))
            self.profiles.addWidget(residual)
            residual.show()
            # back beside the gradient profile with the share it had (the splitter gave the
            # returning plot what was left: about 70 px, after presenter mode on and off)
            shares = self._profile_shares if sum(self._profile_shares) > 0 else [3, 2]
            total = max(self.profiles.width(), 1)
            first = round(total * shares[0] / sum(shares))
            self.profiles.setSizes([first, total - first])
        orientation = Qt.Orientation.Horizontal if side_by_side else Qt.Orientation.Vertical
        if self.plots.orientation() != orientation:
            self.plots.setOrientation(orientation)
            total = self.plots.width() if side_by_side else self.plots.height()
            first = total * 3 // 5 if side_by_side and not in_tab else total // 2
            self.plots.setSizes([first, total - first])

    def _show_ratio(self) -> None:
        if not self._ratio_headline:
            self.ratio_label.setText("")
            return
        text = self._ratio_headline
        if self._ratio_before is not None:
            text += (f"<br><span style='font-size:{self._before_points}; font-weight:400; color:{COLOUR.status_text}'>"
                     f"before: {self._ratio_before}</span>")
        self.ratio_label.setText(text)

    # -- public API -------------------------------------------------------------
    def set_weights_source(self, fn: Callable[[], Weights | None] | None) -> None:
        """``fn()`` returns the ``Weights`` to probe (None: fresh weights); re-measures now."""
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
            shown = f" ({self.profile.network})" if self.profile.network else ""
            self.status.setText("The design has errors; fix them to measure the gradients again. "
                                f"The plots show the last valid design{shown}.")
            return
        self._stale = False
        weights = self._weights_source() if self._weights_source is not None else None
        runner = self._runner()
        serial = runner.request(spec, weights, self.document.info)  # the analysis the document already has
        self._requested_at[serial] = time.perf_counter()
        req = runner.last_request
        blocks = sum(len(stage.blocks) for stage in spec.stages)
        self._pending = (f"{spec.name} ({blocks} blocks, {skips_caption_for(spec, self.document.info)}) on a batch of "
                         f"{req.batch} seeded images")
        self._show_progress("starting", 0, blocks)

    def _runner(self):
        if self.runner is None:
            from .worker import ProbeRunner  # loads torch
            self.runner = ProbeRunner(self)
            self.runner.finished.connect(self._on_probe_done)
            self.runner.firstLook.connect(self._on_first_look)
            self.runner.busyChanged.connect(self._on_busy)
            self.runner.progress.connect(self._on_progress)
        return self.runner

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def begin_run(self, block_labels: list[str], name: str = "") -> None:
        """A run starts: the heatmap shows its recorder's columns (``name`` says whose, e.g. "run #2 (resnet20)")."""
        self._running = True
        self.heatmap.set_blocks(block_labels)
        self.heatmap.set_network(name)
        self.residual.begin_run(block_labels, name)

    def add_column(self, column) -> None:
        """One recorder column (``GradColumn``) from the training run; drawn at most ten times a second."""
        if len(column.norms) == len(self.heatmap.block_labels):
            self.heatmap.add_column(column.norms, str(column.step))
        self.residual.add_column(column)

    def end_run(self) -> None:
        self._running = False
        self.heatmap.flush()
        self.residual.end_run()

    def shutdown(self) -> None:
        """Stop the probe thread and wait for it (call from the window's closeEvent)."""
        self.heatmap.stop()
        self.residual.stop()
        if self.runner is not None:
            self.runner.shutdown()

    # -- reactions ----------------------------------------------------------------
    @Slot(object, object)
    def _on_spec_changed(self, new, old) -> None:
        self._update_buttons()
        if self.document.valid and self._key(new) != self._shown_key:
            self._clear_for(new)  # at once, even while hidden: never another network's numbers
        self.refresh()

    def _key(self, spec):
        """Same blocks in the same document content: New or Open always starts afresh,
        even when the new network happens to have the same layout."""
        return (self.document.generation, network_key(spec))

    def _clear_for(self, spec) -> None:
        """Forget everything measured on the network shown: a different one is coming."""
        old = self.profile.network
        self._shown_key = None
        self._full_shown = None
        self._ghost_skips = None
        self._staged_words.clear()
        self.last_outcome = self.first_look = None
        self.profile.clear(f"Measuring {spec.name}…")
        self.profile.set_network(spec.name)
        self._ratio_headline, self._ratio_before = "", None
        self._show_ratio()
        self.words.setText(words_html(f"Measuring {spec.name}…" + (f" (the numbers of {old} were cleared)"
                                                                   if old and old != spec.name else "")))
        if not self._running:
            self.heatmap.set_blocks([])
            self.heatmap.set_network("")
        self.residual.clear_for(spec.name, self._running)
        # another network's words start at their headline, not where the last one was scrolled to
        self._side_scroll.verticalScrollBar().setValue(0)

    def _show_progress(self, phase: str, done: int, total: int) -> None:
        if not self._pending:
            return
        if phase == "starting":
            where = "building the network…"
        else:
            where = f"{phase} pass, block {done} of {total}"
        text = f"Measuring {self._pending}: {where}"
        look = self.first_look
        if look is not None and self.runner is not None and look.serial == self.runner.latest_serial:
            text = f"First look on {look.result.batch} images shown; measuring all {look.batch}: {where}"
        self.status.setText(text)
        if self.profile.current is None:
            name, _, rest = self._pending.partition(" (")
            self.profile.set_message(f"Measuring {name}…\n({rest}\n{where}")
            self.words.setText(words_html(text))

    @Slot(int, str, int, int)
    def _on_progress(self, serial: int, phase: str, done: int, total: int) -> None:
        started = self._requested_at.get(serial)
        if started is not None and time.perf_counter() - started < PROGRESS_AFTER_S:
            return  # a quick probe (a skip toggle) is over before its progress could be read
        self._show_progress(phase, done, total)

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        if not busy:
            self._pending = ""

    @Slot(object)
    def _on_first_look(self, outcome) -> None:
        """The first stage of a probe (a few images): drawn at once, its words say so; the full batch follows."""
        started = self._requested_at.get(outcome.serial)
        if started is not None:
            self.first_look_round_trip_s = time.perf_counter() - started
        if outcome.spec != self.document.spec:
            return  # measured a design that is no longer shown
        self.first_look = outcome
        self._show_outcome(outcome)
        self.firstLookShown.emit(outcome)

    @Slot(object)
    def _on_probe_done(self, outcome) -> None:
        started = self._requested_at.pop(outcome.serial, None)
        self._requested_at = {s: t for s, t in self._requested_at.items() if s > outcome.serial}
        if started is not None:
            self.last_round_trip_s = time.perf_counter() - started
        self._pending = ""
        look, self.first_look = self.first_look, None
        if outcome.spec != self.document.spec:
            return  # measured a design that is no longer shown: a newer probe follows when visible
        if outcome.error:
            self.status.setText(f"The probe failed: {outcome.error}")
            words = self._staged_words.failed(outcome.serial, outcome.error)
            if words is not None:  # the first look stays, and no longer says the full batch follows
                self.words.setText(words_html(words))
            if self.profile.current is None:
                self.profile.set_message(f"The probe of {outcome.spec.name} failed")
            self.probeFailed.emit(outcome.error)
            return
        self.last_outcome = outcome
        self._show_outcome(outcome, after_first_look=look is not None and look.serial == outcome.serial)
        self.profileUpdated.emit(outcome)

    def _show_outcome(self, outcome, after_first_look: bool = False) -> None:
        """Draw a first look or a full batch: profile, "before" line, heatmap column (full batch only), words.

        The headline says which images its number rests on when the probe came in two stages; the
        plots' captions do not change between the stages (a longer legend would move the axes).
        """
        result = outcome.result
        spec = outcome.spec
        first_look = outcome.first_look
        skips = list(result.skips)
        summary = summarise(result.block_norms, result.labels, skips, batch_norm=spec.norm is Norm.BATCH,
                            shortcuts=result.shortcuts)
        caption = f"{skips_caption(skips, result.shortcuts)} · {outcome.weights}"
        tag = (first_look_tag(result.batch) if first_look else
               full_batch_tag(result.batch) if after_first_look else "")
        key = self._key(spec)
        ratio_words = (f"{format_factor(summary.ratio)}x" if math.isfinite(summary.ratio) and summary.ratio > 0
                       else summary.verdict)
        # "before": the last full-batch profile of this network, when its skips were others
        before = self._full_shown if self._full_shown is not None and self._full_shown[0] == key else None
        if before is None or (before[1] == skips and self._ghost_skips == skips):
            self.profile.set_ghost(None, "")
            self._ratio_before = self._ghost_skips = None
        elif before[1] != skips:
            self.profile.set_ghost(before[2], before[3], fit=False)  # show_profile fits
            self._ratio_before, self._ghost_skips = f"{before[4]} ({before[3]})", before[1]
        self.profile.set_network(spec.name)
        self.profile.show_profile(result.block_norms, result.labels, caption)
        self.residual.show_outcome(spec.name, result.labels, result.residual, caption, self._running,
                                   add_column=not first_look)
        self._on_selection(self.document.selection)
        self._shown_key = key
        heat_note = ""
        if not first_look:
            self._full_shown = (key, skips, self.profile.current, caption, ratio_words)
            if self.heatmap.block_labels != result.labels:
                if self._running:
                    heat_note = " Not added to the heatmap: its blocks are the run's network's."
                else:
                    self.heatmap.set_blocks(result.labels)
                    self.heatmap.set_network(f"probes of {spec.name}")
            if self.heatmap.block_labels == result.labels:
                self.heatmap.add_column(result.block_norms, PROBE_LABEL)
        colour = VERDICT_COLOURS.get(summary.verdict, COLOUR.gradient_unknown)
        if math.isfinite(summary.ratio) and summary.ratio > 0:
            text = f"first ÷ last block: <span style='color:{colour}'>{ratio_words}</span>"
        else:
            text = f"<span style='color:{colour}'>{summary.verdict}</span>"
        if tag:
            text += f" <span style='font-size:{self._before_points}; font-weight:400'>({tag})</span>"
        self._ratio_headline = text
        self._show_ratio()
        words, note = self._staged_words.render(outcome, summary, self.residual.summary)
        self.words.setText(words_html(words, summary.words))  # the lessons' text in italics
        self.residual.set_note(note)
        trip = self.first_look_round_trip_s if first_look else self.last_round_trip_s
        trip_words = f", {trip * 1000:.0f} ms" if trip is not None else ""
        fewer = f" ({outcome.batch_reason})" if outcome.batch_reason else ""
        images = (f"first look on {result.batch} of the {outcome.batch} seeded random images of the probe batch"
                  f"{fewer}; the full batch is being measured" if first_look else
                  f"probe batch of {result.batch} seeded random images{fewer}")
        self.status.setText(f"{spec.name} ({len(skips)} blocks), {caption}; {images}, train-mode BN "
                            f"(probe {outcome.seconds * 1000:.0f} ms{trip_words}).{heat_note}")

    @Slot(object)
    def _on_selection(self, selection) -> None:
        """A block selected in the diagram: show its maps for one probe image."""
        spec = self.document.spec
        if selection.part != "block" or selection.stage is None or selection.block is None:
            self.residual.show_selection(None)
            return
        index = sum(len(stage.blocks) for stage in spec.stages[:selection.stage]) + selection.block
        self.residual.show_selection(index)
        if self.residual.images.view.isVisibleTo(self):  # bring the selected block's maps into view
            QTimer.singleShot(0, lambda: self._side_scroll.ensureWidgetVisible(self.residual.images, 0, 0))

    def _update_buttons(self) -> None:
        valid = self.document.valid
        info = self.document.info
        has_shortcuts = bool(info) and any(b.has_shortcut for b in info.blocks)
        self.skips_off.setEnabled(valid and has_shortcuts)
        self.skips_on.setEnabled(valid and has_shortcuts)

    def _set_all_skips(self, on: bool) -> None:
        spec = self.document.spec
        self.document.edit(spec.with_skips(on), "All skips on" if on else "All skips off")


def words_html(text: str, words=None) -> str:
    """``text`` (lines of sentences) as the words label shows it: escaped, lines kept, and every sentence
    of ``words`` (a ``claims.Words``) that is the lessons' text in italics, apart from what was measured."""
    html = escape(text, quote=False)
    for sentence in (words.sentences if words is not None else ()):
        if is_lesson(sentence):
            lesson = escape(sentence["text"], quote=False)
            html = html.replace(lesson, f"<i>{lesson}</i>")
    return html.replace("\n", "<br>")


def skips_caption_for(spec, info=None) -> str:
    """``skips_caption`` of a design (before it is measured); ``info``: its analysis when known."""
    blocks = [b for _, _, b in spec.iter_blocks()]
    if info is None:
        info, _ = try_analyse(spec)
    if info is None:
        return skips_caption([b.skip for b in blocks], [])
    return skips_caption([b.skip_active for b in info.blocks], [b.has_shortcut for b in info.blocks])
