"""The drop-a-block page: remove each block of a trained ResNet and its plain twin, bar chart and words.

The weights come from the last degradation run (a ResNet and the plain net of the same
depth) or from two checkpoint files. The measuring runs off the GUI thread through the
same worker as the degradation page; each bar appears as its block is measured.
"""
from __future__ import annotations

from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QRadioButton, QSpinBox, QWidget)

from ... import downloads
from ...experiments.dropblock import DropJob, DropRunner, load_trained, parse_blocks
from ...experiments.dropblock_vgg import VggDropJob, load_vgg
from ...spec.reference_nets import VGG_NETS
from ...experiments.dropblock_words import drop_verdict
from ...spec import preset, preset_names
from ...train.api import TrainingError
from ..download_dialog import download_button
from ..plot_style import PlotScaler
from ..presenter import follow_presenter
from ..theme import COLOUR, Theme
from .page_parts import (MeasuringPage, WordsArea, centred_label, checkpoint_rows, plots_column, run_stop_buttons,
                         settings_column, side_by_side, status_line, words_label)
from .worker import ExperimentWorker

INTRO = ("Take a trained ResNet and its plain twin and remove one block at a time: a residual block "
         "loses its branch and keeps its shortcut; a plain block is taken out where its input and output "
         "shapes match. The bars show how many points of test accuracy each removal costs; a bar below "
         "zero is a removal that raised it.")
COLOURS = (COLOUR.arm_resnet, COLOUR.arm_plain)


class DropBars(pg.PlotWidget):
    """Accuracy lost per removed block: one bar per block and network; x marks blocks that cannot go."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, background=COLOUR.plot_background)
        self.plot = self.getPlotItem()
        self.plot.showGrid(y=True, alpha=0.25)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.scaler = PlotScaler()
        self.scaler.title(self.plot, "Test accuracy lost when one block is removed", 13.0)
        for name, label in (("bottom", "block (stage.block)"), ("left", "accuracy lost (points)")):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(COLOUR.plot_axis))
            axis.setStyle(maxTickLevel=0)
            self.scaler.axis(axis, label, label_points=11.0, tick_points=10.0, density=False)
        self.theme = Theme()
        self.names: list[str] = []
        self.baselines: list[float | None] = []
        self.drops: list[list] = []
        follow_presenter(self.set_presenter)

    @Slot(bool)
    def set_presenter(self, on: bool) -> None:
        self.theme = Theme(presenter=on)
        self.scaler.apply(self.theme.scale)
        self._draw()

    def reset(self, names: list[str]) -> None:
        self.names = list(names)
        self.baselines = [None] * len(names)
        self.drops = [[] for _ in names]
        self._draw()

    def add(self, net: int, drop, baseline: float) -> None:
        self.baselines[net] = baseline
        self.drops[net].append(drop)
        self._draw()

    def lost(self, net: int) -> list[float | None]:
        """Points lost per block of network ``net`` (None: cannot be removed), as drawn."""
        base = self.baselines[net]
        return [None if d.accuracy is None else 100.0 * (base - d.accuracy) for d in self.drops[net]]

    def _draw(self) -> None:
        self.plot.clear()
        count = max((len(d) for d in self.drops), default=0)
        width = 0.8 / max(1, len(self.names))
        for net, drops in enumerate(self.drops):
            lost = self.lost(net)
            # one slot per measured block, in depth order (all blocks, or the ones chosen)
            x = np.arange(1, len(drops) + 1, dtype=float) + (net - (len(self.names) - 1) / 2) * width
            colour = QColor(COLOURS[net % len(COLOURS)])
            ok = [i for i, v in enumerate(lost) if v is not None]
            if ok:
                # a removal that raises the accuracy is a bar below zero, not a bar of nothing
                self.plot.addItem(pg.BarGraphItem(x=x[ok], height=[lost[i] for i in ok], width=width * 0.9,
                                                  brush=pg.mkBrush(colour), pen=pg.mkPen(colour.darker(130))))
            fixed = [i for i, v in enumerate(lost) if v is None]
            if fixed:
                self.plot.addItem(pg.ScatterPlotItem(x=x[fixed], y=[0.0] * len(fixed), symbol="x",
                                                     size=14 * self.theme.scale,
                                                     pen=pg.mkPen(COLOUR.not_removable, width=2),
                                                     brush=pg.mkBrush(COLOUR.not_removable)))
        labels = []
        source = next((d for d in self.drops if len(d) == count), [])
        for slot, d in enumerate(source, 1):
            labels.append((slot, _short_label(d.label)))
        self.plot.getAxis("bottom").setTicks([labels])
        if count:
            self.plot.setXRange(0.4, count + 0.6, padding=0)
        values = [v for net in range(len(self.drops)) for v in self.lost(net) if v is not None]
        if values and max(values) - min(min(values), 0.0) < 1.0:  # all (near) zero: show a 1-point scale
            self.plot.setYRange(min(min(values), 0.0), 1.0, padding=0.05)
        else:
            self.plot.enableAutoRange(axis="y")

    def legend_html(self) -> str:
        parts = [f"<span style='color:{COLOURS[i % len(COLOURS)]}'>■</span>&nbsp;{escape(name)}"
                 for i, name in enumerate(self.names)]
        parts.append(f"<span style='color:{COLOUR.not_removable}'>✕</span>&nbsp;cannot be removed")
        return "&nbsp;&nbsp;&nbsp;&nbsp; ".join(parts)


def _short_label(label: str) -> str:
    """A bar's tick: "stage 3, block 2" -> "3.2"; a VGG layer "conv3_2 (features.12)" -> "conv3_2"."""
    parts = label.replace("stage ", "").replace("block ", "").split(", ")
    return f"{parts[0]}.{parts[1]}" if len(parts) == 2 else label.split(" ")[0]


def _subset_line(result) -> str:
    """For test data drawn from some of the head's classes (imagenette on ImageNet's 1000): both top-1s."""
    if result.baseline_subset is None:
        return ""
    return (f" {result.name} with every block: top-1 {100 * result.baseline:.1f}% over all its classes, "
            f"{100 * result.baseline_subset:.1f}% among the {result.subset_size} the images come from.")


class DropBlockPage(MeasuringPage, QWidget):
    """``finished(words)`` when a measurement has ended (None when it could not start)."""

    CLOSE_QUESTION = "Blocks are being measured. Stop and close?"
    STILL_FINISHING = "A block is still being measured; close again in a moment."

    finished = Signal(object)

    def __init__(self, parent: QWidget | None = None, degradation_source=None):
        super().__init__(parent)
        self._degradation_source = degradation_source or (lambda: None)
        self.worker = ExperimentWorker(self)
        self.worker.eventsReady.connect(self._on_events)
        self.worker.runEnded.connect(self._on_run_ended)
        self.words = ""
        self.verdict = None  # verdict.Verdict of the last measurement
        self.result_words = None  # its claims.Words
        self.results = []
        self._scale = 1.0
        self._words_parts = ("Choose the weights and press Measure.", "")
        self._build()
        follow_presenter(self.set_presenter)
        self.refresh_sources()
        self._update_buttons()

    def _build(self) -> None:
        title = QLabel("<span style='font-size:large'><b>Drop a block</b></span> (Veit et al. 2016)")
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.from_run = QRadioButton("From the degradation run")
        self.from_files = QRadioButton("From weights files")
        self.depth = QComboBox()
        self.depth.setToolTip("The ResNet and the plain net of this depth from the last degradation run")
        self.resnet_file = QLineEdit()
        self.resnet_file.setPlaceholderText("resnet20.pt")
        self.plain_file = QLineEdit()
        self.plain_file.setPlaceholderText("plain20.pt (optional)")
        self.dataset = QLineEdit()
        self.dataset.setPlaceholderText("as trained")
        self.dataset.setToolTip("Test data; empty: what the checkpoint was trained on")
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.from_run)
        form.addRow("Depth", self.depth)
        form.addRow(self.from_files)
        checkpoint_rows(self, form, (("ResNet", self.resnet_file), ("Plain twin", self.plain_file)))
        self._add_file_rows(form)
        self.from_run.toggled.connect(lambda _on: self._update_buttons())
        buttons = run_stop_buttons(self, "Measure", "Evaluate test accuracy with each block removed in turn")
        self.status = status_line()

        left = settings_column([title, intro, 6, form, buttons, self.status])

        self.bars = DropBars()
        self.legend = centred_label()
        self.words_label = words_label()
        side_by_side(self, left, plots_column((self.bars, 1), self.legend, WordsArea(self.words_label)))

    # -- sources ---------------------------------------------------------------------------
    def refresh_sources(self) -> None:
        """Offer the last degradation run's depths, when it trained ResNets and plain nets."""
        self.depth.clear()
        source = self._degradation_source()
        if source is not None:
            settings, runner = source
            for arm_depth in settings.depths:
                self.depth.addItem(f"ResNet-{arm_depth} and plain-{arm_depth}", arm_depth)
        has_run = self.depth.count() > 0
        self.from_run.setEnabled(has_run)
        if not has_run:
            self.depth.addItem("no degradation run yet")
            self.from_files.setChecked(True)
        else:
            self.from_run.setChecked(True)
        self._update_buttons()

    def _jobs_from_run(self) -> tuple[list[DropJob], list[str]]:
        source = self._degradation_source()
        if source is None:
            raise TrainingError("there is no finished degradation run to take weights from")
        settings, runner = source
        depth = self.depth.currentData()
        jobs, names = [], []
        for kind in ("resnet", "plain"):
            i = next(i for i, a in enumerate(settings.arms()) if a.kind == kind and a.depth == depth)
            outcome, trainer = runner.outcomes[i], runner.trainers[i]
            if outcome.record is None or outcome.record.model_state is None:
                raise TrainingError(f"{outcome.label} has no trained weights ({outcome.error or outcome.status})")
            jobs.append(DropJob(trainer.spec, outcome.record.model_state, trainer.data))
            names.append(outcome.label)
        return jobs, names

    def _jobs_from_files(self) -> tuple[list[DropJob], list[str]]:
        dataset = self.dataset.text().strip() or None
        net = preset(self.network.currentData()) if self.network.currentData() else None
        test_size = self.images.value() or None
        jobs, names = [], []
        for edit, required in ((self.resnet_file, True), (self.plain_file, False)):
            path = edit.text().strip()
            if not path:
                if required:
                    raise TrainingError("choose the ResNet's checkpoint file")
                continue
            twin = self.twin_network.currentData() if edit is self.plain_file else None
            if twin:  # the lessons' plain ImageNet twin: VGG-16, measured layer by layer
                if not dataset:
                    raise TrainingError(f"{twin}'s weights do not say what they were trained on: name the test "
                                        "data (e.g. imagenette)")
                jobs.append(VggDropJob(load_vgg(path, twin), dataset, test_size))
                names.append(twin)
                continue
            trained = load_trained(path, net)
            blocks = parse_blocks(self.blocks.text(), trained.spec) if self.blocks.text().strip() else None
            jobs.append(DropJob.from_trained(trained, dataset, test_size, blocks))
            names.append(trained.spec.name)
        return jobs, names

    def _add_file_rows(self, form: QFormLayout) -> None:
        """The network a bare state_dict belongs to, the test data (an ImageNet folder too), how many
        images and which blocks: measuring all 16 blocks of a ResNet-50 on a CPU takes a while."""
        self.network = QComboBox()
        self.network.addItem("as stored in the file", None)
        for name in preset_names():
            self.network.addItem(name, name)
        self.network.setToolTip("A torchvision state_dict does not say which network it is: pick it here "
                                "(e.g. resnet50). Checkpoints and weights files know their network.")
        form.addRow("Network", self.network)
        self.twin_network = QComboBox()
        self.twin_network.addItem("as stored in the file", None)
        for name, vgg in VGG_NETS.items():
            self.twin_network.addItem(f"{vgg.title} (torchvision)", name)
        self.twin_network.setToolTip("The plain twin's network: as stored in its file, or VGG-16 (with or without "
                                     "BN) with torchvision's weights: each of its shape-keeping convolutions is "
                                     "dropped in turn, beside the ResNet's blocks")
        form.addRow("Twin is", self.twin_network)
        self.imagenet_button = QPushButton("ImageNet folder…")
        self.imagenet_button.setToolTip("ImageNet validation images: class folders named by WordNet id "
                                        "(n01440764/...) or one folder with a labels.txt of 'FILENAME WNID' lines")
        self.imagenet_button.clicked.connect(self._browse_imagenet)
        row = QHBoxLayout()
        row.addWidget(self.dataset, 1)
        row.addWidget(self.imagenet_button)
        form.addRow("Test data", row)
        self.download_weights = download_button("weights", self._on_weights_fetched,
                                                lambda: self.resnet_file.text().strip() or "resnet50", self,
                                                "Pretrained weights…")
        self.download_data = download_button("dataset", self._on_data_fetched,
                                             lambda: self.dataset.text().strip() or "imagenette", self, "Test data…")
        row = QHBoxLayout()
        row.addWidget(self.download_weights)
        row.addWidget(self.download_data)
        form.addRow("Download", row)
        self.images = QSpinBox()
        self.images.setRange(0, 1_000_000)
        self.images.setSingleStep(100)
        self.images.setSpecialValueText("as trained (all)")
        self.images.setToolTip("Measure on this many test images, spread over the set")
        form.addRow("Images", self.images)
        self.blocks = QLineEdit()
        self.blocks.setPlaceholderText("every block, or e.g. 3.2, 1.1")
        self.blocks.setToolTip("Only these blocks, as stage.block (the numbers under the bars)")
        form.addRow("Blocks", self.blocks)

    @Slot(str)
    def _on_weights_fetched(self, name: str) -> None:
        """Weights fetched by name: measure them, on the network they fit (a VGG as the plain twin)."""
        network = downloads.BY_NAME[name].network
        if network and self.twin_network.findData(network) >= 0:
            self.plain_file.setText(name)
            self.twin_network.setCurrentIndex(self.twin_network.findData(network))
        else:
            self.resnet_file.setText(name)
            if network and self.network.findData(network) >= 0:
                self.network.setCurrentIndex(self.network.findData(network))
        self.from_files.setChecked(True)

    @Slot(str)
    def _on_data_fetched(self, name: str) -> None:
        self.dataset.setText(name)
        self.from_files.setChecked(True)

    def _browse_imagenet(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "ImageNet validation images", "")
        if folder:
            self.dataset.setText(f"imagenet-val:{folder}")
            self.from_files.setChecked(True)

    # -- state and commands -------------------------------------------------------------------
    def _update_buttons(self) -> None:
        running = self.is_running()
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        run_mode = self.from_run.isChecked()
        self.depth.setEnabled(not running and run_mode and self.from_run.isEnabled())
        for w in (self.resnet_file, self.plain_file, self.dataset, self.network, self.images, self.blocks,
                  self.imagenet_button, self.download_weights, self.download_data):
            w.setEnabled(not running and not run_mode)

    @Slot()
    def run(self) -> bool:
        if self.is_running():
            return False
        try:
            jobs, names = self._jobs_from_run() if self.from_run.isChecked() else self._jobs_from_files()
        except (TrainingError, ValueError) as err:
            self._say(str(err), error=True)
            return False
        self.names = names
        self.results = []
        self.bars.reset(names)
        self.legend.setText(self.bars.legend_html())
        self._words_parts = ("Measuring…", "")
        self._render_words()
        self._say("Measuring each block…")
        self.worker.start(lambda: DropRunner(jobs, "auto"))
        self._update_buttons()
        return True

    @Slot()
    def stop(self) -> None:
        self.worker.stop()

    @Slot(list)
    def _on_events(self, events: list) -> None:
        for net, (drop, baseline) in events:
            self.bars.add(net, drop, baseline)

    @Slot(object)
    def _on_run_ended(self, runner) -> None:
        self._update_buttons()
        if runner.error:
            self._say(runner.error, error=True)
            self._words_parts = ("No result.", runner.error)
            self._render_words()
            self.finished.emit(None)
            return
        self.results = [r for r in runner.results if r is not None]
        self.verdict = drop_verdict(self.results)  # the CLI's words for the same results, every sentence
        self.result_words = self.verdict.words
        self.words = self.verdict.text
        self._words_parts = (self.verdict.headline, self.result_words.sentences[1:])  # the lessons in italics
        self._render_words()
        self._say(("Stopped." if runner.stopped else "Done.") + "".join(_subset_line(r) for r in self.results))
        self.finished.emit(self.words)
