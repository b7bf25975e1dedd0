"""Measure everything the project publishes about its speed and write docs/PERFORMANCE.md.

    python bench/run_all.py            # about ten minutes on a busy 2-core machine, less when idle
    python bench/run_all.py --quick    # fewer repeats and shorter windows (a smoke run)
    python bench/run_all.py --only startup,editor --out /tmp/perf.md

Every figure is set against a baseline measured in the same run (a bare PyTorch loop, a
bare forward/backward, the idle window, validation alone, a bare Qt window), and the
ratio is printed next to it. Each measurement runs in a fresh process (so peak memory
and Qt state are its own) with one torch thread, and CPU figures are process
CPU-seconds next to wall time: on a shared machine other processes stretch wall time,
not the CPU time a one-thread process spends. The machine, its load and the commit
are written at the top of the document.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

SECTIONS = ["trainer", "probe_memory", "gui_probe", "editor", "gui_training", "gui_experiment", "startup",
            "default_run", "degradation"]
PROBE_NETS = ("resnet110", "resnet1202")
STARTUP_GOAL_S = 2.5
STALL_GOAL_MS = 50.0
GROUPS = ["Training", "GUI", "Gradient flow", "Editor", "Start-up", "Default runs"]


# -- one section, in this (child) process ----------------------------------------------------------

def run_section(name: str, quick: bool, arg: str | None) -> object:
    import torch
    torch.set_num_threads(1)
    if name == "probe_memory":
        from sections_cpu import probe_memory
        net, kind = arg.split(":")
        return probe_memory(net, kind)
    if name in ("trainer", "default_run", "degradation"):
        import sections_cpu
        return getattr(sections_cpu, name)(quick)
    import sections_gui
    return getattr(sections_gui, name)(quick)


# -- the parent: one process per section ------------------------------------------------------------

def child(name: str, quick: bool, arg: str | None = None, timeout: int = 900) -> object:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--section", name, "--json", out]
        if quick:
            cmd.append("--quick")
        if arg:
            cmd += ["--arg", arg]
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=tmp, XDG_CONFIG_HOME=tmp,
                   OMP_NUM_THREADS="1", PYTHONPATH=ROOT)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte-code caches used, as installed (see compile_sources)
        started = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not os.path.exists(out):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"section {name} {arg or ''} failed: {' | '.join(tail)}")
        print(f"  {name} {arg or ''} done in {time.perf_counter() - started:.0f} s", flush=True)
        with open(out) as fh:
            return json.load(fh)


def compile_sources() -> None:
    """Byte-compile the app as an installation has it: without the caches a module imported on
    the GUI thread (the trainer, at an experiment's start) is compiled from source there, a GUI
    stall of its own that no user sees (a CI environment often sets PYTHONDONTWRITEBYTECODE)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(ROOT, "explorer")], cwd=ROOT,
                   capture_output=True, timeout=300)


def startup_env(home: str) -> dict:
    """A user's start: fresh settings, byte-code caches written and used (warm means warm)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=home, XDG_CONFIG_HOME=home, PYTHONPATH=ROOT)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def startup(quick: bool) -> list[dict]:
    """Process start to the main window painted, warm (the first start of each is not counted)."""
    from sections_cpu import row

    def once(mode: str) -> tuple[float, float]:
        """Wall seconds to the paint, and the child's CPU-seconds (all its threads) up to the paint."""
        with tempfile.TemporaryDirectory() as tmp:
            env = startup_env(tmp)
            t0 = time.time()
            proc = subprocess.run([sys.executable, os.path.join(BENCH, "startup_child.py"), mode], env=env,
                                  cwd=ROOT, capture_output=True, text=True, timeout=120)
        found = re.search(r"painted ([0-9.]+) cpu ([0-9.]+)", proc.stdout)
        if not found:
            raise RuntimeError(f"start-up ({mode}) printed no paint time: {proc.stderr.strip()[-300:]}")
        return float(found.group(1)) - t0, float(found.group(2))

    once("app")  # warm the file cache
    once("bare")
    apps, bares = [], []
    for _ in range(2 if quick else 4):
        apps.append(once("app"))
        bares.append(once("bare"))
    warm, cold = [], []
    for _ in range(1 if quick else 2):
        warm.append(settle("settle"))
        cold.append(settle("settle-cold"))
    app_s, bare_s = statistics.median(a[0] for a in apps), statistics.median(b[0] for b in bares)
    app_cpu, bare_cpu = statistics.median(a[1] for a in apps), statistics.median(b[1] for b in bares)
    print(f"  startup done: app {app_s:.2f} s ({app_cpu:.2f} CPU-s), bare {bare_s:.2f} s", flush=True)
    return [row("Start-up", "process start to the main window painted (warm)",
                f"{app_cpu:.2f} CPU-s ({app_s:.2f} s wall)",
                f"torch + PySide6 + an empty window: {bare_cpu:.2f} CPU-s ({bare_s:.2f} s wall)", app_cpu / bare_cpu,
                f"< {STARTUP_GOAL_S} s", app_cpu < STARTUP_GOAL_S,
                f"median of {len(apps)} starts after one warm-up start (byte-code cached). The goal is judged on "
                f"CPU-seconds up to the paint (every thread of the process: about what the start takes on an "
                f"idle machine); the wall times of all starts: {', '.join(f'{a[0]:.2f}' for a in apps)} s"),
            row("GUI", "longest GUI stall while the app imports torch's compiler stack in the background",
                f"longest stall {max(w[0] for w in warm):.0f} ms", f"the same window without the import: "
                f"{max(c[0] for c in cold):.0f} ms", max(w[0] for w in warm) / max(c[0] for c in cold),
                f"< {STALL_GOAL_MS:.0f} ms", max(w[0] for w in warm) < STALL_GOAL_MS,
                f"from 1.5 s to 6 s after the first paint of the app (ui/warm_up.py imports torch._dynamo, which "
                f"the first optimizer needs, 2 s after the paint; it took "
                f"{', '.join(f'{w[1]:.1f}' for w in warm)} s); {len(warm)} starts each, alternating")]


def settle(mode: str) -> tuple[float, float]:
    """``startup_child.py settle``: the longest GUI stall from 1.5 s to 6 s after the first paint (the
    window the app's background import runs in) and how long that import took (-1: none, "settle-cold")."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, os.path.join(BENCH, "startup_child.py"), mode], env=startup_env(tmp),
                              cwd=ROOT, capture_output=True, text=True, timeout=180)
    found = re.search(r"late ([0-9.]+) warm (-?[0-9.]+)", proc.stdout)
    if not found:
        raise RuntimeError(f"{mode} printed no stalls: {proc.stderr.strip()[-300:]}")
    return float(found.group(1)), float(found.group(2))


def import_profile(top: int = 12) -> list[tuple[str, float]]:
    """The slowest imports of one start (``-X importtime``, cumulative seconds, top level only)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = startup_env(tmp)
        proc = subprocess.run([sys.executable, "-X", "importtime", os.path.join(BENCH, "startup_child.py"), "app"],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    found = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) <= 1:  # top-level imports (one space of indent)
            found.append((m.group(4), int(m.group(2)) / 1e6))
    return sorted(found, key=lambda t: -t[1])[:top]


def machine() -> dict:
    import torch
    try:
        import PySide6
        import pyqtgraph
        qt = f"PySide6 {PySide6.__version__}, pyqtgraph {pyqtgraph.__version__}"
    except ImportError:
        qt = "no PySide6"
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    except (ValueError, OSError):
        mem = float("nan")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return dict(cpu=cpu, cores=os.cpu_count(), memory_gib=mem, system=f"{platform.system()} {platform.release()}",
                python=platform.python_version(), torch=torch.__version__, qt=qt, commit=commit, gpu=gpu)


# -- the document ------------------------------------------------------------------------------------

def cell(text) -> str:
    return str(text).replace("|", "/")


def render(rows: list[dict], info: dict, load_before, load_after, started: str, seconds: float,
           imports: list[tuple[str, float]], quick: bool, failures: list[str]) -> str:
    met = [r for r in rows if r["met"] is True]
    missed = [r for r in rows if r["met"] is False]
    lines = [
        "# Performance",
        "",
        "Generated by `python bench/run_all.py`" + (" --quick" if quick else "") +
        f" on {started} UTC (commit {info['commit']}), in {seconds / 60:.1f} minutes. Do not edit by hand: "
        "run it again.",
        "",
        f"**Machine:** {info['cpu']}, {info['cores']} cores, {info['memory_gib']:.0f} GiB memory, {info['system']}; "
        f"Python {info['python']}, torch {info['torch']}, {info['qt']}; no display (Qt offscreen).",
        f"**Load:** load average {' / '.join(f'{v:.1f}' for v in load_before)} (1 / 5 / 15 min) before the run and "
        f"{' / '.join(f'{v:.1f}' for v in load_after)} after, on {info['cores']} cores"
        + (": other work shared the machine, so wall times are stretched. " if max(load_before[0], load_after[0])
           > info["cores"] else ": little else ran, though other processes did share the machine. ")
        + "Each measurement runs in its own process with one torch thread; "
        "ratios use CPU-seconds of that process where the figure is about computing (CPU time is what the "
        "process would take alone) and wall time where the figure is about what a user waits for.",
        "",
        "Every ratio divides the figure by a baseline measured in the same run, in the same process "
        "(start-up: in an identical process). "
        f"Goals met: {len(met)} of {len(met) + len(missed)}.",
        "",
    ]
    for group in GROUPS:
        mine = [r for r in rows if r["group"] == group]
        if not mine:
            continue
        lines += [f"## {group}", "", "| Figure | Measured | Baseline (same run) | Ratio | Goal | |",
                  "|---|---|---|---|---|---|"]
        for r in mine:
            status = {True: "met", False: "**not met**", None: ""}[r["met"]]
            ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else ""
            lines.append(f"| {cell(r['figure'])} | {cell(r['value'])} | {cell(r['baseline'])} | {ratio} | "
                         f"{cell(r['goal'])} | {status} |")
        lines.append("")
        for r in mine:
            if r["note"]:
                lines.append(f"- {r['figure']}: {r['note']}.")
        lines.append("")
    lines += ["## GPU", "",
              "| Figure | Measured | Baseline | Ratio | Goal |", "|---|---|---|---|---|"]
    gpu_text = ("not measured: no GPU on the machine that ran this" if not info["gpu"]
                else f"not measured: this machine has {info['gpu']}, but run_all measures the CPU only")
    for figure in ("trainer / bare loop, ResNet-56 batch 512, bf16", "trainer with gradient recording / bare loop",
                   "ResNet-50 batch 256, channels_last, bf16: trainer / bare loop"):
        lines.append(f"| {figure} | {gpu_text} | | | >= 0.97 |")
    lines.append("")
    if imports:
        lines += ["## What start-up spends its time on", "",
                  "The slowest top-level imports of one start of the app (`python -X importtime`, cumulative; "
                  "measured once, not warm-averaged):", "", "| Module | Seconds |", "|---|---|"]
        lines += [f"| `{name}` | {s:.2f} |" for name, s in imports]
        lines.append("")
    if failures:
        lines += ["## Not measured in this run", ""] + [f"- {f}" for f in failures] + [""]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", help="comma-separated sections: " + ", ".join(SECTIONS))
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"))
    p.add_argument("--section", help=argparse.SUPPRESS)
    p.add_argument("--json", help=argparse.SUPPRESS)
    p.add_argument("--arg", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.section:  # a child process
        with open(args.json, "w") as fh:
            json.dump(run_section(args.section, args.quick, args.arg), fh)
        return 0

    wanted = SECTIONS if not args.only else [s.strip() for s in args.only.split(",")]
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections: {', '.join(sorted(unknown))}")
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    t0, load_before = time.perf_counter(), os.getloadavg()
    print(f"measuring {', '.join(wanted)}; load average {load_before[0]:.1f}", flush=True)
    rows, failures, imports = [], [], []
    compile_sources()
    for name in wanted:
        try:
            if name == "startup":
                rows += startup(args.quick)
                imports = import_profile()
            elif name == "probe_memory":
                from sections_cpu import probe_rows
                results = {}
                for net in PROBE_NETS:
                    for kind in ("probe", "bare"):
                        results[(net, kind)] = child(name, args.quick, f"{net}:{kind}")
                rows += probe_rows(results)
            else:
                rows += child(name, args.quick)
        except (RuntimeError, subprocess.TimeoutExpired) as err:
            print(f"  {err}", flush=True)
            failures.append(f"{name}: {err}")
    text = render(rows, machine(), load_before, os.getloadavg(), started, time.perf_counter() - t0, imports,
                  args.quick, failures)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    print(f"wrote {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
