"""Drop a block's result in words, from the accuracy each removal leaves (``DropResult``s).

The rules:

- the headline gives, for each network, the *typical* cost of removing one block (the
  median over the blocks that can be removed) and the *worst* cost, naming that block;
- "hurts little" is said only of a net whose every removal costs under ``LITTLE``
  (5 points of test accuracy). When most removals cost under ``LITTLE`` but some do not,
  the words say so and name the worst block;
- nothing is read into the costs of a net below ``WEAK`` (50%) accuracy: it has little to lose;
- the ResNet is contrasted with its plain twin only when the twin's typical removal
  costs clearly more (over ``LITTLE`` and twice the ResNet's).
"""
from __future__ import annotations

from statistics import mean, median
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dropblock import DropResult

LITTLE = 0.05  # a removal costing under 5 points of test accuracy "hurts little"
WEAK = 0.5  # below 50% accuracy with every block a net is not well trained


def _pts(x: float) -> str:
    v = 100.0 * x
    return f"{v:.1f} point{'' if round(v, 1) == 1.0 else 's'}"


def _cost(x: float) -> str:
    """A cost in points of accuracy; a removal that costs nothing (or helps) costs "nothing"."""
    return _pts(x) if round(100.0 * x, 1) > 0 else "nothing"


def typical_cost(result: "DropResult") -> float | None:
    """The median accuracy lost over the blocks that can be removed (None: none can)."""
    costs = result.costs()
    return median(costs) if costs else None


def _kind(result: "DropResult") -> str:
    return "residual" if result.residual else "plain"


def _headline_part(result: "DropResult") -> str:
    costs = result.costs()
    if not costs:
        return f"no {'measured ' if result.selected else ''}block of {result.name} can be removed"
    worst = result.worst()
    if result.selected:  # only the blocks asked for: say nothing about the others
        if len(costs) == 1:
            return (f"removing {worst.label} of {result.name} costs {_cost(costs[0])} of test accuracy")
        return (f"removing one of the {len(costs)} measured {_kind(result)} blocks of {result.name} costs "
                f"{_cost(median(costs))} of test accuracy typically, and {_cost(max(costs))} at worst "
                f"(without {worst.label})")
    if len(costs) == 1:
        return (f"removing the only removable {_kind(result)} block of {result.name} ({worst.label}) costs "
                f"{_cost(costs[0])} of test accuracy")
    return (f"removing one {_kind(result)} block of {result.name} typically costs {_cost(median(costs))} of "
            f"test accuracy, and {_cost(max(costs))} at worst (without {worst.label})")


def _detail(result: "DropResult") -> list[str]:
    out = []
    costs = result.costs()
    line = f"{result.name}: {100 * result.baseline:.1f}% with every block"
    if result.baseline_top5 is not None:
        line += f" (top-5 {100 * result.baseline_top5:.1f}%)"
    if result.selected:
        line += f"; {len(result.drops)} of its {result.total_blocks} blocks measured"
    if len(costs) > 1:
        worst = result.worst()
        line += (f"; over its {len(costs)} removable blocks a removal costs {_cost(mean(costs))} on average"
                 f"{f'; {worst.label} changes the shape' if worst.changes_shape else ''}")
    out.append(line + ".")
    fixed = [d for d in result.drops if d.accuracy is None]
    if fixed:
        out.append(f"{len(fixed)} of {result.name}'s blocks cannot be removed ("
                   + "; ".join(d.label for d in fixed) + "): each has no shortcut and changes the shape, "
                   "so the block after it would get an input of the wrong shape.")
    return out


def _resnet_reading(residual: "DropResult", plain: "DropResult | None") -> list[str]:
    """What the ResNet's costs mean, compared with its plain twin's when there is one."""
    costs = residual.costs()
    if not costs:
        return []
    r_typ, r_max = median(costs), max(costs)
    p_typ = typical_cost(plain) if plain is not None else None
    contrast = p_typ is not None and p_typ >= LITTLE and p_typ > 2 * r_typ
    twin = (f" The plain net is a single path, and every later layer depends on each block: a typical "
            f"removal costs it {_cost(p_typ)}.") if contrast else ""
    if residual.selected:  # a few chosen blocks say nothing about the rest of the network
        return []
    if r_max < LITTLE:
        return [f"Losing any one block hurts {residual.name} little (at most {_cost(r_max)}): its blocks behave "
                f"like an ensemble of paths of different lengths, and most paths avoid any one block.{twin}"]
    if r_typ < LITTLE:
        cheap = sum(c < LITTLE for c in costs)
        worst = residual.worst()
        return [f"Most of {residual.name}'s blocks can go at a small cost ({cheap} of {len(costs)} cost under "
                f"{_pts(LITTLE)}), as in an ensemble of paths; not all: without {worst.label} it loses "
                f"{_cost(r_max)}.{twin}"]
    if contrast:
        return [f"Removing a block costs {residual.name} less than its plain twin (typically {_cost(r_typ)} "
                f"against {_cost(p_typ)}), but not little."]
    if plain is not None and plain.costs() and max(plain.costs()) <= r_max:
        return ["Here the plain net coped with a missing block no worse than the ResNet did."]
    return []


def drop_summary(residual: "DropResult | None", plain: "DropResult | None" = None) -> tuple[str, list[str]]:
    """The headline (typical and worst cost of one removal, per net) and the sentences that explain it."""
    results = [r for r in (residual, plain) if r is not None]
    if not results:
        return "Nothing measured yet.", []
    headline = "; ".join(_headline_part(r) for r in results) + "."
    headline = headline[0].upper() + headline[1:]
    if any(r.stopped for r in results):
        headline = "So far (stopped early): " + headline
    details: list[str] = []
    for r in results:
        details.extend(_detail(r))
    weak = any(r.baseline < WEAK for r in results)  # a net that knows little has little to lose
    if residual is not None and residual.residual and (plain is None or not plain.residual) and not weak:
        details.extend(_resnet_reading(residual, plain))
    stopped = [r.name for r in results if r.stopped]
    if stopped:
        details.append(f"Stopped early: {', '.join(stopped)} not fully measured; the numbers cover the blocks "
                       "measured so far.")
    if weak:
        details.append(f"A net below {100 * WEAK:.0f}% accuracy with every block is not well trained, so what "
                       "a removal costs it says little; train it longer first.")
    return headline, details


def drop_words(residual: "DropResult | None", plain: "DropResult | None" = None) -> str:
    """What the removals show, in words, for a ResNet, its plain twin, or both."""
    headline, details = drop_summary(residual, plain)
    return " ".join([headline] + details)
