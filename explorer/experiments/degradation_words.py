"""The degradation experiment's result in words, rendered from claims about the arms' errors.

The shallowest and the deepest net of each kind decide, compared at the last epoch every
arm completed (the words of ``verdict``: fitted = training error under 1%; two errors
within 1 point of each other are "within", further apart one is higher):

- *the plain half*: the shallower plain net fitted the training set and the deeper plain
  net ended with more training error than it;
- *the ResNet half*: the shallower ResNet fitted the training set and the deeper ResNet
  ended within 1 point of it, or lower;
- ``shown`` (green) needs both halves; ``plain_only``: the plain half, and the deeper
  ResNet's extra training error smaller than the plain nets'; ``mixed``: both deeper nets
  ended higher by about as much; ``not_shown``: the plain nets ended within 1 point (or
  the deeper lower); ``too_early``: a shallower net has not fitted, so nothing is judged;
  ``no_verdict``: an arm has no epoch, or a kind has fewer than two depths.

Every sentence about the numbers is backed by the claims it renders; explanations are the
lessons' text. Test errors and training losses are compared beside the training errors, so
the words never state a relation on one measure that another contradicts unsaid.
"""
from __future__ import annotations

from .claims import Compare, Count, Named, Threshold, Words
from .paper import imagenet_and_plain_words, paper_words
from .verdict import (FITTED, Verdict, against, compare_errors, compare_losses, epochs_text, error_relation,
                      counted, fitted, fitted_count, loss_text, names, not_started, pct, points, recent_trend,
                      stopped_early, trend_sentence)

# shown: both halves; plain_only: the plain half, the deeper ResNet above its twin by less than the plain
# nets; mixed: both deeper nets higher alike; not_shown: the plain nets end within each other (or the deeper
# lower); too_early: a shallower net has not fitted; no_verdict: an arm has no epoch (or arms missing)
OUTCOMES = ("shown", "plain_only", "mixed", "not_shown", "too_early", "no_verdict")

WHY = ("The lessons explain it so: a deeper plain net that fits even its training set worse than a shallower "
       "one is harder to optimise; that is not overfitting, which would lower the training error.")
LESSON_RESNET = "The lessons say the deeper ResNet ends with no more training error than the shallower one"


def _at(series: list, epoch: int) -> float:
    return float(series[epoch - 1]) if 0 < epoch <= len(series) else float("nan")


def conclude(results: list, planned_epochs: int, settings=None) -> Verdict:
    """What this run shows, in words, from each arm's errors per epoch (``ArmResult``s); with the run's
    ``settings``, the paper's published test errors follow (``paper.paper_words``: quoted as the paper's,
    compared only where dataset and recipe match)."""
    verdict = _conclude(results, planned_epochs)
    if settings is None or verdict.outcome == "no_verdict" or not verdict.epoch:
        return verdict
    tests = {r.label: r.test_errors[verdict.epoch - 1] for r in results
             if r.arm.residual and len(r.test_errors) >= verdict.epoch}
    verdict.words.extend(paper_words(settings, tests))
    verdict.words.extend(imagenet_and_plain_words())
    return verdict


def _conclude(results: list, planned_epochs: int) -> Verdict:
    plains = sorted((r for r in results if not r.arm.residual), key=lambda r: r.arm.depth)
    resnets = sorted((r for r in results if r.arm.residual), key=lambda r: r.arm.depth)
    w = Words()
    if len(plains) < 2 or len(resnets) < 2:
        need = Named("depths needed", 2)
        w.say(f"No verdict: the experiment needs a plain net and a ResNet at two depths at least; this one has "
              f"{len(plains)} plain and {len(resnets)} residual.",
              Threshold(Named("plain depths", len(plains)), need),
              Threshold(Named("ResNet depths", len(resnets)), need))
        return Verdict("no_verdict", w)
    missing = not_started({r.label: r.epochs_done for r in results})
    if missing.n:
        w.say(f"No verdict yet: {names(missing.members)} {'has' if missing.n == 1 else 'have'} not completed an "
              "epoch.", missing)
        for r in results:
            if r.epochs_done == 0 and r.message:
                _failed(w, r, planned_epochs)
        return Verdict("no_verdict", w)
    epoch = min(r.epochs_done for r in results)
    arms = plains + resnets
    errors = {r.label: _at(r.train_errors, epoch) for r in arms}
    p_lo, p_hi, r_lo, r_hi = plains[0], plains[-1], resnets[0], resnets[-1]
    early = epoch < planned_epochs

    fit_plo, fit_rlo = fitted(p_lo.label, errors[p_lo.label]), fitted(r_lo.label, errors[r_lo.label])
    c_plain = compare_errors(p_hi.label, errors[p_hi.label], p_lo.label, errors[p_lo.label])
    c_res = compare_errors(r_hi.label, errors[r_hi.label], r_lo.label, errors[r_lo.label])
    shallow_fitted = Count.where([(p_lo.label, errors[p_lo.label]), (r_lo.label, errors[r_lo.label])],
                                 "below", FITTED, 0.0, "shallower nets that fitted the training set")
    plain_half = fit_plo.relation == "below" and c_plain.relation == "higher"
    res_half = c_res.relation in ("within", "lower")  # judged only once the shallower ResNet fitted
    gap_plain = c_plain.difference
    gap_res = c_res.difference
    c_gaps = Compare(Named(f"{r_hi.label} minus {r_lo.label} training error", gap_res),
                     Named(f"{p_hi.label} minus {p_lo.label} training error", gap_plain), c_plain.tolerance)
    epochs_claim = Compare(Named("epochs compared", epoch), Named("epochs planned", planned_epochs), 0.0)
    so_far = f"So far (epoch {epoch} of {planned_epochs}): " if early else ""
    timing = (epochs_claim,) if early else ()
    plain_clause = f"{p_hi.label} {error_relation(c_plain, early)} {p_lo.label} {against(c_plain)}"
    res_clause = f"{r_hi.label} {error_relation(c_res, early)} {r_lo.label} {against(c_res)}"

    laggards = []  # the nets that missed their bar: the words say how their training error moved
    if fit_plo.relation != "below":
        outcome = "too_early"
        unfit = [n for n in (p_lo.label, r_lo.label) if n not in shallow_fitted.members]
        w.say(f"{so_far}Too early to judge degradation: {names(unfit)} {'has' if len(unfit) == 1 else 'have'} "
              f"not fitted the training set ({', '.join(pct(errors[n]) for n in unfit)} training error; fitted "
              f"means under {pct(FITTED)}).", shallow_fitted, *timing)
        laggards = [r for r in (p_lo, r_lo) if r.label in unfit]
    elif not plain_half:
        outcome = "not_shown"
        w.say(f"{so_far}This run did not show degradation: {plain_clause}.", fit_plo, c_plain, *timing)
    elif fit_rlo.relation != "below":
        outcome = "plain_only"
        w.say(f"{so_far}Only the plain half shown: {plain_clause}; {r_lo.label} has not fitted the training set "
              f"({pct(errors[r_lo.label])} training error; fitted means under {pct(FITTED)}), so the ResNet half "
              "cannot be judged.", fit_plo, c_plain, fit_rlo, *timing)
        laggards = [r_lo]
    elif res_half:
        outcome = "shown"
        w.say(f"{so_far}Degradation shown: {plain_clause}, while {res_clause}.",
              fit_plo, c_plain, fit_rlo, c_res, shallow_fitted, *timing)
    elif c_gaps.relation == "lower":
        outcome = "plain_only"
        w.say(f"{so_far}Only the plain half shown: {plain_clause}; {res_clause} too, by {points(gap_res)}, "
              f"less than the plain nets' {points(gap_plain)}.", fit_plo, c_plain, fit_rlo, c_res, c_gaps, *timing)
        laggards = [r_hi]
    else:
        outcome = "mixed"
        w.say(f"{so_far}Both deeper nets trained worse here: {plain_clause}, and {res_clause}; the ResNets' "
              f"gap ({points(gap_res)}) was {c_gaps.pick('larger than', 'smaller than', 'about the same as')} "
              f"the plain nets' ({points(gap_plain)}), so this run does not separate them.",
              fit_plo, c_plain, fit_rlo, c_res, c_gaps, *timing)
        laggards = [r_hi]

    _listing(w, arms, errors, epoch)
    for r in laggards:
        t = recent_trend(r.label, r.train_errors[:epoch])
        if t is not None:
            w.say(trend_sentence(r.label, t), t)
    _other_measures(w, results, p_lo, p_hi, r_lo, r_hi, epoch, early)
    if c_res.relation == "within" and outcome != "too_early":
        _lesson_resnet(w, r_lo, r_hi, errors, early)
    for r in results:
        if r.status == "failed":
            _failed(w, r, planned_epochs)
    stopped_early(w, epoch, planned_epochs)
    if plain_half:
        w.lesson(WHY)
    elif outcome == "not_shown":
        w.lesson("The lessons show degradation with a deeper plain net or more training data, where the "
                 "deeper plain net no longer fits the training set as well as the shallower one.")
    elif outcome == "too_early":
        w.lesson("The lessons judge degradation once the shallower nets fit their training set: deeper nets "
                 "of every kind start slower.")
    return Verdict(outcome, w, epoch, errors)


def _listing(w: Words, arms: list, errors: dict, epoch: int) -> None:
    count = fitted_count(errors)
    listing = ", ".join(f"{r.label} {pct(errors[r.label])}" for r in arms)
    w.say(f"Training error after {epochs_text(epoch)}: {listing}. Fitted the training set (under {pct(FITTED)}): "
          f"{counted(count, 'nets')}.", count)


def _other_measures(w: Words, results, p_lo, p_hi, r_lo, r_hi, epoch: int, early: bool) -> None:
    """Test error and training loss of both pairs, each relation computed, beside the training error."""
    t = {r.label: _at(r.test_errors, epoch) for r in (p_lo, p_hi, r_lo, r_hi)}
    if all(v == v for v in t.values()):  # every test error measured (not NaN)
        cp = compare_errors(p_hi.label, t[p_hi.label], p_lo.label, t[p_lo.label], "test error")
        cr = compare_errors(r_hi.label, t[r_hi.label], r_lo.label, t[r_lo.label], "test error")
        w.say(f"On the test set, {p_hi.label} {error_relation(cp, early, 'test error')} {p_lo.label} {against(cp)}, "
              f"and {r_hi.label} {error_relation(cr, early, 'test error')} {r_lo.label} {against(cr)}.", cp, cr)
    loss = {r.label: _at(r.train_losses, epoch) for r in (p_lo, p_hi, r_lo, r_hi)}
    if all(v == v for v in loss.values()):
        cp = compare_losses(p_hi.label, loss[p_hi.label], p_lo.label, loss[p_lo.label])
        cr = compare_losses(r_hi.label, loss[r_hi.label], r_lo.label, loss[r_lo.label])

        def rel(c):
            return c.pick("higher than", "lower than", f"within {c.tolerance:g} of")
        w.say(f"Training loss: {p_hi.label} {rel(cp)} {p_lo.label} {against(cp, loss_text)}, "
              f"{r_hi.label} {rel(cr)} {r_lo.label} {against(cr, loss_text)}.", cp, cr)


def _lesson_resnet(w: Words, r_lo, r_hi, errors: dict, early: bool) -> None:
    """Where the deeper ResNet ended above the shallower one at all, set it against the lessons."""
    exact = Compare(Named(f"{r_hi.label} training error", errors[r_hi.label]),
                    Named(f"{r_lo.label} training error", errors[r_lo.label]), 0.0)
    if exact.relation == "higher":
        verb = "is" if early else "ended"
        w.say(f"{LESSON_RESNET}; here {r_hi.label} {verb} {points(exact.difference)} higher "
              f"{against(exact)}.", exact)


def _failed(w: Words, r, planned_epochs: int) -> None:
    c = Compare(Named(f"{r.label} epochs completed", r.epochs_done), Named("epochs planned", planned_epochs), 0.0)
    reason = r.message or ("stopped before its first epoch ended" if r.status == "stopped" else "no epoch completed")
    w.say(f"{r.label} {'failed' if r.status == 'failed' else 'ended'} after {r.epochs_done} of {planned_epochs} "
          f"epochs: {reason}.", c)
