"""Presenter mode for the whole application: the one switch, and what follows it.

``presenter_mode()`` is the app-wide switch (the main window sets it with the app font);
panels call ``follow_presenter(slot)`` to rescale when it changes. ``PaneWidth`` keeps a
splitter's settings column wide enough for its form at either text size.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, Slot

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
    presenter mode. The pane is given that width where the window has room for it; on a
    smaller screen it may be narrower, down to the least width, and its content must then
    scroll sideways (a scroll area with its horizontal scroll bar as needed). Presenter mode's larger text makes a form wider than its normal
    column: the pane grows with it and goes back to the width it had when presenter mode
    ends, unless the user has dragged the splitter since. ``need`` is asked again whenever
    ``content``'s layout changes, since the new font reaches a form's fields a moment
    after the switch.
    """

    def __init__(self, splitter, pane, content, need: Callable[[], int], widths: tuple[int, int]):
        super().__init__(pane)
        self._splitter, self._pane, self._need, self._widths = splitter, pane, need, widths
        self._normal_width: int | None = None  # the pane's width before presenter mode
        self._fitted: tuple[int, int, int] | None = None  # (floor, least, most) last applied
        splitter.splitterMoved.connect(self._user_moved)
        content.installEventFilter(self)
        follow_presenter(self._on_presenter)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LayoutRequest:
            self.fit()
        return False

    @Slot(bool)
    def _on_presenter(self, on: bool) -> None:
        if on and sum(self._splitter.sizes()) > 0:  # also behind another tab: its width is kept
            self._normal_width = self._splitter.sizes()[0]
        self.fit()

    @Slot(int, int)
    def _user_moved(self, _pos: int, _index: int) -> None:
        self._normal_width = None  # the width the user chose is the one to keep

    def fit(self) -> None:
        mode = presenter_mode()
        floor = round(self._widths[0] * mode.scale)
        least = max(floor, self._need())
        most = max(round(self._widths[1] * mode.scale), least)
        sizes = self._splitter.sizes()
        if (floor, least, most) == self._fitted and sizes and least <= sizes[0] <= most:
            return
        # The pane asks for ``least`` but may be squeezed down to ``floor`` on a small screen (its
        # content then scrolls sideways): a minimum of ``least`` made the window wider than a
        # 1280 px projector in presenter mode.
        self._pane.setMinimumWidth(floor)
        self._pane.setMaximumWidth(most)
        if sum(sizes) <= 0:
            self._fitted = None  # not laid out yet: fit again once it is
            return
        self._fitted = (floor, least, most)
        if not mode.on and self._normal_width:
            # the width it had before presenter mode, where everything was whole (the form's
            # sizes may still be presenter mode's at this moment), once
            width = max(self._normal_width, floor)
            self._pane.setMaximumWidth(max(most, width))
            self._normal_width = None
        else:
            width = min(max(sizes[0], least), most)
        if width != sizes[0]:
            self._splitter.setSizes([width, sum(sizes) - width])  # the other pane takes the rest


class SplitterMemory(QObject):
    """Gives ``splitters`` back the sizes they had before presenter mode, when it ends.

    Presenter mode's wider columns take room from their neighbours; when it ends, Qt spreads
    the room it gets back by stretch factors, not to where it came from, so each switch
    moved the dividers a little further. A splitter the user dragged meanwhile, or whose
    orientation changed, keeps what it has.
    """

    def __init__(self, parent: QObject, splitters: list):
        super().__init__(parent)
        self._splitters = list(splitters)
        self._before: dict[int, tuple] = {}
        for i, splitter in enumerate(self._splitters):
            splitter.splitterMoved.connect(lambda _pos, _index, i=i: self._before.pop(i, None))
        presenter_mode().changed.connect(self._on_presenter)

    @Slot(bool)
    def _on_presenter(self, on: bool) -> None:
        if on:
            self._before = {i: (s.orientation(), s.sizes()) for i, s in enumerate(self._splitters)
                            if sum(s.sizes()) > 0}
        else:
            QTimer.singleShot(0, self._restore)  # once the normal fonts have laid everything out

    @Slot()
    def _restore(self) -> None:
        for i, (orientation, sizes) in self._before.items():
            splitter = self._splitters[i]
            if splitter.orientation() == orientation and len(splitter.sizes()) == len(sizes):
                total = sum(splitter.sizes())
                scaled = [round(size * total / sum(sizes)) for size in sizes]
                splitter.setSizes(scaled)
        self._before = {}
