"""Fitting the diagram to its window, and presenter mode's fit that keeps the text legible.

With stages side by side, ``arrange`` first picks how many columns the stages fill (a
wide window: one per stage; a narrower one: two stages stacked in a column, ...) so
the fit can draw the diagram as large as the window allows.

A fit scales the whole scene, text included, so presenter mode's larger boxes and
fonts shrink right back when a deep network must fit a short window: a fit alone
can draw presenter text smaller than normal mode would. ``StageFolding`` therefore
folds stages (each to its summary box, the longest first) until a fit draws the
diagram's smallest text at least as large as the plots' tick labels in presenter mode
(``smallest_text_px`` >= ``tick_label_px``), and unfolds them when presenter mode ends. Stages the user opens or folds by hand are theirs: folding
stops until presenter mode is switched on again or another network is opened.
"""
from __future__ import annotations

from PySide6.QtCore import QSize

from ..theme import presenter_tick_pixels

FIT_MAX_ZOOM = 1.5  # a fit never magnifies past 150%
FIT_SLACK = 0.99  # a hair smaller than the viewport, so no scroll bar appears and takes room
# Effective text size (zoom x theme scale; 1.0 = normal mode at 100%) below which a fit
# in presenter mode never goes without folding (kept for the layout's tests).
PRESENTER_MIN_TEXT = 0.8
_LEGIBLE = 1.0 - 1e-6  # ``StageFolding``'s text scale (tick labels = 1.0) that counts as legible


def fit_zoom(view) -> float:
    """The zoom at which the scene's whole rectangle fits ``view``'s viewport (at most 150%)."""
    rect = view.scene().sceneRect()
    # the viewport without scroll bars: a bar shown for the layout before this fit goes away with it
    port = view.maximumViewportSize() - QSize(4, 4)  # and fitInView's margin of 2 px each side
    if rect.isEmpty() or port.width() < 10 or port.height() < 10:
        return view.zoom()
    return min(FIT_MAX_ZOOM, FIT_SLACK * min(port.width() / rect.width(), port.height() / rect.height()))


def arrange(view) -> float:
    """Give the stages the number of columns that lets a fit draw them largest; returns that zoom.

    Ties go to more columns (the usual one stage per column). Without columns (one tall
    column, or left to right) only the zoom is returned.
    """
    scene = view.scene()
    n = len(view.document.spec.stages)
    if not (scene.columns and scene.geom.vertical and n > 1):
        return fit_zoom(view)
    best_zoom, best_count = -1.0, n
    for count in range(n, 0, -1):
        scene.column_count = count
        scene.layout()
        zoom = fit_zoom(view)
        if zoom > best_zoom + 1e-9:
            best_zoom, best_count = zoom, count
    if scene.column_count != best_count:
        scene.column_count = best_count
        scene.layout()
    return best_zoom


def text_scale_at(view, zoom: float) -> float:
    """How large the diagram's text is on screen at ``zoom``, relative to normal mode at 100%."""
    return zoom * view.scene().geom.theme.scale


def smallest_text_px(view, zoom: float | None = None) -> float:
    """The smallest diagram text's pixel size on screen at ``zoom`` (default: the view's)."""
    return (view.zoom() if zoom is None else zoom) * view.scene().geom.smallest_text


def tick_label_px(view) -> float:
    """The pixel size of the plots' tick labels in presenter mode, on ``view``'s screen."""
    return presenter_tick_pixels(view.logicalDpiY())


class StageFolding:
    """The stages presenter mode folded for a legible fit (view state, like all collapsing).

    ``view`` is the ``DiagramView``: it owns the scene's collapse state and redraws on
    ``refresh()``. ``enabled`` is True from presenter mode's start (or a new network)
    until the user folds or opens a stage by hand.
    """

    def __init__(self, view):
        self._view = view
        self.folded: dict[int, bool | None] = {}  # stage -> its own state before the fold
        self.enabled = False

    def _text_scale(self) -> float:
        """The smallest text's on-screen size after a fit, in units of the plots' tick labels."""
        return smallest_text_px(self._view, arrange(self._view)) / tick_label_px(self._view)

    def _legible(self) -> bool:
        return self._text_scale() >= _LEGIBLE

    def _fold(self, stage: int) -> None:
        scene = self._view.scene()
        self.folded[stage] = scene.collapse_state(stage)
        scene.set_collapsed(stage, True)
        self._view.refresh()

    def _open(self, stage: int) -> None:
        self._view.scene().restore_collapse_state(stage, self.folded.pop(stage))
        self._view.refresh()

    def unfold(self) -> bool:
        """Put every stage folded here back as it was; True when there was one."""
        if not self.folded:
            return False
        scene = self._view.scene()
        for stage, state in self.folded.items():
            scene.restore_collapse_state(stage, state)
        self.folded.clear()
        self._view.refresh()
        return True

    def fold_until_legible(self) -> None:
        """Fold the fewest stages (longest first) that let a fit draw legible text."""
        if not self.enabled:
            return
        self.unfold()  # the window may have grown since the last fit
        start = self._text_scale()
        if start >= _LEGIBLE:
            return
        view, spec = self._view, self._view.document.spec
        open_stages = [si for si, stage in enumerate(spec.stages)
                       if stage.blocks and not view.is_stage_collapsed(si)]
        order = sorted(open_stages, key=lambda si: -len(spec.stages[si].blocks))
        done: list[int] = []
        best = (start, 0)  # (text scale, how many folds reach it)
        for stage in order:
            self._fold(stage)
            done.append(stage)
            scale = self._text_scale()
            if scale > best[0] + 1e-9:
                best = (scale, len(done))
            if scale >= _LEGIBLE:
                break
        else:
            # Never legible: keep the folds up to the largest text (a folded stage's summary box
            # is wider than its blocks, so folding every stage of a wide network can make it worse).
            for stage in reversed(done[best[1]:]):
                self._open(stage)
            arrange(self._view)
            return
        # Stages side by side: only the tallest column counts, so an earlier fold may not be needed.
        for stage in reversed(done[:-1]):
            self._open(stage)
            if not self._legible():
                self._fold(stage)
        arrange(self._view)

    def user_took_over(self) -> None:
        """The user folded or opened a stage: what is folded is theirs now, and stays."""
        self.folded.clear()
        self.enabled = False

    def shift(self, at: int, delta: int) -> None:
        """Keep the record with its stages when one is inserted (+1) or removed (-1) at ``at``."""
        self.folded = {(si if si < at else si + delta): state for si, state in self.folded.items()
                       if not (delta < 0 and si == at)}
