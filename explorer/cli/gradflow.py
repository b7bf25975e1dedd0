"""``gradflow``: per-block input-gradient norms of a network, and each block's residual size
(``||F(x)||/||s(x)||``, cosine), in tables and in words."""
from __future__ import annotations

import json
import math
import os
import sys

from ..spec import NetworkSpec, analyse, fmt_shape
from . import CliError
from .common import check_seed, network_with_weights

BAR_WIDTH = 30


def register(sub) -> None:
    p = sub.add_parser(
        "gradflow", help="measure ||dL/dx|| at every block's input (one forward/backward, no training)",
        description="Run one forward and backward pass in train mode on a fixed probe batch and print, "
                    "for every residual block in depth order, the norm of the loss gradient with respect "
                    "to the block's input; then, from the same forward pass, how big each block's correction F(x) is "
                    "against its shortcut (||F(x)||/||s(x)|| and their cosine, undefined for plain blocks and "
                    "switched-off skips). Nothing is trained and no file is changed.")
    p.add_argument("net", metavar="NET", help="a preset name, a network JSON file, or a checkpoint (the network "
                                              "it trained, with its weights)")
    p.add_argument("--checkpoint", metavar="FILE",
                   help="a training checkpoint (torch.save dict with 'model'); default: fresh weights. Its "
                        "input size and head are used")
    p.add_argument("--skips", default="as-is", metavar="on|off|LIST",
                   help="'on' or 'off' for every block, or a comma-separated list of blocks to switch off: "
                        "stage.block (1-based, e.g. 2.1,3.4) or depth positions (1-based, e.g. 5,9)")
    p.add_argument("--batch", type=int, default=None, metavar="N",
                   help="probe batch size (default: 32, or fewer images for a network whose activations "
                        "would not fit in about 768 MiB, e.g. 4 for resnet1202)")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the probe batch and of fresh weights (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=cmd_gradflow)


def _whole(text: str) -> int:
    """ASCII digits as a number (``spec.params.whole_number``); ValueError for anything else ('²')."""
    from ..spec.params import whole_number

    value = whole_number(text)
    if value is None:
        raise ValueError(text)
    return value


def parse_skips(text: str, spec: NetworkSpec) -> NetworkSpec:
    """Apply ``--skips``: on, off, or the blocks (stage.block or depth position) to switch off."""
    text = text.strip().lower()
    if text in ("as-is", ""):
        return spec
    if text == "on":
        return spec.with_skips(True)
    if text == "off":
        return spec.with_skips(False)
    info = analyse(spec)
    positions = [(b.stage, b.index) for b in info.blocks]
    chosen = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            if "." in item:
                stage_s, block_s = item.split(".", 1)
                stage, block = _whole(stage_s), _whole(block_s)
                if not 1 <= stage <= len(spec.stages):
                    raise CliError(f"--skips: {item!r}: there is no stage {stage} "
                                   f"(the network has {len(spec.stages)})")
                count = len(spec.stages[stage - 1].blocks)
                if not 1 <= block <= count:
                    raise CliError(f"--skips: {item!r}: stage {stage} has {count} blocks")
                where = (stage - 1, block - 1)
            else:
                pos = _whole(item)
                if not 1 <= pos <= len(positions):
                    raise CliError(f"--skips: {item!r}: depth positions run from 1 to {len(positions)}")
                where = positions[pos - 1]
        except ValueError:
            raise CliError(f"--skips: {item!r} is not 'on', 'off', a stage.block like 2.1 "
                           "or a depth position like 5") from None
        block_info = info.blocks[positions.index(where)]
        if not block_info.has_shortcut:
            raise CliError(f"--skips: {block_info.label} is a plain block; it has no skip to switch off")
        chosen.append(where)
    if not chosen:
        raise CliError("--skips: the list names no block")
    return spec.with_skips(False, where=chosen)


def load_weights(path: str, spec: NetworkSpec, model) -> str:
    """Load a checkpoint's state_dict into ``model``; return a short description of where from.

    The file is read without running code, and every tensor is checked against the network
    (names, shapes, floating-point) before anything is loaded: another architecture's
    weights, wrong shapes or integer tensors are refused with the first key that does not fit.
    """
    from ..export.weights import WeightsError, load_state_dict_strict
    from ..nn.weights_file import read_weights_to_load

    try:
        weights = read_weights_to_load(path)
        if weights.spec is not None and weights.spec.with_skips(True) != spec.with_skips(True):
            raise CliError(f"checkpoint {path!r} was trained on network {weights.spec.name!r}, whose layers "
                           f"differ from {spec.name!r}; pass that network (or its JSON file) as NET")
        load_state_dict_strict(model, weights.state_dict, f"checkpoint {os.path.basename(path)}")
    except WeightsError as err:
        raise CliError(str(err)) from None
    where = f"checkpoint {path}"
    step = weights.extras.get("step")
    if isinstance(step, int) and not isinstance(step, bool):
        where += f" (step {step})"
    if weights.spec is not None and weights.spec.name != spec.name:
        where += f", trained as {weights.spec.name!r}"
    return where


def _bar(value: float, lo: float, hi: float) -> str:
    if not (math.isfinite(value) and value > 0):
        return ""
    if hi <= lo:
        return "#" * BAR_WIDTH
    frac = (math.log10(value) - lo) / (hi - lo)
    return "#" * max(1, round(1 + frac * (BAR_WIDTH - 1)))


def cmd_gradflow(args) -> int:
    check_seed(args.seed)
    if args.batch is not None and args.batch < 1:
        raise CliError(f"--batch must be at least 1, got {args.batch}")
    network, checkpoint, note = network_with_weights(args.net, args.checkpoint)
    spec = parse_skips(args.skips, network)
    info = analyse(spec)
    if not info.blocks:
        raise CliError(f"{spec.name!r} has no residual blocks to measure")
    if args.batch is not None:
        from ..train.api import TrainingError
        from ..train.limits import activation_bytes, available_memory, check_fits
        try:
            check_fits(activation_bytes(info, args.batch), f"--batch {args.batch:,}", available_memory())
        except TrainingError as err:
            raise CliError(str(err)) from None

    from ..analysis.gradflow import DEFAULT_BATCH, choose_batch, probe, release_memory
    from ..experiments.gradflow import format_factor, summarise
    from ..experiments.residual_words import fmt_ratio, summarise_residual
    from ..nn import build
    from ..spec import InitKind, Norm

    from ..spec import interrupt

    interrupt.check("building the model")  # Ctrl+C: "interrupted", 130 (spec/interrupt.py)
    try:
        model = build(spec, info, seed=args.seed)
    except ValueError as err:
        raise CliError(str(err)) from None
    init = ("He" if spec.init.kind is InitKind.HE else f"small Gaussian N(0, {spec.init.std:g}^2)")
    weights = (load_weights(checkpoint, spec, model) if checkpoint
               else f"fresh {init} initialisation (seed {args.seed})")
    if note:  # the checkpoint's input size or head, not NET's
        weights += f"; {note}"
    batch = args.batch if args.batch is not None else choose_batch(info, spec.stem.kind)
    interrupt.check("probing")
    result = probe(model, input_shape=spec.input_shape, num_classes=spec.head.num_classes,
                   batch=batch, seed=args.seed, residual=True)
    del model
    release_memory()
    interrupt.check()
    skips = [b.skip_active for b in info.blocks]
    summary = summarise(result.block_norms, result.labels, skips, batch_norm=spec.norm is Norm.BATCH,
                        shortcuts=[b.has_shortcut for b in info.blocks])
    res = result.residual
    res_summary = summarise_residual(res.ratio, res.cosine, res.status, result.labels)
    batch_words = (f"{result.batch} seeded random images (N(0,1), seed {args.seed}) with random labels, "
                   "BN in train mode")
    if args.batch is None and batch < DEFAULT_BATCH:
        batch_words += (f" (fewer than the usual {DEFAULT_BATCH}: this network's activations for more "
                        "images would not fit the probe's memory budget)")
    if args.json:
        out = {
            "network": spec.name, "weights": weights, "batch": batch_words, "batch_size": result.batch,
            "loss": result.loss,
            "blocks": [{"position": i + 1, "stage": b.stage + 1, "block": b.index + 1, "label": b.label,
                        "input_shape": list(b.in_shape), "skip": b.skip_active,
                        "has_shortcut": b.has_shortcut, "grad_norm": _finite(n)}
                       for i, (b, n) in enumerate(zip(info.blocks, result.block_norms))],
            "summary": summary.to_dict(),
            "residual": [{"position": i + 1, **row} for i, row in enumerate(res.to_rows(result.labels))],
            "residual_summary": res_summary.to_dict(),
            "layers": result.to_dict()["layers"],
            **gradflow_words(summary, res_summary).to_dict(),
        }
        json.dump(out, sys.stdout, indent=2, allow_nan=False)
        print()
        return 0
    positive = [float(n) for n in result.block_norms if math.isfinite(n) and n > 0]
    lo = math.log10(min(positive)) if positive else 0.0
    hi = math.log10(max(positive)) if positive else 0.0
    rows = [("#", "block", "input", "skip", "||dL/dx||", "")]
    for i, (b, n) in enumerate(zip(info.blocks, result.block_norms)):
        skip = "on" if b.skip_active else ("off" if b.has_shortcut else "-")
        rows.append((str(i + 1), b.label, fmt_shape(b.in_shape), skip, f"{n:.3e}", _bar(float(n), lo, hi)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) if i in (0, 4) else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    print(f"{spec.name}: gradient of the loss at each block's input")
    print(f"weights: {weights}")
    print(f"probe batch: {batch_words}; loss {result.loss:.4f}")
    print(lines[0])
    print("-" * max(len(line) for line in lines))
    print("\n".join(lines[1:]))
    print("-" * max(len(line) for line in lines))
    if math.isfinite(summary.ratio) and summary.ratio > 0:
        print(f"first block / last block: {format_factor(summary.ratio)}x "
              f"(about {summary.per_block:.2f}x per block)")
    print(summary.text)
    print()
    print("residual size: how big each block's correction F(x) is against its shortcut s(x) "
          "(mean over the batch)")
    rrows = [("#", "block", "||F||/||s||", "cos(F, s)")]
    for i, (label, r, c, st) in enumerate(zip(result.labels, res.ratio, res.cosine, res.status)):
        if st == "ok":
            rrows.append((str(i + 1), label, fmt_ratio(float(r)), f"{c:+.2f}"))
        else:
            rrows.append((str(i + 1), label, f"undefined ({st})", ""))
    rwidths = [max(len(r[i]) for r in rrows) for i in range(4)]
    rlines = ["  ".join(c.rjust(w) if i in (0, 2, 3) else c.ljust(w)
                        for i, (c, w) in enumerate(zip(r, rwidths))).rstrip() for r in rrows]
    print(rlines[0])
    print("-" * max(len(line) for line in rlines))
    print("\n".join(rlines[1:]))
    print("-" * max(len(line) for line in rlines))
    print(res_summary.text)
    return 0


def gradflow_words(summary, res_summary):
    """The gradient's sentences, then the residual size's, with every claim behind them (``--json``)."""
    from ..experiments.claims import Words

    words = Words()
    words.extend(summary.words)
    words.extend(res_summary.words)
    return words


def _finite(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
