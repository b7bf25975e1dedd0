"""The main window: the diagram in the middle, palette, inspector, history and problems around it.

Other panels (training, gradient flow) join through ``add_panel``; anything that must
run before the window closes (stopping a training run) joins through
``add_close_guard``. The window never holds a copy of the spec: it reads
``document.spec`` / ``document.info`` whenever they change.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QFont, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QLabel, QMainWindow, QMenu, QTabBar,
                               QTabWidget, QToolBar, QToolButton, QUndoView, QWidget)

from ..spec import DEFAULT_PRESET, PRESETS, preset
from .canvas import DiagramView
from .document import Document
from .edit_menu import EditCommands
from .file_actions import Dialogs, FileActions
from .help_tour import KeysDialog, TourPanel
from .formatting import macs_text, params_text
from .icons import icon
from .inspector import Inspector
from .problems import ProblemsPanel
from .presenter import presenter_mode
from .theme import COLOUR, Theme
from .docks import DockTitleBar, PresenterLayout, SidePanel

APP_TITLE = "ResNet Explorer"
PRESENTER_KEY = "view/presenter"
ORIENTATION_KEY = "view/orientation"
GEOMETRY_KEY = "window/geometry"
STATE_KEY = "window/state"
BASE_FONT_PROPERTY = "explorerBaseFont"
# Height of the bottom dock area as a share of the window's: Problems alone needs a few
# lines; training and gradient plots need real height, but in presenter mode the diagram
# above them needs it more (a fit to a short window draws its text too small to read).
PROBLEMS_SHARE = 0.13
PLOTS_SHARE = 0.45
PRESENTER_PLOTS_SHARE = 0.40


def base_font() -> QFont:
    """The application font before presenter mode scaled it (remembered on the application)."""
    app = QApplication.instance()
    if app is None:
        return QFont()
    saved = app.property(BASE_FONT_PROPERTY)
    if isinstance(saved, QFont):
        return QFont(saved)
    app.setProperty(BASE_FONT_PROPERTY, QFont(app.font()))
    return QFont(app.font())


class MainWindow(QMainWindow):
    """One open network. ``document``, ``diagram``, ``inspector`` and ``problems`` are public."""

    def __init__(self, document: Document | None = None, settings: QSettings | None = None,
                 dialogs: Dialogs | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document if document is not None else Document(preset(DEFAULT_PRESET))
        if self.document.parent() is None:
            self.document.setParent(self)
        self.settings = settings if settings is not None else QSettings()
        self.dialogs = dialogs if dialogs is not None else Dialogs()
        self._close_guards: list[Callable[[QWidget], bool]] = []
        self._bottom_docks: list[QDockWidget] = []
        self._base_font = base_font()
        self.setWindowIcon(icon("app"))
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        # Side panels run the full height; bottom panels sit under the diagram, tabs on top.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setTabPosition(Qt.DockWidgetArea.BottomDockWidgetArea, QTabWidget.TabPosition.North)

        self.diagram = DiagramView(self.document)
        self.setCentralWidget(self.diagram)
        self.files = FileActions(self, self.settings, self)
        self.inspector = Inspector(self.document)
        self.problems = ProblemsPanel(self.document)
        self.history = QUndoView(self.document.undo_stack)
        self.history.setEmptyLabel("Start")
        self.history.setCleanIcon(icon("save"))  # marks the state that matches the saved file
        self.history.setObjectName("undoHistory")
        self._build_docks()
        self.edit_commands = EditCommands(self)  # Delete, Duplicate, Select All, Toggle Skip
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()

        doc = self.document
        doc.modifiedChanged.connect(self.setWindowModified)
        doc.pathChanged.connect(self._update_title)
        doc.specChanged.connect(self._on_spec_changed)
        self.problems.problemCountChanged.connect(self._on_problem_count)
        self._update_title()
        self._update_status()
        self._restore_view_settings()

    # -- docks ---------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setTitleBarWidget(DockTitleBar(dock))
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.side_panel = SidePanel()
        self.palette_widget = self.side_panel.palette_widget
        self.legend_widget = self.side_panel.legend_widget
        self.palette_dock = self._dock("Blocks", "paletteDock", self.side_panel, left)
        self.inspector_dock = self._dock("Inspector", "inspectorDock", self.inspector, right)
        self.history_dock = self._dock("Undo history", "historyDock", self.history, right)
        self.splitDockWidget(self.inspector_dock, self.history_dock, Qt.Orientation.Vertical)
        self.problems_dock = self._dock("Problems", "problemsDock", self.problems,
                                        Qt.DockWidgetArea.BottomDockWidgetArea)
        self._bottom_docks.append(self.problems_dock)
        self.presenter_layout = PresenterLayout(self, self.palette_dock, self.inspector_dock)
        self._layout_pending = True  # default dock sizes are applied at the first show
        self._normal_bottom_height: int | None = None  # the bottom area's height before presenter mode
        self._fitted_once = False

    def _apply_default_dock_sizes(self) -> None:
        """Inspector tall, history short, problems a few lines; sized to the window as shown."""
        height = max(self.height(), 400)
        self.resizeDocks([self.palette_dock, self.inspector_dock], [280, 400], Qt.Orientation.Horizontal)
        self.resizeDocks([self.inspector_dock, self.history_dock], [int(height * 0.62), int(height * 0.16)],
                         Qt.Orientation.Vertical)
        self._size_bottom_area()

    def _size_bottom_area(self, height: int | None = None) -> None:
        """The bottom docks at ``height`` pixels, or at their share of the window (see above)."""
        if height is None:
            share = PROBLEMS_SHARE if len(self._bottom_docks) == 1 else (
                PRESENTER_PLOTS_SHARE if self.presenter_action.isChecked() else PLOTS_SHARE)
            height = int(max(self.height(), 400) * share)
        self.resizeDocks([self._bottom_docks[-1]], [height], Qt.Orientation.Vertical)

    def _bottom_area_height(self) -> int | None:
        """Height of the docked bottom area as shown now (the size ``resizeDocks`` takes, tabs
        included); None when nothing is docked there."""
        for dock in self._bottom_docks:
            # a tab behind another still counts as visible, with a stale size: only the one in front
            if dock.isVisible() and not dock.visibleRegion().isEmpty() and not dock.isFloating() \
                    and self.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea:
                top = dock.geometry().top()
                tabs = [bar.height() for bar in self.findChildren(QTabBar) if bar.parent() is self
                        and bar.isVisible() and abs(bar.geometry().bottom() + 1 - top) <= 1]
                return dock.height() + max(tabs, default=0)
        return None

    def _resize_bottom_for_presenter(self, on: bool) -> None:
        """Presenter mode gives the diagram more height; leaving it gives the plots theirs back."""
        if self._layout_pending or len(self._bottom_docks) == 1:
            return  # the first show sizes the docks for the mode it finds
        shown = self._bottom_area_height()
        if shown is None:
            return
        if on:
            self._normal_bottom_height = shown
            self._size_bottom_area()
        else:
            self._size_bottom_area(self._normal_bottom_height)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._layout_pending:
            self._layout_pending = False
            self._apply_default_dock_sizes()
            # The first added panel (training) is in front unless there are problems to see.
            if len(self._bottom_docks) > 1:
                front = self._bottom_docks[1] if self.document.valid else self.problems_dock
                QTimer.singleShot(0, front.raise_)  # after the tab bar exists
        if not self._fitted_once:
            self._fitted_once = True
            self.diagram.fit_soon()  # once the docks have their sizes

    def add_panel(self, title: str, widget: QWidget,
                  area=Qt.DockWidgetArea.BottomDockWidgetArea) -> QDockWidget:
        """Dock another panel (training, gradient flow); bottom panels share tabs with Problems."""
        name = "panel_" + "".join(ch if ch.isalnum() else "_" for ch in title.lower())
        dock = self._dock(title, name, widget, area)
        if area == Qt.DockWidgetArea.BottomDockWidgetArea:
            # Plots need width: bottom panels now run the whole width under the side docks.
            self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
            self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
            self.tabifyDockWidget(self._bottom_docks[-1], dock)
            self._bottom_docks.append(dock)
            QTimer.singleShot(0, dock.raise_)  # in front once the tab bar exists
            if not self._layout_pending:
                self._size_bottom_area()
        self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def add_close_guard(self, guard: Callable[[QWidget], bool]) -> None:
        """``guard(window)`` runs when the window is about to close; returning False keeps it open."""
        self._close_guards.append(guard)

    # -- actions ----------------------------------------------------------------
    def _action(self, text: str, slot, icon_name: str | None = None, shortcut=None,
                tip: str | None = None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(icon(icon_name))
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                action.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.setCheckable(checkable)
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda checked=False: slot())
        return action

    def _build_actions(self) -> None:
        f, d = self.files, self.diagram
        self.open_action = self._action("&Open...", f.open, "open", QKeySequence.StandardKey.Open,
                                        "Open a network file")
        self.save_action = self._action("&Save", f.save, "save", QKeySequence.StandardKey.Save,
                                        "Save the network")
        self.save_as_action = self._action("Save &As...", f.save_as, "save_as", "Ctrl+Shift+S",
                                           "Save the network under a new name")
        self.export_action = self._action("&Export Diagram as PNG/SVG...", f.export_image, "export_image",
                                          "Ctrl+E", "Save the diagram as a PNG or SVG picture for slides")
        self.quit_action = self._action("&Quit", self.close, "quit", QKeySequence.StandardKey.Quit)
        stack = self.document.undo_stack
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setIcon(icon("undo"))
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setIcon(icon("redo"))
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.zoom_in_action = self._action("Zoom &In", d.zoom_in, "zoom_in", ["Ctrl++", "Ctrl+="])
        self.zoom_out_action = self._action("Zoom &Out", d.zoom_out, "zoom_out", "Ctrl+-")
        self.reset_zoom_action = self._action("&Actual Size", d.reset_zoom, "zoom_reset", "Ctrl+0")
        self.fit_action = self._action("&Fit to Window", d.fit_to_window, "fit", "Ctrl+F",
                                       "Zoom so the whole network fits")
        self.vertical_action = self._action("Top to &Bottom", lambda on: on and self.set_orientation("vertical"),
                                            "orientation_vertical", tip="Draw the network top to bottom",
                                            checkable=True)
        self.horizontal_action = self._action("&Left to Right",
                                              lambda on: on and self.set_orientation("horizontal"),
                                              "orientation_horizontal", tip="Draw the network left to right",
                                              checkable=True)
        group = QActionGroup(self)
        group.addAction(self.vertical_action)
        group.addAction(self.horizontal_action)
        self.vertical_action.setChecked(True)
        self.collapse_action = self._action("&Collapse All Stages", d.collapse_all, "collapse_all",
                                            tip="Fold every stage to one box")
        self.expand_action = self._action("&Expand All Stages", d.expand_all, "expand_all",
                                          tip="Show every block of every stage")
        self.presenter_action = self._action("&Presenter Mode", self.set_presenter, "presenter", "F5",
                                             "Larger text and thicker lines for a projector", checkable=True)
        for action in (self.undo_action, self.redo_action):
            self.addAction(action)  # keep the shortcuts alive while the menu bar is hidden

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.new_menu = file_menu.addMenu(icon("new"), "&New from Preset")
        family = None
        for name, row in PRESETS.items():
            # ImageNet, CIFAR residual, CIFAR plain and pre-activation rows, separated.
            if family is not None and (row.stem, row.kind.label == "Plain", row.preact) != family:
                self.new_menu.addSeparator()
            family = (row.stem, row.kind.label == "Plain", row.preact)
            action = self.new_menu.addAction(f"{name}  —  {row.summary}")
            action.setData(name)
            action.triggered.connect(lambda checked=False, n=name: self.files.new_from_preset(n))
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu(icon("recent"), "Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        for action in self.edit_commands.actions():
            edit_menu.addAction(action)

        view_menu = bar.addMenu("&View")
        for action in (self.zoom_in_action, self.zoom_out_action, self.reset_zoom_action, self.fit_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.vertical_action)
        view_menu.addAction(self.horizontal_action)
        view_menu.addSeparator()
        view_menu.addAction(self.collapse_action)
        view_menu.addAction(self.expand_action)
        view_menu.addSeparator()
        view_menu.addAction(self.presenter_action)
        view_menu.addSeparator()
        self.panels_menu = view_menu.addMenu(icon("panels"), "&Panels")
        for dock in (self.palette_dock, self.inspector_dock, self.history_dock, self.problems_dock):
            self.panels_menu.addAction(dock.toggleViewAction())

        help_menu = bar.addMenu("&Help")
        self.keys_action = help_menu.addAction("&Keyboard and Mouse…", self.show_keys)
        self.keys_action.setShortcut(QKeySequence.StandardKey.HelpContents)
        self.tour_action = help_menu.addAction("&Tour of the Window", self.show_tour)
        help_menu.addSeparator()
        help_menu.addAction("&About ResNet Explorer", self._about)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main toolbar", self)
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        new_action = QAction(icon("new"), "New from Preset", self)
        new_action.setToolTip("New network from a preset")
        new_action.setMenu(self.new_menu)
        self.new_action = new_action
        bar.addAction(new_action)
        button = bar.widgetForAction(new_action)
        if isinstance(button, QToolButton):
            button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)  # a click lists the presets
        for group in ((self.open_action, self.save_action), (self.undo_action, self.redo_action),
                      (self.zoom_in_action, self.zoom_out_action, self.fit_action),
                      (self.vertical_action, self.horizontal_action, self.collapse_action, self.expand_action),
                      (self.presenter_action, self.export_action)):
            bar.addSeparator()
            for action in group:
                bar.addAction(action)
        self.toolbar = bar
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.panels_menu.addAction(bar.toggleViewAction())

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.status_invalid = QLabel()
        self.status_invalid.setObjectName("statusInvalid")
        self.status_invalid.setStyleSheet(f"QLabel {{ color: {COLOUR.invalid_design}; font-weight: bold; }}")
        self.status_params = QLabel()
        self.status_macs = QLabel()
        self.status_depth = QLabel()
        self.status_output = QLabel()
        for label in (self.status_invalid, self.status_params, self.status_macs, self.status_depth,
                      self.status_output):
            label.setContentsMargins(8, 0, 8, 0)
            status.addPermanentWidget(label)

    # -- reacting to the document ---------------------------------------------------
    @Slot(object, object)
    def _on_spec_changed(self, new, old) -> None:
        self._update_status()
        if new.name != old.name and self.document.path is None:
            self._update_title()

    @Slot(int)
    def _on_problem_count(self, count: int) -> None:
        if count and not self.problems_dock.isHidden():
            self.problems_dock.raise_()

    def _update_title(self, *_args) -> None:
        self.setWindowTitle(f"{self.files.display_name()}[*] — {APP_TITLE}")
        self.setWindowModified(self.document.modified)

    def _update_status(self) -> None:
        info = self.document.info
        if info is None:
            n = len(self.document.errors)
            self.status_invalid.setText(f"Invalid design: {n} problem{'s' if n != 1 else ''}")
            self.status_invalid.show()
            for label in (self.status_params, self.status_macs, self.status_depth, self.status_output):
                label.hide()
            return
        self.status_invalid.hide()
        self.status_params.setText(f"Parameters: {params_text(info.params)}")
        self.status_macs.setText(f"MACs: {macs_text(info.macs)}")
        self.status_depth.setText(f"Depth: {info.depth}")
        self.status_output.setText(f"Output: {info.output_shape[0]} classes")
        for label in (self.status_params, self.status_macs, self.status_depth, self.status_output):
            label.show()

    # -- view settings ---------------------------------------------------------------
    def set_orientation(self, orientation: str) -> None:
        self.diagram.set_orientation(orientation)
        action = self.vertical_action if orientation == "vertical" else self.horizontal_action
        if not action.isChecked():
            action.setChecked(True)
        self.settings.setValue(ORIENTATION_KEY, orientation)

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        """Larger fonts app-wide and thicker lines in the diagram; remembered across runs."""
        if self.presenter_action.isChecked() != on:
            self.presenter_action.setChecked(on)  # re-enters through toggled
            return
        app = QApplication.instance()
        if app is not None:
            font = QFont(self._base_font)
            if on:
                size = self._base_font.pointSizeF()
                if size > 0:
                    font.setPointSizeF(size * Theme(presenter=True).scale)
                else:
                    font.setPixelSize(round(self._base_font.pixelSize() * Theme(presenter=True).scale))
            app.setFont(font)
        self.toolbar.setIconSize(self._icon_size(on))
        self.diagram.set_presenter(on)
        self.side_panel.set_presenter(on)
        presenter_mode().set_on(on)  # the plot panels follow this app-wide switch
        self.presenter_layout.set_on(on)
        self._resize_bottom_for_presenter(on)
        self.settings.setValue(PRESENTER_KEY, on)
        # Everything just grew (or shrank): show the whole network again once the layout settles.
        self.diagram.fit_soon()

    @staticmethod
    def _icon_size(presenter: bool) -> QSize:
        return QSize(32, 32) if presenter else QSize(24, 24)

    def _restore_view_settings(self) -> None:
        orientation = self.settings.value(ORIENTATION_KEY, "vertical", type=str)
        if orientation in ("vertical", "horizontal") and orientation != "vertical":
            self.set_orientation(orientation)
        self.toolbar.setIconSize(self._icon_size(False))
        if self.settings.value(PRESENTER_KEY, False, type=bool):
            self.presenter_action.setChecked(True)

    def restore_layout(self) -> bool:
        """Put the window and docks back where the user left them; False when nothing was saved."""
        geometry = self.settings.value(GEOMETRY_KEY)
        state = self.settings.value(STATE_KEY)
        restored = bool(geometry) and self.restoreGeometry(geometry)
        if state and self.restoreState(state):
            self._layout_pending = False  # the user's own dock sizes win
        return restored

    def _about(self) -> None:
        self.dialogs.info(self, "About ResNet Explorer",
                          "ResNet Explorer: build residual networks as diagrams, train them and see "
                          "why skip connections help very deep networks learn.")

    def show_keys(self) -> None:
        """Help > Keyboard and Mouse (not modal)."""
        if getattr(self, "keys_dialog", None) is None:
            self.keys_dialog = KeysDialog(self)
        self.keys_dialog.show()
        self.keys_dialog.raise_()

    def show_tour(self) -> None:
        """Help > Tour: the floating tour from its first step (not modal)."""
        if getattr(self, "tour", None) is None:
            self.tour = TourPanel(self)
        self.tour.start()

    def _fill_recent_menu(self) -> None:
        menu: QMenu = self.recent_menu
        menu.clear()
        missing = self.files.prune_recent()
        if missing:
            names = ", ".join(p.name for p in missing)
            self.statusBar().showMessage(f"Removed from Open Recent (file no longer exists): {names}", 8000)
        files = self.files.recent_files()
        for path in files:
            action = menu.addAction(f"{path.name}  —  {path.parent}")
            action.triggered.connect(lambda checked=False, p=path: self.files.open_recent(p))
        if not files:
            menu.addAction("No recent files").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear Menu", self.files.clear_recent)

    # -- closing -----------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if not self.files.maybe_save():
            event.ignore()
            return
        for guard in list(self._close_guards):
            if not guard(self):
                event.ignore()
                return
        self.settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self.settings.setValue(STATE_KEY, self.saveState())
        event.accept()

