"""Which weights a gradient probe measures, and how the panel names them.

The workbench's weights source returns a ``Weights`` (or None for fresh weights); the
words travel with the state so that every label the panel draws ("now", "before",
the status line) says exactly which weights its numbers come from. No torch here.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ...spec import InitKind, NetworkSpec

FRESH_SEED = 0


@dataclass(frozen=True, eq=False)
class Weights:
    """A state_dict to probe and its name in words, e.g. "trained, run #2 at step 1,200"."""

    state: dict
    words: str


def fresh_words(spec: NetworkSpec, seed: int = FRESH_SEED) -> str:
    """"fresh He weights, seed 0" or "fresh N(0, 0.01²) weights, seed 0"."""
    init = "He" if spec.init.kind is InitKind.HE else f"N(0, {spec.init.std:g}²)"
    return f"fresh {init} weights, seed {seed}"


def trained_words(run_number: int, step: int | None, status: str = "", at_least: bool = False) -> str:
    """"trained, run #2 at step 1,200 (finished)"; ``at_least``: "at step 1,200 or later"."""
    at = f" at step {step:,}{' or later' if at_least else ''}" if step is not None else ""
    return f"trained, run #{run_number}{at}" + (f" ({status})" if status else "")


def skips_caption(skips: list[bool], shortcuts: list[bool]) -> str:
    """What the skip switches were: "all skips on", "3 of 9 skips on", "no skips (plain blocks)"."""
    switchable = [s for s, has in zip(skips, shortcuts) if has] if shortcuts else list(skips)
    if not switchable:
        return "no skips (plain blocks)"
    on = sum(bool(s) for s in switchable)
    if on == len(switchable):
        return "all skips on"
    if on == 0:
        return "all skips off"
    return f"{on} of {len(switchable)} skips on"


def network_key(spec: NetworkSpec) -> NetworkSpec:
    """What makes two designs "the same network" for comparing probes: the same blocks and
    weight shapes; skip switches and the name do not count."""
    return replace(spec.with_skips(True), name="")
