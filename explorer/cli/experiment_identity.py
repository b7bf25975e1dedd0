"""``experiment identity``: can a block learn to output exactly its input? (the lessons' identity exercise)

Registered by ``explorer.cli.experiment``; a few seconds on a CPU.
"""
from __future__ import annotations

import sys
import time

from .common import add_json_option, print_result, print_words, run_with_sigint


def register(exp) -> None:
    from ..experiments.identity import IdentitySettings

    d = IdentitySettings()
    p = exp.add_parser(
        "identity", help="a plain block and a residual block trained to output their input; then stacks",
        description="Train a plain block ReLU(Wx + b) and a residual block x + ReLU(Wx + b) to reproduce "
                    "their input (standard normal data, so half the components are negative), beside the "
                    "plain block's floor computed exactly from the data; then stacks of k blocks of each kind, "
                    "initialised as usual and trained the same way. A few seconds on a CPU.")
    p.add_argument("--features", type=int, metavar="N", help=f"components per input (default {d.features})")
    p.add_argument("--samples", type=int, metavar="N", help=f"inputs (default {d.samples:,})")
    p.add_argument("--steps", type=int, metavar="N", help=f"full-batch steps per model (default {d.steps})")
    p.add_argument("--lr", type=float, metavar="X", help=f"Adam learning rate (default {d.lr:g})")
    p.add_argument("--weight-decay", type=float, metavar="X", help=f"on the weights (default {d.weight_decay:g})")
    p.add_argument("--depths", metavar="LIST",
                   help=f"the stacks' numbers of blocks, comma-separated (default {','.join(map(str, d.depths))})")
    p.add_argument("--seed", type=int, metavar="S", help=f"data and initialisation (default {d.seed})")
    add_json_option(p, progress="per-model progress")
    p.set_defaults(func=cmd_identity)


def identity_settings(args):
    from ..experiments.identity import IdentitySettings, with_changes
    from . import CliError

    depths = None
    if args.depths is not None:
        from ..spec.params import whole_number

        depths = tuple(whole_number(t) for t in args.depths.split(","))  # ASCII digits only
        if None in depths:
            raise CliError(f"--depths: {args.depths!r} is not a comma-separated list of whole numbers")
    return with_changes(IdentitySettings(), features=args.features, samples=args.samples, steps=args.steps,
                        lr=args.lr, weight_decay=args.weight_decay, depths=depths, seed=args.seed)


def cmd_identity(args) -> int:
    import torch

    from ..experiments.identity_words import err, identity_words

    settings = identity_settings(args)  # SpecError names a bad value
    out = sys.stderr if args.json else sys.stdout
    print(f"identity: {settings.text()}; one block of each kind, then stacks of "
          f"{', '.join(map(str, settings.depths))} blocks", file=out, flush=True)
    torch.set_num_threads(1)  # tiny matrices: more threads only cost
    started = time.perf_counter()

    def on_fit(fit, done, total) -> None:
        print(f"[{done:>2}/{total}] {fit.kind:<8} {fit.blocks:>2} block{'s' if fit.blocks != 1 else ' '}  "
              f"error {err(fit.errors[0]):>8} -> {err(fit.final_error):>8}   weights' norm "
              f"{fit.weight_norms[0]:.2f} -> {fit.weight_norms[-1]:.2f}", file=out, flush=True)

    from ..experiments.identity import IdentityRunner

    result = run_with_sigint(IdentityRunner(settings), lambda _i, event: on_fit(*event), what="model")
    seconds = time.perf_counter() - started
    words = identity_words(result)
    if args.json:
        print_result({"experiment": "identity", "settings": settings.to_dict(), "seconds": round(seconds, 1),
                      "result": result.to_dict()}, words)
    else:
        print(f"floor of one plain block, from the data: {err(result.floor)} (outputting 0 everywhere: "
              f"{err(result.initial_error_scale)})")
        print_words(words, f"({seconds:.1f} s)")
    return 0
