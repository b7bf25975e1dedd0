"""Whatever replaces the whole network (New, Open, Restore) leaves the diagram as a fresh start
shows it: the columns arranged for the window, the whole diagram fitted, nothing clipped.

Before, opening another network only scaled the old arrangement down, and never below 75%,
so a larger network (ResNet-110 after ResNet-20) was partly off-screen until the user
pressed Fit; a network of the same name was not even re-fitted.
"""
import json
import time
from dataclasses import replace

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from explorer.spec import preset, save
from explorer.spec.fileformat import to_dict
from explorer.ui.app_window import build_window
from explorer.ui.document import Document
from explorer.ui.main_window import MainWindow
from explorer.ui.presenter import presenter_mode
from explorer.ui.recovery import FORMAT, offer_restore
from fakes import FakeDialogs  # tests/ui is on sys.path (rootdir-relative imports)

NETWORKS = ["resnet20", "resnet110", "resnet50"]
SIZES = [(1600, 1000), (1100, 720)]


@pytest.fixture
def make_window(qtbot, tmp_path):
    made = []

    def make(spec, size, presenter=False):
        settings = QSettings(str(tmp_path / f"settings-{len(made)}.ini"), QSettings.Format.IniFormat)
        settings.setValue("view/presenter", presenter)
        window = MainWindow(Document(spec), settings=settings, dialogs=FakeDialogs())
        qtbot.addWidget(window)
        made.append(window)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        settle(qtbot, window, fitted=True)  # the first fit runs once the docks have their sizes
        return window

    yield make
    presenter_mode().set_on(False)


def settle(qtbot, window, fitted: bool = False) -> None:
    """Wait until the diagram has no fit still to come (and, when ``fitted``, has had one). The
    layout requests queued before (a scroll bar leaves, so the viewport grows, which fits again
    once the size settles) are delivered first."""
    view = window.diagram
    QApplication.sendPostedEvents()
    qtbot.waitUntil(lambda: not view.fit_pending() and (view.is_fitted() or not fitted), timeout=10_000)


def other_than(name: str) -> str:
    return "resnet50" if name == "resnet20" else "resnet20"


def clipped(view) -> list[str]:
    """What part of the diagram lies outside the window (empty when all of it is shown)."""
    scene = view.scene()
    visible = view.mapToScene(view.viewport().rect()).boundingRect().adjusted(-1, -1, 1, 1)
    spec = view.document.spec
    items = {f"block {k}": scene.block_item(*k) for k in
             ((si, bi) for si, stage in enumerate(spec.stages) for bi in range(len(stage.blocks)))}
    items.update({f"stage {si}": scene.frame_item(si) for si in range(len(spec.stages))})
    items.update({f"summary {si}": scene.summary_item(si) for si in range(len(spec.stages))})
    items.update({part: scene.node_item(part) for part in ("input", "stem", "head")})
    items["title"] = scene.title
    out = [name for name, item in items.items()
           if item is not None and item.isVisible() and not visible.contains(item.sceneBoundingRect())]
    if not visible.contains(scene.content_rect):
        out.append("content")
    return out


def assert_as_fresh(view, fresh) -> None:
    """``view`` shows its network as a window that started with it (``fresh``) does."""
    assert view.maximumViewportSize() == fresh.maximumViewportSize()  # same room for the diagram
    assert clipped(view) == []
    assert view.is_fitted() and not view.fit_pending()
    assert view.scene().column_count == fresh.scene().column_count
    assert view.zoom() == pytest.approx(fresh.zoom(), rel=1e-6)
    stages = range(len(view.document.spec.stages))
    assert [view.is_stage_collapsed(s) for s in stages] == [fresh.is_stage_collapsed(s) for s in stages]
    for bar in (view.horizontalScrollBar(), view.verticalScrollBar()):
        assert bar.minimum() == bar.maximum()  # nothing left to scroll to


def open_file(window, spec, tmp_path) -> None:
    path = tmp_path / f"{spec.name or 'network'}.json"
    save(spec, path)
    assert window.files.open(path)


def restore(window, spec, tmp_path) -> None:
    """The offer after a crash, answered with Restore: the recovery file of an app long gone."""
    folder = tmp_path / "recovery"
    folder.mkdir(exist_ok=True)
    record = {"format": FORMAT, "saved_at": time.time(), "path": None, "network": to_dict(spec)}
    (folder / "recovery-999999999.json").write_text(json.dumps(record))  # no process has this number
    window.dialogs.restore_answer = "restore"
    assert offer_restore(window, folder)


def new_from_preset(window, spec, tmp_path) -> None:
    assert window.files.new_from_preset(spec.name)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("how", [open_file, restore, new_from_preset], ids=lambda f: f.__name__)
def test_another_network_is_shown_whole_as_a_fresh_start_shows_it(make_window, qtbot, tmp_path,
                                                                   how, name, size):
    window = make_window(preset(other_than(name)), size)
    window.diagram.zoom_in()  # the user's own zoom goes with the old network
    how(window, preset(name), tmp_path)
    assert window.document.spec == preset(name)
    settle(qtbot, window)
    fresh = make_window(preset(name), size)
    assert_as_fresh(window.diagram, fresh.diagram)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_network_of_the_same_name_but_another_shape_is_shown_whole(make_window, qtbot, tmp_path, size):
    window = make_window(preset("resnet20"), size)
    window.diagram.set_stage_collapsed(0, True)  # view state of the network shown before
    window.diagram.zoom_in()
    deeper = replace(preset("resnet56"), name=preset("resnet20").name)  # e.g. a file edited elsewhere
    open_file(window, deeper, tmp_path)
    settle(qtbot, window)
    assert_as_fresh(window.diagram, make_window(deeper, size).diagram)


@pytest.mark.parametrize("name", ["resnet110", "resnet50"])
def test_in_presenter_mode_another_network_is_folded_and_fitted_as_a_fresh_start(make_window, qtbot,
                                                                                  tmp_path, name):
    window = make_window(preset("resnet20"), SIZES[1], presenter=True)
    window.diagram.zoom_in()
    open_file(window, preset(name), tmp_path)
    settle(qtbot, window)
    assert_as_fresh(window.diagram, make_window(preset(name), SIZES[1], presenter=True).diagram)


def test_renaming_the_network_keeps_the_view(make_window, qtbot):
    """A rename is an edit, not another network: the stages the user folded stay folded."""
    window = make_window(preset("resnet20"), SIZES[0])
    view = window.diagram
    view.set_stage_collapsed(1, True)
    view.zoom_in()
    zoom = view.zoom()
    window.document.edit(replace(window.document.spec, name="my own net"), "Rename")
    assert view.is_stage_collapsed(1) and view.zoom() == zoom
    window.document.undo_stack.undo()
    assert view.is_stage_collapsed(1) and view.zoom() == zoom


def test_the_whole_app_restores_resnet110_whole(qtbot, tmp_path):
    """As seen under Xvfb: the app at 1600x1000, the training tab in front, Restore of ResNet-110."""
    def app(spec):
        settings = QSettings(str(tmp_path / f"app-{spec.name}.ini"), QSettings.Format.IniFormat)
        window, bench = build_window(Document(spec), settings=settings, dialogs=FakeDialogs())
        qtbot.addWidget(window)
        window.resize(*SIZES[0])
        window.show()
        qtbot.waitExposed(window)
        bench.training_dock.raise_()
        settle(qtbot, window, fitted=True)
        return window, bench

    window, bench = app(preset("resnet20"))
    fresh, fresh_bench = app(preset("resnet110"))
    try:
        restore(window, preset("resnet110"), tmp_path)
        settle(qtbot, window)
        assert_as_fresh(window.diagram, fresh.diagram)
    finally:
        for b in (bench, fresh_bench):
            assert b.training.shutdown(5.0)
            b.shutdown()
