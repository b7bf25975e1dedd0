"""The verifier: load each written file back and compare its outputs with the live model.

TorchScript, ``.pt2`` and the generated source run in one fresh Python process that
cannot import ``explorer`` (``reload_worker.py`` under ``python -I`` in an empty
folder); ONNX runs in onnxruntime here; the network file is read back with the app's
own loader, rebuilt and given the same weights. Inputs are random, seeded, at two
batch sizes. A difference above the tolerance is an error, never a warning.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from .onnx_export import EXPORT_INSTALL

WORKER = Path(__file__).with_name("reload_worker.py")
BATCH_SIZES = (1, 3)
TOLERANCE = 1e-5  # float32, absolute: the same PyTorch kernels run on both sides
# onnxruntime has its own kernels (different summation order): 1e-4, scaled by the
# largest output magnitude when that exceeds 1 (logits of untrained ImageNet nets reach ~30).
ONNX_TOLERANCE = 1e-4
FRESH_KINDS = ("torchscript", "export", "python")
WORKER_TIMEOUT_S = 600


def check_threads() -> int:
    """Threads for the checks: the same as this process, so both sides run the same kernels
    (a different thread count changes the order of float32 sums and the last bits)."""
    return torch.get_num_threads()


class VerificationError(RuntimeError):
    """A reloaded file did not load, run or match the live model."""


class Cancelled(RuntimeError):
    """The user cancelled while the check was running."""


@dataclass
class Check:
    """One file to verify. ``kind``: torchscript | export | python | onnx | json."""

    id: str
    kind: str
    path: Path
    weights: Path | None = None  # the .pth beside a python file


@dataclass
class Group:
    """Files exported from one model, checked against it on inputs of one shape."""

    checks: list[Check]
    model: nn.Module
    spec: object  # NetworkSpec
    input_shape: tuple[int, int, int]
    seed: int = 0


@dataclass
class Outcome:
    max_diff: float | None  # None when verification was skipped
    tolerance: float
    how: str  # where and how it was checked, for people
    error: str | None = None  # set when the file failed to load or to match

    @property
    def ok(self) -> bool:
        return self.error is None


def make_inputs(input_shape, seed: int = 0, batch_sizes=BATCH_SIZES) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(b, *input_shape, generator=gen) for b in batch_sizes]


def reference_outputs(model: nn.Module, inputs) -> list[torch.Tensor]:
    with torch.no_grad():
        return [model(x).detach().clone() for x in inputs]


def max_abs_diff(outputs, references) -> float:
    worst = 0.0
    for out, ref in zip(outputs, references, strict=True):
        out = torch.as_tensor(out, dtype=ref.dtype)
        if tuple(out.shape) != tuple(ref.shape):
            raise VerificationError(f"output shape {tuple(out.shape)} differs from the model's {tuple(ref.shape)}")
        if not torch.isfinite(out).all():
            return float("inf")
        worst = max(worst, (out - ref).abs().max().item())
    return worst


def _judge(diff: float, tolerance: float, how: str) -> Outcome:
    if diff > tolerance:
        return Outcome(diff, tolerance, how, f"outputs differ from the live model by up to {diff:.3g} "
                                            f"(tolerance {tolerance:.0e})")
    return Outcome(diff, tolerance, how)


def fresh_process_env() -> dict:
    """The environment of the verifying process: ours without Python path settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def fresh_process_command(script: str | Path, *args: str) -> list[str]:
    return [sys.executable, "-I", "-B", str(script), *args]


def run_in_fresh_process(checks: list[tuple[str, Check]], inputs: dict,
                         cancel: Callable[[], bool] | None = None) -> tuple[dict, dict]:
    """Run the files in one isolated Python process; returns (report, outputs by id).

    ``checks`` pairs each check with the key of its inputs in ``inputs``.
    """
    with tempfile.TemporaryDirectory(prefix="explorer-verify-") as tmp:
        tmp = Path(tmp)
        work = tmp / "cwd"  # an empty working folder: nothing importable sits beside the process
        work.mkdir()
        torch.save({key: list(xs) for key, xs in inputs.items()}, tmp / "inputs.pt")
        job = {"inputs": str(tmp / "inputs.pt"), "outputs": str(tmp / "outputs.pt"), "threads": check_threads(),
               "report": str(tmp / "report.json"),
               "jobs": [{"id": c.id, "group": key, "kind": c.kind,
                         # absolute: the worker runs in an empty folder of its own
                         "path": str(Path(c.path).resolve()),
                         "weights": str(Path(c.weights).resolve()) if c.weights else None}
                        for key, c in checks]}
        (tmp / "job.json").write_text(json.dumps(job), encoding="utf-8")
        proc = subprocess.Popen(fresh_process_command(WORKER, str(tmp / "job.json")), cwd=work,
                                env=fresh_process_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        started = time.monotonic()
        try:
            while True:
                try:
                    _, err = proc.communicate(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    if cancel is not None and cancel():
                        raise Cancelled("export cancelled")
                    if time.monotonic() - started > WORKER_TIMEOUT_S:
                        raise VerificationError(f"the verifying process took longer than {WORKER_TIMEOUT_S} s")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        if proc.returncode != 0 or not (tmp / "report.json").exists():
            tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise VerificationError(f"the verifying Python process failed (exit {proc.returncode}): {tail[0]}")
        report = json.loads((tmp / "report.json").read_text(encoding="utf-8"))
        outputs = torch.load(tmp / "outputs.pt", weights_only=True)
    if report.get("explorer_importable"):
        raise VerificationError("the verifying process could import 'explorer', so it cannot show that the "
                                "files stand alone (is the app installed into site-packages?)")
    return report, outputs


def _verify_onnx(check: Check, inputs, references) -> Outcome:
    import onnx

    try:
        onnx.checker.check_model(str(check.path))
    except Exception as err:  # noqa: BLE001 - the checker raises several types
        return Outcome(None, ONNX_TOLERANCE, "onnx.checker", f"the ONNX checker rejected the file: {err}")
    try:
        import onnxruntime as ort
    except ImportError:
        return Outcome(None, ONNX_TOLERANCE, "verification skipped: onnxruntime is not installed, so the "
                                             "file passed the ONNX checker but was not run "
                                             f"({EXPORT_INSTALL} to verify it)")
    try:
        options = ort.SessionOptions()
        options.intra_op_num_threads = check_threads()
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(check.path), options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        outputs = [session.run(None, {name: x.numpy()})[0] for x in inputs]
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own exception types
        return Outcome(None, ONNX_TOLERANCE, "onnxruntime", f"onnxruntime could not run the file: "
                                                           f"{str(err).strip().splitlines()[0][:300]}")
    scale = max(1.0, max(float(np.abs(r.numpy()).max()) for r in references))
    return _judge(max_abs_diff(outputs, references), ONNX_TOLERANCE * scale,
                  f"run in onnxruntime {ort.__version__}")


def _verify_json(check: Check, spec, model: nn.Module, inputs, references) -> Outcome:
    from ..nn import build
    from ..spec import load

    how = "read back with the app's loader, rebuilt and given the same weights"
    try:
        loaded = load(check.path)
    except Exception as err:  # noqa: BLE001 - SpecError, mostly
        return Outcome(None, TOLERANCE, how, f"the written network file does not load: {err}")
    if loaded != spec:
        return Outcome(None, TOLERANCE, how, "the written network file describes a different network")
    rebuilt = build(loaded, seed=0)
    rebuilt.load_state_dict(model.state_dict(), strict=True)
    rebuilt.apply_spec_skips(loaded)
    rebuilt.eval()
    return _judge(max_abs_diff(reference_outputs(rebuilt, inputs), references), TOLERANCE, how)


def verify(groups: list[Group], cancel: Callable[[], bool] | None = None,
           progress: Callable[[str], None] | None = None) -> dict[str, Outcome]:
    """Verify every group's files against its model; returns an ``Outcome`` per check id.

    All TorchScript, ``.pt2`` and source files of all groups share one fresh process.
    """
    inputs = {str(g): make_inputs(group.input_shape, group.seed) for g, group in enumerate(groups)}
    references = {str(g): reference_outputs(group.model, inputs[str(g)]) for g, group in enumerate(groups)}
    results: dict[str, Outcome] = {}
    fresh = [(str(g), c) for g, group in enumerate(groups) for c in group.checks if c.kind in FRESH_KINDS]
    if fresh:
        if progress:
            progress("Loading the files in a fresh Python process (without this app) and comparing outputs")
        report, outputs = run_in_fresh_process(fresh, {g: inputs[g] for g in {g for g, _ in fresh}}, cancel)
        how = f"reloaded in a fresh Python process that cannot import this app (torch {report['torch']})"
        for g, c in fresh:
            entry = report["jobs"].get(c.id, {"ok": False, "error": "not run"})
            if not entry["ok"]:
                results[c.id] = Outcome(None, TOLERANCE, how, f"the file did not load and run: {entry['error']}")
                continue
            try:
                results[c.id] = _judge(max_abs_diff(outputs[c.id], references[g]), TOLERANCE, how)
            except VerificationError as err:
                results[c.id] = Outcome(None, TOLERANCE, how, str(err))
    for g, group in enumerate(groups):
        for c in group.checks:
            if cancel is not None and cancel():
                raise Cancelled("export cancelled")
            if c.kind == "onnx":
                if progress:
                    progress("Running the ONNX file in onnxruntime and comparing outputs")
                results[c.id] = _verify_onnx(c, inputs[str(g)], references[str(g)])
            elif c.kind == "json":
                results[c.id] = _verify_json(c, group.spec, group.model, inputs[str(g)], references[str(g)])
    return results
