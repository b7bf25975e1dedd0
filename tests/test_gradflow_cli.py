"""``python main.py gradflow``: the table, the words, the JSON, checkpoints and bad input."""
import json
import os
import subprocess
import sys

import pytest
import torch

import explorer.analysis.gradflow as probe_module
from explorer.analysis.gradflow import activation_bytes_per_image
from explorer.cli import main
from explorer.experiments.claims import check
from explorer.nn import build
from explorer.spec import analyse, preset, save
from explorer.spec.fileformat import to_dict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py: tiny CPU passes, one thread


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_table_lists_every_block_with_a_bar_and_words(capsys):
    status, out, err = run(capsys, "gradflow", "resnet20")
    assert status == 0 and err == ""
    lines = out.split("residual size")[0].splitlines()  # the gradient table comes first
    rows = [line for line in lines if line[:2].strip().isdigit()]
    assert len(rows) == 9
    assert rows[0].split()[:4] == ["1", "stage", "1,", "block"] and "16x32x32" in rows[0]
    assert rows[3].split()[6] == "on"  # skip column
    assert rows[0].count("#") > rows[-1].count("#")  # the bar: larger norm, longer bar
    assert "32 seeded random images" in out and "fresh He initialisation (seed 0)" in out
    assert "The lessons say the skips carry the gradient back to the input without letting it vanish; here it " \
           "does not vanish" in out


def test_skips_off_shows_the_explosion_and_says_so(capsys):
    status, out, _ = run(capsys, "gradflow", "resnet56", "--skips", "off", "--json")
    assert status == 0
    data = json.loads(out)
    assert [b["skip"] for b in data["blocks"]] == [False] * 27
    assert data["summary"]["verdict"] == "explodes"
    assert data["summary"]["ratio"] > 1e3
    assert "explode" in data["summary"]["text"]
    assert check(data) == [] and data["sentences"][0] == data["summary"]["text"].split(". ")[0] + "."
    # the lessons' claim and the measurement, both named: without skips it grows instead of shrinking
    assert any("The lessons say that without skips the gradient shrinks" in s and "here it grows instead" in s
               for s in data["sentences"] if isinstance(s, str))
    assert any(isinstance(s, dict) and s["lesson"] for s in data["sentences"])


def test_skip_list_switches_off_the_named_blocks(capsys):
    status, out, _ = run(capsys, "gradflow", "resnet20", "--skips", "2.1,9", "--json")
    assert status == 0
    skips = [b["skip"] for b in json.loads(out)["blocks"]]
    assert skips == [True, True, True, False, True, True, True, True, False]


def test_json_has_blocks_layers_and_the_batch(capsys):
    status, out, _ = run(capsys, "gradflow", "resnet20", "--batch", "4", "--seed", "3", "--json")
    data = json.loads(out)
    assert data["batch"].startswith("4 seeded random images") and "seed 3" in data["batch"]
    assert len(data["blocks"]) == 9 and all(b["grad_norm"] > 0 for b in data["blocks"])
    assert data["blocks"][3]["input_shape"] == [16, 32, 32]
    names = [layer["name"] for layer in data["layers"]]
    assert names[0] == "conv1" and names[-1] == "fc" and "layer2.0.conv1" in names


def test_a_checkpoint_changes_the_measurement(capsys, tmp_path):
    spec = preset("resnet20")
    model = build(spec, seed=5)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1.5)
    path = tmp_path / "run.pt"
    torch.save({"spec": to_dict(spec), "model": model.state_dict(), "step": 120}, path)
    status, out, _ = run(capsys, "gradflow", "resnet20", "--checkpoint", str(path), "--json")
    assert status == 0
    data = json.loads(out)
    assert data["weights"] == f"checkpoint {path} (step 120)"
    _, fresh, _ = run(capsys, "gradflow", "resnet20", "--json")
    assert json.loads(fresh)["blocks"][0]["grad_norm"] != data["blocks"][0]["grad_norm"]


def test_a_checkpoint_of_another_network_is_refused(capsys, tmp_path):
    path = tmp_path / "run.pt"
    torch.save({"spec": to_dict(preset("resnet32")), "model": build(preset("resnet32"), seed=0).state_dict()},
               path)
    status, _, err = run(capsys, "gradflow", "resnet20", "--checkpoint", str(path))
    assert status == 2 and "resnet32" in err and err.count("\n") == 1


def test_a_network_file_works_as_net(capsys, tmp_path):
    path = tmp_path / "net.json"
    save(preset("plain20"), path)
    status, out, _ = run(capsys, "gradflow", str(path))
    assert status == 0 and "plain20" in out.splitlines()[0]


@pytest.mark.parametrize("argv,needle", [
    (["resnet20", "--skips", "4.1"], "no stage 4"),
    (["resnet20", "--skips", "1.7"], "stage 1 has 3 blocks"),
    (["resnet20", "--skips", "12"], "from 1 to 9"),
    (["resnet20", "--skips", "banana"], "'banana'"),
    (["plain20", "--skips", "1.2"], "plain block"),
    (["resnet20", "--batch", "0"], "--batch"),
    (["resnet20", "--checkpoint", "missing.pt"], "no such file: missing.pt"),
    (["nonet"], "neither a preset nor a network file"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needle):
    status, out, err = run(capsys, "gradflow", *argv)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and needle in err and err.count("\n") == 1


def test_a_file_that_is_not_a_checkpoint_is_refused(capsys, tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint")
    status, _, err = run(capsys, "gradflow", "resnet20", "--checkpoint", str(path))
    assert status == 2 and "is not a PyTorch weights file" in err


def test_the_command_runs_without_qt():
    code = ("import sys; from explorer.launcher import main; rc = main(['gradflow', 'resnet20', '--batch', '2']);"
            "assert 'PySide6' not in sys.modules; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "stage 3, block 3" in proc.stdout


def test_a_network_too_big_for_the_memory_budget_is_probed_with_fewer_images_and_says_so(capsys, monkeypatch):
    per_image = activation_bytes_per_image(analyse(preset("resnet20")))
    monkeypatch.setattr(probe_module, "ACTIVATION_BUDGET", per_image * 9)  # room for 9 images: 8 are used
    status, out, _ = run(capsys, "gradflow", "resnet20", "--json")
    data = json.loads(out)
    assert status == 0 and data["batch_size"] == 8
    assert data["batch"].startswith("8 seeded random images") and "fewer than the usual 32" in data["batch"]
    status, out, _ = run(capsys, "gradflow", "resnet20", "--batch", "16", "--json")
    assert json.loads(out)["batch_size"] == 16 and "fewer" not in json.loads(out)["batch"]  # asked for


def test_the_residual_size_is_printed_per_block_and_undefined_where_no_shortcut_is_added(capsys):
    status, out, _ = run(capsys, "gradflow", "resnet20", "--skips", "2.1", "--json")
    data = json.loads(out)
    rows = data["residual"]
    assert status == 0 and len(rows) == 9
    assert rows[3] == {"position": 4, "label": "stage 2, block 1", "ratio": None, "cosine": None,
                       "undefined_because": "skip switched off"}
    assert all(r["ratio"] > 0 and -1 <= r["cosine"] <= 1 for i, r in enumerate(rows) if i != 3)
    assert "(1 of the 9 blocks has the skip switched off)" in data["residual_summary"]["text"]
    assert check(data) == []
    status, out, _ = run(capsys, "gradflow", "plain20")
    assert status == 0 and "residual size" in out
    assert out.count("undefined (plain block)") == 9 and "(all 9 blocks are plain)" in out
