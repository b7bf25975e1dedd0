"""Loads exported files in a fresh Python process and runs them on given inputs.

Run as ``python -I reload_worker.py JOB.json`` from an empty folder: isolated mode
drops the script's folder, the working folder, PYTHONPATH and user site-packages
from ``sys.path``, and a finder placed first on ``sys.meta_path`` refuses ``explorer``
even when the app is installed into site-packages (``pip install -e .``), so every
file has to stand on its own. This script itself imports only the standard library
and torch.

JOB.json: {"inputs": "inputs.pt", "outputs": "outputs.pt", "report": "report.json",
           "jobs": [{"id": "0", "group": "0", "kind": "torchscript" | "export" | "python",
                     "path": "...", "weights": "... (python only)"}]}
inputs.pt holds {group: [tensor, ...]}: the inputs each group of files runs on.
"""
import importlib.abc
import importlib.util
import json
import sys
import warnings


class HideTheApp(importlib.abc.MetaPathFinder):
    """Makes ``import explorer`` fail here, wherever the app is installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "explorer" or name.startswith("explorer."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden while verifying an export)",
                                      name=name)
        return None


sys.meta_path.insert(0, HideTheApp())


def app_importable() -> bool:
    try:
        import explorer  # noqa: F401
    except ImportError:
        return False
    return True


def load_model(item):
    import torch

    kind, path = item["kind"], item["path"]
    if kind == "torchscript":
        return torch.jit.load(path, map_location="cpu")
    if kind == "export":
        return torch.export.load(path).module()
    if kind == "python":
        spec = importlib.util.spec_from_file_location(f"exported_{item['id']}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.load(item["weights"])
    raise ValueError(f"unknown kind {kind!r}")


def main(job_path):
    warnings.simplefilter("ignore")  # torch.jit's deprecation and the like are not errors here
    import torch

    with open(job_path, encoding="utf-8") as fh:
        job = json.load(fh)
    if job.get("threads"):
        torch.set_num_threads(int(job["threads"]))
    inputs = torch.load(job["inputs"], weights_only=True)
    report = {
        "explorer_importable": app_importable(),
        "torch": torch.__version__,
        "sys_path": sys.path,
        "jobs": {},
    }
    outputs = {}
    for item in job["jobs"]:
        try:
            model = load_model(item)
            with torch.no_grad():
                outputs[item["id"]] = [model(x) for x in inputs[item["group"]]]
            report["jobs"][item["id"]] = {"ok": True}
        except Exception as err:  # noqa: BLE001 - every failure is reported back, one per file
            lines = str(err).strip().splitlines()
            report["jobs"][item["id"]] = {"ok": False,
                                          "error": f"{type(err).__name__}: {lines[0] if lines else ''}"[:400]}
    torch.save(outputs, job["outputs"])
    with open(job["report"], "w", encoding="utf-8") as fh:
        json.dump(report, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
