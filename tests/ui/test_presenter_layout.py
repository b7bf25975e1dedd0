"""Presenter mode on a projector-sized window: the diagram's text stays legible, nothing is cut off.

"Text scale" is the diagram's text size on screen relative to normal mode at 100%
(zoom x presenter scale): a fit to a short window used to shrink presenter mode's larger
text back to about half of normal.
"""
from __future__ import annotations

import pytest
import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QComboBox, QLineEdit, QPushButton

from explorer.spec import preset
from explorer.ui.canvas import DiagramView
from explorer.ui.canvas.fitting import (PRESENTER_MIN_TEXT, fit_zoom, smallest_text_px, text_scale_at,
                                       tick_label_px)
from explorer.ui.canvas.paint import text_width
from explorer.ui.canvas.layout import split_into_columns
from explorer.ui.document import Document
from explorer.ui.presenter import presenter_mode
from explorer.ui.theme import PRESENTER_SCALE
from explorer.ui.app_window import build_window

from fakes import FakeDialogs  # tests/ui is on sys.path (rootdir-relative imports)


@pytest.fixture(autouse=True)
def _presenter_off_afterwards():
    yield
    presenter_mode().set_on(False)


@pytest.fixture
def app_window(qtbot, tmp_path):
    """The whole app at 1600x1000 with the Training tab in front, as a teacher's laptop shows it."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window, bench = build_window(Document(preset("resnet20")), settings=settings, dialogs=FakeDialogs())
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    bench.training_dock.raise_()
    settle(qtbot, window.diagram)  # the first fit runs once the docks have their sizes
    yield window, bench
    if window.presenter_action.isChecked():
        window.presenter_action.trigger()
    assert bench.training.shutdown(5.0)
    bench.shutdown()


def folded(view: DiagramView) -> list[int]:
    return [si for si in range(len(view.document.spec.stages)) if view.is_stage_collapsed(si)]


def settle(qtbot, view: DiagramView, until=lambda: True) -> None:
    """Wait until the diagram has no fit still to come (the docks resize, then it fits again
    once the size settles) and ``until()`` holds: conditions, never a fixed time."""
    qtbot.waitUntil(lambda: not view.fit_pending() and until(), timeout=10_000)


def stage_lefts(view: DiagramView) -> set[int]:
    return {round(view.scene().frame_item(i).rect().left()) for i in range(len(view.document.spec.stages))}


def scale_with_columns(view: DiagramView, count: int) -> float:
    """The text scale a fit would give with the stages in ``count`` columns (the layout is put back)."""
    scene = view.scene()
    before = scene.column_count
    scene.column_count = count
    scene.layout()
    scale = text_scale_at(view, fit_zoom(view))
    scene.column_count = before
    scene.layout()
    return scale


def whole_diagram_shown(view: DiagramView) -> bool:
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    return visible.adjusted(-1, -1, 1, 1).contains(view.scene().content_rect)


def test_presenter_mode_draws_the_diagram_legibly_and_gives_the_plots_back(app_window, qtbot):
    window, bench = app_window
    view = window.diagram
    normal_scale = view.text_scale()
    assert len(stage_lefts(view)) == 3  # three stages side by side...
    # ...because that draws the text largest: no other number of columns would do better
    assert all(normal_scale >= scale_with_columns(view, n) - 1e-6 for n in (1, 2))
    dock_height = bench.training_dock.height()

    window.presenter_action.trigger()
    settle(qtbot, view, lambda: view.text_scale() >= PRESENTER_MIN_TEXT and whole_diagram_shown(view))
    # ResNet-20: every block shown, its text at least 80% of normal mode's 100% (it was 57%)
    assert folded(view) == []
    assert view.text_scale() >= PRESENTER_MIN_TEXT
    assert whole_diagram_shown(view)
    plots = bench.training.plots
    assert bench.training_dock.height() < dock_height  # the diagram took some of the plots' height...
    # ...and they keep enough to read: over a quarter of the window's height, most of its width
    assert plots.height() >= window.height() / 4 and plots.width() >= window.width() / 3

    # ResNet-56 cannot show 27 blocks legibly in this window: its stages fold to summaries
    assert window.files.new_from_preset("resnet56")
    settle(qtbot, view, lambda: folded(view) == [0, 1, 2])
    assert view.text_scale() >= PRESENTER_MIN_TEXT
    assert whole_diagram_shown(view)

    window.presenter_action.trigger()
    settle(qtbot, view, lambda: abs(bench.training_dock.height() - dock_height) <= 2)
    assert folded(view) == []  # normal mode shows every block again


def test_a_stage_the_teacher_opens_stays_open(app_window, qtbot):
    window, _bench = app_window
    view = window.diagram
    assert window.files.new_from_preset("resnet56")
    window.presenter_action.trigger()
    settle(qtbot, view, lambda: folded(view) == [0, 1, 2])
    view.set_stage_collapsed(1, False)
    window.fit_action.trigger()
    port = view.viewport().size()
    window.resize(1500, 950)
    # the resize has reached the diagram and its re-fit has run
    settle(qtbot, view, lambda: view.viewport().size() != port)
    assert folded(view) == [0, 2]  # neither the fit nor a resize folds it again


def test_settings_column_shows_every_field_whole_in_presenter_mode(app_window, qtbot):
    window, bench = app_window
    panel = bench.training
    form = panel.form
    column = panel._settings_column
    normal_width = column.width()
    fields = [w for kind in (QComboBox, QLineEdit, QPushButton) for w in form.findChildren(kind)
              if w.isVisibleTo(form)]
    assert form.dataset in fields and form.browse in fields

    def cut_off() -> list[str]:
        return [f"{w.objectName() or type(w).__name__}: {w.width()} < {w.sizeHint().width()}"
                for w in fields if w.width() < w.sizeHint().width()]

    assert cut_off() == []
    normal_hint = form.dataset.sizeHint().width()
    window.presenter_action.trigger()
    # the text really grew (by at least half the font's growth: the box's padding stays)
    grown = normal_hint * (1 + (PRESENTER_SCALE - 1) / 2)
    settle(qtbot, view=window.diagram, until=lambda: form.dataset.sizeHint().width() >= grown and not cut_off())
    assert cut_off() == []  # "shapes (procedural, instant)" and Browse... whole
    assert form.width() <= panel._settings_scroll.viewport().width()  # no field runs under the edge
    window.presenter_action.trigger()
    settle(qtbot, window.diagram, lambda: abs(column.width() - normal_width) <= 2)


def test_a_narrow_window_stacks_stages_in_fewer_columns(qtbot):
    view = DiagramView(Document(preset("resnet18")))
    qtbot.addWidget(view)
    view.resize(1100, 450)
    view.show()
    view.fit_to_window()
    assert len(stage_lefts(view)) == 4  # wide and short: one stage per column
    view.resize(700, 900)
    settle(qtbot, view, lambda: len(stage_lefts(view)) < 4)
    assert whole_diagram_shown(view)
    # narrow and tall: the stacked columns draw the text larger than one row of four would
    assert view.text_scale() > scale_with_columns(view, 4)


def test_split_into_columns_keeps_the_tallest_column_lowest():
    assert split_into_columns([10, 10, 10, 10], 2) == [0, 0, 1, 1]
    assert split_into_columns([10, 10, 10, 10], 2, first=15) == [0, 1, 1, 1]  # input and stem sit on top
    assert split_into_columns([10, 10, 10], 3) == [0, 1, 2]
    assert split_into_columns([10, 10, 10], 1) == [0, 0, 0]
    assert split_into_columns([10, 10, 10], 5) == [0, 1, 2]


def _tick_label_pixels(plots) -> float:
    """The training plots' tick labels as drawn now (their font's size in pixels on this screen)."""
    from PySide6.QtGui import QFontInfo

    font = plots.loss_plot.getAxis("bottom").style["tickFont"]
    assert font is not None
    return QFontInfo(font).pixelSize() if font.pixelSize() > 0 else font.pointSizeF() * plots.logicalDpiY() / 72


@pytest.mark.parametrize("name", ["resnet20", "resnet56", "resnet50"])
def test_after_fit_the_smallest_diagram_text_is_as_large_as_the_tick_labels(app_window, qtbot, name):
    window, bench = app_window
    view = window.diagram
    if name != "resnet20":
        assert window.files.new_from_preset(name)
    window.presenter_action.trigger()
    window.fit_action.trigger()
    plots = bench.training.plots
    settle(qtbot, view, lambda: whole_diagram_shown(view) and smallest_text_px(view) >= tick_label_px(view))
    ticks = _tick_label_pixels(plots)
    assert tick_label_px(view) == pytest.approx(ticks, abs=0.75)  # the rule measures what the plots draw
    assert smallest_text_px(view) >= ticks - 0.5
    if name == "resnet20":
        assert folded(view) == []  # every block of ResNet-20 shown at that size
    # every stage title whole: nothing a class needs is cut off in the diagram
    for si in range(len(view.document.spec.stages)):
        frame = view.scene().frame_item(si)
        room = frame.rect().width() - view.scene().geom.header - 8
        assert text_width(frame.title, view.scene().geom.text(15), True) <= room, frame.title


@pytest.mark.parametrize("presenter", [False, True])
def test_every_training_plot_title_is_whole(app_window, qtbot, presenter):
    window, bench = app_window
    if presenter:
        window.presenter_action.trigger()
    settle(qtbot, window.diagram)
    plots = bench.training.plots

    def whole(plot) -> bool:
        label = plot.titleLabel
        text = label.item.boundingRect().width()  # the title as drawn, at its font
        return text <= label.width() + 1

    for plot in (plots.loss_plot, plots.error_plot, plots.lr_plot):
        qtbot.waitUntil(lambda: whole(plot), timeout=5000)
