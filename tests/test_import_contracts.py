"""The layer rules in pyproject.toml ([tool.importlinter]), checked with `lint-imports`.

The layers, top to bottom: ui | cli > experiments | export > train > analysis > nn > spec
(a layer imports only layers below it; "a | b" are independent siblings: the app never imports
the command line, nor the experiments the exporters); no import cycles between modules side by
side in a package; Qt and pyqtgraph only in ui; no torch or NumPy in spec. The second group of tests injects one violation into a copy of the package and
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


LAYERS, QT, SPEC, CYCLES = "Layers", "Qt and pyqtgraph", "The spec layer", "No import cycles"


@pytest.mark.parametrize("module, line, broken", [
    # a relative import up the layers (the old AST test read absolute imports only); it also
    # brings Qt into train, and through it into every layer that imports the trainer; ui imports
    # train, so the two packages now import each other (a cycle, too)
    ("train/optim.py", "from ..ui.theme import Theme", {LAYERS, QT, CYCLES}),
    # an import up the layers hidden inside a function (train imports analysis: a cycle as well)
    ("analysis/gradflow.py", "def _late():\n    from ..train.trainer import Trainer\n", {LAYERS, CYCLES}),
    # Qt outside ui, in the headless CLI and in export
    ("cli/info.py", "import PySide6.QtCore", {QT}),
    ("export/api.py", "from pyqtgraph import mkPen", {QT}),
    # torch in the pure-Python spec layer
    ("spec/infer.py", "import torch", {SPEC}),
    # siblings in one layer that must stay independent: the app and the command line, the
    # experiments and the exporters
    ("ui/app.py", "from explorer.cli import common", {LAYERS}),
    ("experiments/arms.py", "def _late():\n    from ..export import api\n", {LAYERS}),
    # a cycle between modules side by side: the experiments' shared CLI helpers importing a command
    ("cli/experiment_common.py", "def _late():\n    from . import experiment\n", {CYCLES}),
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
    assert {name for name in (LAYERS, QT, SPEC, CYCLES) if any(ln.startswith(name) for ln in broken_lines)} == broken, \
        result.stdout
    assert len(broken_lines) == len(broken), result.stdout
    importer = "explorer." + module.removesuffix(".py").replace("/", ".")
    if broken == {CYCLES}:  # the cycle is reported inside its package, by relative names
        package, name = importer.rsplit(".", 1)
        assert f"cycles are allowed in {package}" in result.stdout and f".{name} -> " in result.stdout, \
            result.stdout
    else:
        assert importer in result.stdout, result.stdout
