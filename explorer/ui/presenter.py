"""Presenter mode for the whole application: the one switch, and what follows it.

``presenter_mode()`` is the app-wide switch (the main window sets it with the app font);
panels call ``follow_presenter(slot)`` to rescale when it changes. ``PaneWidth`` keeps a
splitter's settings column wide enough for its form at either text size.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Signal, Slot

from .theme import Theme


class PresenterMode(QObject):
    """Whether presenter mode is on, for the whole application (it scales the app font too)."""

    changed = Signal(bool)

    def __init__(self):
        super().__init__()
        self._on = False

    @property
    def on(self) -> bool:
        return self._on

    @property
    def scale(self) -> float:
        return Theme(presenter=self._on).scale

    def set_on(self, on: bool) -> None:
        if bool(on) != self._on:
            self._on = bool(on)
            self.changed.emit(self._on)


_presenter_mode: PresenterMode | None = None


def presenter_mode() -> PresenterMode:
    """The one app-wide presenter switch (made on first use)."""
    global _presenter_mode
    if _presenter_mode is None:
        _presenter_mode = PresenterMode()
    return _presenter_mode


def follow_presenter(slot: Callable[[bool], None]) -> None:
    """Call ``slot(on)`` now and whenever presenter mode changes.

    ``slot`` should be a bound method of a QObject: the connection then ends when that
    object is deleted, so a closed panel is never called.
    """
    mode = presenter_mode()
    slot(mode.on)
    mode.changed.connect(slot)


class PaneWidth(QObject):
    """Keeps a splitter's first pane wide enough for its content at the current text size.

    ``need()`` says how wide the pane must be for ``content`` (a form) to show every field
    whole; ``widths`` are the pane's least and most width at normal text size, scaled in
    presenter mode. Presenter mode's larger text makes a form wider than its normal
    column: the pane grows with it and goes back to the width it had when presenter mode
    ends, unless the user has dragged the splitter since. ``need`` is asked again whenever
    ``content``'s layout changes, since the new font reaches a form's fields a moment
    after the switch.
    """

    def __init__(self, splitter, pane, content, need: Callable[[], int], widths: tuple[int, int]):
        super().__init__(pane)
        self._splitter, self._pane, self._need, self._widths = splitter, pane, need, widths
        self._normal_width: int | None = None  # the pane's width before presenter mode
        splitter.splitterMoved.connect(self._user_moved)
        content.installEventFilter(self)
        follow_presenter(self._on_presenter)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LayoutRequest:
            self.fit()
        return False

    @Slot(bool)
    def _on_presenter(self, on: bool) -> None:
        if on and self._pane.isVisible():
            self._normal_width = self._pane.width()
        self.fit()

    @Slot(int, int)
    def _user_moved(self, _pos: int, _index: int) -> None:
        self._normal_width = None  # the width the user chose is the one to keep

    def fit(self) -> None:
        mode = presenter_mode()
        least = max(round(self._widths[0] * mode.scale), self._need())
        most = max(round(self._widths[1] * mode.scale), least)
        if (least, most) == (self._pane.minimumWidth(), self._pane.maximumWidth()):
            return
        self._pane.setMinimumWidth(least)
        self._pane.setMaximumWidth(most)
        sizes = self._splitter.sizes()
        if sum(sizes) > 0:
            wanted = self._normal_width if not mode.on and self._normal_width else sizes[0]
            width = min(max(wanted, least), most)
            self._splitter.setSizes([width, sum(sizes) - width])  # the other pane takes the rest
