"""The depth sweep's result in words: where, if anywhere, the plain curve turns, rendered from claims.

The rules (the words of ``verdict``: fitted = training error under 1%; two errors more than
1 point apart differ), on each depth's mean over the seeds at the last epoch every net
completed:

- the plain curve *turns* at the first depth whose plain net ended more than 1 point above
  the best shallower plain net, that best one fitted, and (with several seeds) the lowest
  seed of the deeper net above the highest seed of the shallower one;
- the ResNets *keep up* when the best ResNet fitted and every ResNet, at every depth of the
  sweep, ended within 1 point of it;
- ``shown`` (green): a turn, and the ResNets keep up. ``plain_only``: a turn, and the ResNets'
  spread (worst minus best) smaller than the plain rise; ``mixed``: as large; ``not_shown``:
  no turn; ``too_early``: a deeper plain net ended more than 1 point above the best shallower
  one, which has not fitted; ``no_verdict``: a net has no epoch, or a kind has one depth.
"""
from __future__ import annotations

from .claims import Compare, Count, Named, Threshold, Words
from .paper import paper_words
from .verdict import (FITTED, GAP, Verdict, against, compare_errors, counted, epochs_text, error_relation, extreme,
                      fitted, fitted_count, names, not_started, pct, points, recent_trend, stopped_early,
                      trend_sentence)

OUTCOMES = ("shown", "plain_only", "mixed", "not_shown", "too_early", "no_verdict")

WHY = ("The lessons call this degradation: past some depth, extra layers make even the training set harder to "
       "fit for a plain net; that is not overfitting, which would lower the training error.")
BARS = ("The error bars span the lowest to the highest seed; a turn counts only where the deeper net's lowest "
        "seed is above the shallower net's highest.")


def _name(kind: str, depth: int) -> str:
    return f"{'plain' if kind == 'plain' else 'ResNet'}-{depth}"


def turning_depth(pts: list) -> tuple[object | None, object | None]:
    """The first ``DepthPoint`` that turns (see the module's rules) and the best shallower one, or (None, None)."""
    for k in range(1, len(pts)):
        claims = _turn_claims(pts, k)
        if all(_holds_turn(c) for c in claims):
            return pts[k], min(pts[:k], key=lambda p: p.mean)
    return None, None


def _turn_claims(pts: list, k: int) -> list:
    """The claims a turn at ``pts[k]`` rests on: the best shallower net fitted, more than 1 point above it,
    and (several seeds) apart from it."""
    p, best = pts[k], min(pts[:k], key=lambda q: q.mean)
    out = [fitted(_name("plain", best.depth), best.mean),
           compare_errors(_name("plain", p.depth), p.mean, _name("plain", best.depth), best.mean)]
    if p.count > 1 and best.count > 1:
        out.append(Compare(Named(f"{_name('plain', p.depth)} lowest seed", p.low),
                           Named(f"{_name('plain', best.depth)} highest seed", best.high), 0.0))
    return out


def _who(named: Named) -> str:
    """The net a turn claim's value belongs to ("plain-32 training error" -> "plain-32")."""
    return named.name.removesuffix(" training error")


def _holds_turn(c) -> bool:
    return c.relation == ("below" if isinstance(c, Threshold) else "higher")


def _listing(result, kind: str, metric: str) -> str:
    return ", ".join(f"{p.depth}: {pct(p.mean)}" for p in result.points(kind, metric))


def sweep_verdict(result) -> Verdict:
    """What a ``SweepResult`` shows, in words, at the last epoch every network completed; then the paper's
    published test errors (``paper.paper_words``: quoted as the paper's, compared only where dataset and
    recipe match)."""
    verdict = _sweep_verdict(result)
    if verdict.outcome == "no_verdict" or not verdict.epoch:
        return verdict
    tests = {_name("resnet", p.depth): p.mean for p in result.points("resnet", "test")}
    verdict.words.extend(paper_words(result.settings, tests))
    return verdict


def _sweep_verdict(result) -> Verdict:
    settings = result.settings
    w = Words()
    if not result.arms:
        w.say("No verdict: nothing was trained.", Count(0, len(settings.runs()), "nets trained"))
        return Verdict("no_verdict", w)
    missing = not_started({f"{a.label} seed {a.seed}": a.epochs_done for a in result.arms})
    if missing.n:
        labels = sorted({a.label for a in result.arms if a.epochs_done == 0})
        w.say(f"No verdict yet: {names(labels)} {'has' if len(labels) == 1 else 'have'} not completed an epoch.",
              missing)
        for a in result.arms:
            if a.epochs_done == 0 and a.message:
                _failed(w, a, settings.epochs)
        return Verdict("no_verdict", w)
    epoch, planned = result.epoch, settings.epochs
    plain, res = result.points("plain"), result.points("resnet")
    errors = {_name(k, p.depth): p.mean for k, pts in (("plain", plain), ("resnet", res)) for p in pts}
    if len(plain) < 2 or len(res) < 2:
        need = Named("depths needed", 2)
        w.say("No verdict: the sweep needs plain nets and ResNets at two depths at least.",
              Threshold(Named("plain depths", len(plain)), need), Threshold(Named("ResNet depths", len(res)), need))
        return Verdict("no_verdict", w, epoch, errors)
    seeds = len(settings.seeds)
    early = epoch < planned
    so_far = f"So far (epoch {epoch} of {planned}): " if early else ""
    timing = (Compare(Named("epochs compared", epoch), Named("epochs planned", planned), 0.0),) if early else ()
    ends = "is at" if early else "ended at"

    averaged = f" (means of {seeds} seeds)" if seeds > 1 else ""
    turn, before = turning_depth(plain)
    best_res = min(res, key=lambda p: p.mean)
    res_named = [(_name("resnet", p.depth), p.mean) for p in res]
    best_res_claim = extreme(res_named, "lowest", f"ResNets below {_name('resnet', best_res.depth)}")
    r_best = _name("resnet", best_res.depth)
    res_fit = fitted(r_best, best_res.mean)
    keep_up = Count.where([(_name("resnet", p.depth), p.mean) for p in res], "within", best_res.mean, GAP,
                          f"ResNets within {points(GAP)} of the best")
    # every deeper plain net against the best shallower one
    rises = [(_name("plain", plain[k].depth), plain[k].mean - min(q.mean for q in plain[:k]))
             for k in range(1, len(plain))]
    risen = Count.where(rises, "above", 0.0, GAP, "plain nets more than 1 point above the best shallower one")
    laggards = []
    if turn is None:
        best_plain = min(plain, key=lambda p: p.mean)
        best_plain_claim = extreme([(_name("plain", p.depth), p.mean) for p in plain], "lowest",
                                   f"plain nets below {_name('plain', best_plain.depth)}")
        span = f"{plain[0].depth} and {plain[-1].depth} layers"
        candidates = [k for k in range(1, len(plain)) if _turn_claims(plain, k)[1].relation == "higher"]
        unfit = [k for k in candidates if _turn_claims(plain, k)[0].relation != "below"]
        if candidates and len(unfit) == len(candidates):
            outcome = "too_early"
            k = candidates[0]
            fit, c = _turn_claims(plain, k)[:2]
            w.say(f"{so_far}Too early to tell where the plain curve turns: {_who(c.a)} {ends} "
                  f"{pct(c.a.value)} training error against {pct(c.b.value)} for {_who(c.b)}, but "
                  f"{_who(c.b)} has not fitted the training set (fitted means under {pct(FITTED)}).",
                  fit, c, *timing)
            laggards = [("plain", min(plain[:k], key=lambda p: p.mean).depth)]
        else:
            outcome = "not_shown"
            w.say(f"{so_far}The plain curve does not turn between {span}: {counted(risen, 'deeper plain nets')} "
                  f"{'ended' if not early else 'are'} more than {points(GAP)} above the best shallower plain net "
                  f"(the best of all, {_name('plain', best_plain.depth)}, {ends} {pct(best_plain.mean)}{averaged}).",
                  risen, best_plain_claim, *timing)
            for k in candidates:
                claims = _turn_claims(plain, k)
                if len(claims) == 3 and claims[2].relation != "higher":
                    c, apart = claims[1], claims[2]
                    w.say(f"{_who(c.a)} ended {points(c.difference)} above "
                          f"{_who(c.b)} on average, but its seeds' range reaches into the shallower "
                          f"net's ({pct(apart.a.value)} lowest against {pct(apart.b.value)} highest), so it is "
                          "not counted as a turn.", c, apart)
                elif claims[0].relation != "below":
                    c = claims[1]
                    w.say(f"{_who(c.a)} ended {points(c.difference)} above "
                          f"{_who(c.b)}, which has not fitted the training set "
                          f"({pct(c.b.value)}), so it is not counted as a turn.", claims[0], c)
    else:
        p_turn, p_best = _name("plain", turn.depth), _name("plain", before.depth)
        k = plain.index(turn)
        turn_claims = _turn_claims(plain, k)
        deeper = [(_name("plain", p.depth), p.mean) for p in plain[k:]]
        beyond = Count.where(deeper, "above", before.mean, GAP, f"plain nets from {turn.depth} layers on above "
                                                                f"{p_best} by more than 1 point")
        head = (f"{so_far}The plain curve turns at {turn.depth} layers: {p_turn} {ends} {pct(turn.mean)} training "
                f"error against {pct(before.mean)} for {p_best}{averaged}")
        if len(deeper) > 1:
            head += (f"; {counted(beyond, f'plain nets from {turn.depth} layers on')} "
                     f"{'ended' if not early else 'are'} more than {points(GAP)} above {p_best}")
        worst_res = max(res, key=lambda p: p.mean)
        worst_res_claim = extreme(res_named, "highest", f"ResNets above {_name('resnet', worst_res.depth)}")
        best_before = extreme([(_name("plain", p.depth), p.mean) for p in plain[:k]], "lowest",
                              f"plain nets shallower than {turn.depth} layers below {p_best}")
        r_worst = _name("resnet", worst_res.depth)
        worst_plain = max(plain[k:], key=lambda p: p.mean)
        c_spread = Compare(Named(f"{r_worst} minus {r_best} training error", worst_res.mean - best_res.mean),
                           Named(f"{_name('plain', worst_plain.depth)} minus {p_best} training error",
                                 worst_plain.mean - before.mean), GAP)
        if keep_up.n == keep_up.total and res_fit.relation == "below":
            outcome = "shown"
            w.say(f"{head}; the ResNet curve does not turn: {counted(keep_up, 'ResNets')} "
                  f"{'ended' if not early else 'are'} within {points(GAP)} of the best, {r_best} at "
                  f"{pct(best_res.mean)}.", *turn_claims, best_before, beyond, keep_up, res_fit, best_res_claim,
                  *timing)
        else:
            outcome = "plain_only" if c_spread.relation == "lower" else "mixed"
            fit_words = "" if res_fit.relation == "below" else (
                f", and even {r_best} has not fitted the training set (fitted means under {pct(FITTED)})")
            lag = "not every ResNet keeps up: " if keep_up.n < keep_up.total else ""
            tail = (f"{lag}{counted(keep_up, 'ResNets')} "
                    f"{'ended' if not early else 'are'} within {points(GAP)} of the "
                    f"best, {r_best} at {pct(best_res.mean)}{fit_words}; the ResNets spread over "
                    f"{points(c_spread.a.value)} ({r_worst} {pct(worst_res.mean)}), "
                    f"{c_spread.pick('more than', 'less than', 'about as much as')} the plain curve's rise of "
                    f"{points(c_spread.b.value)}")
            if outcome == "mixed":
                tail += ", so this sweep does not separate the two kinds"
            w.say(f"{head}; {tail}.", *turn_claims, best_before, beyond, keep_up, res_fit, best_res_claim,
                  worst_res_claim, c_spread, *timing)
            laggards = [("resnet", worst_res.depth)]

    mean_of = f", mean of {seeds} seeds" if seeds > 1 else ""
    count = fitted_count(errors)
    w.say(f"Training error after {epochs_text(epoch)}{mean_of}: plain {_listing(result, 'plain', 'train')}; "
          f"ResNet {_listing(result, 'resnet', 'train')}. Fitted the training set (under {pct(FITTED)}): "
          f"{counted(count, 'nets')}.", count)
    _test_words(w, result, early)
    for kind, depth in laggards:
        for a in result.curves(kind, depth)[:1] if seeds == 1 else []:
            t = recent_trend(a.label, a.train_errors[:epoch])
            if t is not None:
                w.say(trend_sentence(a.label, t), t)
    for a in result.arms:
        if a.status == "failed":
            _failed(w, a, planned)
    stopped_early(w, epoch, planned, "sweep")
    if seeds > 1:
        w.lesson(BARS)
    if turn is not None:
        w.lesson(WHY)
    return Verdict(outcome, w, epoch, errors)


def _test_words(w: Words, result, early: bool) -> None:
    """The test errors, and the deepest plain net against the deepest ResNet on them."""
    plain_t, res_t = result.points("plain", "test"), result.points("resnet", "test")
    if not plain_t or not res_t:
        return
    deep = max(set(p.depth for p in plain_t) & set(p.depth for p in res_t), default=None)
    if deep is None:
        return
    pt = next(p for p in plain_t if p.depth == deep)
    rt = next(p for p in res_t if p.depth == deep)
    c = compare_errors(_name("resnet", deep), rt.mean, _name("plain", deep), pt.mean, "test error")
    w.say(f"Test error: plain {_listing(result, 'plain', 'test')}; ResNet {_listing(result, 'resnet', 'test')}; "
          f"at {deep} layers, {_name('resnet', deep)} {error_relation(c, early, 'test error')} "
          f"{_name('plain', deep)} {against(c)}.", c)


def _failed(w: Words, a, planned: int) -> None:
    c = Compare(Named(f"{a.label} seed {a.seed} epochs completed", a.epochs_done), Named("epochs planned", planned),
                0.0)
    w.say(f"{a.label} (seed {a.seed}) {'failed' if a.status == 'failed' else 'ended'} after {a.epochs_done} of "
          f"{planned} epochs: {a.message or 'no epoch completed'}.", c)
