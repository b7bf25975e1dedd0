"""``python main.py export``: what it prints, and one line on stderr with a non-zero exit on failure."""
import subprocess
from pathlib import Path
import sys

import pytest
import torch

from explorer.cli import main
from explorer.export import api as export_api
from explorer.export import source as source_module
from explorer.nn import build
from explorer.spec import preset
from explorer.spec.fileformat import to_dict


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small models; one thread is quicker on a busy machine
    yield
    torch.set_num_threads(threads)


def _run(capsys, *argv):
    code = main(["export", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_export_reports_the_file_and_the_difference(tmp_path, capsys):
    code, out, err = _run(capsys, "resnet20", "--format", "json", "-o", str(tmp_path / "net"))
    assert code == 0, err
    assert f"wrote {tmp_path / 'net.json'}" in out
    assert "verified: max abs difference 0 (tolerance 1e-05) at batch sizes 1 and 3" in out
    assert (tmp_path / "net.json").exists()


@pytest.mark.slow
def test_torchscript_from_a_checkpoint_at_another_input_size(tmp_path, capsys):
    spec = preset("resnet20")
    state = build(spec, seed=5).state_dict()
    torch.save({"spec": to_dict(spec), "model": state, "step": 10}, tmp_path / "run.pt")
    code, out, err = _run(capsys, "resnet20", "--format", "torchscript", "-o", str(tmp_path / "r20.pt"),
                          "--checkpoint", str(tmp_path / "run.pt"), "--input", "3x48x48")
    assert code == 0, err
    assert "weights: checkpoint run.pt" in out
    assert "verified at input 3x48x48" in out
    assert "fresh Python process that cannot import this app" in out
    assert "note: torch.jit (TorchScript) is deprecated" in out
    loaded = torch.jit.load(str(tmp_path / "r20.pt"))
    live = build(spec, seed=0)
    live.load_state_dict(state)
    x = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        assert torch.equal(loaded(x), live.eval()(x))


@pytest.mark.parametrize("args,message", [
    (["no_such_net", "--format", "json"], "error: 'no_such_net' is neither a preset nor a network file"),
    (["resnet20", "--format", "json", "--input", "3x32"], "error: input size '3x32' is not CxHxW"),
    (["resnet20", "--format", "json", "--input", "1x32x32"], "has 1 channels, but the network takes 3"),
    (["resnet20", "--format", "json", "--input", "3x0x5"], "is not CxHxW"),
    (["resnet20", "--format", "json", "--checkpoint", "missing.pth"], "error: no such file: missing.pth"),
])
def test_bad_input_ends_in_one_line_on_stderr(tmp_path, capsys, args, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, *args, "-o", str(tmp_path / "out"))
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_of_the_wrong_network_is_refused(tmp_path, capsys):
    torch.save(build(preset("resnet18"), seed=0).state_dict(), tmp_path / "r18.pth")
    code, _, err = _run(capsys, "resnet20", "--format", "json", "-o", str(tmp_path / "out"),
                        "--checkpoint", str(tmp_path / "r18.pth"))
    assert code == 2
    assert err.startswith("error: 'conv1.weight' is 64x3x7x7 in r18.pth, but the network expects 16x3x3x3")


def test_onnx_without_the_onnx_package(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(export_api, "onnx_available", lambda: False)
    code, _, err = _run(capsys, "resnet20", "--format", "onnx", "-o", str(tmp_path / "out"))
    assert code == 2
    assert "ONNX export needs the 'onnx' package" in err


@pytest.mark.slow
@pytest.mark.needs_extra("export")  # onnx writes the file; only onnxruntime is hidden
def test_onnx_without_onnxruntime_says_verification_was_skipped(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now fails
    code, out, err = _run(capsys, "plain20", "--format", "onnx", "-o", str(tmp_path / "p20"))
    assert code == 0, err
    assert "not verified: verification skipped: onnxruntime is not installed" in out
    assert (tmp_path / "p20.onnx").exists()


@pytest.mark.slow
def test_a_verification_mismatch_fails_the_command(tmp_path, capsys, monkeypatch):
    real = source_module.exported_state_dict

    def corrupted(model):
        state = real(model)
        state["conv1.weight"] = state["conv1.weight"] * 1.01
        return state

    monkeypatch.setattr(source_module, "exported_state_dict", corrupted)
    code, out, err = _run(capsys, "resnet20", "--format", "python", "-o", str(tmp_path / "r20.py"))
    assert code == 2
    assert "r20.py: outputs differ from the live model" in err and "(nothing was written)" in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_main_py_exits_non_zero_on_failure(tmp_path):
    ROOT = str(Path(__file__).resolve().parent.parent)  # the repository

    proc = subprocess.run([sys.executable, "main.py", "export", "resnet20", "--format", "json", "-o",
                           str(tmp_path / "missing-folder" / "x.json")], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: the folder {tmp_path / 'missing-folder'} does not exist"


def test_import_weights_checks_a_torchvision_file_and_writes_a_weights_file(tmp_path, capsys):
    state = build(preset("resnet18"), seed=4).state_dict()
    torch.save(state, tmp_path / "resnet18-tv.pth")
    code = main(["import-weights", "resnet18", str(tmp_path / "resnet18-tv.pth"), "-o", str(tmp_path / "w")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "imported 122 tensors (11,689,512 parameters)" in out
    saved = torch.load(tmp_path / "w.pt", weights_only=True)
    assert saved["spec"] == to_dict(preset("resnet18"))
    assert all(torch.equal(saved["model"][k], v) for k, v in state.items())

    code = main(["import-weights", "resnet34", str(tmp_path / "resnet18-tv.pth"), "-o", str(tmp_path / "x")])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.strip() == ("error: resnet18-tv.pth has no 'layer1.2.conv1.weight' (the network expects 64x64x3x3); "
                           "the file holds a basic-block network with 2-2-2-2 blocks per stage (resnet18), "
                           "the network has 3-4-6-3")
    assert not (tmp_path / "x.pt").exists()


def test_source_export_to_a_relative_path_verifies(tmp_path, capsys, monkeypatch):
    """``-o net.py`` from the user's folder: the verifier runs elsewhere and must still find the files."""
    monkeypatch.chdir(tmp_path)
    assert main(["export", "resnet20", "--format", "python", "-o", "net.py"]) == 0
    out = capsys.readouterr().out
    assert "max abs difference 0" in out
    assert (tmp_path / "net.py").is_file() and (tmp_path / "net.pth").is_file()
    assert not list(tmp_path.glob(".*partial*"))
