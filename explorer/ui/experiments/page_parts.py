"""The parts every Experiments page is built from: the Run/Stop row, the settings column on the
left, the words under the plots, and (for the pages that train) stopping and closing mid-run."""
from __future__ import annotations

from html import escape

from PySide6.QtCore import QEvent, QSize, Qt, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QFileDialog, QFormLayout, QFrame, QHBoxLayout, QLabel, QLayout, QLineEdit,
                               QProgressBar, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget)

from ..presenter import follow_presenter
from ..stop_on_close import stop_and_close
from ..theme import COLOUR, Theme

ERROR_STYLE = f"color: {COLOUR.error_text};"


def run_stop_buttons(page, run_text: str, run_tip: str = "", stop_tip: str = "") -> QHBoxLayout:
    """``page.run_button`` and ``page.stop_button``, wired to ``page.run`` and ``page.stop``, in a row."""
    page.run_button = QPushButton(run_text)
    if run_tip:
        page.run_button.setToolTip(run_tip)
    page.stop_button = QPushButton("Stop")
    if stop_tip:
        page.stop_button.setToolTip(stop_tip)
    page.run_button.clicked.connect(page.run)
    page.stop_button.clicked.connect(page.stop)
    buttons = QHBoxLayout()
    for b in (page.run_button, page.stop_button):
        b.setMinimumHeight(34)
        buttons.addWidget(b)
    return buttons


def progress_bar(maximum: int | None = None) -> QProgressBar:
    """A progress bar without text; ``maximum``: its range is 0..maximum (else Qt's 0..100)."""
    bar = QProgressBar()
    if maximum is not None:
        bar.setRange(0, maximum)
    bar.setTextVisible(False)
    return bar


def status_line(text: str = "") -> QLabel:
    """The wrapped line under the buttons that says what is happening (see ``say``)."""
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class SettingsColumn(QScrollArea):
    """The left column of a page: its parts top to bottom, scrolling where the screen is too small.

    At normal text size it is 300 to 420 pixels wide, in presenter mode as much wider as the text
    grew; within that it takes the width its content asks for. Content taller than the window (a
    projector's 720 pixels) scrolls instead of being squeezed, and content wider than the column
    scrolls sideways: the column never makes the page wider or taller than the screen.
    """

    WIDTHS = (300, 420)

    def __init__(self, items: list):
        super().__init__()
        self.body = QWidget()
        lay = QVBoxLayout(self.body)
        lay.setContentsMargins(8, 8, 8, 8)
        for item in items:
            if isinstance(item, int):
                lay.addSpacing(item)
            elif isinstance(item, QLayout):
                lay.addLayout(item)
            else:
                lay.addWidget(item)
        lay.addStretch(1)
        self.setWidget(self.body)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        follow_presenter(self._on_presenter)

    @Slot(bool)
    def _on_presenter(self, on: bool) -> None:
        scale = Theme(presenter=on).scale
        self.setMinimumWidth(round(self.WIDTHS[0] * scale))
        self.setMaximumWidth(round(self.WIDTHS[1] * scale))
        self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        width = self.body.sizeHint().width() + self.verticalScrollBar().sizeHint().width()
        return QSize(min(max(width, self.minimumWidth()), self.maximumWidth()), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self.minimumWidth(), 0)


def settings_column(items: list) -> SettingsColumn:
    """The left column: ``items`` top to bottom (widgets, layouts, or a number of pixels of space),
    then whatever room is left; see ``SettingsColumn``."""
    return SettingsColumn(items)


def words_label(min_height: int = 0) -> QLabel:
    """The label the result in words goes into: rich text, wrapped, selectable."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if min_height:
        label.setMinimumHeight(min_height)
    return label


class WordsArea(QScrollArea):
    """The words under the plots: as tall as they need, at most ``share`` of the window's height;
    beyond that they scroll, so every sentence stays readable and the plots keep their room (in
    presenter mode a result's sentences would otherwise squeeze the plots to a sliver)."""

    def __init__(self, label: QLabel, share: float = 0.42):
        super().__init__()
        self.label, self.share = label, share
        self.setWidget(label)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        label.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.label and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # new words: a new height
        return super().eventFilter(watched, event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self.updateGeometry()  # rewrapped words: a new height

    def cap(self) -> int:
        """The most height the words take: ``share`` of the window's height."""
        return int(self.share * self.window().height())

    def sizeHint(self) -> QSize:
        width = max(self.viewport().width(), 100)
        need = self.label.heightForWidth(width)
        need = max(need if need > 0 else self.label.sizeHint().height(), self.label.minimumHeight())
        return QSize(width, min(need + 2 * self.frameWidth(), self.cap()))

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.sizeHint().height())


def centred_label() -> QLabel:
    """A rich-text line under a plot (a legend, the latest values)."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    # wrapped: four networks' latest values in presenter mode are wider than a 1280 px screen's plot
    label.setWordWrap(True)
    return label


def words_html(headline: str, details, headline_points: float, detail_points: float,
               colour: str = COLOUR.ink, bold: bool = True) -> str:
    """The headline large (bold unless told), the explanation smaller (sizes already scaled for a projector).

    ``details`` is one text, or a result's sentences after its headline (``Words.sentences[1:]``: the
    same sentences the CLI prints, in order), the lessons' text among them in italics."""
    weight = "bold" if bold else "normal"
    html = (f"<div style='font-size:{headline_points:.1f}pt; font-weight:{weight}; color:{colour}'>"
            f"{escape(headline)}</div>")
    if details and not isinstance(details, str):
        details = " ".join(f"<i>{escape(s['text'])}</i>" if isinstance(s, dict) else escape(s) for s in details)
    elif details:
        details = escape(details)
    if details:
        html += f"<div style='font-size:{detail_points:.1f}pt; color:{COLOUR.verdict_detail}'>{details}</div>"
    return html


def side_by_side(page: QWidget, left: QWidget, right: QWidget) -> None:
    """The page's layout: the settings column, then the plots taking the rest of the width."""
    layout = QHBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(left)
    layout.addWidget(right, 1)


def plots_column(*items) -> QWidget:
    """The right-hand column: the plots and the words, top to bottom; an item is a widget, a layout,
    or ``(widget or layout, stretch)``."""
    right = QWidget()
    rl = QVBoxLayout(right)
    rl.setContentsMargins(4, 8, 8, 8)
    for item in items:
        thing, stretch = item if isinstance(item, tuple) else (item, 0)
        if isinstance(thing, QLayout):
            rl.addLayout(thing, stretch)
        else:
            rl.addWidget(thing, stretch)
    return right


def scale_font(label: QLabel, points: float) -> None:
    """``label`` in ``points`` (already scaled for a projector)."""
    font = QFont(label.font())
    font.setPointSizeF(points)
    label.setFont(font)


def checkpoint_rows(page: QWidget, form: QFormLayout, edits) -> None:
    """A row per ``(label, line edit)`` for a checkpoint file, each with a "…" button that browses for
    one; picking a file also checks ``page.from_files`` (the "from files" choice)."""
    for label, edit in edits:
        browse = QPushButton("…")
        browse.setFixedWidth(32)
        browse.clicked.connect(lambda _c=False, e=edit: browse_checkpoint(page, e))
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(browse)
        form.addRow(label, row)


def browse_checkpoint(page: QWidget, edit: QLineEdit) -> None:
    path, _ = QFileDialog.getOpenFileName(page, "Trained weights", edit.text(),
                                          "Checkpoints (*.pt *.pth);;All files (*)")
    if path:
        edit.setText(path)
        page.from_files.setChecked(True)


def say(status: QLabel, text: str, error: bool = False) -> None:
    """A status line; an error in dark red."""
    status.setText(text)
    status.setStyleSheet(ERROR_STYLE if error else "")


class ExperimentPage:
    """What every Experiments page has: ``self.worker`` runs the experiment off the GUI thread, and
    closing mid-run asks first (``CLOSE_TITLE``, ``CLOSE_QUESTION``); when the work does not end in
    time, ``STILL_FINISHING`` goes to the status line."""

    CLOSE_TITLE = "Experiment is running"
    CLOSE_QUESTION = ""
    STILL_FINISHING = ""

    def is_running(self) -> bool:
        return self.worker.is_running()

    def confirm_close(self, parent: QWidget | None = None) -> bool:
        """Ask before closing during a run; on yes, stop it and wait (at most 2 s)."""
        if not self.is_running():
            return True
        return stop_and_close(parent or self, self.CLOSE_TITLE, self.CLOSE_QUESTION, self.shutdown,
                              lambda: say(self.status, self.STILL_FINISHING, error=True))


class MeasuringPage(ExperimentPage):
    """A page that measures trained weights (the loss landscape, dropping blocks): a legend and the
    words (``self._words_parts``: headline, details) that scale with presenter mode, a status line."""

    CLOSE_TITLE = "Measuring"
    WORDS_POINTS = 16.0
    DETAIL_POINTS = 12.0
    LEGEND_POINTS = 12.5

    def set_presenter(self, on: bool) -> None:
        self._scale = Theme(presenter=on).scale
        scale_font(self.legend, self.LEGEND_POINTS * self._scale)
        self._render_words()

    def _render_words(self) -> None:
        """The headline large and bold, the explanation smaller; both scaled for a projector."""
        headline, details = self._words_parts
        self.words_label.setText(words_html(headline, details, self.WORDS_POINTS * self._scale,
                                            self.DETAIL_POINTS * self._scale))

    def _say(self, text: str, error: bool = False) -> None:
        say(self.status, text, error)

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        return self.worker.shutdown(timeout_s)


class StepwiseRun(ExperimentPage):
    """Stop, shut down and ask-before-closing for a page whose networks train one step each in
    turn (``self._stopping``, ``self.form``, the Run and Stop buttons, ``self.status``). A page
    names its close question and what it says while a net finishes."""

    WORDS_POINTS = 16.0
    DETAIL_POINTS = 12.0

    def _wire(self, make_runner, default_runner, base_settings) -> None:
        """The state every such page starts with: its worker (events and the run's end wired to
        ``_on_events`` and ``_on_run_ended``), its settings, nothing running."""
        from .worker import ExperimentWorker

        self._make_runner = make_runner or default_runner
        self.worker = ExperimentWorker(self)
        self.worker.eventsReady.connect(self._on_events)
        self.worker.runEnded.connect(self._on_run_ended)
        self.base_settings = base_settings
        self.settings_used = None
        self._progress: dict = {}
        self._started = 0.0
        self._stopping = False
        self._scale = 1.0

    def _render_words(self) -> None:
        """``self._words_parts`` (headline, details, colour) into ``self.words_label``, scaled for a projector."""
        headline, details, colour = self._words_parts
        self.words_label.setText(words_html(headline, details, self.WORDS_POINTS * self._scale,
                                            self.DETAIL_POINTS * self._scale, colour))


    def _update_buttons(self) -> None:
        running = self.is_running()
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running and not self._stopping)
        self.form.setEnabled(not running)

    def _form_settings(self, errors: tuple):
        """The form's settings over ``self.base_settings``; None, with the reason on the status line,
        when the form raises one of ``errors`` (a bad value)."""
        try:
            return self.form.settings(self.base_settings)
        except errors as err:
            say(self.status, str(err), error=True)
            return None

    def _fill_progress(self) -> bool:
        """The bar shows the steps every network has taken of all their steps (``self._progress``:
        network -> (steps done, total steps, ...)); False, and the bar left alone, while nothing has
        been reported yet or the run is stopping."""
        if not self._progress or self._stopping:
            return False
        done = sum(p[0] for p in self._progress.values())
        total = sum(p[1] for p in self._progress.values())
        self.progress.setValue(int(1000 * done / max(total, 1)))
        return True

    def stop(self) -> None:
        if self.is_running():
            self._stopping = True
            self.worker.stop()
            say(self.status, "Stopping after the current step…")
            self._update_buttons()

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        if self.is_running():
            self._stopping = True
            self._update_buttons()
        return self.worker.shutdown(timeout_s)
