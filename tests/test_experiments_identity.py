"""The identity exercise: the plain block's floor is exact, the residual block reaches the
identity, stacks compare, and every sentence rests on claims that hold (random tables)."""
import json
import math

import pytest
import torch
from hypothesis import given, settings as hsettings, strategies as st

from explorer.cli import main as cli_main
from explorer.experiments import claims as C
from explorer.experiments.identity import Fit, IdentityResult, IdentitySettings, fit, make_data, run_identity
from explorer.experiments.identity_words import FLOOR_SHARE, STEP, ZERO_SHARE, identity_words
from explorer.spec.errors import SpecError

SMALL = IdentitySettings(features=8, samples=256, steps=300, depths=(1, 4))


def test_the_floor_is_the_negative_part_and_the_identity_weights_reach_it_exactly():
    x, floor, zero_error = make_data(SMALL)
    assert floor == pytest.approx(float((torch.relu(-x) ** 2).mean()))
    best_plain = torch.relu(x @ torch.eye(SMALL.features))  # W = I, b = 0
    assert float(((best_plain - x) ** 2).mean()) == pytest.approx(floor)
    assert x.min() < 0 and 0.3 < floor / zero_error < 0.7  # about half the energy is negative


def test_a_trained_plain_block_never_beats_its_floor_and_a_residual_block_reaches_the_identity(one_torch_thread):
    x, floor, _ = make_data(SMALL)
    plain = fit(x, "plain", 1, SMALL)
    residual = fit(x, "residual", 1, SMALL)
    assert plain.final_error >= floor * (1 - 1e-4)
    assert plain.final_error <= floor * (1 + FLOOR_SHARE) + 0.05
    assert residual.final_error < ZERO_SHARE * floor
    assert residual.weight_norms[-1] < 0.5 * residual.weight_norms[0]


def test_a_stopped_run_keeps_what_finished_and_says_so(one_torch_thread):
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2 * SMALL.steps + 5  # stops inside the third model

    result = run_identity(SMALL, cancelled=cancelled)
    assert result.stopped and set(result.single) == {"plain", "residual"} and result.trained == 2
    words = identity_words(result)
    assert "stopped: 2 of the 4 models trained" in words.words.text
    assert C.check(words.words.to_dict()) == []


def _fit(kind, blocks, errors, norms):
    return Fit(kind, blocks, list(errors), list(norms), list(range(len(errors))))


error = st.floats(0, 3, allow_nan=False)
curve = st.lists(error, min_size=2, max_size=6)


@st.composite
def tables(draw):
    depths = tuple(sorted(draw(st.sets(st.integers(1, 16), min_size=0, max_size=5))))
    s = IdentitySettings(features=4, samples=16, steps=10, depths=depths or (1,))
    floor = draw(st.floats(0.05, 1.0))
    r = IdentityResult(s, floor, floor * 2, stopped=draw(st.booleans()))
    for kind in ("plain", "residual"):
        if draw(st.booleans()) or not r.stopped:
            errs = draw(curve)
            norms = draw(st.lists(st.floats(0.01, 20), min_size=len(errs), max_size=len(errs)))
            r.single[kind] = _fit(kind, 1, errs, norms)
    for k in s.depths:
        for kind in ("plain", "residual"):
            if draw(st.integers(0, 4)) or not r.stopped:
                r.stacks[(kind, k)] = _fit(kind, k, [draw(error)], [1.0])
    return r


@hsettings(max_examples=150, deadline=None)
@given(tables())
def test_every_sentence_rests_on_claims_that_hold(result):
    words = identity_words(result)
    out = json.loads(json.dumps(words.words.to_dict()))
    assert C.check(out) == []
    if words.shown:  # green only when every part named meets its bar
        p, r = result.single["plain"].final_error, result.single["residual"].final_error
        assert abs(p - result.floor) <= FLOOR_SHARE * result.floor
        assert r < ZERO_SHARE * result.floor
        both = [k for k in result.settings.depths
                if ("plain", k) in result.stacks and ("residual", k) in result.stacks]
        assert len(both) >= 2
        assert all(result.stacks[("plain", k)].final_error - result.stacks[("residual", k)].final_error > STEP
                   for k in both)


def test_the_result_table_round_trips_and_renders_the_same_words():
    r = IdentityResult(SMALL, 0.5, 1.0)
    r.single = {"plain": _fit("plain", 1, [1.0, 0.505], [2, 3]), "residual": _fit("residual", 1, [0.2, 0.0], [2, 0.3])}
    r.stacks = {("plain", 1): r.single["plain"], ("residual", 1): r.single["residual"],
                ("plain", 4): _fit("plain", 4, [0.8], [1]), ("residual", 4): _fit("residual", 4, [0.0], [1])}
    again = IdentityResult.from_dict(json.loads(json.dumps(r.to_dict())))
    assert identity_words(again).words.sentences == identity_words(r).words.sentences
    assert identity_words(r).shown


def test_cli_json_carries_the_table_the_sentences_and_claims_that_hold(capsys, one_torch_thread):
    code = cli_main(["experiment", "identity", "--features", "6", "--samples", "128", "--steps", "60",
                     "--depths", "1,2", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    d = json.loads(out.out)
    assert d["experiment"] == "identity" and C.check(d) == []
    assert d["result"]["floor"] > 0 and len(d["result"]["stacks"]) == 4
    assert d["sentences"][-1]["lesson"] is True


@pytest.mark.parametrize("argv, words", [
    (["--depths", "2,²"], "--depths"),
    (["--depths", "0,2"], "--depths"),
    (["--steps", "0"], "--steps"),
    (["--lr", "nan"], "--lr"),
    (["--seed", str(2 ** 64)], "--seed"),
])
def test_cli_names_a_bad_value_in_one_line(capsys, argv, words):
    assert cli_main(["experiment", "identity", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_settings_refuse_a_depth_twice():
    with pytest.raises(SpecError):
        IdentitySettings(depths=(2, 2))


def test_report_renders_a_saved_identity_result_again(capsys, tmp_path, one_torch_thread):
    assert cli_main(["experiment", "identity", "--features", "4", "--samples", "64", "--steps", "30",
                     "--depths", "1,2", "--json"]) == 0
    saved = capsys.readouterr().out
    path = tmp_path / "identity.json"
    path.write_text(saved)
    assert cli_main(["experiment", "report", str(path), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["sentences"] == json.loads(saved)["sentences"] and C.check(again) == []
