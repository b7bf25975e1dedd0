"""Help: the list of keyboard and mouse actions, and the short tour of the window.

The tour is a small panel floating over the main window (never a modal dialog, so it
cannot block anything): each step outlines one part of the window and says what it is
for. It opens by itself once, the first time the app starts for a user (``run_gui``
asks ``should_show_tour``), and again from Help > Tour. A window built by a test or a
script never opens it unless asked.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QFrame, QHBoxLayout, QLabel, QPushButton,
                               QTextBrowser, QVBoxLayout, QWidget)

from ..experiments.catalogue import titles
from .theme import COLOUR

TOUR_SEEN_KEY = "help/tour_seen"

# (what to do, how) in the order a new user needs them
KEYS_AND_MOUSE: tuple[tuple[str, str], ...] = (
    ("Add a block or a stage", "Drag a kind from the Blocks panel onto a stage (a stage: between two stages)"),
    ("Select a block, stage, stem or head", "Click it; the Inspector shows its settings"),
    ("Select the whole network", "Edit > Select All (Ctrl+A) or click empty space"),
    ("Switch a skip connection off or on", "Click the switch on its shortcut line, or Edit > Toggle Skip "
     "(Ctrl+T), or right-click the block, or the Inspector's Skip box"),
    ("Move a block", "Drag it to another place, in its stage or another one"),
    ("Delete the selection", "Delete, or Edit > Delete"),
    ("Duplicate the selection", "Ctrl+D, or Edit > Duplicate"),
    ("Undo / redo", "Ctrl+Z / Ctrl+Shift+Z (Ctrl+Y); the Undo history lists every step"),
    ("Fold or open a stage", "Click the chevron in its header; double-click a folded stage to open it"),
    ("Everything for one item", "Right-click it"),
    ("Zoom", "Mouse wheel, Ctrl++ / Ctrl+-; Ctrl+0 for 100%"),
    ("Pan", "Drag empty space"),
    ("Show the whole network", "Ctrl+F (Fit to Window)"),
    ("Presenter mode (large text for a projector)", "F5"),
    ("Open / save / save as", "Ctrl+O / Ctrl+S / Ctrl+Shift+S"),
    ("Export the diagram as PNG or SVG", "Ctrl+E"),
    ("Export the network with weights", "Ctrl+Shift+E"),
    ("This list", "F1"),
)


def keys_and_mouse_html() -> str:
    rows = "".join(f"<tr><td style='padding:3px 12px 3px 0'><b>{html.escape(what)}</b></td>"
                   f"<td style='padding:3px 0'>{html.escape(how)}</td></tr>" for what, how in KEYS_AND_MOUSE)
    return f"<table>{rows}</table>"


class KeysDialog(QDialog):
    """Help > Keyboard and Mouse: every action a user can take without the menus."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard and mouse — ResNet Explorer")
        self.text = QTextBrowser()
        self.text.setHtml(keys_and_mouse_html())
        self.text.setOpenLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(760, 560)


@dataclass(frozen=True)
class TourStep:
    title: str
    text: str
    target: str  # palette, stage, inspector, training, gradflow, experiments


TOUR: tuple[TourStep, ...] = (
    TourStep("Blocks", "Drag a block kind from here onto a stage to add a block; drag “New stage” between "
             "two stages to add a stage. The legend below says what each colour and line style means.",
             "palette"),
    TourStep("A stage", "A stage is a run of blocks working at one size. Click a block to select it. The "
             "line on its right is the skip connection: click the small switch on it to turn the skip "
             "off or on (Ctrl+Z undoes it).", "stage"),
    TourStep("Inspector", "The selected block's kind, width, stride and shortcut, with its shapes and "
             "parameter count. Every change here is one step in the Undo history below.", "inspector"),
    TourStep("Training", "Start trains the open network on the built-in shapes images; the loss starts "
             "falling within seconds. Runs stay in the list so you can compare them.", "training"),
    TourStep("Gradient flow", "How much gradient reaches each block: switch skips off and watch the "
             "early blocks go dark.", "gradflow"),
    TourStep("Experiments", "Ready-made classroom experiments, each in its own window and each ending in "
             f"words: {', '.join(titles()[:-1])} and {titles()[-1]}.", "experiments"),
)


def should_show_tour(settings) -> bool:
    return not settings.value(TOUR_SEEN_KEY, False, type=bool)


class _Outline(QWidget):
    """An amber outline around the part of the window a tour step is about; lets clicks through."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(COLOUR.tour_accent), 5))
        painter.drawRoundedRect(self.rect().adjusted(3, 3, -3, -3), 8, 8)


# What a sibling of the panel can do that moves or hides the part outlined (a raised sibling,
# which would cover the panel and outline, is handled just after it is raised).
_SIBLING_EVENTS = frozenset((QEvent.Type.Show, QEvent.Type.Hide, QEvent.Type.Move, QEvent.Type.Resize))
_OUTLINE_MARGIN = 4


class TourPanel(QFrame):
    """The tour over ``window`` (a ``MainWindow`` with its workbench): Back, Next, Close.

    The outline is drawn only round the part the current step names, and only while the panel
    shows; both are kept above the window's other children (Qt raises the diagram over them when a
    bottom tab is clicked). While the tour runs it watches the window and its direct children
    (docks, the diagram, tab bars) and, on the stage step, the diagram's repaints, so whatever
    moves, hides, floats, tabs away, scrolls or restacks them puts the outline where its part now
    is, or hides it. The tour ends on Escape, Close tour, Done, and when the window closes. It
    hides, outline and all, while a modal dialog blocks the window or another window of the app
    has the focus (a dialog, a floating panel), and comes back at the same step when the window
    has it again; going to another program leaves it as it is. Help > Tour while it shows starts
    it again from the first step.
    """

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.index = 0
        self.running = False  # started, not yet ended
        self.away = False  # hidden while a dialog or another of the app's windows is in front
        self._viewport: QWidget | None = None  # the diagram's, watched while the tour runs
        # A dock raised by its tab switches to it only if it is still on top when its own
        # ZOrderChange arrives, so the panel and outline go back on top just after, not during.
        self._restack = QTimer(self)
        self._restack.setSingleShot(True)
        self._restack.setInterval(0)
        self._restack.timeout.connect(self.sync)
        self.setObjectName("tourPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(f"#tourPanel {{ background: {COLOUR.note_fill}; border: 2px solid {COLOUR.tour_accent}; "
                           "border-radius: 6px; }")
        self.outline = _Outline(window)
        self.title = QLabel()
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.back_button = QPushButton("Back")
        self.next_button = QPushButton("Next")
        self.close_button = QPushButton("Close tour")
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        self.close_button.clicked.connect(self.finish)
        buttons = QHBoxLayout()
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self.hide()

    # -- steps --------------------------------------------------------------------------
    def start(self) -> None:
        self.index = 0
        if not self.running:
            self.running = True
            self._watch(True)
        modal = QApplication.activeModalWidget()
        self.away = modal is not None and modal is not self.window_
        self._show_step()

    @Slot()
    def next(self) -> None:
        if self.index + 1 >= len(TOUR):
            self.finish()
            return
        self.index += 1
        self._show_step()

    @Slot()
    def back(self) -> None:
        self.index = max(0, self.index - 1)
        self._show_step()

    @Slot()
    def finish(self) -> None:
        if self.running:
            self.running = False
            self._watch(False)
        self.hide()
        self.outline.hide()
        self.window_.settings.setValue(TOUR_SEEN_KEY, True)

    def step(self) -> TourStep:
        return TOUR[self.index]

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self.isHidden():  # hidden itself, not with the window (minimised): no outline without it
            self.outline.hide()
        super().hideEvent(event)

    def _show_step(self) -> None:
        step = TOUR[self.index]
        self.title.setText(f"<b>{html.escape(step.title)}</b> — tour, {self.index + 1} of {len(TOUR)}")
        self.text.setText(step.text)  # plain text: an escaped "block's" showed as "block&#x27;s"
        self.back_button.setEnabled(self.index > 0)
        self.next_button.setText("Done" if self.index + 1 == len(TOUR) else "Next")
        self._bring_forward(step.target)
        self.setFixedWidth(min(460, max(300, self.window_.width() // 3)))
        self.adjustSize()
        self.sync(place=True)

    def sync(self, place: bool = False) -> None:
        """Panel and outline as the window is now: the outline round the step's part where it is
        visible in the window, else none; nothing of the tour while it is away or ended. The panel
        moves (``place``, or when it would cover its part) beside the part."""
        if not self.running or self.away:
            self.outline.hide()
            self.hide()
            return
        target = self.target_rect(self.step().target)
        inside = self.window_.rect().contains(self.geometry())
        if place or not inside or (target.isValid() and self.geometry().intersects(target)):
            self._place(target)
        self.show()
        if target.isValid():
            # inside the window: an outline past its edge would be cut off there
            self.outline.setGeometry(target.adjusted(-_OUTLINE_MARGIN, -_OUTLINE_MARGIN,
                                                     _OUTLINE_MARGIN, _OUTLINE_MARGIN).intersected(self.window_.rect()))
            self.outline.show()
        else:
            self.outline.hide()
        self._on_top()

    def _on_top(self) -> None:
        """Outline and panel above the window's other children (raising repaints, so only if not)."""
        stack = [c for c in self.window_.children() if c.isWidgetType() and not c.isWindow()]
        if stack[-2:] != [self.outline, self]:
            self.outline.raise_()
            self.raise_()

    # -- watching the window while the tour runs --------------------------------------------
    def _watched(self) -> list[QObject]:
        ours = (self, self.outline)
        children = [c for c in self.window_.children() if c.isWidgetType() and c not in ours]
        return [self.window_, self._viewport, *children]

    def _watch(self, on: bool) -> None:
        self._viewport = self.window_.diagram.viewport()  # the stage step's part moves inside it
        for obj in self._watched():
            if on:
                obj.installEventFilter(self)
            else:
                obj.removeEventFilter(self)
        app = QApplication.instance()
        if on:
            app.focusWindowChanged.connect(self._on_focus_window)
        else:
            app.focusWindowChanged.disconnect(self._on_focus_window)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if not self.running:
            return False
        kind = event.type()
        w = self.window_
        if obj is w:
            if kind in (QEvent.Type.ChildAdded, QEvent.Type.ChildPolished):
                child = event.child()
                if child.isWidgetType() and child not in (self, self.outline):
                    child.installEventFilter(self)  # a new tab bar or floating dock: above it too
                    self.sync()
            elif kind == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape and not event.modifiers():
                self.finish()  # Escape that nothing in the window used (a dialog's own stays the dialog's)
                return True
            elif kind == QEvent.Type.Hide and not event.spontaneous():
                self.finish()  # the window closed
            elif kind in (QEvent.Type.WindowBlocked, QEvent.Type.WindowUnblocked):
                self._set_away(kind == QEvent.Type.WindowBlocked)
            elif kind == QEvent.Type.Resize:
                self.sync()
        elif obj is self._viewport:
            if kind in (QEvent.Type.Paint, QEvent.Type.Resize) and self.step().target == "stage":
                self.sync()  # scrolled, zoomed or laid out again: the stage moved
        elif kind in _SIBLING_EVENTS:
            self.sync()
        elif kind == QEvent.Type.ZOrderChange:
            self._restack.start()
        return False

    @Slot(object)
    def _on_focus_window(self, focus) -> None:
        """Away while another of the app's windows has the focus; back when the window has it, or
        when the app has none (the user went to another program: the tour stays as it was)."""
        if focus is not None and focus.type() in (Qt.WindowType.Popup, Qt.WindowType.ToolTip):
            return  # a menu, a combo box's list or a tooltip over the window
        modal = QApplication.activeModalWidget()
        blocked = modal is not None and modal is not self.window_
        self._set_away(blocked or (focus is not None and focus is not self.window_.windowHandle()))

    def _set_away(self, away: bool) -> None:
        if away != self.away:
            self.away = away
            self.sync()

    # -- where each step's part is ------------------------------------------------------------
    def _bring_forward(self, target: str) -> None:
        """Show the part a step is about: its dock in front, the first stage scrolled into view."""
        w = self.window_
        bench = getattr(w, "workbench", None)
        if target == "palette":
            w.palette_dock.show()
            w.palette_dock.raise_()
        elif target == "inspector":
            w.inspector_dock.raise_()
        elif target in ("training", "gradflow") and bench is not None:
            dock = bench.training_dock if target == "training" else bench.gradflow_dock
            dock.show()
            dock.raise_()
        elif target == "stage":
            frame = w.diagram.scene().frame_item(0)
            if frame is not None:
                w.diagram.ensureVisible(frame.sceneBoundingRect(), 20, 20)

    def target_rect(self, target: str) -> QRect:
        """Where ``target`` is now, in the window's coordinates; an empty rect where it is not to be
        seen in the window (closed, floating, a tab behind another, scrolled out of view)."""
        w = self.window_
        bench = getattr(w, "workbench", None)
        widget = None
        if target == "palette":
            widget = w.palette_dock
        elif target == "inspector":
            widget = w.inspector_dock
        elif target in ("training", "gradflow") and bench is not None:
            # the part the words are about (Start and the settings; the plots), not the whole dock:
            # the panel then goes beside it, never over the Start button it describes
            dock = bench.training_dock if target == "training" else bench.gradflow_dock
            if dock.isFloating():
                return QRect()
            widget = bench.training.settings_part() if target == "training" else bench.gradflow.plots
        elif target == "stage":
            view = w.diagram
            frame = view.scene().frame_item(0)
            if frame is None or not view.isVisible():
                return QRect()
            rect = view.mapFromScene(frame.sceneBoundingRect()).boundingRect()
            rect = rect.intersected(view.viewport().rect())
            return QRect(view.viewport().mapTo(w, rect.topLeft()), rect.size()) if rect.isValid() else QRect()
        elif target == "experiments":
            bar = w.menuBar()
            action = next((a for a in bar.actions() if a.text().replace("&", "") == "Experiments"), None)
            if action is None or not bar.isVisible():
                return QRect()
            rect = bar.actionGeometry(action)
            return QRect(bar.mapTo(w, rect.topLeft()), rect.size())
        if widget is None or not widget.isVisible() or widget.window() is not w:
            return QRect()
        rect = QRect(widget.mapTo(w, QPoint(0, 0)), widget.size())
        return rect.intersected(w.rect())

    def _place(self, target: QRect) -> None:
        """Beside the target where there is room, else over the diagram's middle."""
        w = self.window_
        size = self.size()
        area = w.rect().adjusted(8, 8, -8, -8)
        if not target.isValid():
            self.move(area.center() - QPoint(size.width() // 2, size.height() // 2))
            return
        # above or below: as far left as the part, but inside the window (a part at its left edge)
        x = min(max(target.left(), area.left()), area.right() - size.width())
        y = min(max(target.top(), area.top()), area.bottom() - size.height())  # beside: likewise
        candidates = [QPoint(target.right() + 16, y),
                      QPoint(target.left() - size.width() - 16, y),
                      QPoint(x, target.bottom() + 16),
                      QPoint(x, target.top() - size.height() - 16)]
        for point in candidates:
            if area.contains(QRect(point, size)):
                self.move(point)
                return
        inside = QPoint(min(max(target.left() + 16, area.left()), area.right() - size.width()),
                        min(max(target.top() + 16, area.top()), area.bottom() - size.height()))
        self.move(inside)
