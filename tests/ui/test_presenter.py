"""Presenter mode reaches the plots: ticks, labels, titles, legends, colour bar, curves, words."""
from __future__ import annotations

import pyqtgraph as pg
import pytest
import torch  # noqa: F401  (torch before PySide6)
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFontMetricsF

from explorer.spec import BlockKind, NetworkSpec, StemSpec, uniform_stage
from explorer.train.api import TrainSettings
from explorer.ui.document import Document
from explorer.ui.gradflow import GradflowPanel
from explorer.ui.gradflow.profile import format_power
from explorer.ui.plot_style import PlotScaler
from explorer.ui.presenter import presenter_mode
from explorer.ui.theme import PRESENTER_SCALE
from explorer.ui.training.plots import TrainingPlots
from explorer.ui.training.runs import RunStore
from explorer.ui.app_window import build_window

from fakes import FakeDialogs  # tests/ui is on sys.path (rootdir-relative imports)


def tiny_spec() -> NetworkSpec:
    return NetworkSpec(name="tiny", input_shape=(3, 16, 16), stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, 2, 8, 1), uniform_stage(BlockKind.BASIC, 2, 16, 2)))


@pytest.fixture(autouse=True)
def _presenter_off_afterwards():
    yield
    presenter_mode().set_on(False)


def tick_points(axis) -> float:
    return axis.style["tickFont"].pointSizeF()


def label_height(axis) -> float:
    return axis.label.boundingRect().height()


def title_height(plot) -> float:
    return plot.titleLabel.item.boundingRect().height()


def training_sizes(plots: TrainingPlots, curves) -> dict[str, float]:
    bottom = plots.loss_plot.getAxis("bottom")
    _, legend_label = plots.loss_legend.items[0]
    return {
        "ticks": tick_points(bottom),
        "error ticks": tick_points(plots.error_plot.getAxis("left")),
        "axis label": label_height(bottom),
        "title": title_height(plots.lr_plot),
        "legend": legend_label.item.boundingRect().height(),
        "loss line": curves.loss_ema.opts["pen"].widthF(),
        "marker": curves.test_error.opts["symbolSize"],
    }


def gradient_sizes(panel: GradflowPanel) -> dict[str, float]:
    profile, heatmap = panel.profile, panel.heatmap
    for label in (panel.words, heatmap.readout):
        label.ensurePolished()
    return {
        "profile ticks": tick_points(profile.plot.getAxis("left")),
        "profile label": label_height(profile.plot.getAxis("bottom")),
        "profile title": title_height(profile.plot),
        "profile line": profile.now_item.opts["pen"].widthF(),
        "heatmap ticks": tick_points(heatmap._plot.getAxis("left")),
        "colour bar ticks": tick_points(heatmap.colorbar.getAxis("right")),
        "colour bar label": label_height(heatmap.colorbar.getAxis("right")),
        "verdict words": panel.words.font().pointSizeF(),
        "hover readout": heatmap.readout.font().pointSizeF(),
    }


def assert_scaled(big: dict, normal: dict) -> None:
    for key, value in normal.items():
        # text heights include a fixed margin, so they grow by a little less than the font
        assert big[key] >= value * (PRESENTER_SCALE - 0.2), key


@pytest.fixture
def plots(qtbot):
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    entry = RunStore().new_run("tiny", {}, TrainSettings())
    plots.show_run(entry)
    return plots, plots.curves(entry)


def test_training_plots_grow_in_presenter_mode_and_return_exactly(plots):
    plots, curves = plots
    normal = training_sizes(plots, curves)
    presenter_mode().set_on(True)
    big = training_sizes(plots, curves)
    assert big["ticks"] == pytest.approx(normal["ticks"] * PRESENTER_SCALE)
    assert_scaled(big, normal)
    presenter_mode().set_on(False)
    assert training_sizes(plots, curves) == normal


def test_gradient_panel_grows_in_presenter_mode_and_returns_exactly(qtbot):
    panel = GradflowPanel(Document(tiny_spec()))  # never shown: no probe, no torch work
    qtbot.addWidget(panel)
    normal = gradient_sizes(panel)
    presenter_mode().set_on(True)
    big = gradient_sizes(panel)
    assert big["profile ticks"] == pytest.approx(normal["profile ticks"] * PRESENTER_SCALE)
    assert big["verdict words"] == pytest.approx(normal["verdict words"] * PRESENTER_SCALE)
    assert_scaled(big, normal)
    presenter_mode().set_on(False)
    assert gradient_sizes(panel) == normal


def test_panels_made_in_presenter_mode_come_up_scaled(qtbot, plots):
    plots, curves = plots
    normal_plots = training_sizes(plots, curves)
    normal_panel = GradflowPanel(Document(tiny_spec()))
    qtbot.addWidget(normal_panel)
    presenter_mode().set_on(True)
    late = TrainingPlots()
    qtbot.addWidget(late)
    entry = RunStore().new_run("tiny", {}, TrainSettings())
    late.show_run(entry)
    assert training_sizes(late, late.curves(entry)) == training_sizes(plots, curves)
    assert_scaled(training_sizes(late, late.curves(entry)), normal_plots)
    panel = GradflowPanel(Document(tiny_spec()))
    qtbot.addWidget(panel)
    assert gradient_sizes(panel) == gradient_sizes(normal_panel)  # the older one followed the switch


def test_the_window_switch_reaches_the_docked_panels_and_frees_the_diagram(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window, bench = build_window(Document(tiny_spec()), settings=settings, dialogs=FakeDialogs())
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    left = Qt.DockWidgetArea.LeftDockWidgetArea
    axis = bench.training.plots.loss_plot.getAxis("left")
    normal = tick_points(axis)
    width = window.palette_dock.width()
    try:
        window.presenter_action.trigger()
        assert tick_points(axis) == pytest.approx(normal * PRESENTER_SCALE)
        assert tick_points(bench.gradflow.profile.plot.getAxis("bottom")) == pytest.approx(
            tick_points(axis) / 9.0 * 10.0)  # the profile's ticks are 10 pt where training's are 9 pt
        # the Blocks panel is a tab beside the Inspector, so the diagram gets its width
        assert window.palette_dock in window.tabifiedDockWidgets(window.inspector_dock)
        window.presenter_action.trigger()
        assert tick_points(axis) == pytest.approx(normal)
        assert window.dockWidgetArea(window.palette_dock) == left
        assert window.palette_dock not in window.tabifiedDockWidgets(window.inspector_dock)
        qtbot.waitUntil(lambda: abs(window.palette_dock.width() - width) <= 2)
    finally:
        if window.presenter_action.isChecked():
            window.presenter_action.trigger()
        assert bench.training.shutdown(5.0)
        bench.shutdown()


def test_profile_ticks_read_as_plain_numbers():
    assert [format_power(v) for v in (-2.0, 0.0, 3.0, 4.0)] == ["0.01", "1", "1000", "1e4"]


def test_gradient_plots_fit_a_short_wide_dock_in_presenter_mode(qtbot):
    presenter_mode().set_on(True)
    panel = GradflowPanel(Document(tiny_spec()))
    qtbot.addWidget(panel)
    panel.resize(1600, 440)  # the gradient dock of a 1600x1000 window
    panel.show()
    try:
        qtbot.waitUntil(lambda: panel.last_outcome is not None, timeout=30_000)
        profile, heatmap = panel.profile, panel.heatmap
        assert panel.plots.orientation() == Qt.Orientation.Horizontal  # side by side, not squashed
        pairs = ((profile.widget, profile.plot), (heatmap.view, heatmap._plot))

        def inside(view, plot) -> bool:
            # the plot (title, axes, colour bar) stays inside its widget: nothing cut off on the right
            title = plot.titleLabel
            return (plot.sceneBoundingRect().right() <= view.viewport().width() + 1
                    and title.item.boundingRect().width() <= title.width() + 1)

        qtbot.waitUntil(lambda: all(inside(v, p) for v, p in pairs))  # once the side-by-side layout landed
        for view, plot in pairs:
            assert inside(view, plot), (plot.sceneBoundingRect(), view.viewport().width())
        # three plots in a row would be too narrow here: the residual profile is a tab by the heatmaps
        assert panel.heatmaps.indexOf(panel.residual.profile) >= 0
        panel.resize(900, 1000)
        qtbot.waitUntil(lambda: panel.plots.orientation() == Qt.Orientation.Vertical)
        assert panel.profiles.indexOf(panel.residual.profile) >= 0  # back beside the gradient profile
    finally:
        panel.shutdown()


def test_step_numbers_on_a_narrow_plot_keep_apart_at_presenter_size(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    axis = widget.getPlotItem().getAxis("bottom")
    scaler = PlotScaler()
    scaler.axis(axis, "step")
    scaler.apply(PRESENTER_SCALE)
    metrics = QFontMetricsF(axis.style["tickFont"])
    for pixels in (110, 160, 400, 900):  # a narrow learning-rate plot ... a wide loss plot
        step, values = axis.tickValues(0, 93, pixels)[0]
        assert len(values) >= 2  # still two numbers to read the scale by
        widest = max(metrics.horizontalAdvance(text) for text in axis.tickStrings(values, 1.0, step))
        # "0 20 40 60 80" on 110 px ran together; now a space is left between neighbours
        assert step * pixels / 93 >= widest + metrics.horizontalAdvance(" "), pixels
