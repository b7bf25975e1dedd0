"""The network file: round trips, and a corpus of broken files that must each give a SpecError."""
import json
from dataclasses import replace

import pytest

from explorer.spec import (PRESETS, BlockKind, InitKind, InitSpec, Norm, ShortcutKind, SpecError,
                           StridePlacement, dumps, load, loads, preset, save)
from explorer.spec.fileformat import to_dict


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_round_trips(name, tmp_path):
    spec = preset(name)
    path = tmp_path / f"{name}.json"
    save(spec, path)
    assert load(path) == spec


def test_edited_network_round_trips_every_option(tmp_path):
    spec = preset("resnet50")
    b = spec.block(2, 1)
    spec = spec.with_block(2, 1, replace(b, skip=False, zero_init=True,
                                         stride_placement=StridePlacement.CONV1X1))
    spec = spec.with_block(0, 0, replace(spec.block(0, 0), shortcut=ShortcutKind.PROJECTION))
    spec = replace(spec, name="my net", norm=Norm.NONE, init=InitSpec(InitKind.GAUSSIAN, 0.02),
                   zero_init_residual=True)
    save(spec, tmp_path / "n.json")
    assert load(tmp_path / "n.json") == spec


def test_resnet1202_file_is_compact():
    text = dumps(preset("resnet1202"))
    assert len(text.splitlines()) < 120  # runs of equal blocks are stored once


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    save(preset("resnet20"), path)
    original = path.read_text()

    import explorer.spec.fileformat as ff

    def broken_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(ff.os, "replace", broken_replace)
    with pytest.raises(OSError):
        save(preset("resnet56"), path)
    assert path.read_text() == original
    assert [p.name for p in tmp_path.iterdir()] == ["net.json"]


def _valid():
    return to_dict(preset("resnet20"))


def _mutate(fn):
    data = _valid()
    fn(data)
    return json.dumps(data)


BROKEN = {
    "empty": "",
    "whitespace": "   \n",
    "not json": "this is not a network",
    "truncated": dumps(preset("resnet20"))[:200],
    "a list": "[1, 2, 3]",
    "a number": "42",
    "null": "null",
    "NaN std": dumps(preset("resnet20")).replace('"std": 0.01', '"std": NaN'),
    "deep nesting": "[" * 100000 + "]" * 100000,
    "huge integer": '{"version": ' + "9" * 5000 + "}",
    "other format": _mutate(lambda d: d.update(format="something/else")),
    "future version": _mutate(lambda d: d.update(version=99)),
    "version as text": _mutate(lambda d: d.update(version="1")),
    "missing stages": _mutate(lambda d: d.pop("stages")),
    "stages not a list": _mutate(lambda d: d.update(stages={"a": 1})),
    "stage not an object": _mutate(lambda d: d["stages"].__setitem__(0, 7)),
    "block not an object": _mutate(lambda d: d["stages"][0]["blocks"].__setitem__(0, "basic")),
    "missing width": _mutate(lambda d: d["stages"][0]["blocks"][0].pop("width")),
    "width as text": _mutate(lambda d: d["stages"][0]["blocks"][0].update(width="16")),
    "width float": _mutate(lambda d: d["stages"][0]["blocks"][0].update(width=16.5)),
    "width zero": _mutate(lambda d: d["stages"][0]["blocks"][0].update(width=0)),
    "width negative": _mutate(lambda d: d["stages"][0]["blocks"][0].update(width=-4)),
    "width 10^9": _mutate(lambda d: d["stages"][0]["blocks"][0].update(width=10**9)),
    "a million blocks": _mutate(lambda d: d["stages"][0]["blocks"][0].update(repeat=1_000_000)),
    "many block entries": _mutate(lambda d: d["stages"][0].update(
        blocks=[d["stages"][0]["blocks"][0]] * 5000)),
    "unknown kind": _mutate(lambda d: d["stages"][0]["blocks"][0].update(kind="transformer")),
    "unknown shortcut": _mutate(lambda d: d["stages"][0]["blocks"][0].update(shortcut="wormhole")),
    "skip as text": _mutate(lambda d: d["stages"][0]["blocks"][0].update(skip="yes")),
    "stride zero": _mutate(lambda d: d["stages"][1]["blocks"][0].update(stride=0)),
    "stride huge": _mutate(lambda d: d["stages"][1]["blocks"][0].update(stride=1000)),
    "unknown field": _mutate(lambda d: d["stages"][0]["blocks"][0].update(colour="red")),
    "input shape short": _mutate(lambda d: d.update(input_shape=[3, 32])),
    "input shape huge": _mutate(lambda d: d.update(input_shape=[3, 10**6, 10**6])),
    "input shape text": _mutate(lambda d: d.update(input_shape="3x32x32")),
    "zero classes": _mutate(lambda d: d["head"].update(num_classes=0)),
    "bad norm": _mutate(lambda d: d.update(norm="layer")),
    "bad stem": _mutate(lambda d: d["stem"].update(kind="vit")),
    "negative std": _mutate(lambda d: d["init"].update(kind="gaussian", std=-1)),
    # well-formed JSON, impossible designs
    "identity across a shape change": _mutate(
        lambda d: d["stages"][1]["blocks"][0].update(shortcut="identity")),
    "empty stage": _mutate(lambda d: d["stages"][1].update(blocks=[])),
    "stride shrinks below 1x1": _mutate(lambda d: d["stages"].append(
        {"name": "", "blocks": [{"kind": "basic", "width": 64, "stride": 8},
                                {"kind": "basic", "width": 64, "stride": 2}]})),
    "zero-pad that drops channels": _mutate(lambda d: d["stages"][2]["blocks"][0].update(width=8)),
    "plain block with a projection": _mutate(
        lambda d: d["stages"][0]["blocks"][0].update(kind="plain", shortcut="projection")),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_files_give_a_clear_spec_error(case, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(BROKEN[case], encoding="utf-8")
    with pytest.raises(SpecError) as info:  # a hang would be stopped by pytest's timeout
        load(path)
    message = str(info.value)
    assert message.startswith("broken.json: ")
    assert "Traceback" not in message and len(message) < 400


def test_binary_and_non_utf8_files(tmp_path):
    cases = {"latin1.json": "{\"name\": \"caf\u00e9\"}".encode("latin-1"),
             "random.bin": bytes(range(256)) * 10,
             "utf16.json": dumps(preset("resnet20")).encode("utf-16")}
    for name, raw in cases.items():
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(SpecError, match="UTF-8|JSON"):
            load(tmp_path / name)


def test_missing_file_folder_and_oversized_file(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        load(tmp_path / "nope.json")
    with pytest.raises(SpecError, match="folder"):
        load(tmp_path)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (9 * 1024 * 1024))
    with pytest.raises(SpecError, match="at most"):
        load(big)


def test_design_errors_name_the_stage_block_and_shapes():
    text = BROKEN["identity across a shape change"]
    with pytest.raises(SpecError) as info:
        loads(text)
    err = info.value
    assert (err.stage, err.block) == (1, 0)
    assert "stage 2, block 1" in str(err) and "16x32x32" in str(err) and "32x16x16" in str(err)
    # the structure is still readable without design validation, so the editor can show it
    spec = loads(text, validate=False)
    assert spec.block(1, 0).shortcut is ShortcutKind.IDENTITY


def test_field_errors_name_the_field():
    with pytest.raises(SpecError, match=r"stages\[0\]\.blocks\[0\]\.width"):
        loads(BROKEN["width as text"])
    with pytest.raises(SpecError, match="transformer"):
        loads(BROKEN["unknown kind"])


def test_block_kind_values_are_the_documented_names():
    assert {k.value for k in BlockKind} == {"basic", "bottleneck", "preact_basic", "preact_bottleneck",
                                            "plain"}


def test_pad_placement_is_version_2_and_files_without_it_stay_version_1(tmp_path):
    from explorer.spec import PadPlacement, with_pad_placement

    plain = to_dict(preset("resnet20"))
    assert plain["version"] == 1  # readable by the apps that predate the field
    assert not any("pad_placement" in b for s in plain["stages"] for b in s["blocks"])
    both = with_pad_placement(preset("resnet20"), PadPlacement.BOTH)
    data = to_dict(both)
    assert data["version"] == 2
    zero_pads = [b for s in data["stages"] for b in s["blocks"] if b["shortcut"] == "zero_pad"]
    assert zero_pads and all(b["pad_placement"] == "both" for b in zero_pads)
    save(both, tmp_path / "both.json")
    assert load(tmp_path / "both.json") == both
    assert loads(json.dumps(plain)) == preset("resnet20")


def test_a_newer_file_version_and_a_bad_pad_placement_are_named():
    data = to_dict(preset("resnet20"))
    with pytest.raises(SpecError, match="format version 3, newer than this app reads"):
        loads(json.dumps({**data, "version": 3}))
    data["stages"][1]["blocks"][0]["pad_placement"] = "middle"
    with pytest.raises(SpecError, match=r"'stages\[1\]\.blocks\[0\]\.pad_placement' is 'middle'; expected one of: "
                                        r"end, both"):
        loads(json.dumps(data))
