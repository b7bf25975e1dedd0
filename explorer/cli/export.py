"""``export``: write a network as TorchScript, torch.export, ONNX, PyTorch source or JSON, verified.

Ctrl+C cancels the export at its next stage (or while the verifying process runs): no file
is written or replaced, "interrupted", exit status 130."""
from __future__ import annotations

import os

from ..spec import interrupt
from . import CliError, terminal_safe
from .common import check_output, check_seed, network_with_weights, resolve_network


def register(sub) -> None:
    p = sub.add_parser(
        "export", help="export a network (with weights) and verify the file by reloading it",
        description="Write NET in a deployable format, load the file back (TorchScript and source in a fresh "
                    "Python process that cannot import this app), compare its outputs with the live model on "
                    "random inputs and report the largest difference. Fails when they differ.")
    p.add_argument("net", metavar="NET", help="a preset name, a network JSON file, or a checkpoint (the network "
                                              "it trained, with its weights)")
    p.add_argument("--format", "-f", required=True, choices=["torchscript", "export", "onnx", "python", "json"],
                   help="torchscript (.pt), export (torch.export .pt2), onnx, python (.py + .pth), json")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="the file to write (suffix added if missing)")
    p.add_argument("--checkpoint", metavar="FILE",
                   help="weights: a training checkpoint, or a torchvision-style state_dict file "
                        "(default: a fresh initialisation); a checkpoint's input size and head are used")
    p.add_argument("--input", metavar="CxHxW", help="input size for export and verification "
                                                    "(default: the network's own, e.g. 3x32x32)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fresh initialisation (default 0)")
    p.set_defaults(func=cmd_export)
    register_import(sub)


def _size(path) -> str:
    n = os.path.getsize(path)
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def cmd_export(args) -> int:
    from ..export import FORMATS, JIT_DEPRECATION_NOTE, ExportError, WeightsError, export_network, parse_input_shape
    from ..export.weights import load_weights_with_note

    check_seed(args.seed)
    spec, checkpoint, note = network_with_weights(args.net, args.checkpoint)
    if note:
        print(f"note: {terminal_safe(note)}")
    try:
        shape = parse_input_shape(args.input) if args.input else None
        state, label, inputs = None, f"fresh initialisation (seed {args.seed})", None
        if checkpoint:
            state, label, inputs = load_weights_with_note(spec, checkpoint)
        # Ctrl+C cancels between stages and while the verifying process runs; nothing is written
        result = export_network(spec, args.format, args.output, state_dict=state, seed=args.seed,
                                input_shape=shape, weights_label=label, cancel=interrupt.requested,
                                progress=interrupt.phase)
    except (ExportError, WeightsError) as err:
        interrupt.check()  # cancelled, or the verifying process ended by the same Ctrl+C: interrupted
        raise CliError(str(err)) from None
    fmt = FORMATS[args.format]
    for path in result.files:
        print(f"wrote {path} ({_size(path)})")
    print(f"  format:  {fmt.label}: {fmt.description}")
    for note in result.notes:
        if note != JIT_DEPRECATION_NOTE:
            print(f"  {note}")
    if inputs:
        print(f"  inputs:  {inputs}")
    if result.verified:
        print(f"verified: max abs difference {result.max_diff:.3g} (tolerance {result.tolerance:.0e}) at batch "
              f"sizes 1 and 3; {result.verification}")
    else:
        print(f"not verified: {result.verification}")
    if JIT_DEPRECATION_NOTE in result.notes:
        print(f"note: {JIT_DEPRECATION_NOTE}")
    return 0


def register_import(sub) -> None:
    p = sub.add_parser(
        "import-weights", help="check a torchvision-style state_dict against a network and save it as weights",
        description="Load FILE (a torchvision ResNet state_dict, a training checkpoint, or a checkpoint of the "
                    "PyTorch CIFAR ResNet code akamaster/pytorch_resnet_cifar10, DataParallel's 'module.' "
                    "prefix allowed) into NET with a strict key and shape check, and write a weights file "
                    "holding the network and its state_dict, which 'export --checkpoint' reads. A mismatch "
                    "names the first key that does not fit and both shapes.")
    p.add_argument("net", metavar="NET", help="a preset name or a network JSON file (e.g. resnet50)")
    p.add_argument("file", metavar="FILE", help="the state_dict or checkpoint to import")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="the weights file to write (.pt)")
    p.set_defaults(func=cmd_import_weights)


def cmd_import_weights(args) -> int:
    from ..export import WeightsError, import_weights, save_weights
    from ..spec import SpecError, save

    spec = resolve_network(args.net)
    check_output(args.output if os.path.splitext(args.output)[1] else args.output + ".pt", "-o")
    try:
        imported = import_weights(spec, args.file)
        path = save_weights(imported.spec, imported.model.state_dict(), args.output,
                            source=os.path.basename(args.file))
    except WeightsError as err:
        raise CliError(str(err)) from None
    model = imported.model
    params = sum(p.numel() for p in model.parameters())
    print(f"imported {len(model.state_dict())} tensors ({params:,} parameters) from {args.file} into "
          f"{imported.spec.name}: every key and shape matched")
    for note in imported.notes:
        print(f"  {note}")
    net = args.net
    if imported.spec != spec:
        # the weights belong to a changed network: keep it beside them, so that export builds that one
        network_file = path.with_suffix(".json")
        try:
            save(imported.spec, network_file)
        except (OSError, SpecError) as err:
            raise CliError(f"cannot write {network_file}: {getattr(err, 'strerror', None) or err}") from None
        print(f"wrote {network_file} (the network these weights belong to)")
        net = str(network_file)
    print(f"wrote {path} ({_size(path)}); use it with: export {net} --checkpoint {path} ...")
    return 0
