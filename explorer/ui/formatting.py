"""How counts read in the window: "272,474 (0.27M)" parameters, "41.0M" MACs."""
from __future__ import annotations


def compact(n: float) -> str:
    """0.27M, 19.4M, 1.81G, 3.2K: three significant figures at most."""
    n = float(n)
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size or (unit == "M" and abs(n) >= 1e5):
            value = n / size
            digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
            return f"{value:.{digits}f}{unit}"
    return f"{int(n)}"


def params_text(n: int) -> str:
    """Exact with thousands separators, plus the compact form people quote."""
    return f"{n:,} ({compact(n)})" if n >= 1000 else f"{n:,}"


def macs_text(n: int) -> str:
    return compact(n)
