"""Re-rendering the words of a saved ``--json`` result (``experiment report FILE.json``).

A teacher re-reads last week's run; a test feeds a result table. Each experiment registers
the function that rebuilds its result objects from the table and renders its words
(``RENDERERS``: the ``experiment`` field of a result -> "module:function" of a function
taking the result dict and returning a ``verdict.Verdict``). Modules are imported only
when a result of theirs is read, so reading one result does not load every experiment.
To add an experiment, add one line here (or call ``register``).
"""
from __future__ import annotations

import importlib
import json
import math

from .verdict import Verdict

RENDERERS: dict[str, str] = {
    "degradation": "explorer.experiments.degradation:verdict_from_result",
    "depth-sweep": "explorer.experiments.depth_sweep:verdict_from_result",
    "drop-block": "explorer.experiments.dropblock_words:verdict_from_result",
    "prepost": "explorer.experiments.prepost:verdict_from_result",
    "landscape": "explorer.experiments.landscape_words:verdict_from_result",
    "identity": "explorer.experiments.identity_words:verdict_from_result",
}


class ReportError(ValueError):
    """A result that cannot be read back; the message names the problem in one line."""


def register(experiment: str, target: str) -> None:
    """``target`` ("module:function") renders the words of ``experiment``'s saved results."""
    RENDERERS[experiment] = target


def _renderer(experiment: str):
    module, _, name = RENDERERS[experiment].partition(":")
    return getattr(importlib.import_module(module), name)


def _why(err: Exception) -> str:
    if isinstance(err, KeyError):
        return f"{err.args[0]!r} is missing" if err.args else "a field is missing"
    if isinstance(err, IndexError):
        return "a list is shorter than its settings say"
    return str(err) or type(err).__name__


def render(result, source: str = "the result") -> Verdict:
    """The words of ``result`` (a parsed ``--json`` result) as its experiment renders them today.

    Raises ``ReportError`` naming ``source`` and the problem when the result is not one."""
    from ..spec import SpecError

    if not isinstance(result, dict):
        raise ReportError(f"{source}: not a saved experiment result (expected a JSON object)")
    experiment = result.get("experiment")
    if experiment not in RENDERERS:
        known = ", ".join(sorted(RENDERERS))
        raise ReportError(f"{source}: {'no' if experiment is None else 'unknown'} experiment"
                          f"{'' if experiment is None else ' ' + repr(experiment)}; results of {known} can be read")
    try:
        verdict = _renderer(experiment)(result)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, SpecError) as err:
        raise ReportError(f"{source}: not a complete {experiment} result ({_why(err)})") from None
    return verdict


def read(path: str) -> tuple[dict, Verdict]:
    """The result saved at ``path`` and its words; ``ReportError`` (one line) when it cannot be."""
    import os
    import stat

    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):  # a FIFO or a device: opening it would block
            raise ReportError(f"{path}: not a regular file (a FIFO or a device?); name a --json result file")
        with open(path, encoding="utf-8") as fh:
            result = json.load(fh, parse_constant=_constant)
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReportError(f"{path}: is a folder; name a --json result file") from None
    except UnicodeDecodeError:
        raise ReportError(f"{path}: not a text file (expected JSON from --json)") from None
    except json.JSONDecodeError as err:
        raise ReportError(f"{path}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from None
    except OSError as err:
        raise ReportError(f"{path}: cannot be read ({err.strerror or err})") from None
    except RecursionError:
        raise ReportError(f"{path}: nested too deeply to be a saved experiment result") from None
    return result, render(result, path)


def _constant(name: str) -> float:
    """NaN and Infinity as Python writes them (a diverged loss is saved so)."""
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]
