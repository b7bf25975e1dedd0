"""Pre- against post-activation in words, rendered from claims: which trained lower, which diverged, and
how the gradient spread differs.

The two nets are compared at the last epoch both completed (the words of ``verdict``: errors
within 1 point, losses within 0.01, fitted = training error under 1%):

- a net *diverged* when its training loss is not finite or rose from the first epoch to the
  last, or its training error ended within ``CHANCE_GAP`` (10 points) of chance (``claims.
  Diverged``). Such a net is not compared: the words say it diverged at this learning rate
  (its loss after the first epoch above chance's) or stayed at chance, with the numbers;
- otherwise the training error and the training loss are both compared, and the outcome is
  the net lower on the error (or, errors within 1 point, on the loss); with both alike, the
  net that got under 1% training error two epochs or more sooner; else no difference;
- the gradient spread (largest block norm over the smallest) of each net is compared on a
  log scale: a factor of ``SPREAD_FACTOR`` (1.5) or less apart counts as alike.
"""
from __future__ import annotations

import math

from .claims import Compare, Count, Diverged, Named, Threshold, Words
from .gradflow import format_factor
from .verdict import (FITTED, LOSS_GAP, Verdict, against, compare_errors, compare_losses, epochs_text,
                      cap, error_relation, loss_text, names, not_started, pct, points, stopped_early)

OUTCOMES = ("pre_lower", "post_lower", "pre_faster", "post_faster", "no_difference", "post_diverged",
            "pre_diverged", "both_diverged", "no_verdict")
CHANCE_GAP = 0.10  # a training error within 10 points of chance's counts as "at chance"
SPREAD_FACTOR = 1.5  # gradient spreads within a factor of 1.5 of each other are alike
EPOCHS_APART = 1  # reaching fitted more than 1 epoch sooner (two or more) counts as sooner

LESSON = ("The lessons say the pre-activation twin keeps the shortcut a pure identity from block to block "
          "(nothing acts on the sum after the addition), so deep nets train more easily and the gradient "
          "reaches the early blocks more evenly.")


def _factor(x: float) -> str:
    if not math.isfinite(x):
        return "an unbounded factor (a block's gradient is zero)"
    return f"{format_factor(x)}x"  # the one rule for ratios (gradflow.format_factor)


def divergence(arm, epoch: int, classes: int) -> tuple[Diverged, Diverged]:
    """The divergence claims of ``arm``'s first ``epoch`` epochs: on its training loss (chance ln C) and on
    its training error (chance 1 - 1/C, within 10 points)."""
    loss = Diverged(f"{arm.label} training loss", tuple(float(v) for v in arm.train_loss[:epoch]),
                    math.log(classes), LOSS_GAP, "loss")
    error = Diverged(f"{arm.label} training error", tuple(float(v) for v in arm.train_error[:epoch]),
                     1.0 - 1.0 / classes, CHANCE_GAP, "error")
    return loss, error


def _at_lr(lr: float | None, warmup_until: float = 0.0) -> str:
    """" at learning rate 0.1", with the warm-up when there was one."""
    if lr is None:
        return ""
    warm = (f" (a tenth of it until the training error fell under {pct(warmup_until)})" if warmup_until > 0 else "")
    return f" at learning rate {lr:g}{warm}"


def _diverged_sentence(w: Words, arm, loss: Diverged, error: Diverged, at_lr: str, classes: int) -> None:
    if loss.reason == "not_finite":
        w.say(f"{cap(arm.label)} diverged{at_lr}: its training loss became not finite (NaN or infinite).", loss)
    elif loss.reason == "rising":
        w.say(f"{cap(arm.label)} diverged{at_lr}: its training loss rose from {loss_text(loss.values[0])} after the "
              f"first epoch to {loss_text(loss.values[-1])}.", loss)
    else:
        first = Threshold(Named(f"{arm.label} training loss after epoch 1", arm.train_loss[0]),
                          Named(f"chance (ln {classes})", math.log(classes)), LOSS_GAP)
        chance = (f"its training error ended at {pct(error.values[-1])}, within {points(CHANCE_GAP)} of chance "
                  f"({pct(error.chance)})" if error.reason == "at_chance" else
                  f"its training loss ended at {loss_text(loss.values[-1])}, at chance's "
                  f"{loss_text(loss.chance)} or above")
        backing = error if error.reason == "at_chance" else loss
        if first.relation == "above":
            w.say(f"{cap(arm.label)} diverged{at_lr}: its training loss after the first epoch was "
                  f"{loss_text(first.value.value)}, above chance's {loss_text(first.limit.value)}, and {chance}.",
                  backing, first)
        else:
            w.say(f"{cap(arm.label)} did not leave chance{at_lr} within {epochs_text(len(error.values))}: {chance}.",
                  backing, first)


def _fitted(post, pre, epoch: int) -> tuple[dict, str, list]:
    """When each net first got under 1% training error (or that it did not): (epoch by arm label, the
    sentence, the claims behind it)."""
    parts, claims, at = [], [], {}
    for a in (post, pre):
        errs = [(f"{a.label} epoch {e}", v) for e, v in enumerate(a.train_error[:epoch], start=1)]
        f = next((e for e, (_, v) in enumerate(errs, start=1) if v < FITTED), None)
        at[a.label] = f
        before = Count.where(errs[:f - 1] if f else errs, "below", FITTED, 0.0,
                             f"epochs of {a.label} under {pct(FITTED)} training error")
        if f is None:
            parts.append(f"{a.label} not within {epochs_text(epoch)}")
            claims.append(before)
        else:
            parts.append(f"{a.label} at epoch {f}")
            claims.append(Threshold(Named(f"{a.label} training error at epoch {f}", errs[f - 1][1]),
                                    Named("fitted: under", FITTED), 0.0))
            if f > 1:
                claims.append(before)
    return at, f"First under {pct(FITTED)} training error: {'; '.join(parts)}.", claims


def training_words(w: Words, post, pre, epoch: int) -> str:
    """The headline about the training curves at ``epoch`` (neither diverged); returns the outcome."""
    i = epoch - 1
    c_err = compare_errors(pre.label, pre.train_error[i], post.label, post.train_error[i])
    c_loss = compare_losses(pre.label, pre.train_loss[i], post.label, post.train_loss[i])
    when = f"after {epochs_text(epoch)}"
    joint = "and" if c_err.relation == c_loss.relation else "but"
    loss_words = c_loss.pick(f"higher than {post.label}'s", f"lower than {post.label}'s",
                             f"within {LOSS_GAP:g} of {post.label}'s")
    both = (f"{pre.label} {error_relation(c_err)} {post.label} {against(c_err)} {when}, {joint} its training "
            f"loss was {loss_words} {against(c_loss, loss_text)}")
    at, fit_sentence, fit_claims = _fitted(post, pre, epoch)
    c_when = None
    if at[post.label] is not None and at[pre.label] is not None:
        c_when = Compare(Named(f"{pre.label} first epoch under {pct(FITTED)}", at[pre.label]),
                         Named(f"{post.label} first epoch under {pct(FITTED)}", at[post.label]), EPOCHS_APART)
    if c_err.relation != "within":
        outcome = "pre_lower" if c_err.relation == "lower" else "post_lower"
    elif c_loss.relation != "within":
        outcome = "pre_lower" if c_loss.relation == "lower" else "post_lower"
    elif c_when is not None and c_when.relation != "within":
        outcome = "pre_faster" if c_when.relation == "lower" else "post_faster"
    elif c_when is None and (at[post.label] is None) != (at[pre.label] is None):
        outcome = "pre_faster" if at[pre.label] is not None else "post_faster"
    else:
        outcome = "no_difference"
    if outcome in ("pre_faster", "post_faster"):
        faster, slower = (pre, post) if outcome == "pre_faster" else (post, pre)
        later = f"at epoch {at[slower.label]}" if at[slower.label] else f"not within {epochs_text(epoch)}"
        w.say(f"Both ended alike: {both}; but {faster.label} got under {pct(FITTED)} training error sooner: "
              f"at epoch {at[faster.label]}, {slower.label} {later}.",
              c_err, c_loss, *fit_claims, *((c_when,) if c_when is not None else ()))
    elif outcome == "no_difference":
        w.say(f"This run shows no difference in training between {post.label} and {pre.label}: {both}.",
              c_err, c_loss, *((c_when,) if c_when is not None else ()))
    else:
        w.say(f"{cap(both)}.", c_err, c_loss)
    w.say(fit_sentence, *fit_claims)
    if outcome in ("post_lower", "post_faster"):
        w.say(f"The lessons say the pre-activation twin trains better; here {post.label} "
              f"{'ended lower' if outcome == 'post_lower' else 'got under 1% sooner'}.", c_err, c_loss)
    return outcome


def spread_words(w: Words, post, pre, post_label: str, pre_label: str) -> None:
    """One sentence comparing the two profiles taken at the same moment (nothing when one is missing)."""
    if post is None or pre is None:
        return
    sp, sq = post.spread, pre.spread
    if math.isnan(sp) or math.isnan(sq):
        return
    moment = "At initialisation" if post.when == "init" else "At the end"
    c = Compare(Named(f"log10 gradient spread of {pre_label} ({post.when})", math.log10(sq)),
                Named(f"log10 gradient spread of {post_label} ({post.when})", math.log10(sp)),
                math.log10(SPREAD_FACTOR))
    numbers = (f"the gradient norm varies across the blocks by {_factor(sp)} in {post_label} and by "
               f"{_factor(sq)} in {pre_label}")
    if math.isinf(sp) and math.isinf(sq):
        w.say(f"{moment}, {numbers}: in both a block's gradient is zero, so the spreads cannot be set apart.", c)
        return
    verdict = c.pick(
        f"The lessons say the pre-activation twin spreads the gradient more evenly over depth; here its spread "
        f"is the larger",
        "the pre-activation twin spreads it more evenly",
        f"alike, within a factor of {SPREAD_FACTOR:g}")
    if c.relation == "higher":
        w.say(f"{moment}, {numbers}. {verdict}.", c)
    else:
        w.say(f"{moment}, {numbers}: {verdict}.", c)


def prepost_words(results: list, planned_epochs: int, lr: float | None = None, warmup_until: float = 0.0) -> Verdict:
    """The words of the two nets' results, compared at the last epoch both completed (``lr`` and
    ``warmup_until``: the run's learning rate and warm-up, named when a net diverged)."""
    post = next((r for r in results if r.arm.kind == "resnet"), None)
    pre = next((r for r in results if r.arm.kind == "preact"), None)
    w = Words()
    if post is None or pre is None:
        w.say("No verdict: the experiment needs a post-activation ResNet and its pre-activation twin.",
              Count(sum(r is not None for r in (post, pre)), 2, "nets of the two kinds present"))
        return Verdict("no_verdict", w, good=("pre_lower", "pre_faster"))
    missing = not_started({r.label: r.epochs_done for r in (post, pre)})
    if missing.n:
        w.say(f"No verdict yet: {names(missing.members)} {'has' if missing.n == 1 else 'have'} not completed an "
              "epoch.", missing)
        for r in (post, pre):
            if r.epochs_done == 0 and r.message:
                _failed(w, r, planned_epochs)
        spread_words(w, post.init, pre.init, post.label, pre.label)
        return Verdict("no_verdict", w, good=("pre_lower", "pre_faster"))
    epoch = min(post.epochs_done, pre.epochs_done)
    classes = getattr(post, "classes", 10) or 10
    div = {r.label: divergence(r, epoch, classes) for r in (post, pre)}
    gone = [r for r in (post, pre) if any(d.diverged for d in div[r.label])]
    if gone:
        outcome = "both_diverged" if len(gone) == 2 else ("post_diverged" if gone[0] is post else "pre_diverged")
        for r in gone:
            _diverged_sentence(w, r, *div[r.label], _at_lr(lr, warmup_until), classes)
        for r in (post, pre):
            if r not in gone:
                loss, error = div[r.label]
                fit = Threshold(Named(f"{r.label} training error", r.train_error[epoch - 1]),
                                Named("fitted: under", FITTED), 0.0)
                w.say(f"{cap(r.label)} did not diverge (its training loss went from {loss_text(loss.values[0])} to "
                      f"{loss_text(loss.values[-1])}) and ended at {pct(r.train_error[epoch - 1])} training error"
                      f"{fit.pick(', not under 1%', ', under 1%: it fitted the training set', ', not under 1%')}; "
                      "the two are not compared.", loss, error, fit)
    else:
        outcome = training_words(w, post, pre, epoch)
        i = epoch - 1
        if i < len(post.test_error) and i < len(pre.test_error):
            c = compare_errors(pre.label, pre.test_error[i], post.label, post.test_error[i], "test error")
            w.say(f"On the test set, {pre.label} {error_relation(c, metric='test error')} {post.label} "
                  f"{against(c)}.", c)
        w.say(f"Neither net diverged: {post.label}'s training loss went from {loss_text(post.train_loss[0])} to "
              f"{loss_text(post.train_loss[i])}, {pre.label}'s from {loss_text(pre.train_loss[0])} to "
              f"{loss_text(pre.train_loss[i])}.", *div[post.label], *div[pre.label])
    for r in (post, pre):
        if r.status == "failed":
            _failed(w, r, planned_epochs)
    stopped_early(w, epoch, planned_epochs)
    spread_words(w, post.init, pre.init, post.label, pre.label)
    spread_words(w, post.end, pre.end, post.label, pre.label)
    w.lesson(LESSON)
    return Verdict(outcome, w, epoch, {post.label: post.train_error[epoch - 1], pre.label: pre.train_error[epoch - 1]},
                   good=("pre_lower", "pre_faster"))


def _failed(w: Words, r, planned_epochs: int) -> None:
    c = Compare(Named(f"{r.label} epochs completed", r.epochs_done), Named("epochs planned", planned_epochs), 0.0)
    w.say(f"{r.label} {'failed' if r.status == 'failed' else 'ended'} after {r.epochs_done} of {planned_epochs} "
          f"epochs: {r.message or 'no epoch completed'}.", c)
