"""The whole app in one window: the editor plus the training, gradient-flow and export parts.

``MainWindow`` (the editor) knows nothing of training or gradients; this module docks
the other panels into it and connects them:

- a run's block labels, streamed gradient columns and end reach the heatmap;
- the gradient probe measures the weights being trained (a copy taken between steps
  every two seconds), the last run's weights after it, fresh weights before any run,
  and only weights trained on this very network (same blocks, not since replaced by
  New or Open), each named: "trained, run #2 at step 1,200";
- the export dialog offers fresh weights and every finished run's weights;
- closing the window asks the training panel first (it stops its worker within 2 s),
  then shuts the probe thread down.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QKeySequence

from ..spec.fileformat import from_dict
from .experiments import ExperimentsMenu
from .gradflow import GradflowPanel
from .gradflow.weights import Weights, network_key, trained_words
from .icons import icon
from .main_window import MainWindow
from .training import TrainingPanel

BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea
SNAPSHOT_INTERVAL_MS = 2000  # how stale the probe's copy of the training weights may be


class Workbench(QObject):
    """Owns the connections between the editor window and the other panels."""

    def __init__(self, window: MainWindow, trainer_factory=None):
        super().__init__(window)
        self.window = window
        document = window.document
        self.training = TrainingPanel(document, trainer_factory=trainer_factory)
        self.gradflow = GradflowPanel(document)
        self.training_dock = window.add_panel("Training", self.training, BOTTOM)
        self.gradflow_dock = window.add_panel("Gradient flow", self.gradflow, BOTTOM)
        self.training_dock.raise_()

        # The probe measures the weights being trained: a copy taken between steps every
        # couple of seconds during a run, else the last run's final weights.
        self._live_weights: tuple[int, Weights] | None = None  # (run number, its latest copy)
        self._run_generation: dict[int, int] = {}  # run number -> document generation it trained
        self._run_weights: dict[int, Weights] = {}  # one object per finished run: the probe caches by it
        self._snapshot_timer = QTimer(self)
        self._snapshot_timer.setInterval(SNAPSHOT_INTERVAL_MS)
        self._snapshot_timer.timeout.connect(self._request_snapshot)
        self.gradflow.set_weights_source(self.current_weights)
        self.training.runStarted.connect(self._on_run_started)
        self.training.gradColumn.connect(self.gradflow.add_column)
        self.training.runFinished.connect(self._on_run_finished)

        self.experiments = ExperimentsMenu(window)  # Experiments > Degradation..., each in its own window
        window.add_close_guard(self.training.confirm_close)
        window.add_close_guard(self._shutdown_probe)
        self._export_dialog = None
        self._add_export_action()

    def _add_export_action(self) -> None:
        w = self.window
        self.export_network_action = w._action(
            "Export &Network...", self.open_export_dialog, "export_network", QKeySequence("Ctrl+Shift+E"),
            "Export the network with weights: TorchScript, torch.export, ONNX, PyTorch source or JSON")
        file_menu = w.menuBar().actions()[0].menu()
        file_menu.insertAction(w.export_action, self.export_network_action)
        w.toolbar.addAction(self.export_network_action)

    def weights_sources(self) -> list[tuple[str, str, dict | None]]:
        """``(key, label, state)`` for the export dialog: the key ("run:2") identifies a source across
        refreshes; the label uses the run's own number, the one the run list shows ("#2")."""
        sources: list[tuple[str, str, dict | None]] = [("fresh", "Fresh initialisation (seed 0)", None)]
        for entry in self.training.store:
            record = entry.record
            if record is not None and record.model_state is not None:
                sources.append((f"run:{entry.number}", f"Run #{entry.number}: {record.name} ({record.status})",
                                record.model_state))
        return sources

    @Slot()
    def open_export_dialog(self) -> None:
        from .export_dialog import ExportDialog  # loads torch: only when asked for

        if self._export_dialog is None:
            self._export_dialog = ExportDialog(self.window.document, self.weights_sources, self.window,
                                               settings=self.window.settings)
            self._export_dialog.setWindowIcon(icon("export_network"))
        else:
            self._export_dialog.refresh_weights()
        self._export_dialog.show()
        self._export_dialog.raise_()

    def current_weights(self) -> Weights | None:
        """What the gradient probe measures: the live run's latest copy, else the newest run's end,
        of a run on this network (same blocks, same document content); None: fresh weights."""
        document = self.window.document
        key = network_key(document.spec)
        for entry in reversed(list(self.training.store)):
            if self._run_generation.get(entry.number) != document.generation:
                continue
            try:
                if network_key(from_dict(entry.spec_json)) != key:
                    continue
            except Exception:  # noqa: BLE001 - an unreadable record cannot be this network's
                continue
            if entry.active:
                live = self._live_weights  # (run number, Weights): one tuple, replaced whole
                if live is not None and live[0] == entry.number:
                    return live[1]
                continue
            if entry.record is not None and entry.record.model_state is not None:
                cached = self._run_weights.get(entry.number)
                if cached is None or cached.state is not entry.record.model_state:
                    step = int(entry.steps.last) if len(entry.steps) else None
                    cached = self._run_weights[entry.number] = Weights(
                        entry.record.model_state, trained_words(entry.number, step, entry.status))
                return cached
        return None

    @Slot(object)
    def _on_run_started(self, labels) -> None:
        self._live_weights = None
        entry = self.training.store.active
        if entry is not None:
            self._run_generation[entry.number] = self.window.document.generation
        self.gradflow.begin_run(labels, f"run #{entry.number} ({entry.spec_name})" if entry is not None else "")
        self._snapshot_timer.start()

    @Slot()
    def _request_snapshot(self) -> None:
        if not self.gradflow.isVisible():
            return  # the panel probes only while shown; don't copy big nets' weights for nothing
        entry = self.training.store.active
        if entry is None:
            return

        # read here, on the GUI thread that grows entry.steps: the last step the panel has heard of
        # (the copy is at least that far on); the training thread gets plain numbers
        number, step = entry.number, (int(entry.steps.last) if len(entry.steps) else None)

        def grab(model) -> None:  # runs on the training thread, between two steps
            state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            self._live_weights = (number, Weights(state, trained_words(number, step, "running", at_least=True)))
        if not self.training.worker.call_between_steps(grab):
            self._snapshot_timer.stop()

    @Slot(object)
    def _on_run_finished(self, record) -> None:
        self._snapshot_timer.stop()
        self._live_weights = None
        self.gradflow.end_run()
        self.gradflow.refresh()  # measure the weights the run ended with
        if self._export_dialog is not None:
            self._export_dialog.refresh_weights()

    def _shutdown_probe(self, _window) -> bool:
        self.shutdown()
        return True

    @Slot()
    def shutdown(self) -> None:
        """Stop every background thread (training, probe, export); safe to call twice."""
        self.training.shutdown()
        self.gradflow.shutdown()
        self.experiments.shutdown()
        if self._export_dialog is not None:
            self._export_dialog.shutdown()


def build_window(document=None, settings=None, dialogs=None, trainer_factory=None) -> tuple[MainWindow, Workbench]:
    window = MainWindow(document, settings=settings, dialogs=dialogs)
    bench = Workbench(window, trainer_factory=trainer_factory)
    window.workbench = bench
    return window, bench
