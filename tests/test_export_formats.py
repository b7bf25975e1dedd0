"""Every format of every preset up to resnet50, reloaded and compared with the live model.

TorchScript, .pt2 and the generated source are reloaded in a fresh Python process that
cannot import explorer; ONNX runs in onnxruntime; the network file is read back and
rebuilt. ImageNet presets are exported at 3x64x64 instead of 3x224x224 to keep the
suite fast: the networks are input-size agnostic (global average pooling), and 64x64
still passes through every stride.
"""
import importlib.util

import pytest
import torch

from explorer.export import ONNX_TOLERANCE, TOLERANCE, ExportError, ExportJob, export_jobs, export_network
from explorer.export import source as source_module
from explorer.export.onnx_export import onnx_available
from explorer.nn import build
from explorer.spec import preset

SMALL_IMAGENET = (3, 64, 64)
ALL = ["torchscript", "export", "onnx", "python", "json"]
# Preset order as in the preset list; ONNX (the slowest exporter) for one CIFAR and one ImageNet net.
PRESET_FORMATS = {
    "resnet18": ALL,
    "resnet34": ["torchscript", "export", "python", "json"],
    "resnet50": ["torchscript", "export", "python", "json"],
    "resnet20": ALL,
    "plain20": ["torchscript", "export", "python", "json"],
    "preact_resnet18": ["torchscript", "export", "python", "json"],
}
SKIPS_OFF = [(1, 0), (2, 1)]
ONNX_PRESETS = [name for name, formats in PRESET_FORMATS.items() if "onnx" in formats]


def _formats(name):
    """The formats exported for ``name`` here: ONNX only with the ``export`` extra installed
    (its checks are in test_onnx_exports_run_in_onnxruntime, which says when it skips)."""
    return [f for f in PRESET_FORMATS[name] if f != "onnx" or onnx_available()]


def _job(spec, formats, folder, stem):
    shape = SMALL_IMAGENET if spec.input_shape[1] == 224 else None
    return ExportJob(spec, [(f, folder / stem) for f in formats], input_shape=shape)


@pytest.fixture(autouse=True)
def one_thread():
    """One thread on both sides of the check: quicker on a busy 2-core machine (the verifier
    uses the caller's thread count, so the kernels still match bit for bit)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every preset in its formats, plus resnet20 with two skips off: written, and all the
    TorchScript, .pt2 and source files reloaded together in one fresh process."""
    folder = tmp_path_factory.mktemp("exports")
    jobs = [_job(preset(name), _formats(name), folder, name) for name in PRESET_FORMATS]
    jobs.append(_job(preset("resnet20").with_skips(False, SKIPS_OFF), ["torchscript", "export", "python"],
                     folder, "r20_skips_off"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the verifier matches it; one thread is faster on a busy 2-core machine
    try:
        results = export_jobs(jobs)
    finally:
        torch.set_num_threads(threads)
    return folder, dict(zip(list(PRESET_FORMATS) + ["r20_skips_off"], results))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PRESET_FORMATS))
def test_presets_export_and_reload_with_matching_outputs(name, exported):
    folder, results = exported
    assert [r.format.key for r in results[name]] == _formats(name)
    for r in results[name]:
        if r.format.key == "onnx":
            continue  # test_onnx_exports_run_in_onnxruntime
        assert r.verified, r.verification
        assert r.max_diff < r.tolerance
        assert r.tolerance == TOLERANCE == 1e-5
        for path in r.files:
            assert path.exists() and path.stat().st_size > 0
        if r.format.key in ("torchscript", "export", "python"):
            assert "fresh Python process that cannot import this app" in r.verification


@pytest.mark.slow
@pytest.mark.needs_extra("export")
@pytest.mark.parametrize("name", ONNX_PRESETS)
def test_onnx_exports_run_in_onnxruntime(name, exported):
    folder, results = exported
    (r,) = [r for r in results[name] if r.format.key == "onnx"]
    assert r.verified, r.verification
    assert "onnxruntime" in r.verification
    assert r.tolerance >= ONNX_TOLERANCE and r.max_diff < r.tolerance
    assert (folder / f"{name}.onnx").stat().st_size > 0


@pytest.mark.slow
def test_no_temporary_files_are_left_behind(exported):
    folder, results = exported
    written = {p.name for rs in results.values() for r in rs for p in r.files}
    assert {p.name for p in folder.iterdir()} == written


@pytest.mark.slow
def test_switched_off_skips_are_baked_into_every_format(exported):
    folder, results = exported
    spec = preset("resnet20").with_skips(False, SKIPS_OFF)
    assert all(r.max_diff < TOLERANCE for r in results["r20_skips_off"])
    live = build(spec, seed=0).eval()
    live.apply_spec_skips(spec)
    skip_on = build(preset("resnet20"), seed=0).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert (live(x) - skip_on(x)).abs().max() > 1e-3  # the switches change the outputs at all

    scripted = torch.jit.load(str(folder / "r20_skips_off.pt"))
    assert "downsample" not in scripted.layer2._modules["0"].code  # stage 2, block 1 is off
    assert "downsample" in scripted.layer2._modules["1"].code
    program = torch.export.load(str(folder / "r20_skips_off.pt2"))
    adds = [n for n in program.graph.nodes if n.op == "call_function" and "add" in str(n.target)]
    assert len(adds) == spec.num_blocks - len(SKIPS_OFF)
    text = (folder / "r20_skips_off.py").read_text()
    assert text.count("None),  # skip switched off when exported") == 2
    module = _import_file(folder / "r20_skips_off.py")
    with torch.no_grad():
        torch.testing.assert_close(module.load(str(folder / "r20_skips_off.pth"))(x), live(x), atol=1e-5, rtol=0)


def _import_file(path):
    spec = importlib.util.spec_from_file_location(f"generated_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_generated_source_reads_like_a_module_a_person_wrote(exported):
    folder, _ = exported
    text = (folder / "resnet18.py").read_text()
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import torch", "from torch import nn"]
    assert text.startswith('"""resnet18, written out by ResNet Explorer')
    assert "parameters: 11,689,512" in text and "input:      3x224x224" in text
    assert "class BasicBlock(nn.Module)" in text and "class Bottleneck" not in text
    assert "ZeroPadShortcut" not in text  # only what the network uses
    assert "STAGES = [" in text and '("basic", 128, 2, "projection"),' in text
    assert "x = self.layer4(x)  # 512x7x7" in text
    assert "strict=True" in text
    assert max(len(line) for line in text.splitlines()) <= 120
    compile(text, "resnet18.py", "exec")
    text = (folder / "resnet20.py").read_text()
    assert "class ZeroPadShortcut" in text and "import torch.nn.functional as F" in text
    text = (folder / "preact_resnet18.py").read_text()
    assert "class PreActBlock" in text and "class BasicBlock" not in text
    assert "self.final_relu(self.final_bn(x))" in text
    text = (folder / "resnet50.py").read_text()
    assert "class Bottleneck" in text and "parameters: 25,557,032" in text


@pytest.mark.slow
def test_a_mismatch_is_an_error_and_keeps_the_existing_file(tmp_path, monkeypatch):
    target = tmp_path / "r20.py"
    target.write_text("# my own file\n")
    real = source_module.exported_state_dict

    def corrupted(model):
        state = real(model)
        state["fc.bias"] = state["fc.bias"] + 0.01  # the file no longer matches the live model
        return state

    monkeypatch.setattr(source_module, "exported_state_dict", corrupted)
    with pytest.raises(ExportError, match=r"r20\.py: outputs differ from the live model by up to 0\.01"):
        export_network(preset("resnet20"), "python", target)
    assert target.read_text() == "# my own file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r20.py"]


@pytest.mark.slow
def test_scripting_failure_falls_back_to_tracing_with_the_reason(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("Python builtin <built-in function id> is currently not supported in Torchscript")

    monkeypatch.setattr(torch.jit, "script", refuse)
    result = export_network(preset("plain20"), "torchscript", tmp_path / "p20")
    assert result.max_diff <= TOLERANCE
    assert any(n.startswith("traced with torch.jit.trace, because scripting failed: Python builtin")
               for n in result.notes)


@pytest.mark.slow
def test_exported_pt2_has_a_dynamic_batch(exported):
    folder, _ = exported
    module = torch.export.load(str(folder / "resnet20.pt2")).module()
    for batch in (1, 5):
        assert module(torch.randn(batch, 3, 32, 32)).shape == (batch, 10)
