"""The depth sweep without Qt: settings, its words over result tables, the cache and a tiny real run."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st
from words_check import assert_report_renders_the_same, assert_words_hold

from explorer.cli import main as cli_main
from explorer.experiments import claims, sweep_cache
from explorer.experiments.arms import Arm
from explorer.experiments.degradation import ArmResult
from explorer.experiments.depth_sweep import SweepResult, SweepSettings, parse_seeds, sweep_result, sweep_runner
from explorer.experiments.depth_sweep_words import sweep_verdict
from explorer.spec import SpecError
from explorer.train.api import EpochMetrics

DEPTHS = (8, 14, 20, 32, 44, 56)


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path, monkeypatch):
    """Never touch the user's cache folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def tiny(**changes) -> SweepSettings:
    base = dict(dataset="shapes", depths=(8, 14), epochs=2, train_size=64, test_size=32, batch_size=32,
                image_size=8, device="cpu", metrics_every=1)
    base.update(changes)
    return SweepSettings(**base)


def sweep(plain: list, resnet: list, epochs: int = 20, depths=DEPTHS, done: int | None = None,
          status: str = "finished") -> SweepResult:
    """A sweep whose nets end at the given training errors: one value per depth, or a list per depth (seeds).
    Earlier epochs are higher; test error is training error + 5 points. ``done``: epochs completed."""
    done = epochs if done is None else done
    per_depth = {"plain": plain, "resnet": resnet}
    seeds = max(len(v) if isinstance(v, list) else 1 for v in plain + resnet)
    arms = []
    for seed in range(seeds):
        for kind in ("plain", "resnet"):
            for depth, ends in zip(depths, per_depth[kind]):
                end = ends[seed] if isinstance(ends, list) else ends
                train = [0.9] * (done - 1) + [end]
                arms.append(ArmResult(Arm(kind, depth), train, [e + 0.05 for e in train],
                                      status, seed=seed))
    settings = SweepSettings(epochs=epochs, depths=depths, seeds=tuple(range(seeds)))
    return SweepResult(settings, arms, status)


# name, sweep, outcome, phrases the words must hold, phrases they must not
SWEEP_TABLE = [
    ("clean: the plain curve turns at 32, the ResNets do not",
     sweep([0.005, 0.003, 0.004, 0.08, 0.30, 0.60], [0.002, 0.002, 0.001, 0.003, 0.004, 0.006]), "shown",
     ["The plain curve turns at 32 layers: plain-32 ended at 8.0% training error against 0.3% for plain-14; all 3 "
      "plain nets from 32 layers on ended more than 1.0 point above plain-14; the ResNet curve does not turn: all "
      "6 ResNets ended within 1.0 point of the best, ResNet-20 at 0.1%.",
      "Training error after 20 epochs: plain 8: 0.5%, 14: 0.3%, 20: 0.4%, 32: 8.0%, 44: 30.0%, 56: 60.0%",
      "Fitted the training set (under 1.0%): 9 of the 12 nets (all but plain-32, plain-44 and plain-56).",
      "Test error: plain 8: 5.5%", "at 56 layers, ResNet-56 ended with less test error than plain-56 (5.6% "
      "against 65.0%)"],
     ["too short", "does not turn between"]),
    ("the turn at one depth only: the count says which deeper nets are above",
     sweep([0.005, 0.003, 0.004, 0.08, 0.01, 0.60], [0.002] * 6), "shown",
     ["turns at 32 layers: plain-32 ended at 8.0%", "2 of the 3 plain nets from 32 layers on (all but "
      "plain-44) ended more than 1.0 point above plain-14"], ["every deeper plain net", "all 3"]),
    ("no turn: every plain net fits",
     sweep([0.002, 0.001, 0.003, 0.004, 0.002, 0.009], [0.001] * 6), "not_shown",
     ["The plain curve does not turn between 8 and 56 layers: none of the 5 deeper plain nets ended more than "
      "1.0 point above the best shallower plain net (the best of all, plain-14, ended at 0.1%).",
      "Fitted the training set (under 1.0%): all 12 nets."], ["turns at"]),
    ("not judged: far too short, said with what was measured",
     sweep([0.50, 0.52, 0.55, 0.58, 0.60, 0.61], [0.5] * 6, epochs=2), "too_early",
     ["Too early to tell where the plain curve turns: plain-14 ended at 52.0% training error against 50.0% for "
      "plain-8, but plain-8 has not fitted the training set", "none of the 12 nets"], ["turns at", "too short"]),
    ("seen: --epochs 2 --depths 8,14 said 'every ResNet within 1.0 point' with ResNet-8 at 5.4%, and "
     "'degradation, not overfitting' after two epochs",
     sweep([0.492, 0.664], [0.054, 0.037], epochs=2, depths=(8, 14)), "too_early",
     ["plain-8 has not fitted the training set"], ["every ResNet", "all 2 ResNets", "not overfitting"]),
    ("the deepest ResNets have not caught up: only the plain curve",
     sweep([0.004, 0.003, 0.004, 0.30, 0.60, 0.878], [0.0007, 0.001, 0.002, 0.01, 0.05, 0.257], epochs=10),
     "plain_only",
     ["turns at 32 layers", "4 of the 6 ResNets (all but ResNet-44 and ResNet-56) ended within 1.0 "
      "point of the best, ResNet-8 at 0.07%; the ResNets spread over 25.6 points (ResNet-56 25.7%), less than "
      "the plain curve's rise of 87.5 points.",
      "ResNet-56's training error fell steadily over the last 5 epochs (90.0% to 25.7%)."],
     ["does not turn (", "too short"]),
    ("a ResNet above the best *before* the turn counts too (every depth, not only from the turn on)",
     sweep([0.005, 0.003, 0.004, 0.08, 0.30, 0.60], [0.03, 0.002, 0.001, 0.003, 0.004, 0.006]), "plain_only",
     ["5 of the 6 ResNets (all but ResNet-8) ended within 1.0 point of the best"], ["ResNet curve does not turn"]),
    ("both curves rise alike",
     sweep([0.005, 0.003, 0.004, 0.08, 0.30, 0.60], [0.005, 0.003, 0.004, 0.07, 0.28, 0.595]), "mixed",
     ["about as much as the plain curve's rise", "does not separate the two kinds"], ["does not turn ("]),
    ("seeds whose ranges overlap do not make a turn, and the words say why",
     sweep([[0.001, 0.002], [0.001, 0.002], [0.001, 0.003], [0.001, 0.15], [0.002, 0.003], [0.001, 0.002]],
           [[0.001, 0.002]] * 6), "not_shown",
     ["does not turn between 8 and 56 layers", "mean of 2 seeds", "plain-32 ended 7.4 points above plain-8 on "
      "average, but its seeds' range reaches into the shallower net's (0.1% lowest against 0.2% highest)",
      "The error bars span the lowest to the highest seed"], []),
    ("seeds apart: a turn",
     sweep([[0.001, 0.002], [0.001, 0.002], [0.001, 0.003], [0.10, 0.15], [0.3, 0.4], [0.5, 0.6]],
           [[0.001, 0.002]] * 6), "shown",
     ["turns at 32 layers: plain-32 ended at 12.5% training error against 0.1% for plain-8 (means of 2 seeds)"],
     []),
    ("a stopped sweep says it is so far",
     sweep([0.005, 0.003, 0.004, 0.08, 0.30, 0.60], [0.002] * 6, epochs=20, done=12, status="stopped"), "shown",
     ["So far (epoch 12 of 20): The plain curve turns at 32 layers: plain-32 is at 8.0%",
      "The sweep stopped at epoch 12 of 20"], ["ended at"]),
]


@pytest.mark.parametrize("name,result,outcome,holds,lacks", SWEEP_TABLE, ids=[r[0] for r in SWEEP_TABLE])
def test_sweep_words_follow_from_the_numbers(name, result, outcome, holds, lacks):
    v = sweep_verdict(result)
    assert v.outcome == outcome
    for phrase in holds:
        assert phrase in v.text
    for phrase in lacks:
        assert phrase not in v.text
    assert_words_hold(v)


ERRORS = st.one_of(st.sampled_from([0.0, 0.004, 0.0099, 0.01, 0.011, 0.02, 0.021, 0.3, 0.9]),
                   st.floats(0, 1, allow_nan=False))


@st.composite
def sweeps(draw):
    depths = draw(st.sampled_from([(8, 14), (8, 14, 20), (8, 14, 20, 32, 44, 56)]))
    seeds = draw(st.integers(1, 3))
    planned = draw(st.integers(1, 6))
    done = draw(st.integers(1, planned))
    arms = []
    for seed in range(seeds):
        for kind in ("plain", "resnet"):
            for d in depths:
                n = done if draw(st.integers(0, 9)) else draw(st.integers(0, planned))
                arms.append(ArmResult(Arm(kind, d), draw(st.lists(ERRORS, min_size=n, max_size=n)),
                                      draw(st.lists(ERRORS, min_size=n, max_size=n)),
                                      "finished" if n == planned else "stopped", seed=seed))
    return SweepResult(SweepSettings(epochs=planned, depths=depths, seeds=tuple(range(seeds))), arms, "finished")


@settings(max_examples=100, deadline=None)
@given(sweeps())
def test_every_claim_holds_and_shown_only_when_every_depth_meets_its_bar(result):
    v = sweep_verdict(result)
    assert_words_hold(v)
    assert_report_renders_the_same(result.to_dict(), v)
    if v.outcome == "shown":  # recomputed here from the table
        plain, res = result.points("plain"), result.points("resnet")
        best_res = min(p.mean for p in res)
        assert best_res < 0.01 and all(p.mean - best_res <= 0.01 for p in res)  # every ResNet depth
        k = next(k for k in range(1, len(plain)) if "turns at %d layers" % plain[k].depth in v.headline)
        best = min(plain[:k], key=lambda p: p.mean)
        assert best.mean < 0.01 and plain[k].mean - best.mean > 0.01
        if len(result.settings.seeds) > 1:
            assert plain[k].low > best.high


def test_no_verdict_until_every_net_has_an_epoch():
    result = sweep([0.5] * 6, [0.5] * 6, done=1)
    result.arms[3].train_errors = []
    v = sweep_verdict(result)
    assert v.outcome == "no_verdict" and "plain-32 has not completed an epoch" in v.headline


def test_points_average_the_seeds_and_keep_their_range():
    result = sweep([[0.1, 0.3]] * 6, [[0.0, 0.2]] * 6)
    p = result.points("plain")[0]
    assert (p.depth, round(p.mean, 6), p.low, p.high, p.count) == (8, 0.2, 0.1, 0.3, 2)
    assert [p.depth for p in result.points("resnet", "test")] == list(DEPTHS)
    assert len(result.curves("resnet", 20)) == 2


def test_settings_seeds_and_runs():
    assert parse_seeds("2, 0,2") == (0, 2)
    with pytest.raises(SpecError, match="'x'"):
        parse_seeds("0,x")
    with pytest.raises(SpecError, match="at least one"):
        parse_seeds("")
    s = SweepSettings(depths=(8, 20), seeds=(1, 0))
    assert s.seeds == (0, 1)
    assert [(a.label, seed) for a, seed in s.runs()] == [
        ("plain-8", 0), ("plain-20", 0), ("ResNet-8", 0), ("ResNet-20", 0),
        ("plain-8", 1), ("plain-20", 1), ("ResNet-8", 1), ("ResNet-20", 1)]
    assert SweepSettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert SweepSettings().depths == DEPTHS


# -- the cache ---------------------------------------------------------------------------

def test_the_cache_keeps_a_sweep_per_settings(cache_in_tmp):
    result = sweep([0.005, 0.003, 0.004, 0.08, 0.30, 0.60], [0.002] * 6)
    result.measured_at = 1000.0
    path = sweep_cache.save(result)
    assert path is not None and path.parent == cache_in_tmp / "resnet-explorer" / "depth-sweep"
    again = sweep_cache.load(result.settings)
    assert again.settings == result.settings and again.measured_at == 1000.0
    assert [a.to_dict() for a in again.arms] == [a.to_dict() for a in result.arms]
    assert sweep_verdict(again).headline == sweep_verdict(result).headline
    other = sweep([0.0] * 6, [0.0] * 6, epochs=21)
    other.measured_at = 2000.0
    sweep_cache.save(other)
    assert sweep_cache.latest().settings.epochs == 21
    assert sweep_cache.load(result.settings).settings.epochs == 20  # each settings keeps its own


def test_a_stopped_sweep_never_replaces_a_finished_one(cache_in_tmp):
    finished = sweep([0.005] * 6, [0.002] * 6)
    sweep_cache.save(finished)
    stopped = sweep([0.5] * 6, [0.5] * 6, done=3, status="stopped")
    assert sweep_cache.save(stopped) is None
    assert sweep_cache.load(finished.settings).status == "finished"


def test_an_unreadable_cache_file_is_ignored(cache_in_tmp):
    result = sweep([0.005] * 6, [0.002] * 6)
    path = sweep_cache.save(result)
    path.write_text("{not json")
    assert sweep_cache.load(result.settings) is None and sweep_cache.latest() is None


# -- a tiny real run ---------------------------------------------------------------------

def test_a_tiny_sweep_trains_every_net_in_turns(one_torch_thread):
    settings = tiny(seeds=(0, 1))
    runner = sweep_runner(settings)
    epochs = []
    runner.run(lambda i, e: epochs.append((e.epoch, i)) if isinstance(e, EpochMetrics) else None)
    assert not runner.error
    # the curves grow together: every net ends epoch 1 before any ends epoch 2
    order = [e for e, _ in epochs]
    assert order == sorted(order) and len(order) == 16
    result = sweep_result(settings, runner, 1.0)
    assert result.status == "finished" and result.epoch == 2 and len(result.arms) == 8
    assert {(a.arm.label, a.seed) for a in result.arms} == {(f"{k}-{d}", s) for k in ("plain", "ResNet")
                                                            for d in (8, 14) for s in (0, 1)}
    assert all(len(a.train_losses) == 2 for a in result.arms)


def test_stop_ends_the_sweep_within_a_step(one_torch_thread, stop_from_another_thread):
    runner = sweep_runner(tiny(epochs=500))
    seen = set()
    assert stop_from_another_thread(runner, lambda i, e: seen.add(i) or len(seen) >= 4) <= 1
    assert sweep_result(tiny(epochs=500), runner, 1.0).status == "stopped"


def test_cli_sweeps_prints_json_rows_per_arm_and_keeps_the_result(capsys, one_torch_thread, cache_in_tmp):
    argv = ["experiment", "depth-sweep", "--depths", "8,14", "--epochs", "2", "--dataset", "shapes",
            "--train-size", "64", "--test-size", "32", "--image-size", "8", "--device", "cpu", "--seed", "3"]
    assert cli_main(argv + ["--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert [(a["kind"], a["depth"], a["seed"]) for a in report["arms"]] == [
        ("plain", 8, 3), ("plain", 14, 3), ("resnet", 8, 3), ("resnet", 14, 3)]
    assert all(0 <= a["final_train_error"] <= 1 and len(a["train_error"]) == 2 for a in report["arms"])
    assert [r["depth"] for r in report["by_depth"]["plain"]] == [8, 14]
    assert report["verdict"]["headline"] == report["sentences"][0] and claims.check(report) == []
    assert report["cache_file"].startswith(str(cache_in_tmp))
    assert "epoch   2/2  training error %  plain " in captured.err
    # the cached sweep comes back without training, in words
    assert cli_main(argv + ["--from-cache"]) == 0
    out = capsys.readouterr().out
    assert "from the cache" in out and report["verdict"]["headline"] in out


def test_cli_names_bad_input(capsys):
    assert cli_main(["experiment", "depth-sweep", "--depths", "8,15"]) == 2
    assert "15 is not 6n+2" in capsys.readouterr().err
    assert cli_main(["experiment", "depth-sweep", "--seeds", "0,a"]) == 2
    assert "'a' is not a whole number" in capsys.readouterr().err
    assert cli_main(["experiment", "depth-sweep", "--seeds", "0,99999999999", "--depths", "8,14"]) == 2
    assert "seeds must be between 0 and 4,294,967,295" in capsys.readouterr().err
    assert cli_main(["experiment", "depth-sweep", "--depths", "8,14", "--from-cache"]) == 2
    assert "no cached sweep for these settings" in capsys.readouterr().err
    assert cli_main(["experiment", "depth-sweep", "--dataset", "cifar10:/no/such/folder", "--depths", "8,14",
                     "--epochs", "1"]) == 2
    assert "expected a folder at /no/such/folder" in capsys.readouterr().err


def test_a_sweep_cached_before_the_optimizer_was_a_setting_is_still_found():
    """The key of settings that use the values every earlier sweep used (SGD, no warm-up) is the key
    those sweeps were saved under, made from the settings without the two newer fields."""
    import hashlib
    import json

    from dataclasses import replace as _replace

    settings = SweepSettings()
    earlier = {k: v for k, v in settings.to_dict().items() if k not in ("optimizer", "warmup_epochs")}
    assert sweep_cache.settings_key(settings) == hashlib.sha256(json.dumps(earlier, sort_keys=True).encode()).hexdigest()[:16]
    assert sweep_cache.settings_key(_replace(settings, optimizer="adamw")) != sweep_cache.settings_key(settings)
    assert sweep_cache.settings_key(_replace(settings, warmup_epochs=1.0)) != sweep_cache.settings_key(settings)
