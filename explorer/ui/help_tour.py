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

from PySide6.QtCore import QPoint, QRect, Qt, Slot
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFrame, QHBoxLayout, QLabel, QPushButton,
                               QTextBrowser, QVBoxLayout, QWidget)

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
    TourStep("Blocks", "Drag a block kind from here onto a stage to add a block; drag “Stage” between two "
             "stages to add a stage. The legend below says what each colour and line style means.",
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
    TourStep("Experiments", "Ready-made classroom experiments: Degradation (deeper plain nets train "
             "worse; ResNets don't) and Drop a Block.", "experiments"),
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


class TourPanel(QFrame):
    """The tour over ``window`` (a ``MainWindow`` with its workbench): Back, Next, Close."""

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.index = 0
        self.setObjectName("tourPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(f"#tourPanel {{ background: {COLOUR.note_fill}; border: 2px solid {COLOUR.tour_accent}; "
                           "border-radius: 6px; }")
        self.outline = _Outline(window)
        self.title = QLabel()
        self.text = QLabel()
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
        self.hide()
        self.outline.hide()
        self.window_.settings.setValue(TOUR_SEEN_KEY, True)

    def step(self) -> TourStep:
        return TOUR[self.index]

    def _show_step(self) -> None:
        step = TOUR[self.index]
        self.title.setText(f"<b>{html.escape(step.title)}</b> — tour, {self.index + 1} of {len(TOUR)}")
        self.text.setText(html.escape(step.text))
        self.back_button.setEnabled(self.index > 0)
        self.next_button.setText("Done" if self.index + 1 == len(TOUR) else "Next")
        target = self.target_rect(step.target)
        self.setFixedWidth(min(460, max(300, self.window_.width() // 3)))
        self.adjustSize()
        self._place(target)
        self.show()
        self.raise_()
        if target.isValid():
            self.outline.setGeometry(target.adjusted(-4, -4, 4, 4))
            self.outline.show()
            self.outline.raise_()
            self.raise_()
        else:
            self.outline.hide()

    def target_rect(self, target: str) -> QRect:
        """Where ``target`` is, in the window's coordinates (brought forward first)."""
        w = self.window_
        bench = getattr(w, "workbench", None)
        widget = None
        if target == "palette":
            w.palette_dock.show()
            w.palette_dock.raise_()
            widget = w.palette_dock
        elif target == "inspector":
            w.inspector_dock.raise_()
            widget = w.inspector_dock
        elif target in ("training", "gradflow") and bench is not None:
            dock = bench.training_dock if target == "training" else bench.gradflow_dock
            dock.show()
            dock.raise_()
            widget = dock
        elif target == "stage":
            view = w.diagram
            frame = view.scene().frame_item(0)
            if frame is None:
                return QRect()
            view.ensureVisible(frame.sceneBoundingRect(), 20, 20)
            rect = view.mapFromScene(frame.sceneBoundingRect()).boundingRect()
            rect = rect.intersected(view.viewport().rect())
            return QRect(view.viewport().mapTo(w, rect.topLeft()), rect.size())
        elif target == "experiments":
            bar = w.menuBar()
            action = next((a for a in bar.actions() if a.text().replace("&", "") == "Experiments"), None)
            if action is None:
                return QRect()
            rect = bar.actionGeometry(action)
            return QRect(bar.mapTo(w, rect.topLeft()), rect.size())
        if widget is None or not widget.isVisible():
            return QRect()
        return QRect(widget.mapTo(w, QPoint(0, 0)), widget.size())

    def _place(self, target: QRect) -> None:
        """Beside the target where there is room, else over the diagram's middle."""
        w = self.window_
        size = self.size()
        area = w.rect().adjusted(8, 8, -8, -8)
        if not target.isValid():
            self.move(area.center() - QPoint(size.width() // 2, size.height() // 2))
            return
        candidates = [QPoint(target.right() + 16, target.top()),
                      QPoint(target.left() - size.width() - 16, target.top()),
                      QPoint(target.left(), target.bottom() + 16),
                      QPoint(target.left(), target.top() - size.height() - 16)]
        for point in candidates:
            if area.contains(QRect(point, size)):
                self.move(point)
                return
        inside = QPoint(min(max(target.left() + 16, area.left()), area.right() - size.width()),
                        min(max(target.top() + 16, area.top()), area.bottom() - size.height()))
        self.move(inside)
