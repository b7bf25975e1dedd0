"""``presets``, ``info`` and ``new``: look at networks without training anything."""
from __future__ import annotations

import json
import sys

from ..spec import PRESETS, analyse, fmt_shape, preset, save
from .common import check_output, human, resolve_network


def register(sub) -> None:
    p = sub.add_parser("presets", help="list the built-in networks with their parameter counts")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("info", help="shapes, parameters and MACs of every block")
    p.add_argument("net", metavar="NET", help="a preset name or a network JSON file")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("new", help="write a preset as an editable network file")
    p.add_argument("preset", metavar="PRESET", choices=list(PRESETS))
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.set_defaults(func=cmd_new)


def cmd_presets(args) -> int:
    width = max(len(n) for n in PRESETS)
    for name, row in PRESETS.items():
        info = analyse(preset(name))
        print(f"{name:<{width}}  {info.params:>12,} params  {row.summary}")
    from ..spec.reference_nets import VGG_NETS

    print("\nplain ImageNet networks as torchvision builds them (for experiment drop-block's --twin; not "
          "editable as diagrams):")
    for name, vgg in VGG_NETS.items():
        print(f"{name:<{width}}  {vgg.parameters:>12,} params  {vgg.title}, torchvision layout (Simonyan and "
              "Zisserman 2015)")
    return 0


def info_dict(spec, info) -> dict:
    return {
        "name": spec.name,
        "params": info.params,
        "macs": info.macs,
        "depth": info.depth,
        "input_shape": list(info.input_shape),
        "stem_shape": list(info.stem_shape),
        "output_shape": list(info.output_shape),
        "blocks": [{
            "stage": b.stage + 1, "block": b.index + 1, "kind": b.kind.value,
            "input_shape": list(b.in_shape), "output_shape": list(b.out_shape),
            "shortcut": b.shortcut.value, "skip": b.skip_active, "params": b.params, "macs": b.macs,
        } for b in info.blocks],
        "warnings": [str(w) for w in info.warnings],
    }


def cmd_info(args) -> int:
    spec = resolve_network(args.net)
    info = analyse(spec)
    if args.json:
        json.dump(info_dict(spec, info), sys.stdout, indent=2)
        print()
        return 0
    rows = [("where", "kind", "input", "output", "shortcut", "skip", "params", "MACs")]
    rows.append(("stem", spec.stem.kind.value, fmt_shape(info.input_shape), fmt_shape(info.stem_shape),
                 "", "", f"{info.stem_params:,}", human(info.stem_macs)))
    for b in info.blocks:
        skip = "on" if b.skip_active else ("off" if b.has_shortcut else "-")
        rows.append((f"stage {b.stage + 1} block {b.index + 1}", b.kind.value, fmt_shape(b.in_shape),
                     fmt_shape(b.out_shape), b.shortcut.value, skip, f"{b.params:,}", human(b.macs)))
    rows.append(("head", "pool+fc", fmt_shape(info.feature_shape), fmt_shape(info.output_shape), "", "",
                 f"{info.head_params:,}", human(info.head_macs)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = {6, 7}
    lines = ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    print(f"{spec.name}: depth {info.depth}, input {fmt_shape(info.input_shape)}")
    print(lines[0])
    print("-" * len(lines[0]))
    print("\n".join(lines[1:]))
    print("-" * len(lines[0]))
    print(f"total: {info.params:,} parameters, {info.macs:,} MACs ({human(info.macs)}), "
          f"output {fmt_shape(info.output_shape)}")
    for w in info.warnings:
        print(f"warning: {w}")
    return 0


def cmd_new(args) -> int:
    spec = preset(args.preset)
    check_output(args.output, "-o")
    save(spec, args.output)
    print(f"wrote {args.output} ({args.preset})")
    return 0
