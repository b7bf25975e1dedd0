"""Export a network: pick the weights, write the file, verify it, then put it in place.

Files are written under temporary names beside their destination and renamed only
after verification passed, so a failed or cancelled export never replaces a file the
user already had, and never leaves a half-written one.
"""
from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import torch

from ..spec import NetworkSpec, SpecError, analyse, fmt_shape, save
from ..spec.atomic import output_problem, replace_synced
from .onnx_export import EXPORT_INSTALL, OnnxUnavailable, onnx_available, write_onnx
from .source import write_source
from .torch_export import write_pt2
from .torchscript import write_torchscript
from .verify import Cancelled, Check, Group, Outcome, VerificationError, verify
from .weights import WeightsError, prepare_model


@dataclass(frozen=True)
class Format:
    key: str
    label: str
    suffix: str
    description: str


FORMATS: dict[str, Format] = {f.key: f for f in [
    Format("torchscript", "TorchScript", ".pt", "torch.jit.load() in Python or LibTorch (C++)"),
    Format("export", "torch.export program", ".pt2", "torch.export.load(); batch size is dynamic"),
    Format("onnx", "ONNX", ".onnx", "onnxruntime, TensorRT and other runtimes; batch size is dynamic"),
    Format("python", "PyTorch source + weights", ".py", "a standalone .py module and a .pth state_dict"),
    Format("json", "Network file", ".json", "this app's own file (architecture only, no weights)"),
]}


class ExportError(RuntimeError):
    """An export that did not produce a verified file; the message says why."""


class ExportCancelled(ExportError):
    """The user cancelled the export; nothing was written."""


@dataclass
class ExportResult:
    format: Format
    files: list[Path]
    max_diff: float | None  # None when verification was skipped
    tolerance: float
    verification: str  # how it was checked
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def verified(self) -> bool:
        return self.max_diff is not None

    def summary(self) -> str:
        files = ", ".join(str(p) for p in self.files)
        if self.verified:
            check = (f"verified: max abs difference {self.max_diff:.3g} (tolerance {self.tolerance:.0e}), "
                     f"{self.verification}")
        else:
            check = self.verification
        return f"wrote {files}\n{check}"


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """``"3x224x224"`` -> (3, 224, 224)."""
    parts = text.lower().replace("×", "x").replace(",", "x").split("x")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 1:
        raise ExportError(f"input size {text!r} is not CxHxW with three positive whole numbers, e.g. 3x32x32")
    return values


def check_input_shape(spec: NetworkSpec, shape) -> tuple[int, int, int]:
    shape = tuple(int(v) for v in shape)
    if shape[0] != spec.input_shape[0]:
        raise ExportError(f"input size {fmt_shape(shape)} has {shape[0]} channels, but the network takes "
                          f"{spec.input_shape[0]}")
    if max(shape[1:]) > 4096:
        raise ExportError(f"input size {fmt_shape(shape)} is larger than 4096 pixels on a side")
    try:
        analyse(replace(spec, input_shape=shape))
    except SpecError as err:
        raise ExportError(f"input size {fmt_shape(shape)} does not fit the network: {err}") from None
    return shape


def output_path(fmt: Format, path: str | os.PathLike) -> Path:
    """The destination with the format's suffix added when it has none."""
    path = Path(path).expanduser()
    if path.name in ("", ".", ".."):
        raise ExportError(f"{str(path)!r} is not a file name")
    if path.suffix == "":
        path = path.with_suffix(fmt.suffix)
    if fmt.key == "python" and path.suffix != ".py":
        raise ExportError(f"PyTorch source must go to a .py file, not {path.name} (its weights go beside it "
                          f"as .pth)")
    problem = output_problem(path)
    if problem:
        raise ExportError(problem)
    return path


def _temp_beside(path: Path) -> Path:
    # keeps the suffix: some writers pick the format from it
    return path.with_name(f".{path.stem[:120]}.{uuid.uuid4().hex[:8]}.partial{path.suffix}")


@dataclass
class ExportJob:
    """One network with its weights, to be written to every ``(format, path)`` in ``targets``."""

    spec: NetworkSpec
    targets: list[tuple[str, str | os.PathLike]]
    state_dict: dict | None = None  # None: a fresh initialisation from ``seed``
    seed: int = 0
    input_shape: tuple[int, int, int] | None = None  # None: the network's own
    weights_label: str | None = None


@dataclass
class _Plan:
    job: ExportJob
    shape: tuple[int, int, int]
    files: list[tuple[Format, Path]]
    model: object = None
    checks: list[Check] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)


def _plan(job: ExportJob, taken: set) -> _Plan:
    analyse(job.spec)
    shape = check_input_shape(job.spec, job.input_shape or job.spec.input_shape)
    files = []
    for key, path in job.targets:
        if key not in FORMATS:
            raise ExportError(f"unknown format {key!r}; choose one of: {', '.join(FORMATS)}")
        fmt = FORMATS[key]
        if key == "onnx" and not onnx_available():
            raise ExportError(f"ONNX export needs the 'onnx' package: {EXPORT_INSTALL}")
        final = output_path(fmt, path)
        if final in taken:
            raise ExportError(f"two exports would write {final}")
        taken.add(final)
        files.append((fmt, final))
    return _Plan(job, shape, files)


def _write(fmt: Format, model, spec, info, tmp: Path, final: Path, example, method: str,
           written: list[Path], moves: list[tuple[Path, Path]], cid: str) -> tuple[list[str], Check]:
    try:
        if fmt.key == "torchscript":
            return write_torchscript(model, tmp, example, method), Check(cid, fmt.key, tmp)
        if fmt.key == "export":
            return write_pt2(model, tmp, example), Check(cid, fmt.key, tmp)
        if fmt.key == "onnx":
            return write_onnx(model, tmp, example), Check(cid, fmt.key, tmp)
        if fmt.key == "python":
            weights_final = final.with_suffix(".pth")
            weights_tmp = _temp_beside(weights_final)
            written.append(weights_tmp)
            moves.append((weights_tmp, weights_final))
            notes = write_source(model, spec, info, tmp, weights_tmp, final)
            return notes, Check(cid, "python", tmp, weights_tmp)
        save(spec, tmp)
        return ["architecture only: a network file holds no weights"], Check(cid, fmt.key, tmp)
    except OSError as err:
        reason = getattr(err, "reason", None) or err.strerror or str(err)
        raise ExportError(f"could not write {final}: {reason} (nothing was written)") from None
    except OnnxUnavailable as err:
        raise ExportError(f"could not write {final.name}: {err}") from None
    except Exception as err:  # noqa: BLE001 - exporters raise many types; report the first line
        first = str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__
        raise ExportError(f"{fmt.label} export failed: {first}") from None


def export_jobs(jobs: list[ExportJob], *, progress: Callable[[str], None] | None = None,
                cancel: Callable[[], bool] | None = None, torchscript_method: str = "auto"
                ) -> list[list[ExportResult]]:
    """Write and verify every job's files; all files or none.

    Verification of every TorchScript, ``.pt2`` and source file shares one fresh
    process. Raises ``ExportError`` (naming every failing file) or ``SpecError``.
    """
    started = time.perf_counter()
    say = progress or (lambda text: None)

    def check_cancel():
        if cancel is not None and cancel():
            raise ExportCancelled("export cancelled; no file was written")

    taken: set[Path] = set()
    plans = [_plan(job, taken) for job in jobs]
    names: dict[str, str] = {}
    written: list[Path] = []  # temporary files, removed unless the export succeeds
    moves: list[tuple[Path, Path]] = []
    try:
        for j, plan in enumerate(plans):
            job = plan.job
            check_cancel()
            say("Building the model" + (f" with {job.weights_label}" if job.weights_label else ""))
            try:
                plan.model = prepare_model(job.spec, job.state_dict, job.seed,
                                           source=job.weights_label or "the weights")
            except WeightsError as err:
                raise ExportError(str(err)) from None
            info = analyse(job.spec)
            example = torch.randn(2, *plan.shape, generator=torch.Generator().manual_seed(job.seed + 1))
            for i, (fmt, final) in enumerate(plan.files):
                check_cancel()
                cid = f"{j}.{i}"
                names[cid] = final.name
                tmp = _temp_beside(final)
                written.append(tmp)
                moves.append((tmp, final))
                say(f"Writing {fmt.label} to {final.name}")
                plan.notes[cid], check = _write(fmt, plan.model, job.spec, info, tmp, final, example,
                                                torchscript_method, written, moves, cid)
                plan.checks.append(check)
        check_cancel()
        groups = [Group(p.checks, p.model, p.job.spec, p.shape, p.job.seed) for p in plans]
        try:
            outcomes = verify(groups, cancel=cancel, progress=say)
        except Cancelled:
            raise ExportCancelled("export cancelled; no file was written") from None
        except VerificationError as err:
            raise ExportError(f"verification failed: {err}") from None
        failures = [(names[cid], o) for cid, o in outcomes.items() if not o.ok]
        if failures:
            raise ExportError("; ".join(f"{name}: {o.error}" for name, o in failures)
                              + " (nothing was written)")
        check_cancel()
        for tmp, final in moves:
            replace_synced(tmp, final)
        written.clear()
    finally:
        for tmp in written:
            try:
                tmp.unlink()
            except OSError:
                pass

    seconds = time.perf_counter() - started
    all_results = []
    for j, plan in enumerate(plans):
        job, results = plan.job, []
        for i, (fmt, final) in enumerate(plan.files):
            cid = f"{j}.{i}"
            outcome: Outcome = outcomes[cid]
            files = [final, final.with_suffix(".pth")] if fmt.key == "python" else [final]
            extra = []
            if job.weights_label:
                extra.append(f"weights: {job.weights_label}")
            if plan.shape != tuple(job.spec.input_shape):
                extra.append(f"verified at input {fmt_shape(plan.shape)} "
                             f"(the network's own is {fmt_shape(job.spec.input_shape)})")
            results.append(ExportResult(format=fmt, files=files, max_diff=outcome.max_diff,
                                        tolerance=outcome.tolerance, verification=outcome.how,
                                        notes=plan.notes[cid] + extra, seconds=seconds))
        all_results.append(results)
    return all_results


def export_many(spec: NetworkSpec, targets: list[tuple[str, str | os.PathLike]], *,
                state_dict: dict | None = None, seed: int = 0, input_shape=None,
                weights_label: str | None = None, **options) -> list[ExportResult]:
    """Export one network (one set of weights) to several files, verified together."""
    job = ExportJob(spec, list(targets), state_dict, seed, input_shape, weights_label)
    return export_jobs([job], **options)[0]


def export_network(spec: NetworkSpec, fmt: str, path: str | os.PathLike, **options) -> ExportResult:
    """Export to one file (two for ``python``) and verify it; see ``export_many``."""
    return export_many(spec, [(fmt, path)], **options)[0]
