"""The main window's docks: the side panel's contents, dock title bars, presenter-mode placement.

The left dock holds the block palette (drag a kind onto a stage) above the legend of
block colours and shortcut styles, both from the canvas package. The palette list is
sized to its rows so the legend sits right under it instead of below an empty gap.
``PresenterLayout`` moves that dock out of the diagram's way in presenter mode.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (QDockWidget, QHBoxLayout, QLabel, QListWidget, QMainWindow, QScrollArea,
                               QStyle, QToolButton, QVBoxLayout, QWidget)

from .canvas import LegendWidget, PaletteWidget


class SidePanel(QScrollArea):
    """Palette and legend, one under the other, scrolling together on a small screen."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sidePanel")
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.palette_widget = PaletteWidget()
        self.legend_widget = LegendWidget()
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        self.palette_title = QLabel("<b>Drag onto a stage</b>")
        self.legend_title = QLabel("<b>Legend</b>")
        layout.addWidget(self.palette_title)
        layout.addWidget(self.palette_widget)
        layout.addSpacing(8)
        layout.addWidget(self.legend_title)
        layout.addWidget(self.legend_widget)
        layout.addStretch(1)
        self.setWidget(body)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._fit_palette()

    def _fit_palette(self) -> None:
        palette: QListWidget = self.palette_widget
        rows = sum(palette.sizeHintForRow(i) + 2 * palette.spacing() for i in range(palette.count()))
        palette.setFixedHeight(rows + 2 * palette.frameWidth() + 6)
        # Wide enough for the legend's longest line, so nothing is cut off on the right.
        body = self.widget()
        needed = max(self.legend_widget.sizeHint().width(), palette.sizeHintForColumn(0) + 12)
        margins = body.layout().contentsMargins()
        self.setMinimumWidth(needed + margins.left() + margins.right() + self.verticalScrollBar().sizeHint().width())

    def set_presenter(self, on: bool) -> None:
        self.palette_widget.set_presenter(on)
        self.legend_widget.set_presenter(on)
        self._fit_palette()


class DockTitleBar(QWidget):
    """A dock's title row drawn with ordinary widgets, so it follows the application font.

    Qt draws a dock's own title in a font fixed when the dock was made, which would stay
    small in presenter mode; this bar scales with everything else.
    """

    def __init__(self, dock: QDockWidget):
        super().__init__(dock)
        self._dock = dock
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self._set_title(dock.windowTitle())
        style = self.style()
        self.float_button = self._button(style.standardIcon(QStyle.StandardPixmap.SP_TitleBarNormalButton),
                                         "Float or dock this panel")
        self.close_button = self._button(style.standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton),
                                         "Hide this panel (View > Panels shows it again)")
        self.float_button.clicked.connect(lambda: dock.setFloating(not dock.isFloating()))
        self.close_button.clicked.connect(dock.close)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 2, 2)
        row.setSpacing(2)
        row.addWidget(self.label, 1)
        row.addWidget(self.float_button)
        row.addWidget(self.close_button)
        dock.windowTitleChanged.connect(self._set_title)

    def _button(self, icon, tip: str) -> QToolButton:
        button = QToolButton()
        button.setIcon(icon)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return button

    def _set_title(self, title: str) -> None:
        self.label.setText(f"<b>{html.escape(title)}</b>")


class PresenterLayout:
    """Presenter mode gives the diagram the width of the window.

    With the larger text the Blocks panel (palette and legend) grows to a third of a
    1600 px screen and the diagram shrinks to fit what is left. In presenter mode the
    panel becomes a tab beside the Inspector instead (one click brings it forward);
    leaving presenter mode puts it back on the left at the width it had. A panel the
    user has floated, closed or moved elsewhere is left where it is.
    """

    def __init__(self, window: QMainWindow, side_dock: QDockWidget, beside: QDockWidget):
        self._window = window
        self._side = side_dock
        self._beside = beside
        self._moved = False
        self._width = 280
        self._beside_width: int | None = None
        self._follow = _BottomFollowsHeight(window)
        window.installEventFilter(self._follow)

    def _docked_in(self, area) -> bool:
        dock = self._side
        return (not dock.isFloating() and not dock.isHidden()
                and self._window.dockWidgetArea(dock) == area)

    def set_on(self, on: bool) -> None:
        w = self._window
        if on and not self._moved and self._docked_in(Qt.DockWidgetArea.LeftDockWidgetArea) \
                and not self._beside.isFloating() and not self._beside.isHidden():
            if self._side.isVisible():
                self._width = self._side.width()
            self._beside_width = self._beside.width()
            w.tabifyDockWidget(self._beside, self._side)
            self._beside.raise_()  # the inspector stays in front; Blocks is one click away
            self._moved = True
        elif not on and (self._moved or self._side in w.tabifiedDockWidgets(self._beside)):
            # also after a restart in presenter mode, when the window restored the tabbed layout
            if self._side in w.tabifiedDockWidgets(self._beside) and not self._side.isFloating():
                w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self._side)
                self._side.show()
                # both docks at the widths they had (the Inspector kept presenter mode's width)
                docks, widths = [self._side], [self._width]
                if self._beside_width is not None and not self._beside.isFloating():
                    docks.append(self._beside)
                    widths.append(self._beside_width)
                w.resizeDocks(docks, widths, Qt.Orientation.Horizontal)
            self._moved = False

    @property
    def moved(self) -> bool:
        """True while the Blocks panel sits beside the Inspector for presenter mode."""
        return self._moved


class _BottomFollowsHeight(QObject):
    """In presenter mode the bottom panels keep their share of the window's height when the window
    changes height (a window moved from a 1280x720 projector to a 1600x1000 one kept a 298 px plot
    area, its heatmap 46 px tall); outside presenter mode the heights the user set are left alone."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self._window = window
        self._height = 0

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if watched is self._window and event.type() == QEvent.Type.Resize:
            height = event.size().height()
            w = self._window
            if (height != self._height and self._height and w.presenter_action.isChecked()
                    and not w._layout_pending and len(w._bottom_docks) > 1):
                QTimer.singleShot(0, w._size_bottom_area)  # once the window has its new size
            self._height = height
        return False
