"""The loss landscape without Qt: directions, the grid, reading it, the words, the runner and the CLI."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from explorer.analysis.landscape import (GridPlan, LossSurface, doubling_distance, empty_grid, filter_normalise,
                                         local_minima, preview, random_direction, slice_1d)
from explorer.cli import main as cli_main
from explorer.experiments.arms import cifar_net
from explorer.experiments.landscape import LandscapeNet, LandscapeRunner, LandscapeSettings, summaries_of
from explorer.experiments.landscape_words import SurfaceSummary, landscape_verdict, summarise
from explorer.experiments.claims import check
from explorer.experiments.reports import render
from explorer.nn import build
from explorer.train.api import TrainSettings
from explorer.train.trainer import Trainer
from words_check import assert_report_renders_the_same, assert_words_hold

SMALL = (3, 8, 8)


# -- directions ---------------------------------------------------------------------------

def test_each_filter_of_a_direction_takes_the_norm_of_the_matching_weight_filter():
    weights = [torch.tensor([[[[3.0, 4.0]]], [[[0.0, 1.0]]]]),  # conv (2, 1, 1, 2): filter norms 5 and 1
               torch.tensor([1.0, 2.0]),  # a bias / BN vector
               torch.tensor([[2.0, 0.0], [0.0, 0.5]])]  # linear rows: norms 2 and 0.5
    direction = [torch.tensor([[[[1.0, 0.0]]], [[[0.0, 2.0]]]]), torch.tensor([7.0, 7.0]),
                 torch.tensor([[0.0, -3.0], [4.0, 3.0]])]
    conv, vec, lin = filter_normalise(direction, weights)
    assert torch.allclose(conv, torch.tensor([[[[5.0, 0.0]]], [[[0.0, 1.0]]]]))
    assert torch.equal(vec, torch.zeros(2))  # 1-D tensors never move
    assert torch.allclose(lin, torch.tensor([[0.0, -2.0], [0.4, 0.3]]))


def test_a_shape_mismatch_is_named():
    with pytest.raises(ValueError, match=r"shape \(3,\) for weights of shape \(2,\)"):
        filter_normalise([torch.zeros(3)], [torch.zeros(2)])


def test_twins_get_the_same_draw_each_scaled_to_its_own_filters():
    a = [torch.randn(4, 3, 3, 3), torch.randn(4), torch.randn(10, 4)]
    b = [2.0 * w for w in a]  # the same shapes, filters twice as long
    da, db = random_direction(a, 7), random_direction(b, 7)
    for x, y, w in zip(da, db, a):
        assert torch.allclose(y, 2.0 * x, atol=1e-6)
        if w.dim() > 1:
            assert torch.allclose(x.reshape(len(x), -1).norm(dim=1), w.reshape(len(w), -1).norm(dim=1), atol=1e-5)
    assert not torch.allclose(random_direction(a, 8)[0], da[0])  # another seed, another direction


# -- the grid -----------------------------------------------------------------------------

def test_the_coarse_grid_is_part_of_the_fine_one_and_nothing_is_evaluated_twice():
    plan = GridPlan(points=5, coarse=3, span=1.0)
    assert plan.axis.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0] and plan.step == 2 and plan.centre == 2
    order = plan.evaluation_order()
    assert len(order) == 25 and len(set(order)) == 25
    assert order[:5] == [(0, 2), (1, 2), (2, 2), (3, 2), (4, 2)]  # the 1D slice first
    assert set(order[5:plan.coarse_count]) == {(0, 0), (0, 4), (2, 0), (2, 4), (4, 0), (4, 4)}
    values = empty_grid(plan)
    for n, (i, j) in enumerate(order, start=1):
        values[i, j] = 1.0
        assert (preview(plan, values) is not None) == (n >= plan.coarse_count)
    assert GridPlan(25, 9).coarse_count == 25 + 81 - 9


@pytest.mark.parametrize("points, coarse", [(25, 8), (24, 9), (25, 11), (9, 11)])
def test_grids_that_do_not_nest_are_refused(points, coarse):
    with pytest.raises(ValueError):
        GridPlan(points, coarse)


def test_the_preview_fills_the_missing_points_from_the_coarse_grid():
    plan = GridPlan(points=5, coarse=3)
    truth = np.add.outer(np.arange(5.0), 2 * np.arange(5.0))  # linear: bilinear interpolation is exact
    values = empty_grid(plan)
    values[::2, ::2] = truth[::2, ::2]
    values[1, 1] = 100.0  # an evaluated fine point wins over the interpolation
    shown = preview(plan, values)
    expected = truth.copy()
    expected[1, 1] = 100.0
    assert np.allclose(shown, expected)
    assert np.isnan(values[3, 3])  # the grid itself is not changed
    assert slice_1d(plan, truth).tolist() == truth[:, 2].tolist()


def test_the_loss_surface_moves_the_weights_along_both_directions_and_back():
    model = nn.Sequential(nn.Linear(2, 2, bias=True))
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.zero_()
    x, y = torch.tensor([[1.0, 0.0]]), torch.tensor([0])
    d1 = [torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.zeros(2)]
    d2 = [torch.tensor([[0.0, 0.0], [1.0, 0.0]]), torch.zeros(2)]
    surface = LossSurface(model, x, y, d1, d2)
    # logits at (a, b) are (a, b): the loss of class 0 is log(1 + e^(b - a))
    assert surface.loss_at(0, 0) == pytest.approx(math.log(2))
    assert surface.loss_at(1, 0) == pytest.approx(math.log(1 + math.exp(-1)))
    assert surface.loss_at(0.5, -2) == pytest.approx(math.log(1 + math.exp(-2.5)))
    surface.restore()
    assert torch.equal(model[0].weight, torch.zeros(2, 2))


def test_batch_norm_statistics_stay_as_trained():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model.train()
    model(torch.randn(16, 3) + 5.0)  # running statistics away from their start
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    weights = list(model.parameters())
    surface = LossSurface(model, torch.randn(8, 3), torch.randint(0, 2, (8,)),
                          random_direction(weights, 1), random_direction(weights, 2))
    surface.loss_at(0.7, -0.3)
    state = model.state_dict()
    for key in ("1.running_mean", "1.running_var", "1.num_batches_tracked", "1.weight", "1.bias", "0.bias"):
        assert torch.equal(state[key], saved[key]), key
    assert not torch.equal(state["0.weight"], saved["0.weight"])
    surface.restore()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in saved.items())


# -- reading the grid ---------------------------------------------------------------------

def test_where_the_loss_doubles():
    axis = np.linspace(-1, 1, 9)  # step 0.25
    values = np.array([9.0, 3.0, 2.5, 1.5, 1.0, 1.2, 1.9, 2.0, 5.0])
    assert doubling_distance(axis, values, 4, +1) == pytest.approx(0.75)  # 2.0 is "at least double"
    assert doubling_distance(axis, values, 4, -1) == pytest.approx(0.5)
    flat = np.array([1.5, 1.2, 1.1, 1.0, 1.0, 1.1, 1.2, 1.3, 1.9])
    assert doubling_distance(axis, flat, 4, +1) is None  # never within the grid
    values[5] = np.nan  # not measured yet: skipped, the next measured point has doubled
    assert doubling_distance(axis, values, 4, +1) == pytest.approx(0.75)
    values[5] = np.inf
    assert doubling_distance(axis, values, 4, +1) == pytest.approx(0.25)
    flat[7] = np.nan  # nothing measured has doubled, and a point is missing: not known
    assert math.isnan(doubling_distance(axis, flat, 4, +1))
    flat[4] = np.nan
    assert math.isnan(doubling_distance(axis, flat, 4, -1))


def test_local_minima_are_interior_points_below_all_eight_neighbours():
    grid = np.full((5, 5), 5.0)
    grid[1, 1] = 1.0
    grid[3, 3] = 2.0
    grid[4, 0] = 0.0  # on the edge: not counted
    grid[2, 2] = 5.0  # a plateau point is no minimum
    assert local_minima(grid) == [(1, 1), (3, 3)]
    grid[3, 4] = 2.0  # a tie with a neighbour is no strict minimum
    assert local_minima(grid) == [(1, 1)]
    grid[0, 0] = np.nan  # a missing neighbour: not decided
    assert local_minima(grid) == []


def _summary(label, kind, doubling, minima, centre=0.01, grid=25, evaluated=625, highest=5.0):
    """A summary as ``summarise`` makes one: the loss is 3x the centre's where it has doubled and at most
    1.5x nearer the centre."""
    return SurfaceSummary(label, kind, centre, doubling, minima, grid, evaluated, 625, highest,
                          tuple(math.nan if d is None or math.isnan(d) else 3 * centre for d in doubling),
                          (1.5 * centre, 1.5 * centre))


PLAN = GridPlan(25, 9, 1.0)  # step 1/12
WORDS_TABLE = [
    # ResNet doubling, plain doubling, ResNet minima, plain minima -> outcome, words that must appear
    ((0.50, 0.42), (0.17, 0.17), 1, 4, "shown",
     "ResNet-20's loss doubles further from the centre than plain-20's along both directions (0.50 against 0.17 "
     "along direction 1; 0.42 against 0.17 along direction 2)"),
    ((0.50, None), (0.17, 0.25), 1, 1, "partly", "along both directions (0.50 against 0.17 along direction 1; "
                                                 "beyond ±1.00 against 0.25 along direction 2)"),
    ((None, None), (0.17, 0.25), 3, 1, "partly",
     "plain-20's grid shows fewer local minima than ResNet-20's (1 against 3)"),
    ((0.25, 0.25), (0.25, 0.25), 1, 5, "partly", "plain-20's grid shows more local minima than ResNet-20's (5 against 1)"),
    ((0.17, 0.17), (0.50, 0.50), 1, 1, "not_shown", "Here none of the 3 measures of this slice go the lessons' way"),
    ((0.25, 0.25), (0.25, 0.25), 1, 1, "not_shown",
     "doubles at the same grid distance from the centre as plain-20's along both directions"),
    # one grid step apart along d2: named, with its subject (not "for one net along one direction only")
    ((0.25, 1 / 3), (0.25, 0.25), 2, 2, "partly",
     "along direction 2 ResNet-20's loss doubles further from the centre than plain-20's (0.33 against 0.25)"),
    ((0.25, 0.32), (0.25, 0.25), 2, 2, "not_shown", "same grid distance"),  # less than a step apart
    ((0.50, 0.17), (0.17, 0.50), 1, 1, "partly",
     "Along direction 1 ResNet-20's loss doubles further from the centre than plain-20's (0.50 against 0.17); along "
     "direction 2 ResNet-20's loss doubles nearer the centre than plain-20's (0.17 against 0.50)"),
]


@pytest.mark.parametrize("res_d, plain_d, res_min, plain_min, outcome, phrase", WORDS_TABLE)
def test_the_words_follow_the_table(res_d, plain_d, res_min, plain_min, outcome, phrase):
    verdict = landscape_verdict([_summary("ResNet-20", "resnet", res_d, res_min),
                                 _summary("plain-20", "plain", plain_d, plain_min)], PLAN, 269_722)
    assert_words_hold(verdict)
    assert verdict.outcome == outcome
    assert phrase in verdict.text, verdict.texts
    assert "one random 2D slice through the space of 269,722 weights" in verdict.text
    assert "very different heights" not in verdict.text and "far higher" not in verdict.text  # alike in height
    assert "no clear difference" not in verdict.text.lower() and "one net along one direction" not in verdict.text
    for label, d in (("ResNet-20", res_d), ("plain-20", plain_d)):
        for k, dist in enumerate(d, start=1):
            said = (f"has doubled {dist:.2f} from the centre along direction {k}" if dist is not None else
                    f"stays below twice that out to ±1.00 along direction {k}")
            assert said in next(s for s in verdict.texts if s.startswith(label + ":"))


def test_centre_losses_far_apart_are_the_headline():
    # the 360x gap at the centre was left under a "no clear difference" headline
    verdict = landscape_verdict([_summary("ResNet-56", "resnet", (0.17, 0.17), 1, centre=0.0049, highest=9.2),
                                 _summary("plain-56", "plain", (0.33, 0.17), 2, centre=1.789, highest=53_180.4)],
                                PLAN)
    assert_words_hold(verdict)
    assert verdict.headline == ("At the trained weights plain-56's loss is higher than ResNet-56's (1.789 against "
                                "0.0049; plain-56's is 365x ResNet-56's), so where the loss doubles is measured "
                                "from very different heights.")
    assert "plain-56: loss 1.789 at the trained weights, 53,180 at the highest point measured" in verdict.text
    assert "ResNet-56: loss 0.0049 at the trained weights, 9.200 at the highest point measured" in verdict.text
    assert verdict.texts[-1].startswith("This is one random 2D slice")
    assert "Away from the centre plain-56's loss climbs far higher: up to 53,180 against 9.200" in verdict.text


def test_the_words_never_compare_what_is_not_measured_yet():
    assert landscape_verdict([], PLAN).outcome == "nothing"
    partial = [_summary("ResNet-20", "resnet", (None, None), None, grid=0, evaluated=10),
               _summary("plain-20", "plain", (None, None), None, grid=0, evaluated=10)]
    verdict = landscape_verdict(partial, PLAN)
    assert verdict.outcome == "measuring" and "1D slice" in verdict.headline
    assert "local minima are not counted until the coarse grid is complete" in verdict.text
    coarse = [_summary("ResNet-20", "resnet", (0.5, 0.5), 1, grid=9, evaluated=100),
              _summary("plain-20", "plain", (0.17, 0.17), 3, grid=9, evaluated=100)]
    verdict = landscape_verdict(coarse, PLAN)
    assert "on the 9x9 grid (the coarse one, so far)" in verdict.text
    assert "The grid is not complete (100 of 625 points)" in verdict.text
    # along direction 2 only the coarse points are in: nothing reached double there yet, so nothing is compared
    unknown = [_summary("ResNet-20", "resnet", (0.5, math.nan), 1, grid=9, evaluated=100),
               _summary("plain-20", "plain", (0.17, math.nan), 1, grid=9, evaluated=100)]
    verdict = landscape_verdict(unknown, PLAN)
    assert_words_hold(verdict)
    assert "along direction 2 where the loss doubles is not known yet for both nets" in verdict.headline
    assert "has not doubled at the points measured so far along direction 2" in verdict.text
    assert "stays below" not in verdict.text
    single = landscape_verdict([_summary("ResNet-20", "resnet", (0.5, 0.5), 1)], PLAN)
    assert single.outcome == "single" and single.headline.startswith("ResNet-20: loss 0.010")
    assert "Compare a ResNet with its plain twin" in single.text


def _grid_result(plan, grids, kinds=("resnet", "plain")) -> tuple[dict, list]:
    summaries = [summarise(label, kind, plan, g) for label, kind, g in zip(("ResNet-8", "plain-8"), kinds, grids)]
    table = {"experiment": "landscape", "axis": [float(a) for a in plan.axis],
             "settings": {"coarse": plan.coarse, "span": plan.span}, "weights": 1000,
             "arms": [{"arm": s.label, "kind": s.kind, **s.to_dict()} for s in summaries]}
    return table, summaries


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_random_grids_say_only_what_their_losses_hold(data):
    plan = GridPlan(5, 3, 1.0)
    grids = []
    for _ in range(2):
        values = data.draw(st.lists(st.floats(0.001, 50), min_size=25, max_size=25))
        grid = np.array(values).reshape(5, 5)
        holes = data.draw(st.lists(st.booleans(), min_size=25, max_size=25))
        if data.draw(st.booleans()):
            grid[np.array(holes).reshape(5, 5)] = np.nan  # a grid still being measured
        grids.append(grid)
    both = np.isnan(grids[0]) | np.isnan(grids[1])  # as summaries_of gives them: the points both nets have
    for g in grids:
        g[both] = np.nan
    table, summaries = _grid_result(plan, grids)
    verdict = landscape_verdict(summaries, plan, 1000)
    assert_words_hold(verdict)
    assert_report_renders_the_same(table, verdict)
    # a result saved before the summaries carried their supporting losses is read from its grids
    older = {**table, "arms": [{k: v for k, v in a.items() if k not in ("doubled_loss", "highest_loss_inside")}
                               | {"grid": [[None if math.isnan(x) else float(x) for x in row] for row in g]}
                               for a, g in zip(table["arms"], grids)]}
    assert render(older).texts == verdict.texts
    for s in summaries:
        for k, d in enumerate(s.doubling, start=1):
            if d is not None and not math.isnan(d):
                assert f"has doubled {d:.2f} from the centre along direction {k}" in verdict.text


def test_a_summary_is_saved_as_strict_json_and_read_back_the_same():
    plan = GridPlan(5, 3, 1.0)
    grid = 1.0 + np.add.outer(plan.axis ** 2, plan.axis ** 2)
    grid[2, 4] = np.inf  # along direction 2 the loss is infinite one step out: doubled there
    s = summarise("ResNet-8", "resnet", plan, grid)
    assert s.doubled_loss[1] == math.inf and math.isnan(s.doubled_loss[0]) is False
    saved = json.loads(json.dumps(s.to_dict(), allow_nan=False))  # no NaN or Infinity constants
    again = SurfaceSummary.from_dict("ResNet-8", "resnet", saved)
    assert again.doubled_loss[1] == math.inf and again.inside_highest == s.inside_highest
    flat = summarise("ResNet-8", "resnet", plan, np.ones((5, 5)))  # never doubles: no loss where it did
    assert json.loads(json.dumps(flat.to_dict(), allow_nan=False))["doubled_loss"] == [None, None]


def test_a_summary_reads_the_centre_the_doubling_and_the_minima_from_a_grid():
    plan = GridPlan(5, 3, 1.0)
    a = plan.axis
    bowl = 1.0 + np.add.outer(a ** 2, 4 * a ** 2)  # doubles at 1.0 along d1 and 0.5 along d2
    s = summarise("ResNet-8", "resnet", plan, bowl)
    assert s.centre_loss == 1.0 and s.doubling == (1.0, 0.5) and s.minima == 1 and s.grid_points == 5
    assert s.highest == pytest.approx(6.0)  # the corners: 1 + 1 + 4
    partial = bowl.copy()
    partial[1, 1] = np.nan
    s = summarise("ResNet-8", "resnet", plan, partial)
    assert s.grid_points == 3 and s.minima == 1 and s.evaluated == 24


# -- the runner and the CLI ---------------------------------------------------------------

def _twins():
    nets = []
    for kind in ("resnet", "plain"):
        spec = cifar_net(kind, 8, SMALL)
        nets.append(LandscapeNet(spec, build(spec, seed=0).state_dict(), "shapes", 64, 16, source=f"{kind}8"))
    return nets


def test_the_runner_fills_both_grids_and_the_centre_is_the_trained_loss(one_torch_thread):
    nets = _twins()
    runner = LandscapeRunner(nets, LandscapeSettings(points=5, coarse=3, images=24, device="cpu"))
    events = []
    runner.run(lambda k, p: events.append((k, p.i, p.j)))
    assert runner.error == "" and runner.images == 24
    assert [k for k, *_ in events[:4]] == [0, 1, 0, 1]  # the nets take turns
    assert len(events) == 50 and all(not np.isnan(s.values).any() for s in runner.surfaces)
    # the centre is the loss of the weights as given, in eval mode, on the same images
    model = build(nets[0].spec)
    model.load_state_dict(nets[0].state)
    x, y = runner._batch("shapes", torch.device("cpu"))
    with torch.no_grad():
        expected = float(nn.functional.cross_entropy(model.eval()(x), y))
    assert runner.surfaces[0].values[2, 2] == pytest.approx(expected, rel=1e-5)
    assert [s.label for s in summaries_of(runner)] == ["ResNet-8", "plain-8"]


def test_stopping_ends_after_the_point_in_progress(one_torch_thread):
    runner = LandscapeRunner(_twins(), LandscapeSettings(points=25, coarse=9, images=8, device="cpu"))
    runner.run(lambda k, p: runner.stop())
    assert runner.surfaces[0].evaluated == 1 and runner.surfaces[1].evaluated == 0
    # the words read only the points both nets have, so the first net's extra point is not compared yet
    assert [s.evaluated for s in summaries_of(runner)] == [0, 0]


def test_nets_of_different_shapes_cannot_share_directions(one_torch_thread):
    a = LandscapeNet(cifar_net("resnet", 8, SMALL), build(cifar_net("resnet", 8, SMALL)).state_dict(), "shapes", 32, 8)
    b = LandscapeNet(cifar_net("plain", 14, SMALL), build(cifar_net("plain", 14, SMALL)).state_dict(), "shapes", 32, 8)
    runner = LandscapeRunner([a, b], LandscapeSettings(points=5, coarse=3, images=8, device="cpu"))
    runner.run()
    assert "parameters of different shapes" in runner.error


def test_cli_compares_a_trained_resnet_with_its_plain_twin(tmp_path, capsys, one_torch_thread):
    settings = TrainSettings(dataset="shapes", train_size=64, test_size=16, batch_size=32, max_steps=2,
                             augment=False, device="cpu")
    for kind in ("resnet", "plain"):
        trainer = Trainer(cifar_net(kind, 8, SMALL), settings)
        trainer.run()
        trainer.save_checkpoint(str(tmp_path / f"{kind}8.pt"))
    code = cli_main(["experiment", "landscape", "--from-dir", str(tmp_path), "--depth", "8", "--points", "5",
                     "--coarse", "3", "--images", "16", "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    report = json.loads(captured.out)
    assert [(a["kind"], a["depth"]) for a in report["arms"]] == [("resnet", 8), ("plain", 8)]
    assert report["axis"] == [-1.0, -0.5, 0.0, 0.5, 1.0] and report["images"] == 16
    for arm in report["arms"]:
        assert len(arm["grid"]) == 5 and all(v is not None for row in arm["grid"] for v in row)
        assert arm["slice_1d"] == [row[2] for row in arm["grid"]]
        assert arm["centre_loss"] == arm["grid"][2][2] and arm["minima_grid"] == 5
    assert report["verdict"]["headline"] == report["sentences"][0]
    assert check(report) == []
    path = tmp_path / "landscape.json"
    path.write_text(captured.out)
    assert cli_main(["experiment", "report", str(path)]) == 0  # the saved grids, read again
    texts = [t if isinstance(t, str) else t["text"] for t in report["sentences"]]
    assert [line.strip() for line in capsys.readouterr().out.strip().splitlines()] == texts
    assert "coarse 3x3 grid done" in captured.err


def test_cli_names_a_missing_checkpoint(tmp_path, capsys):
    assert cli_main(["experiment", "landscape", "--from-dir", str(tmp_path), "--depth", "20"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "resnet20.pt does not exist" in err
    assert cli_main(["experiment", "landscape", "--points", "24"]) == 2
    assert "odd number of points" in capsys.readouterr().err


def test_local_minima_agree_with_a_point_by_point_reading_on_random_grids():
    rng = np.random.default_rng(0)
    for _ in range(20):
        grid = rng.integers(0, 6, size=(7, 9)).astype(float)  # small integers: many ties
        grid[rng.random(grid.shape) < 0.1] = np.nan
        expected = []
        for i in range(1, 6):
            for j in range(1, 8):
                window = grid[i - 1:i + 2, j - 1:j + 2]
                others = np.delete(window.ravel(), 4)
                if not np.isnan(window).any() and (window[1, 1] < others).all():
                    expected.append((i, j))
        assert local_minima(grid) == expected
