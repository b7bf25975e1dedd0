"""The tour's outline never outlives its panel or points at the wrong place.

Every way the tour can end or be hidden, and every way the part a step names can move, hide,
float, tab away or be covered, is driven here; after each the outline must surround that part
where it now shows in the window (and be on top, with the panel), or be hidden. Where a part is
is worked out here from the widgets themselves, not with the tour's own ``target_rect``.
"""
import pytest
import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtCore import QPoint, QRect, QSettings, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox, QTabBar

from explorer.spec import preset
from explorer.ui.document import Document
from explorer.ui.help_tour import TOUR, TOUR_SEEN_KEY
from explorer.ui.theme import COLOUR

from fakes import FakeDialogs  # tests/ui is on sys.path (rootdir-relative imports)

MARGIN = 4  # the outline is this much larger than its part on every side
STEP = {step.target: i for i, step in enumerate(TOUR)}


@pytest.fixture
def toured(qtbot, tmp_path):
    """A 1600x1000 window, active, with the tour started at its first step."""
    from explorer.ui.app_window import build_window

    settings = QSettings(str(tmp_path / "tour.ini"), QSettings.Format.IniFormat)
    win, bench = build_window(Document(preset("resnet20")), settings=settings, dialogs=FakeDialogs())
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=30_000)
    win.tour_action.trigger()
    qtbot.waitUntil(lambda: _check(win, win.tour, shown=True))
    try:
        yield win, win.tour
    finally:
        bench.shutdown()
        win.close()
        win.deleteLater()


def _go_to(qtbot, win, tour, target: str) -> None:
    while tour.index < STEP[target]:
        tour.next_button.click()
    qtbot.waitUntil(lambda: _check(win, tour, shown=True))


def _part(win, target: str) -> QRect | None:
    """Where the part ``target`` can be seen in the window now, or None."""
    if target == "stage":
        view = win.diagram
        rect = view.mapFromScene(view.scene().frame_item(0).sceneBoundingRect()).boundingRect()
        rect = rect.intersected(view.viewport().rect())
        return QRect(view.viewport().mapTo(win, rect.topLeft()), rect.size()) if rect.isValid() else None
    if target == "experiments":
        bar = win.menuBar()
        action = next(a for a in bar.actions() if a.text().replace("&", "") == "Experiments")
        rect = bar.actionGeometry(action)
        return QRect(bar.mapTo(win, rect.topLeft()), rect.size())
    bench = win.workbench
    dock = {"palette": win.palette_dock, "inspector": win.inspector_dock,
            "training": bench.training_dock, "gradflow": bench.gradflow_dock}[target]
    if not dock.isVisible() or dock.isFloating():
        return None
    # the training step is about Start and the settings, the gradient step about the plots
    part = {"training": bench.training.settings_part(), "gradflow": bench.gradflow.plots}.get(target, dock)
    if not part.isVisible():
        return None
    rect = QRect(part.mapTo(win, QPoint(0, 0)), part.size()).intersected(win.rect())
    return rect if rect.isValid() else None


def _on_top(win, widget) -> bool:
    """Nothing else drawn in the window covers ``widget`` (children are stacked in list order)."""
    kids = [c for c in win.children() if c.isWidgetType() and not c.isWindow() and c.isVisible()]
    mine = kids.index(widget)
    return all(i < mine for i, kid in enumerate(kids)
               if kid.geometry().intersects(widget.geometry()) and kid not in (win.tour, win.tour.outline))


def _check(win, tour, shown: bool | None = None) -> None:
    """The outline surrounds the step's part, on top, with the panel on top too; or it is hidden
    because the panel is hidden or the part cannot be seen. ``shown``: the panel must (not) show."""
    outline = tour.outline
    part = _part(win, tour.step().target)
    if shown is not None:
        assert tour.isVisible() == shown
    if tour.isVisible():
        assert _on_top(win, tour), "something covers the tour's panel"
    if outline.isVisible():
        assert tour.isVisible(), "an outline without its panel"
        assert part is not None, f"an outline round {tour.step().target}, which is not to be seen"
        # round its part, and inside the window (at the window's edge it would be cut off)
        assert outline.geometry() == part.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN).intersected(win.rect()), \
            "the outline is not round its part"
        assert win.rect().contains(outline.geometry())
        assert _on_top(win, outline), "something covers the outline"
    elif tour.isVisible():
        assert part is None, f"{tour.step().target} shows but has no outline"


def _ended(win, tour) -> None:
    assert not tour.isVisible() and not tour.outline.isVisible()
    assert win.settings.value(TOUR_SEEN_KEY, False, type=bool)


def _click_tab(qtbot, win, title: str) -> None:
    bar = next(b for b in win.findChildren(QTabBar) if title in [b.tabText(i) for i in range(b.count())])
    i = [bar.tabText(i) for i in range(bar.count())].index(title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(i).center())


# -- the reported case: a tab click raised the diagram over the panel, not over the outline ------

def test_clicking_a_bottom_tab_leaves_the_panel_and_its_outline_on_top(qtbot, toured):
    win, tour = toured
    _click_tab(qtbot, win, "Gradient flow")
    qtbot.waitUntil(win.workbench.gradflow_dock.isVisible)
    qtbot.waitUntil(lambda: _check(win, tour, shown=True))
    assert tour.outline.isVisible()  # Blocks is still there, and still outlined


# -- ways the tour ends --------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["diagram", "name field", "tour button"])
def test_escape_ends_the_tour_and_its_outline(qtbot, toured, where):
    win, tour = toured
    widget = {"diagram": win.diagram, "name field": win.inspector.network_page.name,
              "tour button": tour.next_button}[where]
    qtbot.keyClick(widget, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: _ended(win, tour))
    _click_tab(qtbot, win, "Gradient flow")
    qtbot.waitUntil(win.workbench.gradflow_dock.isVisible)
    assert not tour.isVisible() and not tour.outline.isVisible()


@pytest.mark.parametrize("target", ["palette", "stage", "training", "experiments"])
def test_close_tour_ends_it_at_any_step(qtbot, toured, target):
    win, tour = toured
    _go_to(qtbot, win, tour, target)
    tour.close_button.click()
    _ended(win, tour)


def test_done_on_the_last_step_ends_it(qtbot, toured):
    win, tour = toured
    _go_to(qtbot, win, tour, "experiments")
    assert tour.next_button.text() == "Done"
    tour.next_button.click()
    _ended(win, tour)


def test_hiding_the_panel_takes_the_outline_with_it(qtbot, toured):
    win, tour = toured
    tour.hide()
    assert not tour.outline.isVisible()


def test_closing_the_window_ends_the_tour_for_good(qtbot, toured):
    win, tour = toured
    win.close()
    qtbot.waitUntil(lambda: not win.isVisible())
    _ended(win, tour)
    win.show()
    qtbot.waitExposed(win)
    assert not tour.isVisible() and not tour.outline.isVisible()


def test_the_help_menu_while_it_shows_starts_again_round_the_first_part(qtbot, toured):
    win, tour = toured
    _go_to(qtbot, win, tour, "training")
    win.palette_dock.close()
    win.tour_action.trigger()
    qtbot.waitUntil(lambda: _check(win, tour, shown=True))
    assert tour.index == 0 and tour.outline.isVisible()  # Blocks opened again, and outlined


# -- other windows in front ----------------------------------------------------------------------

def test_another_window_of_the_app_hides_it_until_the_window_has_the_focus_again(qtbot, toured):
    win, tour = toured
    _go_to(qtbot, win, tour, "inspector")
    win.show_keys()
    win.keys_dialog.activateWindow()
    qtbot.waitUntil(win.keys_dialog.isActiveWindow, timeout=30_000)
    qtbot.waitUntil(lambda: _check(win, tour, shown=False))
    assert not tour.outline.isVisible()
    win.keys_dialog.close()
    win.activateWindow()
    qtbot.waitUntil(lambda: _check(win, tour, shown=True))
    assert tour.index == STEP["inspector"] and tour.outline.isVisible()


def test_a_modal_dialog_hides_it_until_it_closes(qtbot, toured):
    win, tour = toured
    box = QMessageBox(QMessageBox.Icon.Information, "Note", "A modal note", QMessageBox.StandardButton.Ok, win)
    box.open()  # window-modal: blocks the main window
    qtbot.waitUntil(lambda: _check(win, tour, shown=False))
    assert not tour.outline.isVisible()
    box.accept()
    win.activateWindow()
    qtbot.waitUntil(lambda: _check(win, tour, shown=True))
    assert tour.outline.isVisible()
    box.deleteLater()


# -- the part a step names moves, hides, floats or tabs away --------------------------------------

@pytest.mark.parametrize("how", ["close", "hide from the View menu", "float", "tab with the Inspector",
                                 "resize", "resize the window"])
def test_the_outline_follows_the_blocks_dock(qtbot, toured, how):
    win, tour = toured
    dock = win.palette_dock
    before = tour.outline.geometry()
    part_before = _part(win, "palette")
    if how == "close":
        dock.close()
    elif how == "hide from the View menu":
        dock.toggleViewAction().trigger()
    elif how == "float":
        dock.setFloating(True)
    elif how == "tab with the Inspector":
        win.tabifyDockWidget(win.inspector_dock, dock)
    elif how == "resize":
        win.resizeDocks([dock], [dock.width() + 150], Qt.Orientation.Horizontal)
    else:
        win.resize(1300, 800)
    qtbot.waitUntil(lambda: _part(win, "palette") is None or _part(win, "palette") != part_before)
    qtbot.waitUntil(lambda: _check(win, tour, shown=True))
    assert tour.outline.geometry() != before or not tour.outline.isVisible()


@pytest.mark.parametrize("target, other", [("training", "Gradient flow"), ("gradflow", "Training")])
def test_a_tab_clicked_away_takes_the_outline_off_its_dock(qtbot, toured, target, other):
    win, tour = toured
    _go_to(qtbot, win, tour, target)
    assert tour.outline.isVisible()
    _click_tab(qtbot, win, other)
    qtbot.waitUntil(lambda: _part(win, target) is None)
    qtbot.waitUntil(lambda: _check(win, tour, shown=True))
    assert not tour.outline.isVisible()  # nothing outlined where the other panel now shows


@pytest.mark.parametrize("how", ["zoom in", "zoom out", "scroll"])
def test_the_stage_outline_follows_the_diagram(qtbot, toured, how):
    win, tour = toured
    _go_to(qtbot, win, tour, "stage")
    before = tour.outline.geometry()
    view = win.diagram
    if how == "zoom in":
        view.zoom_in()
    elif how == "zoom out":
        view.zoom_out()
    else:
        view.zoom_in()
        view.zoom_in()
        qtbot.waitUntil(lambda: _check(win, tour, shown=True))
        before = tour.outline.geometry()
        bar = view.verticalScrollBar()
        assert bar.maximum() > bar.minimum()
        bar.setValue(bar.value() + 60)
    qtbot.waitUntil(lambda: _part(win, "stage") != before.adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN))
    qtbot.waitUntil(lambda: _check(win, tour, shown=True))
    assert tour.outline.geometry() != before or not tour.outline.isVisible()


def test_following_the_stage_does_not_keep_the_diagram_repainting(qtbot, toured):
    """The stage's outline follows the diagram's repaints; putting it back on top must not cause
    another repaint, or the diagram repaints for as long as the step shows. Counted, not timed:
    every repaint of the diagram is followed, and none of them raises the outline or the panel
    (a raise is what repaints the diagram again), however many repaints the machine's timers add."""
    from PySide6.QtCore import QEvent, QObject

    win, tour = toured
    _go_to(qtbot, win, tour, "stage")

    class Count(QObject):
        def __init__(self, kind):
            super().__init__()
            self.kind, self.count = kind, 0

        def eventFilter(self, obj, event):  # noqa: N802
            self.count += event.type() == self.kind
            return False

    paints, raises = Count(QEvent.Type.Paint), Count(QEvent.Type.ZOrderChange)
    follows = []
    real_sync = tour.sync
    tour.sync = lambda *a, **k: follows.append(True) or real_sync(*a, **k)  # the viewport's filter calls it
    win.diagram.viewport().installEventFilter(paints)
    for widget in (tour, tour.outline):
        widget.installEventFilter(raises)
    try:
        for n in range(1, 4):
            win.diagram.viewport().update()
            qtbot.waitUntil(lambda: paints.count >= n and len(follows) >= n)  # repainted, and followed
        assert raises.count == 0  # already on top: following did not restack, so no repaint of its own
    finally:
        win.diagram.viewport().removeEventFilter(paints)
        for widget in (tour, tour.outline):
            widget.removeEventFilter(raises)
        del tour.sync


def test_every_step_reads_as_written_and_names_what_the_window_shows(qtbot, toured):
    win, tour = toured
    palette = win.side_panel.palette_widget
    entries = [palette.item(i).text() for i in range(palette.count())]
    seen = []
    for i in range(len(TOUR)):
        seen.append(tour.text.text())
        # what shows is the step's own words: no "block&#x27;s" from escaping a plain-text label
        assert tour.text.textFormat() == Qt.TextFormat.PlainText and "&#" not in tour.text.text()
        tour.next()
    assert "“New stage”" in seen[0] and "New stage" in entries  # the palette's own name for it
    # the tour's highlight is not the amber of a selected stage
    assert QColor(COLOUR.tour_accent) != QColor(COLOUR.selection_accent)
