"""Words of the diagram that more than one item needs, and presenter mode's fitted widths."""
from __future__ import annotations

from dataclasses import replace

from ...spec import BlockKind, NetworkInfo, NetworkSpec, StemKind, fmt_shape
from .layout import Geometry
from .paint import text_width


def width_text(stage) -> str:
    widths = [b.width for b in stage.blocks]
    lo, hi = min(widths), max(widths)
    return f"{lo} wide" if lo == hi else f"{lo}–{hi} wide"


def stage_title(si: int, stage, infos: dict | None = None) -> str:
    """"Stage 2 · 3 × basic · 32 wide"; with ``infos`` (presenter mode's one-line blocks) the
    stage's output shape instead, "Stage 2 · 32x16x16", since the blocks no longer show it."""
    n = len(stage.blocks)
    if not n:
        return f"Stage {si + 1} · empty"
    last = infos.get((si, n - 1)) if infos is not None else None
    if last is not None:
        return f"Stage {si + 1} · {fmt_shape(last.out_shape)}"
    kinds = {b.kind for b in stage.blocks}
    what = next(iter(kinds)).label.lower() if len(kinds) == 1 else "mixed"
    return f"Stage {si + 1} · {n} × {what} · {width_text(stage)}"


def block_title(kind, width: int) -> str:
    """A block box's title, "Basic · 64"."""
    return f"{kind.label} · {width}"


def summary_title(stage) -> str:
    """A folded stage's summary title, "3 × Basic · 32 wide" (a stage with blocks)."""
    kinds = {b.kind for b in stage.blocks}
    name = next(iter(kinds)).label if len(kinds) == 1 else "blocks (mixed kinds)"
    return f"{len(stage.blocks)} × {name} · {width_text(stage)}"


def skips_words(stage) -> str:
    """A folded stage's skips, "skips 3/3 on" (or "no skips" for plain blocks only)."""
    residual = [b for b in stage.blocks if b.kind is not BlockKind.PLAIN]
    return f"skips {sum(1 for b in residual if b.skip)}/{len(residual)} on" if residual else "no skips"


def problems_words(errors: int, skips: str) -> str:
    """A folded stage's line when something inside is wrong: "1 problem inside · skips 3/3 on"."""
    return f"{errors} problem{'s' if errors != 1 else ''} inside · {skips}"


def fitted_widths(g: Geometry, spec: NetworkSpec, info: NetworkInfo | None,
                  error_blocks: frozenset | set = frozenset(),
                  error_stages: frozenset | set = frozenset()) -> Geometry:
    """Presenter mode: box, summary and node widths that fit this network's words, no wider.

    ``error_blocks``: the (stage, block) keys of blocks drawn with "⚠ " before their title;
    ``error_stages``: stages with a problem of their own (both make a folded stage say so)."""
    bold = g.text(14.5)
    box = g.s(150)
    for si, bi, block in spec.iter_blocks():
        if not isinstance(block.kind, BlockKind):
            continue
        title = ("⚠ " if (si, bi) in error_blocks else "") + block_title(block.kind, block.width)
        need = text_width(title, bold, True) + 2 * g.s(9) + g.s(6)
        if block.stride != 1:
            need += text_width(f"stride {block.stride}", g.text(12.5), True) + g.s(12)
        box = max(box, need)
    summary = g.s(200)
    for si, stage in enumerate(spec.stages):
        if stage.blocks:
            summary = max(summary, text_width(summary_title(stage), bold, True) + g.s(40))
            errors = sum(1 for k in error_blocks if k[0] == si) + (1 if si in error_stages else 0)
            if errors:
                line = problems_words(errors, skips_words(stage))
                summary = max(summary, text_width(line, g.text(12.5)) + g.s(40))
    if info is not None:  # the shapes line: "16x32x32 → 32x16x16" (the widest a stage shows)
        widest = max((text_width(f"{fmt_shape(b.in_shape)} → {fmt_shape(b.out_shape)}", g.text(13))
                      for b in info.blocks), default=0.0)
        summary = max(summary, widest * 1.05 + g.s(40))
    node = g.s(200)
    for words in (f"Stem · conv7x7/2 · {spec.stem.width}", "Head · avg pool · fc",
                  f"Input · {fmt_shape(spec.input_shape)}"):
        node = max(node, text_width(words, bold, True) + 2 * g.s(10) + g.s(6))
    stem = spec.stem
    steps = (["BN", "ReLU"] if stem.activate else []) + (["maxpool/2"] if stem.kind is StemKind.IMAGENET else [])
    shape = fmt_shape(info.stem_shape) if info is not None else "?"
    for words in (" · ".join(steps + [f"→ {shape}"]), f"BN · ReLU · → {spec.head.num_classes} classes"):
        node = max(node, text_width(words, g.text(13)) + 2 * g.s(10) + g.s(6))
    fitted = (round(box, 1), round(summary, 1), round(node, 1))
    if (g.box_width, g.summary_width, g.node_width) == fitted:
        return g
    return replace(g, box_width=fitted[0], summary_width=fitted[1], node_width=fitted[2])
