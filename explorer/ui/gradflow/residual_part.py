"""The residual-size half of the gradient panel: profile, heatmap over training, words, block maps.

``ResidualPart`` owns the widgets and follows the same calls as the gradient half (the
panel forwards them): ``clear_for`` when the network changes (at once, so no other
network's numbers stay up), ``show_outcome`` with each probe the panel accepts,
``begin_run`` / ``add_column`` / ``end_run`` for the recorder's columns during training,
and ``show_selection`` when a block is selected in the diagram.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QLabel

from ...experiments.residual_words import OK, residual_trend, summarise_residual
from ..theme import COLOUR
from .heatmap import PROBE_LABEL, GradientHeatmap
from .residual_view import BlockImages, ResidualProfile

RATIO_LEVELS = (-2.0, 1.0)  # log10 ||F||/||x||: 0.01 to 10


class ResidualPart(QObject):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.profile = ResidualProfile()
        self.heatmap = GradientHeatmap(quantity="||F(x)||/||x||", title="Residual size ||F(x)||/||x|| over training",
                                       levels=RATIO_LEVELS, nan_words="undefined (no shortcut added) or not measured")
        self.words = QLabel("")
        self.words.setWordWrap(True)
        self.words.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.images = BlockImages()
        self.result = None  # the ResidualResult shown
        self.summary = None  # its ResidualSummary
        self.labels: list[str] = []
        self._summary = ""
        self._note = ""  # what the words rest on, when the panel says so (a first look, then its full batch)
        self._run_first: tuple[int, np.ndarray] | None = None
        self._run_last: tuple[int, np.ndarray] | None = None
        self._run_name = ""
        self._selection_index: int | None = None
        self._images_of: tuple | None = None  # (block index, result) whose maps the images show

    def set_points(self, words_pt: str, scale: float = 1.0) -> None:
        self.words.setStyleSheet(f"font-size: {words_pt}; color: {COLOUR.explanation};")
        self.images.set_scale(scale)

    # -- the network changes -----------------------------------------------------------
    def clear_for(self, name: str, running: bool) -> None:
        self.result = self.summary = None
        self.labels = []
        self._summary = self._note = ""
        self.profile.clear(f"Measuring {name}…")
        self.profile.set_network(name)
        self.words.setText("")
        self.images.clear()
        self._images_of = (None, None)
        if not running:  # the last run's trend was another network's: it goes with its heatmap
            self.heatmap.set_blocks([])
            self.heatmap.set_network("")
            self._run_first = self._run_last = None
            self._run_name = ""

    # -- probes ----------------------------------------------------------------------
    def show_outcome(self, spec_name: str, labels: list[str], residual, caption: str, running: bool,
                     add_column: bool = True) -> None:
        """Show a probe's sizes; ``add_column`` False (a first look): not into the heatmap."""
        if residual is None:
            self.summary = None
            return
        self.result, self.labels = residual, list(labels)
        self.profile.set_network(spec_name)
        self.profile.show_sizes(residual.ratio, residual.cosine, caption)
        self.summary = summarise_residual(residual.ratio, residual.cosine, residual.status, labels)
        self._summary = self.summary.text
        self._show_words()
        if add_column and self.heatmap.block_labels != labels and not running:
            self.heatmap.set_blocks(labels)
            self.heatmap.set_network(f"probes of {spec_name}")
        if add_column and self.heatmap.block_labels == labels:
            self.heatmap.add_column(residual.ratio, PROBE_LABEL)
        self._show_images()

    def set_note(self, note: str) -> None:
        """The line that leads the words (which images they rest on); "" for none."""
        if note != self._note:
            self._note = note
            self._show_words()

    def show_selection(self, index: int | None) -> None:
        self._selection_index = index
        self._show_images()

    def _show_images(self) -> None:
        index, result = self._selection_index, self.result
        if index is None or result is None or not 0 <= index < len(result.status):
            index = result = None
        if self._images_of is not None and self._images_of[0] == index and self._images_of[1] is result:
            return  # shown already (a probe result shows its maps, then the panel passes the same selection)
        self._images_of = (index, result)
        if result is None:
            self.images.clear()
            return
        image = result.images[index] if index < len(result.images) else None
        ratio = float(result.ratio[index])
        self.images.show_block(self.labels[index], image, result.status[index],
                               ratio if math.isfinite(ratio) else None, result.batch)

    # -- training --------------------------------------------------------------------
    def begin_run(self, labels: list[str], name: str) -> None:
        self.heatmap.set_blocks(labels)
        self.heatmap.set_network(name)
        self._run_first = self._run_last = None
        self._run_name = name

    def add_column(self, column) -> None:
        values = getattr(column, "residual", None)
        if values is None or len(values) != len(self.heatmap.block_labels):
            return
        self.heatmap.add_column(values, str(column.step))
        if self._run_first is None:
            self._run_first = (int(column.step), np.asarray(values, dtype=np.float64))
        self._run_last = (int(column.step), np.asarray(values, dtype=np.float64))
        self._show_words()

    def end_run(self) -> None:
        self.heatmap.flush()

    def trend(self) -> str:
        if self._run_first is None or self._run_last is None:
            return ""
        (s0, a), (s1, b) = self._run_first, self._run_last
        if len(a) != len(self.heatmap.block_labels):
            return ""
        status = [OK if math.isfinite(x) and math.isfinite(y) else "undefined" for x, y in zip(a, b)]
        return residual_trend(a, b, status, s0, s1, self.heatmap.block_labels, over=self._run_name).text

    def _show_words(self) -> None:
        parts = [p for p in (self._summary, self.trend()) if p]
        text = " ".join(parts)
        self.words.setText(f"{self._note}\n{text}" if self._note and text else text)

    def stop(self) -> None:
        self.heatmap.stop()
