"""How a duration reads wherever the app or the command line shows one (elapsed, ETA)."""
from __future__ import annotations

import math

UNKNOWN = "–"


def clock(seconds: float | None, unknown: str = UNKNOWN) -> str:
    """``m:ss`` under an hour, ``h:mm:ss`` from an hour on; ``unknown`` for a duration that
    is not known (None, NaN, infinite or negative)."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return unknown
    h, rest = divmod(int(round(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
