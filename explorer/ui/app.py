"""Start the desktop app: one QApplication, one main window with CIFAR ResNet-20 loaded.

``explorer.launcher`` imports torch before calling ``run_gui`` (PySide6 after torch is the
order that works on Windows); the panels that need torch are docked by ``ui.app_window``.
"""
from __future__ import annotations

import sys

ORG_NAME = "ResNet Explorer"
APP_NAME = "ResNet Explorer"


def _palette():
    """A calm light palette on the Fusion style; the same on every desktop (or none)."""
    from PySide6.QtGui import QColor, QPalette

    from .theme import COLOUR

    pal = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colours = {
        role.Window: COLOUR.window, role.WindowText: COLOUR.ink, role.Text: COLOUR.ink,
        role.Base: COLOUR.field, role.AlternateBase: COLOUR.field_alternate,
        role.ToolTipBase: COLOUR.note_fill, role.ToolTipText: COLOUR.ink,
        role.Button: COLOUR.button, role.ButtonText: COLOUR.ink, role.BrightText: COLOUR.bright_text,
        role.Highlight: COLOUR.selection, role.HighlightedText: COLOUR.selection_text,
        role.Link: COLOUR.link, role.PlaceholderText: COLOUR.placeholder_text,
        role.Light: COLOUR.bevel_light, role.Midlight: COLOUR.bevel_midlight, role.Mid: COLOUR.bevel_mid,
        role.Dark: COLOUR.bevel_dark, role.Shadow: COLOUR.bevel_shadow,
    }
    for r, c in colours.items():
        pal.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(group.Disabled, r, QColor(COLOUR.disabled_text))
    return pal


def create_application(argv: list[str] | None = None):
    """The QApplication, named for QSettings and styled; reused when one exists already."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setStyle("Fusion")
    app.setPalette(_palette())
    return app


def place_window(window, app) -> None:
    """Restore the last layout, or fill the screen (also without a window manager, e.g. Xvfb)."""
    if window.restore_layout():
        window.show()
        return
    screen = app.primaryScreen()
    if screen is not None:
        window.setGeometry(screen.availableGeometry())
    window.show()
    window.showMaximized()  # a window manager maximises; without one the geometry above stays


def run_gui(argv: list[str] | None = None, quit_after: float | None = None) -> int:
    """Open the main window on the default preset and run the event loop; returns the exit code.

    ``quit_after`` (seconds) closes the app by itself then, as if the user had quit.
    """
    app = create_application(argv)
    from ..spec import DEFAULT_PRESET, preset
    from .document import Document
    from .icons import icon
    from .app_window import build_window

    from .main_thread_gc import MainThreadCollector
    from PySide6.QtCore import QTimer

    import torch

    from ..train.lesson import app_cpu_threads

    torch.set_num_threads(app_cpu_threads())  # one core stays with the GUI
    app.setWindowIcon(icon("app"))
    collector = MainThreadCollector(app)  # no Qt object may be destroyed by a worker thread's collection
    app.aboutToQuit.connect(collector.stop)
    window, bench = build_window(Document(preset(DEFAULT_PRESET)))
    app.aboutToQuit.connect(bench.shutdown)  # however the loop ends, no thread outlives it
    place_window(window, app)
    from .recovery import install, offer_restore

    install(window)  # autosave after changes; the file is removed on a normal quit
    QTimer.singleShot(0, lambda: offer_restore(window))  # after a crash: offer what was autosaved
    from .help_tour import TOUR_SEEN_KEY, should_show_tour

    if should_show_tour(window.settings):  # the first start for this user: a short tour, once
        window.settings.setValue(TOUR_SEEN_KEY, True)
        QTimer.singleShot(600, window.show_tour)  # once the docks have their sizes
    # Everything alive now (modules, classes, the main window) lives as long as the app: out of
    # the collector's way, and torch's compiler stack imported after the first paint (warm_up.py).
    collector.freeze()
    from .warm_up import warm_after_first_paint

    warm_after_first_paint(window, collector)
    if quit_after is not None:
        QTimer.singleShot(round(quit_after * 1000), window.close)
    return app.exec()
