"""Zoom and fit of the diagram view: what the window shows of the diagram, and when it fits again.

``ViewFitting`` is mixed into ``DiagramView`` (a ``QGraphicsView`` with a ``DiagramScene``, a
``document`` and presenter ``folding``). It holds two flags:

- ``_fitted``: the whole diagram is shown, with its columns arranged for the window
  (``fit_to_window``); a resize keeps it so, and re-arranges the columns once it settles;
- ``_user_zoomed``: the user (or a fit) placed the view; nothing moves it on its own.

Whenever the whole network is replaced (New, Open, Restore; see ``reset_view``) the view
ends as a fresh start leaves it: collapse state as each stage's default, the columns
arranged for the window, the whole diagram fitted. A bare view that was never fitted
(no window around it) scales itself down on resize, never below ``AUTO_FIT_MIN``.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QTimer
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QGraphicsView

from .fitting import arrange, fit_zoom, text_scale_at

MIN_SCALE, MAX_SCALE = 0.04, 6.0
AUTO_FIT_MIN = 0.75  # an automatic fit never shrinks text below legibility; scroll instead
SETTLE_MS = 250  # a resize this long ago has settled: the columns are arranged anew
FIT_SOON_MS = 50  # long enough for queued layout changes (dock sizes, fonts) to land


class ViewFitting:
    """Zoom, fit to window and the re-fit after a resize or another network (see module doc)."""

    def _init_fitting(self) -> None:
        self._user_zoomed = False
        self._fitted = False  # showing the whole diagram: a resize fits it again
        self._settle = QTimer(self)  # once a resize settles: columns (and presenter folds) anew
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._fit_again)
        self._fit_timer = QTimer(self)  # a fit asked for once queued layout changes have landed
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(FIT_SOON_MS)
        self._fit_timer.timeout.connect(self.fit_to_window)

    def reset_view(self) -> None:
        """Another network is open: show it as a fresh start would.

        Each stage back to its default collapse state, presenter mode's folding on again,
        then ``fit_to_window``: the columns arranged for this window and the whole diagram
        fitted to it (an automatic fit alone neither re-arranges nor shrinks below 75%,
        which left part of a larger network off-screen).
        """
        scene = self.scene()
        scene.clear_collapsed()
        self.folding.folded.clear()
        self.folding.enabled = self.presenter()
        self.refresh()
        self.fit_to_window()

    def zoom(self) -> float:
        return self.transform().m11()

    def text_scale(self) -> float:
        """The diagram's text size on screen relative to normal mode at 100% (zoom x presenter scale)."""
        return text_scale_at(self, self.zoom())

    def zoom_in(self) -> None:
        self._zoom_by(1.25, anchor_mouse=False)

    def zoom_out(self) -> None:
        self._zoom_by(1 / 1.25, anchor_mouse=False)

    def reset_zoom(self) -> None:
        self._user_zoomed = True
        self._fitted = False
        self.resetTransform()

    def fit_to_window(self) -> None:
        """The whole diagram in the window (never magnified past 150%), again after each resize.

        In presenter mode stages may fold first, so the text stays legible (see ``fitting``).
        """
        self._user_zoomed = True
        if self.presenter() and self.folding.enabled:
            self.folding.fold_until_legible()  # arranges the columns too
        else:
            arrange(self)
        self._apply_fit()

    def fit_soon(self) -> None:
        """``fit_to_window`` once the layout changes queued now (dock sizes, fonts) have landed."""
        self._fit_timer.start()

    def fit_pending(self) -> bool:
        """True while a fit is still to come: one asked for, or the re-fit after a resize."""
        return self._fit_timer.isActive() or self._settle.isActive()

    def is_fitted(self) -> bool:
        """True while the view shows the whole diagram as a fit left it (no zoom or pan since)."""
        return self._fitted

    def _apply_fit(self) -> None:
        zoom = fit_zoom(self)
        self.setTransform(QTransform.fromScale(zoom, zoom))
        self.centerOn(self.scene().content_rect.center())
        self._fitted = True

    def _fit_again(self) -> None:
        if self._fitted:
            self.fit_to_window()

    def _zoom_by(self, factor: float, anchor_mouse: bool = True) -> None:
        self._user_zoomed = True
        self._fitted = False
        target = min(MAX_SCALE, max(MIN_SCALE, self.zoom() * factor))
        anchor = self.transformationAnchor()
        if not anchor_mouse:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.scale(target / self.zoom(), target / self.zoom())
        self.setTransformationAnchor(anchor)

    def _refit(self) -> None:
        if self._fitted:
            self.fit_to_window()  # the whole diagram was shown: show the whole new layout
        elif not self._user_zoomed:
            self._auto_fit()

    def _auto_fit(self) -> None:
        rect = self.scene().content_rect
        if rect.isEmpty() or self.viewport().width() < 10:
            return
        sx = self.viewport().width() / (rect.width() + 40)
        sy = self.viewport().height() / (rect.height() + 40)
        scale = max(AUTO_FIT_MIN, min(1.0, sx, sy))
        self.resetTransform()
        self.scale(scale, scale)
        # When it does not all fit, start at the input end of the network.
        top_left = self.mapToScene(QPoint(0, 0))
        self.centerOn(self.mapToScene(self.viewport().rect().center()) - top_left + rect.topLeft()
                      - QPointF(20 / scale, 20 / scale))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if not self._fitted:
            self._refit()
            return
        self._apply_fit()
        self._settle.start()  # rearranging at every step of a drag would make the diagram jump
