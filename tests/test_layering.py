"""The layers in ARCHITECTURE.md: only ui/ may import Qt; spec/ imports no torch."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "explorer"
QT = ("PySide6", "pyqtgraph", "PyQt5", "PyQt6", "shiboken6")


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _modules(sub=""):
    return sorted((ROOT / sub).rglob("*.py"))


def test_only_the_ui_layer_imports_qt():
    offenders = []
    for path in _modules():
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "ui":
            continue
        for name in _imports(path):
            if name.split(".")[0] in QT:
                offenders.append(f"{rel}: {name}")
    assert not offenders, offenders


def test_spec_layer_imports_neither_torch_nor_qt():
    offenders = [f"{p.relative_to(ROOT)}: {n}" for p in _modules("spec") for n in _imports(p)
                 if n.split(".")[0] in QT + ("torch", "numpy")]
    assert not offenders, offenders
