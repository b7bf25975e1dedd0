"""Export (torch, no Qt): TorchScript, torch.export, ONNX, PyTorch source and the network file.

Every export is verified before it is reported as written: ``export_network`` writes
the file, loads it back (TorchScript, ``.pt2`` and source in a fresh Python process
that cannot import this app), compares outputs with the live model at two batch sizes
and only then moves it into place. ``weights`` reads trainer checkpoints and
torchvision-style state_dict files with strict, readable key checks.
"""
from .api import (FORMATS, ExportCancelled, ExportError, ExportJob, ExportResult, Format, check_input_shape,
                  export_jobs, export_many, export_network, parse_input_shape)
from .onnx_export import EXPORT_INSTALL, onnx_available, onnxruntime_available
from .torchscript import JIT_DEPRECATION_NOTE
from .verify import ONNX_TOLERANCE, TOLERANCE
from .weights import (ImportedWeights, WeightsError, WeightsFile, check_state_dict, import_torchvision_weights,
                      import_weights, load_weights_for, prepare_model, read_weights_file, save_weights)

__all__ = [
    "EXPORT_INSTALL", "FORMATS", "ExportCancelled", "ExportError", "ExportJob", "ExportResult", "Format", "check_input_shape",
    "export_jobs", "export_many",
    "export_network", "parse_input_shape", "onnx_available", "onnxruntime_available", "JIT_DEPRECATION_NOTE",
    "ONNX_TOLERANCE", "TOLERANCE", "WeightsError", "WeightsFile", "check_state_dict",
    "ImportedWeights", "import_torchvision_weights", "import_weights", "load_weights_for", "prepare_model", "read_weights_file", "save_weights",
]
