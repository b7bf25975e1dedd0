"""The training panel: settings, Start / Pause / Stop, live plots and the session's runs.

The panel snapshots the document's spec and the form's settings, hands both to the
worker (which trains on its own thread) and appends the coalesced metrics it gets back
to the run store, a few times a second. Edits made during a run either reach the
worker between two steps (skip switches) or are refused with a message (anything that
changes the weights' shapes): the running network is never torn.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from ...spec import fileformat
from ...train.api import EpochMetrics, GradColumn, RunFinished, RunRecord, StepMetrics
from ...train.clock import clock
from ..document import Document, same_weights_layout
from ..stop_on_close import stop_and_close
from ..presenter import PaneWidth
from ..theme import COLOUR
from .csv_export import export_run
from .plots import TrainingPlots
from .run_list import RunList
from .runs import RunEntry, RunStore
from .settings_form import TrainingSettingsForm
from .words import progress_text, run_end_text
from .worker import RunOutcome, TrainingWorker

_MESSAGE_STYLES = {
    "info": f"color: {COLOUR.message_info_text}; background: {COLOUR.message_info_fill}; "
            f"border: 1px solid {COLOUR.message_info_border};",
    "warning": f"color: {COLOUR.message_warning_text}; background: {COLOUR.message_warning_fill}; "
               f"border: 1px solid {COLOUR.message_warning_border};",
    "error": f"color: {COLOUR.error_text}; background: {COLOUR.message_error_fill}; "
             f"border: 1px solid {COLOUR.message_error_border};",
}
SHAPE_EDIT_MESSAGE = ("This edit changes the network's shape: it will apply to the next run; "
                      "the current run keeps its network.")
ERRORS_DURING_RUN = "The design now has errors; the current run keeps its network."


def block_labels(spec) -> list[str]:
    """"stage 1, block 1", ... in depth order: the rows of the gradient heatmap."""
    return [f"stage {si + 1}, block {bi + 1}" for si, bi, _ in spec.iter_blocks()]


class TrainingPanel(QWidget):
    """Trains the open network and keeps this session's runs for comparison."""

    runStarted = Signal(object)  # list[str]: block labels in depth order
    gradColumn = Signal(object)  # explorer.train.api.GradColumn
    runFinished = Signal(object)  # explorer.train.api.RunRecord

    def __init__(self, document: Document, parent: QWidget | None = None, trainer_factory=None):
        super().__init__(parent)
        self.document = document
        self.store = RunStore()
        self.worker = TrainingWorker(self, trainer_factory=trainer_factory)
        self.worker.eventsReady.connect(self._on_events)
        self.worker.runEnded.connect(self._on_run_ended)
        self._active: RunEntry | None = None
        self._run_spec = None
        self._stopping = False
        self._started_at = 0.0
        self._build()
        document.specChanged.connect(self._on_spec_changed)
        self._show_network()
        self._update_buttons()

    # -- layout -----------------------------------------------------------------------
    def _build(self) -> None:
        self.network_label = QLabel()
        self.network_label.setWordWrap(True)
        self.network_label.setTextFormat(Qt.TextFormat.RichText)
        self.form = TrainingSettingsForm()
        scroll = QScrollArea()
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # sideways only when a projector's screen is too narrow for the column (``PaneWidth``)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train the open network with these settings")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("End the run after the step in progress; its curves stay in the list")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            b.setMinimumHeight(30)
            buttons.addWidget(b)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)  # the line below says where the run is
        self.progress_label = QLabel("Not running")
        self.progress_label.setWordWrap(True)
        self.message = QLabel()
        self._message_about_run = False  # the message speaks of the running network (see _say)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setContentsMargins(6, 4, 6, 4)
        self.message.hide()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 6, 6)
        left_layout.addWidget(self.network_label)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(self.progress_label)
        left_layout.addWidget(self.message)
        settings_title = self._settings_title = QLabel("<b>Settings</b>")
        settings_title.setContentsMargins(0, 8, 0, 0)
        left_layout.addWidget(settings_title)
        # the settings, and in a short panel the run list as a second tab (see _arrange)
        self.left_tabs = QTabWidget()
        self.left_tabs.setDocumentMode(True)
        self.left_tabs.tabBar().setAutoHide(True)
        self.left_tabs.addTab(scroll, "Settings")
        left_layout.addWidget(self.left_tabs, 1)
        self._settings_scroll, self._settings_column = scroll, left

        self.plots = TrainingPlots()
        self.run_list = RunList()
        self.run_list.visibilityChanged.connect(self._on_visibility)
        self.run_list.currentRunChanged.connect(lambda _entry: self._update_buttons())
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Write the selected run's per-epoch metrics, and a second file "
                                      "with its per-step loss and learning rate")
        self.export_button.clicked.connect(self._export_clicked)
        self.remove_button = QPushButton("Remove run")
        self.remove_button.clicked.connect(self._remove_clicked)
        runs_title = QLabel("<b>Runs this session</b> — tick runs to overlay them")
        runs_title.setWordWrap(True)
        runs_buttons = QHBoxLayout()
        runs_buttons.addStretch(1)
        runs_buttons.addWidget(self.remove_button)
        runs_buttons.addWidget(self.export_button)
        runs = QWidget()
        runs_layout = QVBoxLayout(runs)
        runs_layout.setContentsMargins(0, 4, 0, 0)
        runs_layout.addWidget(runs_title)
        runs_layout.addWidget(self.run_list, 1)
        runs_layout.addLayout(runs_buttons)
        self._runs = runs
        # at least 240 px, and never narrower than its buttons (in presenter mode their text is wider)
        self.run_list.setMinimumWidth(240)

        # tall: plots above the run list; short (a bottom dock): side by side
        self.right_splitter = right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.plots)
        right.addWidget(runs)
        right.setStretchFactor(0, 4)
        right.setStretchFactor(1, 1)
        right.setChildrenCollapsible(False)
        self._compact: bool | None = None

        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(left)
        outer.addWidget(right)
        outer.setStretchFactor(0, 0)
        outer.setStretchFactor(1, 1)
        outer.setChildrenCollapsible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(outer)
        # the settings column widens with presenter mode's larger text, so no field is cut off
        self.settings_width = PaneWidth(outer, left, self.form, self._settings_width_needed,
                                        self.COLUMN_WIDTHS)

    def settings_part(self) -> QWidget:
        """The column with Start, Pause, Stop and the settings (what the tour's training step outlines)."""
        return self._settings_column

    COLUMN_WIDTHS = (330, 460)  # the settings column's least and most width at normal text size

    def _settings_width_needed(self) -> int:
        """The settings column's width that shows every field of the form whole."""
        margins = self._settings_column.layout().contentsMargins()
        scroll = self._settings_scroll
        tabs = self.left_tabs  # its frame around the page, measured as it is laid out now
        frame = tabs.width() - scroll.width() if tabs.width() > scroll.width() > 0 else 0
        return (self.form.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
                + margins.left() + margins.right() + 2 * scroll.frameWidth() + frame)

    COMPACT_BELOW_PX = 600  # shorter than this, plots sit in one row with the run list beside

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._arrange(event.size().height() < self.COMPACT_BELOW_PX)

    def _arrange(self, compact: bool) -> None:
        if compact == self._compact:
            return
        self._compact = compact
        self.plots.set_one_row(compact)
        self.run_list.set_compact(compact)
        self.right_splitter.setOrientation(Qt.Orientation.Horizontal if compact
                                           else Qt.Orientation.Vertical)
        # Short (a bottom dock): the run list is a tab beside the settings, so the three plots in
        # one row get its width (beside them, it left each plot about 100 px on a 1280 px screen).
        if compact and self.left_tabs.indexOf(self._runs) < 0:
            self.left_tabs.addTab(self._runs, "Runs")
        elif not compact and self.left_tabs.indexOf(self._runs) >= 0:
            self.left_tabs.removeTab(self.left_tabs.indexOf(self._runs))
            self.right_splitter.addWidget(self._runs)
            self._runs.show()
        self._settings_title.setVisible(not compact)  # the tab names it
        QTimer.singleShot(0, self._share_right_side)  # once the splitter has its new size

    @Slot()
    def _share_right_side(self) -> None:
        if self._compact or self.right_splitter.count() < 2:
            return  # the plots alone
        total = self.right_splitter.height()
        runs = max(130, int(total * 0.16))
        self.right_splitter.setSizes([max(total - runs, 200), runs])

    # -- public interface -------------------------------------------------------------
    def is_running(self) -> bool:
        return self.worker.is_running()

    def run_records(self) -> list[RunRecord]:
        return self.store.records()

    def latest_model_state(self) -> dict | None:
        entry = self.store.latest_with_weights()
        return entry.record.model_state if entry is not None else None

    def confirm_close(self, parent: QWidget | None = None) -> bool:
        """Ask before closing during a run; on yes, stop and wait (at most 2 s)."""
        if not self.is_running():
            return True
        return stop_and_close(
            parent or self, "Training is running", "Training is running. Stop it and close?", self.shutdown,
            lambda: self._say("The run is still finishing its current step; close again in a moment.", "warning"))

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Stop any run and wait for its thread; True when no thread is left running."""
        if self.is_running():
            self._stopping = True
            self._update_buttons()
        return self.worker.shutdown(timeout_s)

    def export_csv(self, path, entry: RunEntry | None = None) -> list[Path]:
        """Write ``entry``'s (default: the selected run's) metrics; returns the files written."""
        entry = entry or self.run_list.current_run()
        if entry is None:
            raise ValueError("no run selected to export")
        return export_run(entry, path)

    # -- commands ---------------------------------------------------------------------
    @Slot()
    def start(self) -> bool:
        """Start a run of the open network; False (with a message) when it cannot start."""
        if self.is_running():
            return False
        problem = self.form.problem()
        if problem:
            self._say(problem, "error")
            return False
        spec = self.document.spec if self.document.valid else self.document.last_valid_spec
        if spec is None:
            self._say("The design has errors and there is no earlier valid version to train: fix the "
                      "errors shown in the editor first.", "error")
            return False
        if self.document.valid:
            self._say("", None)
        else:
            self._say("The design has errors: training its last valid version instead.", "warning")
        settings = self.form.settings()
        entry = self.store.new_run(spec.name, fileformat.to_dict(spec), settings)
        self._active, self._run_spec, self._stopping = entry, spec, False
        self._started_at = time.monotonic()
        self.run_list.add_run(entry)
        self.plots.show_run(entry)
        sinks = []
        if self.form.wants_tensorboard():
            from ...train.tb_log import TensorBoardSink
            stamp = time.strftime("%Y%m%d-%H%M%S")
            sinks.append(TensorBoardSink(Path("runs") / f"{stamp}-{spec.name}-run{entry.number}",
                                         block_labels(spec)))
        self.progress.setRange(0, 0)  # busy until the first steps report the total
        self.progress_label.setText(f"Preparing {settings.dataset.split(':')[0]} and the network…")
        self.worker.start(spec, settings, sinks)
        self._update_buttons()
        self.runStarted.emit(block_labels(spec))
        return True

    @Slot()
    def toggle_pause(self) -> None:
        if not self.is_running() or self._stopping:
            return
        if self.worker.paused:
            self.worker.resume()
        else:
            self.worker.pause()
            self.progress_label.setText("Paused: Resume to go on, Stop to end the run here.")
        if self._active is not None:
            self._active.paused = self.worker.paused
            self.run_list.update_run(self._active)
        self._update_buttons()

    @Slot()
    def stop(self) -> None:
        if not self.is_running():
            return
        self._stopping = True
        self.worker.stop()
        self.progress_label.setText("Stopping after the current step…")
        self._update_buttons()

    # -- worker -> panel --------------------------------------------------------------
    @Slot(list)
    def _on_events(self, events: list) -> None:
        entry = self._active
        if entry is None:
            return
        last_steps = None
        for event in events:
            if isinstance(event, StepMetrics):
                entry.add_steps(event)
                last_steps = event
            elif isinstance(event, EpochMetrics):
                entry.add_epoch(event)
            elif isinstance(event, GradColumn):
                self.gradColumn.emit(event)
            elif isinstance(event, RunFinished):
                entry.message = event.message  # the status follows when the thread is done
        self.plots.refresh(entry)
        self.run_list.update_run(entry)
        if last_steps is not None:
            self._show_progress(entry, last_steps)
        self._update_buttons()

    def _show_progress(self, entry: RunEntry, event: StepMetrics) -> None:
        step, total = int(event.steps[-1]), max(int(event.total_steps), 1)
        self.progress.setRange(0, total)
        self.progress.setValue(min(step, total))
        if self.worker.paused or self._stopping:
            return
        self.progress_label.setText(progress_text(step, total, event.epoch, entry.settings.epochs,
                                                  event.images_per_s, clock(event.eta_s)))

    @Slot(object)
    def _on_run_ended(self, outcome: RunOutcome) -> None:
        entry, self._active = self._active, None
        self._stopping = False
        self._run_spec = None
        self._clear_run_notes()  # "the current run keeps its network": there is no current run now
        if entry is None:
            return
        entry.paused = False
        record = outcome.record
        if record is None and not len(entry.steps):
            # nothing ran (a missing dataset folder, say): no run to keep
            self.store.remove(entry)
            self.run_list.remove_run(entry)
            self.plots.forget(entry)
            self._say(outcome.error or "The run could not start.", "error")
            self._reset_progress("Not running")
            self._update_buttons()
            return
        if record is None:  # crashed mid-run: keep what it reached
            record = RunRecord(name=entry.label, spec_json=entry.spec_json, settings=entry.settings,
                               steps=entry.steps.view.astype(int).tolist(), losses=entry.loss.view.tolist(),
                               lrs=entry.lr.view.tolist(), epochs=list(entry.epochs), status="failed",
                               message=outcome.error)
        entry.finish(record, record.status, record.message or outcome.error)
        self.plots.refresh(entry)
        self.run_list.update_run(entry)
        elapsed = clock(time.monotonic() - self._started_at)
        classes = int((record.spec_json or entry.spec_json).get("head", {}).get("num_classes", 0) or 0)
        ended = run_end_text(entry.number, entry.status, elapsed,
                             int(entry.steps.last) if len(entry.steps) else 0, entry.total_steps,
                             entry.epochs[-1] if entry.epochs else None, classes)
        if entry.status == "failed":
            self._say(f"Run #{entry.number} failed: {entry.message}", "error")
            self._reset_progress(ended)
        elif entry.status == "stopped":
            self._reset_progress(ended)
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self.progress_label.setText(ended)
        notes = getattr(record, "notes", None)
        if notes and entry.status != "failed":  # conversions the trainer made (channels, classes)
            self._say("Note: " + "; ".join(notes) + ".", "info")
        self._update_buttons()
        self._show_network()
        self.runFinished.emit(record)

    def _reset_progress(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_label.setText(text)

    # -- document -> panel ------------------------------------------------------------
    def _clear_run_notes(self) -> None:
        """Drop a message about the running network (a shape edit, errors) once it no longer holds."""
        if self._message_about_run:
            self._say("", None)

    @Slot(object, object)
    def _on_spec_changed(self, new, old) -> None:
        if not self.is_running():
            self._clear_run_notes()
            self._show_network()
            return
        if not self.document.valid:
            self._say(ERRORS_DURING_RUN, "warning", about_run=True)
            return
        if same_weights_layout(self._run_spec, new):
            # only skip switches differ from the running network: flip them between two steps
            self.worker.call_between_steps(lambda model: model.apply_spec_skips(new))
            self._run_spec = new
            self._clear_run_notes()  # an undo back to the running network's shape
        else:
            self._say(SHAPE_EDIT_MESSAGE, "warning", about_run=True)

    def _show_network(self) -> None:
        doc = self.document
        spec = doc.spec if doc.valid else doc.last_valid_spec
        if spec is None:
            self.network_label.setText("<b>Network:</b> the design has errors; fix them to train.")
            return
        info = doc.info
        params = f" · {info.params:,} parameters" if info is not None else ""
        note = "" if doc.valid else f" <span style='color:{COLOUR.last_valid_note}'>(last valid version)</span>"
        self.network_label.setText(f"<b>Network:</b> {spec.name}{params}{note}")

    # -- list -> plots ----------------------------------------------------------------
    @Slot(object, bool)
    def _on_visibility(self, entry: RunEntry, shown: bool) -> None:
        if shown:
            self.plots.show_run(entry)
        elif not entry.active:
            self.plots.hide_run(entry)

    def set_run_visible(self, entry: RunEntry, shown: bool) -> None:
        self.run_list.set_checked(entry, shown)

    @Slot()
    def _export_clicked(self) -> None:
        entry = self.run_list.current_run()
        if entry is None:
            return
        default = f"run{entry.number}-{entry.spec_name}.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", default, "CSV files (*.csv)")
        if not path:
            return
        try:
            written = self.export_csv(path, entry)
        except OSError as exc:
            self._say(f"Could not write {path}: {exc.strerror or exc}", "error")
            return
        self._say("Wrote " + " and ".join(str(p) for p in written), "info")

    @Slot()
    def _remove_clicked(self) -> None:
        entry = self.run_list.current_run()
        if entry is None or entry.active:
            return
        self.plots.forget(entry)
        self.run_list.remove_run(entry)
        self.store.remove(entry)
        self._update_buttons()

    # -- state ------------------------------------------------------------------------
    def _say(self, text: str, level: str | None, about_run: bool = False) -> None:
        """Show ``text``; ``about_run``: it is about the running network (a shape edit, errors) and is
        dropped once that no longer holds."""
        self._message_about_run = about_run and bool(text)
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if text and level:
            self.message.setStyleSheet(_MESSAGE_STYLES[level] + " border-radius: 3px;")

    def _update_buttons(self) -> None:
        running = self.is_running()
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running and not self._stopping)
        self.stop_button.setEnabled(running and not self._stopping)
        self.pause_button.setText("Resume" if running and self.worker.paused else "Pause")
        self.form.setEnabled(not running)
        current = self.run_list.current_run()
        self.export_button.setEnabled(current is not None and len(current.steps) > 0)
        self.remove_button.setEnabled(current is not None and not current.active)
