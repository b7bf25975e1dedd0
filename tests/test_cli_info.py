"""The headless CLI: presets, info, new; and that it never imports Qt."""
import json
import os
import subprocess
import sys

import pytest

from explorer.cli import main
from explorer.spec import load, preset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_presets_lists_every_preset_with_its_count(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "resnet18" in out and "11,689,512" in out
    assert "resnet1202" in out and "19,421,274" in out
    from explorer.spec import PRESETS
    lines = [line for line in out.strip().splitlines() if line.strip()]
    assert len(lines) == len(PRESETS) + 1 + 2  # every preset, a heading, the two VGGs
    assert "vgg16 " in out and "138,357,544" in out and "vgg16_bn" in out and "138,365,992" in out


def test_info_table_has_every_block_and_totals(capsys):
    assert main(["info", "resnet20"]) == 0
    out = capsys.readouterr().out
    assert "stage 3 block 3" in out
    assert "total: 269,722 parameters" in out
    assert "zero_pad" in out and "16x32x32" in out and "64x8x8" in out


def test_info_json(capsys):
    assert main(["info", "resnet50", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "resnet50" and data["params"] == 25_557_032
    assert data["input_shape"] == [3, 224, 224] and data["output_shape"] == [1000]
    assert len(data["blocks"]) == 16
    assert data["blocks"][0]["shortcut"] == "projection"
    assert {"input_shape", "output_shape", "params", "macs", "skip"} <= set(data["blocks"][0])


def test_new_writes_an_editable_file_that_info_reads(tmp_path, capsys):
    out = tmp_path / "net.json"
    assert main(["new", "resnet32", "-o", str(out)]) == 0
    assert load(out) == preset("resnet32")
    assert main(["info", str(out)]) == 0
    assert "464,154" in capsys.readouterr().out


@pytest.mark.parametrize("net,needle", [("no_such_preset", "neither a preset"),
                                        ("missing.json", "no such file")])
def test_bad_net_exits_2_with_one_line(net, needle, capsys):
    assert main(["info", net]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1


def test_invalid_design_file_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "resnet-explorer/network", "version": 1, "name": "x",
                                "input_shape": [3, 32, 32], "stages": [{"blocks": [
                                    {"kind": "basic", "width": 32, "stride": 2, "shortcut": "identity"}]}]}))
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert "stage 1, block 1" in err and "16x32x32" in err and len(err.strip().splitlines()) == 1


def test_cli_runs_where_pyside6_is_not_installed():
    code = ("import sys; sys.modules['PySide6'] = None; sys.modules['pyqtgraph'] = None; "
            "sys.argv = ['main.py', 'info', 'resnet20', '--json']; "
            "import runpy; runpy.run_path('main.py', run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["params"] == 269_722
