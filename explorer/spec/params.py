"""Numbers from people and files, checked in one place (pure Python: every layer uses it).

- ``whole_number`` is the one parser of whole numbers written as text (a key of a
  weights file, ``--blocks 3.2``, a class index in a labels file, a depth list): ASCII
  digits only. ``str.isdigit`` is also true for '²' or '٣', which ``int`` then refuses or
  reads as another digit; here they are simply not numbers.
- ``check_number`` refuses NaN, infinity, non-numbers and values outside a range, naming
  the setting; ``check_seed`` is the one rule for seeds (they are combined with step
  numbers inside 64 bits). Every command's settings (training, the experiments, the
  gradient probe, export) go through these before any work starts.

A refused value raises ``ParameterError``, a ``SpecError``: the CLI prints it as one line and
the app shows it where the value was given. ``train.limits`` re-raises it as a
``TrainingError`` for the trainer's callers.
"""
from __future__ import annotations

import math
import re

from .errors import SpecError

MAX_SEED = 2 ** 32 - 1  # seeds are combined with step numbers; this keeps them inside 64 bits

_ASCII_WHOLE = re.compile(r"[0-9]+")


class ParameterError(SpecError):
    """A number no run can use; the message names the setting and the value."""


def whole_number(text) -> int | None:
    """``text`` as a non-negative whole number when it is ASCII digits only (surrounding spaces
    allowed), else None. '12' -> 12; '²', '٣', '1e3', '-1', '' -> None."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not _ASCII_WHOLE.fullmatch(text) or len(text) > 30:
        return None
    return int(text)


def signed_whole_number(text) -> int | None:
    """``whole_number`` with an optional leading '-' or '+'."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    sign = -1 if text[:1] == "-" else 1
    value = whole_number(text[1:] if text[:1] in "-+" and text else text)
    return None if value is None else sign * value


def _range_text(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"between {lo:,} and {hi:,}"
    return f"at least {lo:,}" if lo is not None else f"at most {hi:,}"


def _shown(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_number(value, name: str, lo=None, hi=None, integer: bool = False, *, above=None,
                 where: str | None = None) -> None:
    """Refuse ``value`` unless it is a (whole, with ``integer``) finite number in [lo, hi] (and
    greater than ``above``); the message names ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise ParameterError(f"{name} must be a {'whole ' if integer else ''}number, got {_shown(value)}",
                             where=where)
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite number, got {value}", where=where)
    if above is not None and not value > above:
        limit = f"{above:g}" if isinstance(above, float) else f"{above:,}"
        tail = f" and at most {_shown(hi)}" if hi is not None else ""
        raise ParameterError(f"{name} must be greater than {limit}{tail}, got {_shown(value)}", where=where)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ParameterError(f"{name} must be {_range_text(lo, hi)}, got {_shown(value)}", where=where)


def check_seed(value, name: str = "seed", where: str | None = None) -> None:
    """A seed: a whole number from 0 to ``MAX_SEED``."""
    check_number(value, name, 0, MAX_SEED, integer=True, where=where)
