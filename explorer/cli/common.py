"""Helpers shared by the CLI commands."""
from __future__ import annotations

import os

from ..spec import PRESETS, NetworkSpec, SpecError, load, preset


def resolve_network(net: str, validate: bool = True) -> NetworkSpec:
    """``net`` is a preset name or the path of a network JSON file."""
    if net in PRESETS:
        return preset(net)
    if os.path.exists(net) or net.endswith(".json") or os.sep in net:
        return load(net, validate=validate)
    raise SpecError(f"{net!r} is neither a preset nor a network file; presets: {', '.join(PRESETS)}")


def human(n: float) -> str:
    """12.3M, 1.81G: compact counts for tables."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return str(int(n))
