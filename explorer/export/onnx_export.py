"""ONNX (``.onnx``), when the ``onnx`` package is installed.

PyTorch 2.13's default exporter goes through torch.export and needs ``onnxscript``;
without it the older TorchScript-based exporter still works (deprecated), and the
notes say which one ran. The batch dimension is dynamic (named ``batch``).
"""
from __future__ import annotations

import importlib.util
import logging
import warnings
from pathlib import Path

import torch
from torch import nn

OPSET = 18
INPUT_NAME = "input"
OUTPUT_NAME = "logits"


# The one way to get ONNX export, from pyproject's ``export`` extra (README says the same).
EXPORT_INSTALL = "python -m pip install -e '.[export]' (in this repository's folder)"


class OnnxUnavailable(RuntimeError):
    """The onnx package (or its exporter) is not installed."""


def onnx_available() -> bool:
    return importlib.util.find_spec("onnx") is not None


def onnxruntime_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def _dynamo_exporter_available() -> bool:
    return importlib.util.find_spec("onnxscript") is not None


def write_onnx(model: nn.Module, path: Path, example: torch.Tensor) -> list[str]:
    if not onnx_available():
        raise OnnxUnavailable(f"ONNX export needs the 'onnx' package: {EXPORT_INSTALL}")
    if example.shape[0] < 2:
        example = example.expand(2, *example.shape[1:]).contiguous()
    # The exporter logs a line per torchvision operator it cannot register; irrelevant here.
    registration_log = logging.getLogger("torch.onnx._internal.exporter._registration")
    old_level = registration_log.level
    registration_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # exporter internals warn about their own deprecations
            if _dynamo_exporter_available():
                torch.onnx.export(model, (example,), str(path), input_names=[INPUT_NAME],
                                  output_names=[OUTPUT_NAME], dynamic_shapes=({0: torch.export.Dim("batch")},),
                                  dynamo=True, external_data=False, opset_version=OPSET, verbose=False)
                how = "exported with the torch.export-based ONNX exporter"
            else:
                torch.onnx.export(model, (example,), str(path), input_names=[INPUT_NAME],
                                  output_names=[OUTPUT_NAME],
                                  dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                                  dynamo=False, opset_version=OPSET)
                how = ("exported with the older TorchScript-based ONNX exporter (install 'onnxscript' "
                       "for the current one)")
    finally:
        registration_log.setLevel(old_level)
    return [f"{how}, opset {OPSET}; batch size is dynamic"]
