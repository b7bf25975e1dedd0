"""Claims: what a sentence about a result asserts, computed from the numbers it rests on.

Every sentence the app or the CLI says about a measured result is rendered from one or more
claims. A claim holds its numbers and the relation computed from them; the words for the
relation are looked up from that computed relation (``Compare.pick``), never chosen by which
branch of a rule ran. Explanations (why skips help, what the lessons say) are not claims:
they are marked as the lessons' text (``Words.lesson``) and kept apart from what was measured.

The kinds, each with the rule that decides it (``tolerance`` is stated in every claim):

- ``Compare(a, b, tolerance)``: ``higher`` iff a - b > tolerance, ``lower`` iff b - a >
  tolerance, ``within`` iff |a - b| <= tolerance.
- ``Count(n, total)``: ``all`` iff n = total, ``none`` iff n = 0, ``most`` iff 2n > total,
  ``half`` iff 2n = total, ``some`` iff 0 < n and 2n < total. ``Count.where`` counts the
  named values on one side of a limit and keeps them, so the count itself can be checked.
- ``Threshold(value, limit, tolerance)``: ``above`` iff value - limit > tolerance,
  ``below`` iff limit - value > tolerance, ``within`` otherwise.
- ``Trend(values, tolerance)``: first against last (``rising``, ``falling``, ``flat`` by
  the comparison rule) and whether every step goes that way (``monotone``; steps back of
  at most ``tolerance`` are allowed).
- ``Settled`` (``first_look_words``): a first look's verdict against the full batch's: ``held``
  iff the two verdicts are the same, ``changed`` otherwise.
- ``Diverged(values, chance, tolerance)``: a training curve that is not finite, rose from
  its first value to its last by more than ``tolerance``, or ended within ``tolerance`` of
  chance (or beyond it). ``reason`` names the first rule that applies, or None.

``Words`` collects sentences and the claims behind them; ``Words.to_dict()`` is the
``sentences`` / ``claims`` pair of every ``--json`` result, and ``check`` is the one
checker that recomputes every claim in such a result from its numbers (the tests run it
over random result tables for every word function).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

RELATIONS = ("higher", "lower", "within")
THRESHOLD_RELATIONS = ("above", "below", "within")
QUANTIFIERS = ("all", "most", "half", "some", "none")
DIRECTIONS = ("rising", "falling", "flat")
DIVERGENCE_RULES = ("not_finite", "rising", "at_chance")


def _finite(*xs: float) -> bool:
    return all(isinstance(x, (int, float)) and math.isfinite(x) for x in xs)


def _num(x) -> float:
    return float(x)


@dataclass(frozen=True)
class Named:
    """A value with the name a sentence gives it ("plain-56 training error")."""
    name: str
    value: float

    def to_dict(self) -> dict:
        return {"name": self.name, "value": _num(self.value)}


def compare_relation(a: float, b: float, tolerance: float) -> str:
    """``higher`` / ``lower`` / ``within``; ``undefined`` when either is NaN."""
    if math.isnan(a) or math.isnan(b):
        return "undefined"
    if a == b:  # also two equal infinities
        return "within"
    if a - b > tolerance:
        return "higher"
    if b - a > tolerance:
        return "lower"
    return "within"


def quantifier(n: int, total: int) -> str:
    if not 0 <= n <= total:
        raise ValueError(f"a count of {n} out of {total}")
    if n == total:
        return "all"  # (n = total = 0 reads "all" of nothing: words functions do not count empty sets)
    if n == 0:
        return "none"
    if 2 * n > total:
        return "most"
    if 2 * n == total:
        return "half"
    return "some"


def quantifiers_that_hold(n: int, total: int) -> set[str]:
    """Every quantifier true of n out of total (two only for 0 of 0: all and none)."""
    return {"all", "none"} if n == total == 0 else {quantifier(n, total)}


class Claim:
    """A statement about numbers that can be checked against them (``holds``)."""
    kind = ""

    def holds(self) -> bool:  # pragma: no cover - every kind overrides it
        raise NotImplementedError

    def to_dict(self) -> dict:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class Compare(Claim):
    a: Named
    b: Named
    tolerance: float = 0.0
    kind = "compare"

    @property
    def relation(self) -> str:
        return compare_relation(_num(self.a.value), _num(self.b.value), self.tolerance)

    @property
    def difference(self) -> float:
        """a - b."""
        return _num(self.a.value) - _num(self.b.value)

    def pick(self, higher: str, lower: str, within: str, undefined: str = "cannot be compared with") -> str:
        """The words for the relation this comparison computed."""
        return {"higher": higher, "lower": lower, "within": within, "undefined": undefined}[self.relation]

    def holds(self) -> bool:
        return self.relation != "undefined"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "a": self.a.to_dict(), "b": self.b.to_dict(), "relation": self.relation,
                "tolerance": _num(self.tolerance)}


@dataclass(frozen=True)
class Count(Claim):
    n: int
    total: int
    what: str = ""  # what is counted ("ResNets within 1 point of the best")
    members: tuple[str, ...] | None = None  # the names counted, where known
    values: tuple[Named, ...] | None = None  # the values tested, for a count made by ``where``
    relation: str | None = None  # ... the side of ``limit`` that counts (above / below / within)
    limit: float | None = None
    tolerance: float = 0.0
    kind = "count"

    def __post_init__(self):
        quantifier(self.n, self.total)  # a count outside 0..total is a bug in the caller

    @classmethod
    def where(cls, values, relation: str, limit: float, tolerance: float = 0.0, what: str = "") -> "Count":
        """Of the named ``values`` (``Named`` or (name, value) pairs), those ``relation`` the limit."""
        if relation not in THRESHOLD_RELATIONS:
            raise ValueError(f"unknown relation {relation!r}")
        vals = tuple(v if isinstance(v, Named) else Named(str(v[0]), v[1]) for v in values)
        members = tuple(v.name for v in vals
                        if threshold_relation(_num(v.value), limit, tolerance) == relation)
        return cls(len(members), len(vals), what, members, vals, relation, limit, tolerance)

    @property
    def quantifier(self) -> str:
        return quantifier(self.n, self.total)

    def phrase(self, noun: str) -> str:
        """``noun`` with its exact quantifier: "all 4 ResNets", "3 of the 4 ResNets", "none of the 4 ResNets"."""
        q = self.quantifier
        if q == "all":
            return f"the one {noun}" if self.total == 1 else f"all {self.total} {noun}"
        if q == "none":
            return f"none of the {self.total} {noun}"
        if q == "half":
            return f"half of the {noun} ({self.n} of {self.total})"
        return f"{self.n} of the {self.total} {noun}"

    def holds(self) -> bool:
        if self.members is not None and len(self.members) != self.n:
            return False
        if self.values is not None:
            if len(self.values) != self.total or self.relation is None or self.limit is None:
                return False
            counted = [v.name for v in self.values
                       if threshold_relation(_num(v.value), self.limit, self.tolerance) == self.relation]
            if len(counted) != self.n or (self.members is not None and sorted(counted) != sorted(self.members)):
                return False
        return True

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "n": self.n, "total": self.total, "quantifier": self.quantifier}
        if self.what:
            d["what"] = self.what
        if self.members is not None:
            d["members"] = list(self.members)
        if self.values is not None:
            d.update(values=[v.to_dict() for v in self.values], relation=self.relation,
                     limit=_num(self.limit), tolerance=_num(self.tolerance))
        return d


def threshold_relation(value: float, limit: float, tolerance: float) -> str:
    """``above`` / ``below`` / ``within``: the comparison rule (``compare_relation``) in a threshold's words."""
    relation = compare_relation(value, limit, tolerance)
    return {"higher": "above", "lower": "below"}.get(relation, relation)


@dataclass(frozen=True)
class Threshold(Claim):
    value: Named
    limit: Named
    tolerance: float = 0.0
    kind = "threshold"

    @property
    def relation(self) -> str:
        return threshold_relation(_num(self.value.value), _num(self.limit.value), self.tolerance)

    def pick(self, above: str, below: str, within: str, undefined: str = "cannot be set against") -> str:
        return {"above": above, "below": below, "within": within, "undefined": undefined}[self.relation]

    def holds(self) -> bool:
        return self.relation != "undefined"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.value.name, "value": _num(self.value.value),
                "limit_name": self.limit.name, "limit": _num(self.limit.value), "relation": self.relation,
                "tolerance": _num(self.tolerance)}


def trend_of(values, tolerance: float) -> tuple[str, bool]:
    """(direction of first against last, monotone) of a sequence of finite values."""
    vals = [_num(v) for v in values]
    if len(vals) < 2 or not _finite(*vals):
        return "undefined", False
    first, last = vals[0], vals[-1]
    rel = compare_relation(last, first, tolerance)
    direction = {"higher": "rising", "lower": "falling", "within": "flat"}[rel]
    steps = list(zip(vals, vals[1:]))
    if direction == "rising":
        monotone = all(b >= a - tolerance for a, b in steps)
    elif direction == "falling":
        monotone = all(b <= a + tolerance for a, b in steps)
    else:
        monotone = all(abs(v - first) <= tolerance for v in vals)
    return direction, monotone


@dataclass(frozen=True)
class Trend(Claim):
    name: str
    values: tuple[float, ...]
    tolerance: float = 0.0
    rule: str = "first_vs_last"
    kind = "trend"

    @property
    def direction(self) -> str:
        return trend_of(self.values, self.tolerance)[0]

    @property
    def monotone(self) -> bool:
        return trend_of(self.values, self.tolerance)[1]

    def pick(self, rising: str, falling: str, flat: str, undefined: str = "has no trend") -> str:
        return {"rising": rising, "falling": falling, "flat": flat, "undefined": undefined}[self.direction]

    def holds(self) -> bool:
        return self.direction != "undefined"

    def to_dict(self) -> dict:
        vals = [_num(v) for v in self.values]
        return {"kind": self.kind, "name": self.name, "values": vals, "first": vals[0] if vals else None,
                "last": vals[-1] if vals else None, "direction": self.direction, "monotone": self.monotone,
                "tolerance": _num(self.tolerance), "rule": self.rule}


def divergence_reason(values, chance: float, tolerance: float) -> str | None:
    """Which rule says this curve diverged (``DIVERGENCE_RULES``), or None."""
    vals = [_num(v) for v in values]
    if not vals:
        return None
    if not _finite(*vals):
        return "not_finite"
    if len(vals) >= 2 and vals[-1] - vals[0] > tolerance:
        return "rising"
    if vals[-1] >= chance - tolerance:
        return "at_chance"
    return None


@dataclass(frozen=True)
class Diverged(Claim):
    """A training curve (loss or error per epoch) checked against the three divergence rules.

    The claim states ``diverged`` (True or False) and, when True, the rule that applies; it
    holds when the rules computed again on ``values`` agree.
    """
    name: str
    values: tuple[float, ...]
    chance: float  # the curve's value at chance (ln C for a loss, 1 - 1/C for an error)
    tolerance: float = 0.0
    measure: str = "loss"
    kind = "diverged"

    @property
    def reason(self) -> str | None:
        return divergence_reason(self.values, self.chance, self.tolerance)

    @property
    def diverged(self) -> bool:
        return self.reason is not None

    def holds(self) -> bool:
        return len(self.values) > 0

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "measure": self.measure,
                "values": [_num(v) for v in self.values], "chance": _num(self.chance),
                "tolerance": _num(self.tolerance), "diverged": self.diverged, "rule": self.reason or "none"}


@dataclass
class Words:
    """Sentences about a result, each backed by the claims it renders (or marked as the lessons' text)."""
    sentences: list = field(default_factory=list)  # str, or {"text": ..., "lesson": True}
    backing: list = field(default_factory=list)  # (claim, sentence index)

    def say(self, text: str, *claims: Claim) -> int:
        """A sentence about the numbers, backed by ``claims`` (at least one). Returns its index."""
        if not claims:
            raise ValueError(f"a sentence about a result needs a claim behind it: {text!r}")
        for c in claims:
            if not isinstance(c, Claim):
                raise TypeError(f"not a claim: {c!r}")
        i = len(self.sentences)
        self.sentences.append(text)
        self.backing.extend((c, i) for c in claims)
        return i

    def lesson(self, text: str, source: str = "") -> int:
        """The lessons' text (an explanation, not a measurement); ``source``: where a quoted figure comes
        from (a published result is quoted, not measured: "He et al. 2015, Table 6")."""
        self.sentences.append({"text": text, "lesson": True, **({"source": source} if source else {})})
        return len(self.sentences) - 1

    def extend(self, other: "Words") -> None:
        """Append ``other``'s sentences and claims after these."""
        offset = len(self.sentences)
        self.sentences.extend(other.sentences)
        self.backing.extend((c, i + offset) for c, i in other.backing)

    @property
    def texts(self) -> list[str]:
        """Every sentence as plain text, in order."""
        return [sentence_text(s) for s in self.sentences]

    @property
    def text(self) -> str:
        return " ".join(self.texts)

    def claims_of(self, sentence: int) -> list[Claim]:
        return [c for c, i in self.backing if i == sentence]

    def to_dict(self) -> dict:
        claims = []
        for c, i in self.backing:
            d = c.to_dict()
            d["sentence"] = i
            claims.append(d)
        return {"sentences": list(self.sentences), "claims": claims}


def sentence_text(s) -> str:
    return s["text"] if isinstance(s, dict) else s


def is_lesson(s) -> bool:
    return isinstance(s, dict) and s.get("lesson") is True


# ---- the one checker: every claim in a result recomputed from its own numbers ----

def _named(d) -> float:
    return _num(d["value"])


def check_claim(d: dict) -> str | None:
    """Why the claim ``d`` (a ``to_dict`` object) does not hold on its own numbers, or None."""
    kind = d.get("kind")
    try:
        if kind == "compare":
            rel = compare_relation(_named(d["a"]), _named(d["b"]), _num(d["tolerance"]))
            if d["relation"] not in RELATIONS:
                return f"unknown relation {d['relation']!r}"
            if rel != d["relation"]:
                return (f"says {d['a']['name']} is {d['relation']} than {d['b']['name']} "
                        f"({d['a']['value']} against {d['b']['value']}, tolerance {d['tolerance']}), "
                        f"but the numbers say {rel}")
            return None
        if kind == "count":
            n, total = int(d["n"]), int(d["total"])
            if not 0 <= n <= total:
                return f"counts {n} of {total}"
            if d["quantifier"] not in quantifiers_that_hold(n, total):
                return f"says {d['quantifier']} for {n} of {total} (exactly: {quantifier(n, total)})"
            if "members" in d and len(d["members"]) != n:
                return f"counts {n} but names {len(d['members'])}"
            if "values" in d:
                counted = [v["name"] for v in d["values"]
                           if threshold_relation(_named(v), _num(d["limit"]), _num(d["tolerance"])) == d["relation"]]
                if len(d["values"]) != total:
                    return f"counts out of {total} but lists {len(d['values'])} values"
                if len(counted) != n:
                    return f"counts {n} {d['relation']} {d['limit']}, the values give {len(counted)}"
                if "members" in d and sorted(counted) != sorted(d["members"]):
                    return f"names {d['members']}, the values give {counted}"
            return None
        if kind == "threshold":
            rel = threshold_relation(_num(d["value"]), _num(d["limit"]), _num(d["tolerance"]))
            if d["relation"] not in THRESHOLD_RELATIONS:
                return f"unknown relation {d['relation']!r}"
            if rel != d["relation"]:
                return (f"says {d.get('name', 'the value')} {d['value']} is {d['relation']} {d['limit']} "
                        f"(tolerance {d['tolerance']}), but it is {rel}")
            return None
        if kind == "trend":
            direction, monotone = trend_of(d["values"], _num(d["tolerance"]))
            if direction == "undefined" or d["direction"] != direction:
                return f"says {d.get('name', 'the curve')} is {d['direction']}, the values say {direction}"
            if bool(d["monotone"]) != monotone:
                return f"says monotone={d['monotone']}, the values say {monotone}"
            vals = d["values"]
            if d.get("first") is not None and (_num(d["first"]) != _num(vals[0]) or _num(d["last"]) != _num(vals[-1])):
                return "first/last differ from the values"
            return None
        if kind == "diverged":
            reason = divergence_reason(d["values"], _num(d["chance"]), _num(d["tolerance"]))
            if not d["values"]:
                return "no values"
            if bool(d["diverged"]) != (reason is not None):
                return f"says diverged={d['diverged']}, the rules say {reason or 'not diverged'}"
            if (reason or "none") != d.get("rule", "none"):
                return f"names rule {d.get('rule')}, the values give {reason or 'none'}"
            return None
        if kind == "settled":  # a first look's verdict against the full batch's (first_look_words.Settled)
            relation = "held" if d["first"] == d["full"] else "changed"
            if d["relation"] != relation:
                return f"says the verdict {d['relation']}, but {d['first']!r} -> {d['full']!r} {relation}"
            if not 0 < int(d["first_images"]) < int(d["batch"]):
                return f"a first look of {d['first_images']} images of a batch of {d['batch']}"
            return None
        return f"unknown kind {kind!r}"
    except (KeyError, TypeError, ValueError) as exc:
        return f"malformed {kind} claim: {exc!r}"


def check(result: dict) -> list[str]:
    """Every problem with the ``sentences`` / ``claims`` of ``result``: a claim that does not hold on its
    numbers, a claim pointing at no sentence, a sentence about the result with no claim behind it."""
    sentences = result.get("sentences")
    claims = result.get("claims")
    if not isinstance(sentences, list) or not isinstance(claims, list):
        return ["no 'sentences' and 'claims' lists"]
    problems = []
    backed = set()
    for k, c in enumerate(claims):
        i = c.get("sentence") if isinstance(c, dict) else None
        if not isinstance(i, int) or not 0 <= i < len(sentences):
            problems.append(f"claim {k} points at sentence {i!r}, of {len(sentences)}")
            continue
        backed.add(i)
        why = check_claim(c)
        if why:
            problems.append(f"claim {k} (sentence {i}: {sentence_text(sentences[i])!r}): {why}")
    for i, s in enumerate(sentences):
        if is_lesson(s):
            if not isinstance(s.get("text"), str):
                problems.append(f"sentence {i}: a lesson without text")
            continue
        if not isinstance(s, str):
            problems.append(f"sentence {i}: neither text nor a lesson: {s!r}")
        elif i not in backed:
            problems.append(f"sentence {i} has no claim behind it: {s!r}")
    return problems
