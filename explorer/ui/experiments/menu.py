"""The Experiments menu (Degradation, Drop a Block, Depth Sweep, Loss Landscape, Pre/Post, Identity) and its windows.

Each experiment gets its own top-level window (made on first use, kept while the app
runs), so it can fill a projector's screen while the editor stays as it was. Closing
an experiment's window or the main window during a run asks first and then stops every
arm within two seconds.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QMainWindow, QVBoxLayout, QWidget

from .degradation_page import DegradationPage
from .dropblock_page import DropBlockPage
from .landscape_page import LandscapePage
from .prepost_page import PrePostPage

WINDOW_TITLE = "{} — ResNet Explorer"


class ExperimentWindow(QWidget):
    """A top-level window around one experiment page."""

    def __init__(self, title: str, page: QWidget, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(WINDOW_TITLE.format(title))
        self.page = page
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(page)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if not self.page.confirm_close(self):
            event.ignore()
            return
        super().closeEvent(event)


class ExperimentsMenu(QObject):
    """Adds Experiments > Degradation... to ``window``'s menu bar and owns the pages' windows."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.windows: dict[str, ExperimentWindow] = {}
        bar = window.menuBar()
        help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        self.menu = bar.addMenu("E&xperiments")
        if help_menu is not None:  # keep Help last
            bar.insertMenu(help_menu, self.menu)
        self.degradation_action = QAction("&Degradation…", self)
        self.degradation_action.setToolTip("Plain nets get worse on the training set as they get deeper; "
                                           "ResNets don't (He et al. 2016)")
        self.degradation_action.triggered.connect(self.open_degradation)
        self.menu.addAction(self.degradation_action)
        self.drop_block_action = QAction("Drop a &Block…", self)
        self.drop_block_action.setToolTip("Remove one block of a trained ResNet and of its plain twin and "
                                          "measure what is left (Veit et al. 2016)")
        self.drop_block_action.triggered.connect(self.open_drop_block)
        self.menu.addAction(self.drop_block_action)
        self._add_depth_sweep()
        self._add_look_inside_actions()
        window.add_close_guard(self.confirm_close)

    def _add_look_inside_actions(self) -> None:
        """Loss landscape and pre- vs post-activation (their own method: easy to merge with other entries)."""
        self.landscape_action = QAction("Loss &Landscape…", self)
        self.landscape_action.setToolTip("The loss around a trained ResNet and its plain twin along random "
                                         "directions (Li et al. 2018)")
        self.landscape_action.triggered.connect(self.open_landscape)
        self.menu.addAction(self.landscape_action)
        self.prepost_action = QAction("&Pre- vs Post-activation…", self)
        self.prepost_action.setToolTip("A post-activation ResNet against its pre-activation twin: training "
                                       "curves and gradient profiles (He et al. 2016)")
        self.prepost_action.triggered.connect(self.open_prepost)
        self.menu.addAction(self.prepost_action)
        self.identity_action = QAction("&Identity…", self)
        self.identity_action.setToolTip("Can a block output exactly its input? A plain block against a residual "
                                        "block, then stacks of them (the lessons' exercise)")
        self.identity_action.triggered.connect(self.open_identity)
        self.menu.addAction(self.identity_action)

    @Slot()
    def open_landscape(self) -> ExperimentWindow:
        win = self._open("landscape", "Loss landscape",
                         lambda: LandscapePage(degradation_source=self.degradation_result,
                                               editor_runs=self.editor_runs, sweep_source=self.sweep_result))
        win.page.refresh_sources()
        return win

    @Slot()
    def open_prepost(self) -> ExperimentWindow:
        return self._open("prepost", "Pre- vs post-activation", PrePostPage)

    @Slot()
    def open_identity(self) -> ExperimentWindow:
        from .identity_page import IdentityPage
        return self._open("identity", "Identity", IdentityPage)

    def editor_runs(self) -> list:
        """The runs trained in the editor's training panel (each ``RunRecord``), oldest first."""
        workbench = getattr(self.window, "workbench", None)
        training = getattr(workbench, "training", None)
        return training.run_records() if training is not None else []

    def _open(self, key: str, title: str, make_page) -> ExperimentWindow:
        win = self.windows.get(key)
        if win is None:
            win = ExperimentWindow(title, make_page(), self.window)
            win.setGeometry(self.window.geometry())  # as large as the editor: made for a projector
            self.windows[key] = win
        win.show()
        win.raise_()
        win.activateWindow()
        return win

    @Slot()
    def open_degradation(self) -> ExperimentWindow:
        return self._open("degradation", "Degradation", DegradationPage)

    def _add_depth_sweep(self) -> None:
        self.depth_sweep_action = QAction("Depth &Sweep…", self)
        self.depth_sweep_action.setToolTip("A plain net and a ResNet at every depth: final error against depth "
                                           "(the lessons' depth slider)")
        self.depth_sweep_action.triggered.connect(self.open_depth_sweep)
        self.menu.addAction(self.depth_sweep_action)

    @Slot()
    def open_depth_sweep(self) -> ExperimentWindow:
        from .depth_sweep_page import DepthSweepPage
        return self._open("depth_sweep", "Depth sweep", DepthSweepPage)

    @Slot()
    def open_drop_block(self) -> ExperimentWindow:
        win = self._open("drop_block", "Drop a block",
                         lambda: DropBlockPage(degradation_source=self.degradation_result))
        if not win.page.is_running():
            win.page.refresh_sources()
        return win

    def degradation_result(self):
        """``(settings, runner)`` of the last degradation run that ended, or None."""
        win = self.windows.get("degradation")
        page = win.page if win is not None else None
        if page is None or page.is_running() or page.runner is None or page.runner.error:
            return None
        return page.settings_used, page.runner

    def sweep_result(self):
        """``(settings, runner)`` of the last depth sweep that ended in this session, or None."""
        win = self.windows.get("depth_sweep")
        page = win.page if win is not None else None
        runner = getattr(page, "runner", None)
        if page is None or page.is_running() or runner is None or runner.error:
            return None
        return page.settings_used, runner

    def pages(self) -> list:
        return [w.page for w in self.windows.values()]

    def confirm_close(self, parent: QWidget | None = None) -> bool:
        """The main window's close guard: every running experiment asks, then stops."""
        return all(page.confirm_close(parent) for page in self.pages())

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        return all([page.shutdown(timeout_s) for page in self.pages()])
