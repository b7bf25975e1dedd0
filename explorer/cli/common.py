"""Helpers shared by the CLI commands."""
from __future__ import annotations

import os

from ..spec import PRESETS, NetworkSpec, SpecError, load, preset


def resolve_network(net: str, validate: bool = True) -> NetworkSpec:
    """``net`` is a preset name or the path of a network JSON file."""
    if net in PRESETS:
        return preset(net)
    if os.path.exists(net) or net.endswith(".json") or os.sep in net:
        return load(net, validate=validate)
    raise SpecError(f"{net!r} is neither a preset nor a network file; presets: {', '.join(PRESETS)}")


def network_with_weights(net: str, checkpoint: str | None) -> tuple[NetworkSpec, str | None, str | None]:
    """``(network, weights file, note)`` for a command that takes NET and ``--checkpoint``: NET may be
    the checkpoint itself (its network is used); a given network with the checkpoint's layers takes the
    checkpoint's input size and head (``nn.weights_file.trained_network``); other layers are refused,
    the difference named. ``note`` says when the network used is not NET as given."""
    from ..nn.weights_file import WeightsError, is_weights_file, read_weights_file, trained_network
    from . import CliError

    given = None
    if checkpoint is None and net not in PRESETS and is_weights_file(net):
        checkpoint = net
    else:
        given = resolve_network(net)
    if checkpoint is None:
        return given, None, None
    try:
        spec, note = trained_network(read_weights_file(checkpoint), given)
    except WeightsError as err:
        raise CliError(str(err)) from None
    return spec, checkpoint, note


def human(n: float) -> str:
    """12.3M, 1.81G: compact counts for tables."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return str(int(n))


def check_output(path: str | None, flag: str, folder: bool = False) -> None:
    """Refuse an output that could not be written, before any work starts: a missing,
    read-only or full folder, or a folder where a file should go (``folder``: a folder
    to write into, created when missing)."""
    from ..spec.atomic import output_problem
    from . import CliError

    if path:
        problem = output_problem(path, folder=folder)
        if problem:
            raise CliError(f"{flag} {path}: {problem}")


def write_or_rescue(write, path: str, what: str) -> bool:
    """Run ``write(path)``; when it fails late (the disk filled up during a run), write to a
    folder that works instead and say where, in one ``error:`` line. Returns True when the
    file went to ``path``."""
    import sys
    import tempfile

    try:
        write(path)
        return True
    except OSError as err:
        reason = getattr(err, "reason", None) or err.strerror or str(err)
    name = f"rescued-{os.path.basename(path) or 'output'}"
    for folder in (tempfile.gettempdir(), os.path.expanduser("~"), os.getcwd()):
        candidate = os.path.join(folder, name)
        if os.path.abspath(candidate) == os.path.abspath(path):
            continue
        try:
            write(candidate)
        except OSError:
            continue
        print(f"error: could not write the {what} to {path} ({reason}); it was saved to {candidate} instead",
              file=sys.stderr, flush=True)
        return False
    print(f"error: could not write the {what} to {path} ({reason}), nor to any other folder; "
          f"only the printed results remain", file=sys.stderr, flush=True)
    return False


def check_seed(seed: int | None, flag: str = "--seed") -> None:
    """Seeds are combined with step numbers inside 64 bits: ``spec.params.check_seed``, the one rule."""
    from ..spec.params import ParameterError
    from ..spec.params import check_seed as check
    from . import CliError

    if seed is not None:
        try:
            check(seed, flag)
        except ParameterError as err:
            raise CliError(str(err)) from None


SHORT_OPENMP_SPIN = "1000"


def short_openmp_spin() -> None:
    """Make OpenMP's idle worker threads sleep soon instead of spinning; call before torch loads.

    GNU libgomp (torch's OpenMP on Linux) lets a worker wait for the next parallel region by
    spinning up to 300,000 turns, or 1,000 when it manages more threads than there are CPUs.
    The experiments' arms used to run on threads of their own, which passed that limit; they
    now take turns on the main thread, where the long spin applied and stole the CPU from the
    arm computing: on a loaded 2-core machine each step of the default degradation experiment
    took about 2.7x as long. With the short spin it is faster than before (bench/bench_arms.py).
    A ``GOMP_SPINCOUNT`` of the user's own is kept; once torch is loaded this changes nothing."""
    import sys

    if "torch" not in sys.modules:
        os.environ.setdefault("GOMP_SPINCOUNT", SHORT_OPENMP_SPIN)


def run_with_sigint(runner, on_event, what: str = "step"):
    """``runner.run(on_event)`` where the first Ctrl+C stops ``runner`` after this ``what`` and the
    results still come, and the next interrupts at a safe point (``spec/interrupt.py``).
    Returns what ``run`` returns; the runner's error becomes one CliError."""
    from ..spec import interrupt
    from . import CliError

    with interrupt.stop_first(runner.stop, what):
        outcome = runner.run(on_event)
    if runner.error:
        raise CliError(runner.error)
    return outcome


def print_words(words, last_line: str = "") -> None:
    """An experiment's result in words on stdout: the headline, each detail indented, then ``last_line``.

    ``words`` has a ``headline`` and ``details``, or is a ``claims.Words`` (its first sentence is the headline).
    """
    if hasattr(words, "texts"):
        headline, details = (words.texts[0], words.texts[1:]) if words.texts else ("Nothing measured.", [])
    else:
        headline, details = words.headline, words.details
    print(f"\n{headline}")
    for line in details:
        print(f"  {line}")
    if last_line:
        print(last_line)


def print_result(table: dict, verdict) -> None:
    """The ``--json`` result: the result ``table``, then the verdict, its ``sentences`` and ``claims``
    (``verdict.Verdict.json_fields``), which ``experiment report`` renders again from the table."""
    print_json({**table, **verdict.json_fields()})


def print_json(report: dict) -> None:
    """One JSON object on stdout (the ``--json`` result)."""
    import json
    import sys

    json.dump(report, sys.stdout, indent=2)
    print()


def add_json_option(p, progress: str = "per-epoch progress") -> None:
    p.add_argument("--json", action="store_true", help=f"print one JSON object at the end ({progress} goes to stderr)")
