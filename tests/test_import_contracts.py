"""The layer rules in pyproject.toml ([tool.importlinter]), checked with `lint-imports`.

The layers, top to bottom: ui > cli > experiments > export > train > analysis > nn > spec
(a layer imports only layers below it); Qt and pyqtgraph only in ui; no torch or NumPy in
spec. The second group of tests injects one violation into a copy of the package and
checks that `lint-imports` reports it, so a contract that silently stopped checking
(a renamed package, a relative import it cannot see, an import inside a function) fails here.
"""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent


def _lint_imports_command() -> list[str]:
    script = pathlib.Path(sys.executable).parent / "lint-imports"
    if script.exists():
        return [str(script), "--no-cache"]
    return [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
            "sys.exit(lint_imports_command())", "--no-cache"]


def _run(root: pathlib.Path) -> subprocess.CompletedProcess:
    pytest.importorskip("importlinter", reason="install the dev extra: pip install -e '.[dev]'")
    return subprocess.run(_lint_imports_command(), cwd=root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"})


def test_the_package_keeps_every_import_contract():
    result = _run(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


LAYERS, QT, SPEC = "Layers", "Qt and pyqtgraph", "The spec layer"


@pytest.mark.parametrize("module, line, broken", [
    # a relative import up the layers (the old AST test read absolute imports only); it also
    # brings Qt into train, and through it into every layer that imports the trainer
    ("train/optim.py", "from ..ui.theme import Theme", {LAYERS, QT}),
    # an import up the layers hidden inside a function
    ("analysis/gradflow.py", "def _late():\n    from ..train.trainer import Trainer\n", {LAYERS}),
    # Qt outside ui, in the headless CLI and in export
    ("cli/info.py", "import PySide6.QtCore", {QT}),
    ("export/api.py", "from pyqtgraph import mkPen", {QT}),
    # torch in the pure-Python spec layer
    ("spec/infer.py", "import torch", {SPEC}),
])
def test_an_injected_violation_is_reported(tmp_path, module, line, broken):
    shutil.copytree(REPO / "explorer", tmp_path / "explorer",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "explorer" / module
    target.write_text(target.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")

    result = _run(tmp_path)

    assert result.returncode != 0, result.stdout
    broken_lines = [ln for ln in result.stdout.splitlines() if ln.rstrip().endswith(" BROKEN")]
    assert {name for name in (LAYERS, QT, SPEC) if any(ln.startswith(name) for ln in broken_lines)} == broken, \
        result.stdout
    assert len(broken_lines) == len(broken), result.stdout
    importer = "explorer." + module.removesuffix(".py").replace("/", ".")
    assert importer in result.stdout, result.stdout
