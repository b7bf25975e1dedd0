"""``gradflow``: per-block input-gradient norms of a network, in a table and in words."""
from __future__ import annotations

import json
import math
import os
import sys

from ..spec import NetworkSpec, analyse, fmt_shape
from ..spec.fileformat import from_dict
from . import CliError
from .common import resolve_network

BAR_WIDTH = 30


def register(sub) -> None:
    p = sub.add_parser(
        "gradflow", help="measure ||dL/dx|| at every block's input (one forward/backward, no training)",
        description="Run one forward and backward pass in train mode on a fixed probe batch and print, "
                    "for every residual block in depth order, the norm of the loss gradient with respect "
                    "to the block's input. Nothing is trained and no file is changed.")
    p.add_argument("net", metavar="NET", help="a preset name or a network JSON file")
    p.add_argument("--checkpoint", metavar="FILE",
                   help="a training checkpoint (torch.save dict with 'model'); default: fresh weights")
    p.add_argument("--skips", default="as-is", metavar="on|off|LIST",
                   help="'on' or 'off' for every block, or a comma-separated list of blocks to switch off: "
                        "stage.block (1-based, e.g. 2.1,3.4) or depth positions (1-based, e.g. 5,9)")
    p.add_argument("--batch", type=int, default=32, metavar="N", help="probe batch size (default 32)")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the probe batch and of fresh weights (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=cmd_gradflow)


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
                stage, block = int(stage_s), int(block_s)
                if not 1 <= stage <= len(spec.stages):
                    raise CliError(f"--skips: {item!r}: there is no stage {stage} "
                                   f"(the network has {len(spec.stages)})")
                count = len(spec.stages[stage - 1].blocks)
                if not 1 <= block <= count:
                    raise CliError(f"--skips: {item!r}: stage {stage} has {count} blocks")
                where = (stage - 1, block - 1)
            else:
                pos = int(item)
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
    """Load a checkpoint's state_dict into ``model``; return a short description of where from."""
    import pickle

    import torch

    if not os.path.isfile(path):
        raise CliError(f"checkpoint {path!r} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CliError(f"checkpoint {path!r} cannot be read as a weights file: {first}") from None
    if isinstance(data, dict) and "model" in data and isinstance(data["model"], dict):
        state = data["model"]
    elif isinstance(data, dict) and data and all(isinstance(v, torch.Tensor) for v in data.values()):
        state = data  # a bare state_dict
    else:
        raise CliError(f"checkpoint {path!r} holds no 'model' state_dict")
    saved_name = None
    if isinstance(data.get("spec"), dict):
        try:
            saved = from_dict(data["spec"])
            saved_name = saved.name
        except Exception:  # noqa: BLE001 - the weights may still fit; the load below decides
            saved = None
        if saved is not None and saved.with_skips(True) != spec.with_skips(True):
            raise CliError(f"checkpoint {path!r} was trained on network {saved.name!r}, whose layers differ "
                           f"from {spec.name!r}; pass that network (or its JSON file) as NET")
    result = model.load_state_dict(state, strict=False)
    missing, unexpected = list(result.missing_keys), list(result.unexpected_keys)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected[:3])}{' ...' if len(unexpected) > 3 else ''}")
        raise CliError(f"checkpoint {path!r} does not fit {spec.name!r}: {'; '.join(parts)}")
    step = data.get("step") if isinstance(data, dict) else None
    where = f"checkpoint {path}"
    if isinstance(step, int):
        where += f" (step {step})"
    if saved_name and saved_name != spec.name:
        where += f", trained as {saved_name!r}"
    return where


def _bar(value: float, lo: float, hi: float) -> str:
    if not (math.isfinite(value) and value > 0):
        return ""
    if hi <= lo:
        return "#" * BAR_WIDTH
    frac = (math.log10(value) - lo) / (hi - lo)
    return "#" * max(1, round(1 + frac * (BAR_WIDTH - 1)))


def cmd_gradflow(args) -> int:
    if args.batch < 1:
        raise CliError(f"--batch must be at least 1, got {args.batch}")
    spec = parse_skips(args.skips, resolve_network(args.net))
    info = analyse(spec)
    if not info.blocks:
        raise CliError(f"{spec.name!r} has no residual blocks to measure")

    from ..analysis.probe import probe
    from ..experiments.gradflow import format_factor, summarise
    from ..nn import build
    from ..spec import InitKind, Norm

    try:
        model = build(spec, info, seed=args.seed)
    except ValueError as err:
        raise CliError(str(err)) from None
    init = ("He" if spec.init.kind is InitKind.HE else f"small Gaussian N(0, {spec.init.std:g}^2)")
    weights = (load_weights(args.checkpoint, spec, model) if args.checkpoint
               else f"fresh {init} initialisation (seed {args.seed})")
    result = probe(model, input_shape=spec.input_shape, num_classes=spec.head.num_classes,
                   batch=args.batch, seed=args.seed)
    skips = [b.skip_active for b in info.blocks]
    summary = summarise(result.block_norms, result.labels, skips, batch_norm=spec.norm is Norm.BATCH)
    batch_words = (f"{result.batch} seeded random images (N(0,1), seed {args.seed}) with random labels, "
                   "BN in train mode")
    if args.json:
        out = {
            "network": spec.name, "weights": weights, "batch": batch_words, "loss": result.loss,
            "blocks": [{"position": i + 1, "stage": b.stage + 1, "block": b.index + 1, "label": b.label,
                        "input_shape": list(b.in_shape), "skip": b.skip_active,
                        "has_shortcut": b.has_shortcut, "grad_norm": _finite(n)}
                       for i, (b, n) in enumerate(zip(info.blocks, result.block_norms))],
            "summary": summary.to_dict(),
            "layers": result.to_dict()["layers"],
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
    return 0


def _finite(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
