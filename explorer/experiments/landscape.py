"""The loss-landscape experiment: a ResNet's surroundings against its plain twin's (Li et al. 2018).

Give it one or two trained networks (checkpoint files, a degradation run's arms, or runs
trained in the editor). It evaluates each net's training loss on a fixed subset of the
training images at ``w + a*d1 + b*d2`` over a grid (``explorer.analysis.landscape``),
coarse grid first, so a picture exists within seconds and refines while one watches.
Both nets get the same random draw of directions, each filter-normalised to its own
weights. ``landscape_summary`` reads each grid (where the loss has doubled, how many
local minima) and ``landscape_words`` compares the two without claiming more than the
grid shows.
"""
from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass

import numpy as np

from ..analysis.landscape import GridPlan, empty_grid
from ..spec import NetworkSpec, SpecError, analyse
from ..spec.params import ParameterError, check_number, check_seed
from ..train.api import TrainingError
from .jobs import Job
from .landscape_words import SurfaceSummary, json_float, landscape_verdict, landscape_words, summarise  # noqa: F401

DEFAULT_POINTS = 25
DEFAULT_COARSE = 9
DEFAULT_SPAN = 1.0  # the paper's range: one filter norm either way
DEFAULT_IMAGES = 512
DIRECTION_SEED = 0
MAX_POINTS = 1001  # a million evaluations of the loss: days on a CPU already
MAX_SPAN = 100.0  # filter norms; far beyond, the weights w + a*d1 + b*d2 overflow float32
MAX_IMAGES = 10 ** 9
GRID_BYTES_PER_POINT = 2 * 8 + 160  # two nets' float64 values, and the point in the evaluation order


def check_grid_memory(points: int, nets: int = 2) -> None:
    """Refuse a grid whose bookkeeping alone would not fit in memory, saying how much it would take."""
    from ..train.limits import available_memory, check_fits

    try:
        check_fits(float(points) ** 2 * GRID_BYTES_PER_POINT, f"a {points:,}x{points:,} grid", available_memory())
    except TrainingError as err:
        raise ParameterError(str(err), where="landscape") from None


@dataclass(frozen=True)
class LandscapeSettings:
    points: int = DEFAULT_POINTS  # per axis of the fine grid
    coarse: int = DEFAULT_COARSE  # per axis of the first, coarse grid
    span: float = DEFAULT_SPAN  # the grid covers [-span, span] along each direction
    images: int = DEFAULT_IMAGES  # training images the loss is measured on
    seed: int = DIRECTION_SEED  # directions d1 and d2 come from seeds 2*seed+1 and 2*seed+2
    dataset: str | None = None  # None: what the nets were trained on
    device: str = "auto"

    def __post_init__(self):
        """Every number checked before any work (``spec.params``): NaN, infinity, a seed past 64 bits,
        a span whose weights would overflow, and a grid beyond the memory there is (an estimate)."""
        where = "landscape"
        check_number(self.images, "images", 1, MAX_IMAGES, integer=True, where=where)
        check_number(self.coarse, "coarse", 3, MAX_POINTS, integer=True, where=where)
        check_number(self.points, "points", integer=True, where=where)
        check_grid_memory(self.points)
        check_number(self.points, "points", 3, MAX_POINTS, integer=True, where=where)
        check_number(self.span, "span", hi=MAX_SPAN, above=0.0, where=where)
        check_seed(self.seed, "seed", where=where)
        try:
            self.plan()
        except ValueError as err:
            raise SpecError(str(err), where=where) from None

    def plan(self) -> GridPlan:
        return GridPlan(self.points, self.coarse, float(self.span))

    def to_dict(self) -> dict:
        return asdict(self)


# -- the networks -----------------------------------------------------------------------

def net_kind(spec: NetworkSpec) -> str:
    """plain (no skip on), preact (pre-activation blocks) or resnet."""
    blocks = [b for _, _, b in spec.iter_blocks()]
    info = analyse(spec)
    if not any(b.skip_active for b in info.blocks):
        return "plain"
    return "preact" if any(b.kind.preactivation for b in blocks) else "resnet"


def kind_label(kind: str, depth: int) -> str:
    return {"plain": "plain", "resnet": "ResNet", "preact": "pre-act ResNet"}[kind] + f"-{depth}"


@dataclass
class LandscapeNet:
    """One trained network: its spec (as trained), weights and what it was trained on."""

    spec: NetworkSpec
    state: dict
    dataset: str | None = None
    train_size: int | None = None
    test_size: int | None = None
    source: str = ""  # where it came from, for people ("plain20.pt", "degradation run")
    label: str = ""

    def __post_init__(self):
        self.kind = net_kind(self.spec)
        self.depth = analyse(self.spec).depth
        if not self.label:
            self.label = kind_label(self.kind, self.depth)

    @property
    def residual(self) -> bool:
        return self.kind != "plain"


def distinct_labels(nets: list[LandscapeNet]) -> None:
    """Two nets with the same label (two ResNet-20s) are told apart by their source."""
    if len(nets) == 2 and nets[0].label == nets[1].label:
        for i, net in enumerate(nets):
            net.label = f"{net.label} ({net.source or i + 1})"


def net_from_checkpoint(path: str) -> LandscapeNet:
    import os

    from .dropblock import load_trained
    trained = load_trained(path)
    return LandscapeNet(trained.spec, trained.state, trained.dataset, trained.train_size, trained.test_size,
                        source=os.path.basename(path))


def net_from_record(record, source: str = "") -> LandscapeNet:
    """A ``RunRecord`` that kept its weights (a run trained in the editor, or an experiment's arm)."""
    from ..spec.fileformat import from_dict
    if record.model_state is None:
        raise TrainingError(f"{record.name}: the run kept no weights")
    s = record.settings
    return LandscapeNet(from_dict(record.spec_json), record.model_state, s.dataset, s.train_size, s.test_size,
                        source=source or record.name)


def net_from_trainer(trainer, source: str = "") -> LandscapeNet:
    """An arm of an experiment run (its trainer holds the final weights)."""
    if getattr(trainer, "model", None) is None:
        raise TrainingError(f"{trainer.spec.name} has no trained weights")
    s = trainer.settings
    state = {k: v.detach().to("cpu", copy=True) for k, v in trainer.model.state_dict().items()}
    return LandscapeNet(trainer.spec, state, s.dataset, s.train_size, s.test_size, source=source)


def checkpoints_in(folder: str, depth: int) -> tuple[str, str]:
    """``resnetD.pt`` and ``plainD.pt`` in a folder written by ``experiment degradation --save-dir``."""
    import os

    from ..train.datasets.disk import folder_entries

    if not os.path.isdir(folder):
        found = "a file" if os.path.exists(folder) else "nothing"
        raise TrainingError(f"--from-dir {folder}: expected a folder written by experiment degradation --save-dir; "
                            f"{found} is there")
    entries = {e.name: e for e in folder_entries(folder)}  # a folder that cannot be read, a link loop: named
    paths = (os.path.join(folder, f"resnet{depth}.pt"), os.path.join(folder, f"plain{depth}.pt"))
    missing = [p for p in paths if not (os.path.basename(p) in entries and entries[os.path.basename(p)].is_file)]
    if missing:
        found = sorted(name for name, e in entries.items() if e.is_file and re.fullmatch(r"(plain|resnet)\d+\.pt", name))
        raise TrainingError(f"{missing[0]} does not exist" + (f" (that folder holds {', '.join(found)})"
                                                              if found else ""))
    return paths


# -- running it ---------------------------------------------------------------------------

@dataclass
class GridPoint:
    """One evaluated point: ``loss`` at fine-grid index ``(i, j)`` (``i`` along d1)."""

    i: int
    j: int
    loss: float


@dataclass
class NetSurface:
    """One net's grid, filled as the points arrive."""

    net: LandscapeNet
    values: np.ndarray
    seconds: float = 0.0  # time spent evaluating its points

    @property
    def evaluated(self) -> int:
        return int((~np.isnan(self.values)).sum())


class LandscapeRunner(Job):
    """Evaluates every net's grid point by point in the thread that calls ``run``, the nets in
    turns, so their pictures refine together. Events: ``(net_index, GridPoint)``. Stop ends
    after the point in progress; ``surfaces`` then hold what was measured."""

    def __init__(self, nets: list[LandscapeNet], settings: LandscapeSettings | None = None, thread_init=None):
        super().__init__(thread_init)
        if not 1 <= len(nets) <= 2:
            raise SpecError(f"the landscape compares one or two networks, got {len(nets)}", where="landscape")
        self.nets = list(nets)
        distinct_labels(self.nets)
        self.settings = settings or LandscapeSettings()
        self.plan = self.settings.plan()
        self.surfaces = [NetSurface(net, empty_grid(self.plan)) for net in self.nets]
        self.images = 0  # how many images the loss is measured on (known once the data is loaded)
        self.dataset = ""
        self.weights = 0  # parameters of the first net

    def run(self, on_event=None) -> list[NetSurface]:
        """Measure every net's grid; the surfaces (what was measured, when stopped)."""
        return super().run(on_event)

    def _result(self) -> list[NetSurface]:
        return self.surfaces

    def _work(self, sink) -> None:
        import traceback
        try:
            self._thread_init()
            surfaces = self._prepare()
            for i, j in self.plan.evaluation_order():
                for k, surface in enumerate(surfaces):
                    if self.stopped:
                        return
                    t0 = time.perf_counter()
                    loss = surface.loss_at(self.plan.axis[i], self.plan.axis[j])
                    self.surfaces[k].seconds += time.perf_counter() - t0
                    self.surfaces[k].values[i, j] = loss
                    sink(k, GridPoint(i, j, loss))
        except (TrainingError, ValueError) as exc:  # SpecError is a ValueError
            self.error = str(exc)
        except Exception as exc:  # a bug: say so, keep the caller alive
            traceback.print_exc()
            self.error = f"the landscape could not be measured: {type(exc).__name__}: {exc}"

    def _prepare(self):
        from ..analysis.landscape import LossSurface, random_direction, same_shapes
        from ..nn import build
        from ..train.device import resolve_device

        device = resolve_device(self.settings.device)
        shapes = {tuple(n.spec.input_shape) for n in self.nets}
        if len(shapes) > 1:
            raise TrainingError("the two networks were trained at different input sizes ("
                                + " and ".join(f"{n.label} {n.spec.input_shape[1]}x{n.spec.input_shape[2]}"
                                               for n in self.nets) + "); compare nets trained alike")
        name = self.settings.dataset or self.nets[0].dataset
        if not name:
            raise TrainingError(f"{self.nets[0].label}: it is not known what it was trained on; name the data set")
        if not self.settings.dataset and len({n.dataset for n in self.nets}) > 1:
            raise TrainingError("the two networks were trained on different data ("
                                + " and ".join(f"{n.label} on {n.dataset}" for n in self.nets)
                                + "); name one data set to measure both on")
        inputs, targets = self._batch(name, device)
        models = []
        for net in self.nets:
            model = build(net.spec)
            try:
                model.load_state_dict(net.state)
            except RuntimeError as err:
                first = str(err).splitlines()[1:2] or [str(err)]
                raise TrainingError(f"the weights do not fit {net.label}: {first[0].strip()}") from None
            models.append(model.to(device))
        if len(models) == 2 and not same_shapes(*models):
            raise TrainingError(f"{self.nets[0].label} and {self.nets[1].label} have parameters of different "
                                "shapes, so they cannot share directions: compare a net with its twin "
                                "(the same layers, skips on and off)")
        self.weights = sum(p.numel() for p in models[0].parameters())
        surfaces = []
        for model in models:
            weights = list(model.parameters())
            d1 = random_direction(weights, 2 * self.settings.seed + 1)
            d2 = random_direction(weights, 2 * self.settings.seed + 2)
            surfaces.append(LossSurface(model, inputs, targets, d1, d2))
        return surfaces

    def _batch(self, name: str, device):
        """The fixed subset: ``images`` training images chosen by a seeded permutation, prepared as
        the trainer prepares them (the training split's mean and std, no augmentation)."""
        import torch

        from ..train.datasets import conform_channels, load_dataset
        from ..train.loader import BatchSource

        net = self.nets[0]
        c, h, w = net.spec.input_shape
        from ..train.datasets.streaming import held_in_memory
        from .dropblock import check_classes

        data = load_dataset(name, train_size=net.train_size, test_size=net.test_size, image_size=(h, w))
        data = held_in_memory(data, self.settings.images, 0, "measure on fewer images (--images)")
        if len(data.y_train) == 0:  # the landscape is the training loss: test-only data cannot give it
            raise TrainingError(f"{data.name} has no training images: the landscape is the loss on training "
                                f"images; name a data set with a training split")
        for each in self.nets:
            check_classes(data, each.spec)  # a label past the head would index outside the outputs
        data, _ = conform_channels(data, c)
        source = BatchSource(data, device=device, input_hw=(h, w), batch_size=self.settings.images,
                             augment=False, seed=0)
        n = min(self.settings.images, len(data.y_train))
        order = torch.randperm(len(data.y_train), generator=torch.Generator().manual_seed(12345))[:n]
        x, y = source.prepare(data.x_train[order], data.y_train[order], train=False)
        self.images = n
        self.dataset = data.name
        return x, y


def summaries_of(runner: LandscapeRunner) -> list[SurfaceSummary]:
    """Each net's summary over the points every net has (the nets take turns, so one may be a point ahead)."""
    grids = [s.values.copy() for s in runner.surfaces]
    missing = np.logical_or.reduce([np.isnan(g) for g in grids])
    for g in grids:
        g[missing] = np.nan
    return [summarise(s.net.label, s.net.kind, runner.plan, g) for s, g in zip(runner.surfaces, grids)]


def result_dict(runner: LandscapeRunner, seconds: float) -> dict:
    """The ``--json`` object: one row per net in ``arms``."""
    summaries = summaries_of(runner)
    verdict = landscape_verdict(summaries, runner.plan, runner.weights)
    arms = []
    for surface, summary in zip(runner.surfaces, summaries):
        net = surface.net
        grid = [[json_float(v) if not np.isnan(v) else None for v in row] for row in surface.values]
        arms.append({"arm": net.label, "kind": net.kind, "depth": net.depth, "source": net.source,
                     **summary.to_dict(), "seconds": round(surface.seconds, 2),
                     "slice_1d": [row[runner.plan.centre] for row in grid], "grid": grid})
    return {"experiment": "landscape", "settings": runner.settings.to_dict(), "dataset": runner.dataset,
            "images": runner.images, "axis": [float(a) for a in runner.plan.axis],
            "weights": runner.weights, "stopped": runner.stopped, "seconds": round(seconds, 1), "arms": arms,
            **verdict.json_fields()}

