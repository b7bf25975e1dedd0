"""The depth sweep's result in words: where, if anywhere, the plain curve turns.

The rules (the margins are the degradation experiment's, stated in the words that use them):

- the plain curve *turns* at the first depth whose training error (mean over seeds) is
  clearly above the best shallower plain net's: at least ``CLEAR_GAP`` (2 points) and
  ``CLEAR_RATIO`` (1.5x) higher, and, with several seeds, with no overlap between the two
  depths' ranges over the seeds;
- nothing is concluded while the best shallower plain net has not fitted the training set
  (above ``UNTRAINED``): deeper nets of every kind start slower;
- the ResNets *keep up* when every ResNet from the turning depth on ends within
  ``SAME_GAP`` (1 point) of the best ResNet ("shown"), or within ``NEAR_GAP`` (3 points,
  "mostly"); when they rise clearly less than the plain nets but more than that, the run is
  too short for the ResNet curve; when they rise as much, the sweep does not separate them.
"""
from __future__ import annotations

from .degradation_words import (CLEAR_GAP, CLEAR_RATIO, NEAR_GAP, SAME_GAP, UNTRAINED, Verdict, more_epochs,
                                pct, points)


def _name(kind: str, depth: int) -> str:
    return f"{'plain' if kind == 'plain' else 'ResNet'}-{depth}"


def turning_depth(pts: list) -> tuple[int | None, object | None]:
    """The first ``DepthPoint`` clearly above the best shallower one, and that best one (None, None: no turn)."""
    for k in range(1, len(pts)):
        best = min(pts[:k], key=lambda p: p.mean)
        p = pts[k]
        clear = p.mean - best.mean >= CLEAR_GAP and p.mean >= CLEAR_RATIO * best.mean
        apart = p.count < 2 or best.count < 2 or p.low > best.high
        if clear and apart:
            return p, best
    return None, None


def _listing(result, kind: str, metric: str) -> str:
    return ", ".join(f"{p.depth}: {pct(p.mean)}" for p in result.points(kind, metric))


def sweep_verdict(result) -> Verdict:
    """What a ``SweepResult`` shows, in words, at the last epoch every network completed."""
    settings = result.settings
    missing = [a for a in result.arms if a.epochs_done == 0]
    if not result.arms or missing:
        names = sorted({a.label for a in missing})
        headline = ("No verdict yet: " + ", ".join(names) + (" has" if len(names) == 1 else " have")
                    + " not completed an epoch.") if names else "No verdict: nothing was trained."
        return Verdict("no_verdict", headline, tuple(f"{a.label}: {a.message}." for a in missing if a.message),
                       0, {})
    epoch, planned = result.epoch, settings.epochs
    plain, res = result.points("plain"), result.points("resnet")
    errors = {_name(k, p.depth): p.mean for k, pts in (("plain", plain), ("resnet", res)) for p in pts}
    seeds = len(settings.seeds)
    early = epoch < planned
    so_far = f"So far (epoch {epoch} of {planned}): " if early else ""
    mean_of = f", mean of {seeds} seeds" if seeds > 1 else ""
    details = [f"Training error after {epoch} epoch{'s' if epoch != 1 else ''}{mean_of}: plain "
               f"{_listing(result, 'plain', 'train')}; ResNet {_listing(result, 'resnet', 'train')}.",
               f"Test error: plain {_listing(result, 'plain', 'test')}; ResNet {_listing(result, 'resnet', 'test')}."]
    if seeds > 1:
        details.append("Error bars span the lowest to the highest seed; a turn counts only where the ranges "
                       "do not overlap.")
    for a in result.arms:
        if a.status == "failed":
            details.append(f"{a.label} (seed {a.seed}) failed: {a.message}.")
    if early:
        details.append(f"The sweep stopped at epoch {epoch} of {planned}, so these are the numbers at that point.")
    more = more_epochs(planned)
    run_longer = (f"Let it run to the end, or run more epochs (say {more})." if early
                  else f"Run more epochs (say {more}).")

    def verdict(outcome: str, headline: str, *extra: str) -> Verdict:
        return Verdict(outcome, headline, tuple(details) + extra, epoch, errors)

    if len(plain) < 2 or len(res) < 2:
        return verdict("no_verdict", "No verdict: the sweep needs plain nets and ResNets at two depths at least.")
    best_plain = min(plain, key=lambda p: p.mean)
    turn, before = turning_depth(plain)
    span = f"{plain[0].depth} and {plain[-1].depth} layers"
    if turn is None:
        headline = (f"{so_far}The plain curve does not turn between {span}: no plain net ends clearly above a "
                    f"shallower one (the best, {_name('plain', best_plain.depth)}, is at {pct(best_plain.mean)} "
                    "training error).")
        if best_plain.mean > UNTRAINED:
            why = (f"The run was too short: no plain net has fitted the training set yet (all above "
                   f"{pct(UNTRAINED)}). {run_longer}")
        elif early:
            why = "Let it run to the end: the gap usually opens as the learning rate falls."
        else:
            why = ("Every plain net fitted this training set; deeper plain nets (e.g. 110) or a larger dataset "
                   "show where the curve turns.")
        return verdict("not_shown", headline, why)
    p_turn, p_best = _name("plain", turn.depth), _name("plain", before.depth)
    if before.mean > UNTRAINED:
        return verdict("too_early",
                       f"{so_far}Too early to tell: {p_turn} is behind {p_best} ({pct(turn.mean)} against "
                       f"{pct(before.mean)} training error), but {p_best} has not fitted the training set yet either.",
                       f"Deeper nets start slower, with or without skips; where the curves end is what counts. "
                       f"{run_longer}")
    deeper_plain = [p for p in plain if p.depth >= turn.depth]
    all_worse = all(p.mean - before.mean >= CLEAR_GAP for p in deeper_plain)
    where = "from" if all_worse and len(deeper_plain) > 1 else "at"
    plain_gap = max(p.mean for p in deeper_plain) - before.mean
    best_res = min(res, key=lambda p: p.mean)
    deep_res = [p for p in res if p.depth >= turn.depth]
    worst_res = max(deep_res, key=lambda p: p.mean) if deep_res else best_res
    res_gap = worst_res.mean - best_res.mean
    r_worst, r_best = _name("resnet", worst_res.depth), _name("resnet", best_res.depth)
    ends = "is at" if early else "ends at"
    head = (f"{so_far}The plain curve turns at {turn.depth} layers: {p_turn} {ends} {pct(turn.mean)} training "
            f"error against {pct(before.mean)} for {p_best}")
    if where == "from":
        head += f", and every deeper plain net is worse too (up to {pct(max(p.mean for p in deeper_plain))})"
    why = ("Past that depth, extra layers make even the training set harder to fit for a plain net: that is "
           "degradation, not overfitting.")
    if res_gap <= SAME_GAP:
        return verdict("shown", f"{head}; the ResNet curve does not turn (every ResNet within {points(SAME_GAP)} "
                                f"of the best, {r_best} at {pct(best_res.mean)}).", why)
    if res_gap <= NEAR_GAP and res_gap <= plain_gap / 4:
        return verdict("mostly", f"{head}; the ResNets stay within {points(res_gap)} of their best ({r_worst} "
                                 f"{pct(worst_res.mean)} against {r_best} {pct(best_res.mean)}).", why,
                       f"That is more than the {points(SAME_GAP)} counted as no worse but under {points(NEAR_GAP)}: "
                       "the ResNets mostly keep up.")
    if res_gap <= plain_gap / 2:
        return verdict("plain_only", f"{head}; the deepest ResNets have not caught up yet ({r_worst} "
                                     f"{pct(worst_res.mean)} against {r_best} {pct(best_res.mean)}).", why,
                       f"This run is too short for the ResNet curve: it cannot tell yet whether the ResNets keep "
                       f"up at every depth. {run_longer}")
    return verdict("mixed", f"{head}; the ResNet curve rises about as much ({r_worst} {pct(worst_res.mean)} against "
                            f"{r_best} {pct(best_res.mean)}), so this sweep does not separate the two kinds.",
                   f"Deeper nets of both kinds need more steps at first; {run_longer[0].lower()}{run_longer[1:]}")
