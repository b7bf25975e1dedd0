"""What every experiment's words share: the result's ``Verdict``, its numbers as text, and the
definitions its words use (one threshold per word, stated here and in docs/WORDS.md).

A ``Verdict`` is the outcome of a run (which colour the page draws it in) and its ``Words``
(``claims.Words``): the first sentence is the headline, the others the details. The outcome
is computed from the same claims the sentences render, so the green "shown" appears only
when every claim it rests on holds. The CLI prints ``texts`` line by line, the app's pages
show the same ``texts`` (lessons in italics), and ``--json`` carries ``words.to_dict()``.

The words (each relation's tolerance is stated in the claim that carries it):

- *fitted the training set*: training error under ``FITTED`` (1%), everywhere;
- two training (or test) errors are *within* each other when at most ``GAP`` (1 point)
  apart; more than that apart, one is *higher* (more error) and the other *lower*;
- two training losses are *within* each other when at most ``LOSS_GAP`` (0.01) apart.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .claims import Compare, Count, Named, Threshold, Trend, Words, is_lesson

FITTED = 0.01  # "fitted the training set": training error under 1%
GAP = 0.01  # two errors more than 1 point apart differ; at most 1 point apart they are "within"
LOSS_GAP = 0.01  # two losses more than 0.01 apart differ
RECENT_EPOCHS = 5  # "still falling": the training error over the last 5 epochs


@dataclass(frozen=True)
class Verdict:
    """An experiment's outcome and its sentences, each backed by claims (or the lessons' text)."""

    outcome: str
    words: Words
    epoch: int = 0  # the epoch the numbers were compared at (0: none)
    errors: dict = field(default_factory=dict)  # arm label -> training error at that epoch
    good: tuple[str, ...] = ("shown",)  # the outcomes that show what the experiment is about

    @property
    def texts(self) -> list[str]:
        return self.words.texts

    @property
    def lessons(self) -> list[bool]:
        """For each sentence: is it the lessons' text (an explanation, not a measurement)?"""
        return [is_lesson(s) for s in self.words.sentences]

    @property
    def headline(self) -> str:
        return self.texts[0] if self.texts else ""

    @property
    def details(self) -> tuple[str, ...]:
        return tuple(self.texts[1:])

    @property
    def text(self) -> str:
        return " ".join(self.texts)

    @property
    def shown(self) -> bool:
        return self.outcome in self.good

    def to_dict(self) -> dict:
        """The verdict's own fields (the sentences and claims go beside it: ``json_fields``)."""
        return {"outcome": self.outcome, "shown": self.shown, "epoch": self.epoch, "headline": self.headline,
                "training_error": {k: _finite_or_none(v) for k, v in self.errors.items()}}

    def json_fields(self) -> dict:
        """What every ``--json`` result carries: ``verdict``, ``sentences`` and ``claims``."""
        return {"verdict": self.to_dict(), **self.words.to_dict()}


def _finite_or_none(x):
    x = float(x)
    return x if math.isfinite(x) else None


# -- numbers as text ----------------------------------------------------------------------

def pct(x: float) -> str:
    """0.135 -> "13.5%", 0.0004 -> "0.04%"."""
    if not math.isfinite(x):
        return "?"
    v = 100.0 * x
    return f"{v:.2g}%" if 0 < v < 0.1 else f"{v:.1f}%"


def points(x: float) -> str:
    """A difference of error fractions in percentage points."""
    v = 100.0 * abs(x)
    return f"{v:.1f} point{'' if round(v, 1) == 1.0 else 's'}"


def loss_text(x: float) -> str:
    if not math.isfinite(x):
        return "not finite"
    return f"{x:.2g}" if abs(x) < 0.01 else f"{x:.3f}" if abs(x) < 10 else f"{x:.3g}"


def epochs_text(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


def cap(text: str) -> str:
    """``text`` with its first letter in capitals, as a sentence starts ("pre-act ResNet-20" -> "Pre-act ...")."""
    return text[:1].upper() + text[1:]


def names(items) -> str:
    """"a", "a and b", "a, b and c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# -- the claims every experiment's words use -------------------------------------------------

def fitted(label: str, error: float) -> Threshold:
    """``label``'s training error against the one definition of fitted (relation ``below``: fitted)."""
    return Threshold(Named(f"{label} training error", error), Named("fitted: under", FITTED), 0.0)


def fitted_count(errors: dict, what: str = "nets that fitted the training set") -> Count:
    """Of the named training errors, those under ``FITTED``."""
    return Count.where(list(errors.items()), "below", FITTED, 0.0, what)


def extreme(values, which: str, what: str) -> Count:
    """The claim that a named value is the lowest (``which`` "lowest") or highest of ``values`` (name, value):
    none of them is below (above) it. Returns the count, whose ``n`` is 0 when the claim holds."""
    vals = list(values)
    pick = min if which == "lowest" else max
    limit = pick(v for _, v in vals)
    return Count.where(vals, "below" if which == "lowest" else "above", limit, 0.0, what)


def counted(c: Count, noun: str) -> str:
    """"all 4 nets", "none of the 4 nets", "3 of the 4 nets (a, b and c)": exact, naming the members."""
    if c.quantifier in ("all", "none") or c.members is None:
        return c.phrase(noun)
    if c.values is not None and 2 * c.n > c.total:
        others = [v.name for v in c.values if v.name not in c.members]
        return f"{c.n} of the {c.total} {noun} (all but {names(others)})"
    return f"{c.n} of the {c.total} {noun} ({names(c.members)})"


def compare_errors(a: str, ea: float, b: str, eb: float, metric: str = "training error") -> Compare:
    """``a``'s error against ``b``'s, with the one tolerance ``GAP``."""
    return Compare(Named(f"{a} {metric}", ea), Named(f"{b} {metric}", eb), GAP)


def compare_losses(a: str, la: float, b: str, lb: float, metric: str = "training loss") -> Compare:
    return Compare(Named(f"{a} {metric}", la), Named(f"{b} {metric}", lb), LOSS_GAP)


def error_relation(c: Compare, early: bool = False, metric: str = "training error") -> str:
    """The words for an error comparison's computed relation: "ended with more training error than", ..."""
    if early:
        return c.pick(f"has more {metric} than", f"has less {metric} than", f"is within {points(c.tolerance)} of")
    return c.pick(f"ended with more {metric} than", f"ended with less {metric} than",
                  f"ended within {points(c.tolerance)} of")


def against(c: Compare, fmt=pct) -> str:
    """"(59.2% against 0.0%)"."""
    return f"({fmt(c.a.value)} against {fmt(c.b.value)})"


def recent_trend(label: str, errors: list[float], last: int = RECENT_EPOCHS) -> Trend | None:
    """The training error over the last ``last`` epochs (tolerance ``GAP``), or None with fewer than 2."""
    tail = [float(e) for e in errors[-last:]]
    if len(tail) < 2 or not all(math.isfinite(e) for e in tail):
        return None
    return Trend(f"{label} training error, last {len(tail)} epochs", tuple(tail), GAP)


def trend_sentence(label: str, t: Trend) -> str:
    """"ResNet-56's training error fell steadily over the last 5 epochs (8.0% to 5.4%)."."""
    span = f"over the last {len(t.values)} epochs ({pct(t.values[0])} to {pct(t.values[-1])})"
    way = "steadily" if t.monotone else "with steps back"
    return (f"{label}'s training error " + t.pick(f"rose {way} {span}", f"fell {way} {span}",
                                                   f"changed by {points(t.tolerance)} or less {span}") + ".")


def stopped_early(words: Words, epoch: int, planned: int, what: str = "run") -> Compare:
    """The claim that the numbers are from epoch ``epoch`` of ``planned`` (said when it is lower)."""
    c = Compare(Named("epochs compared", epoch), Named("epochs planned", planned), 0.0)
    if c.relation == "lower":
        words.say(f"The {what} stopped at epoch {epoch} of {planned}: these are the numbers at that point, "
                  "not at the end.", c)
    return c


def not_started(labels_epochs: dict, noun: str = "nets") -> Count:
    """Of the nets (label -> epochs completed), those with no completed epoch."""
    return Count.where(list(labels_epochs.items()), "below", 1, 0.0, f"{noun} with no completed epoch")
