"""Memory of a big network's gradient probe, and how fast the app lets go of it.

    python bench/bench_probe_memory.py              # CLI and app-side figures (about a minute)
    python bench/bench_probe_memory.py --baseline   # also the old fixed batch of 32 (90 s, 4+ GB)

1. CLI: ``python main.py gradflow resnet1202`` in a child process; its peak resident
   memory (ru_maxrss), wall time and CPU seconds. Target: peak under 1.5 GB.
   ``--baseline`` runs ``--batch 32`` (the old default) in the same run for the ratio.
2. App: the gradient panel's real probe thread (``ProbeRunner``, offscreen Qt) in a
   child process: probe resnet1202, then switch back to resnet20; resident memory
   (VmRSS) before, at the peak and after switching back.
3. Quit: the same runner starts a resnet1202 probe; once it is 50 blocks into the
   forward pass, ``shutdown()`` (what closing the window calls) is timed. Then the whole
   window (offscreen): resnet1202 opened with the Gradient flow tab in front, closed
   while its probe runs, and closed right after a finished one. Target < 3 s.

Every child pins torch to one thread; wall times are noisy on a shared machine, so the
CPU seconds are printed next to them, with the load average.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs one command as its only child and reports the child's peak RSS and CPU time.
MEASURE_CHILD = textwrap.dedent("""
    import json, resource, subprocess, sys, time
    t = time.perf_counter()
    proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"rc": proc.returncode, "wall_s": wall, "cpu_s": use.ru_utime + use.ru_stime,
                      "peak_mb": use.ru_maxrss / 1024, "stderr": proc.stderr[-500:]}))
""")

APP_SIDE = textwrap.dedent("""
    import json, os, sys, time
    import torch
    torch.set_num_threads(1)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication as QCoreApplication  # the window part needs widgets
    from explorer.spec import preset
    from explorer.ui.gradflow.worker import ProbeRunner

    def rss_mb():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def peak_mb():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    app = QCoreApplication([])
    runner = ProbeRunner()
    done, progress = [], []
    runner.finished.connect(done.append)
    runner.progress.connect(lambda *a: progress.append(a))

    def wait(cond, timeout=600):
        end = time.monotonic() + timeout
        while not cond() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    out = {}
    runner.request(preset("resnet20"), None)
    wait(lambda: len(done) == 1)
    out["resnet20_rss_mb"] = rss_mb()
    t, c = time.perf_counter(), time.process_time()
    runner.request(preset("resnet1202"), None)
    wait(lambda: len(done) == 2)
    out["resnet1202_probe_wall_s"] = time.perf_counter() - t
    out["resnet1202_probe_cpu_s"] = time.process_time() - c
    out["resnet1202_batch"] = done[-1].batch
    out["after_resnet1202_rss_mb"] = rss_mb()
    runner.request(preset("resnet20"), None)
    wait(lambda: len(done) == 3)
    out["back_to_resnet20_rss_mb"] = rss_mb()
    out["peak_mb"] = peak_mb()
    progress.clear()
    runner.request(preset("resnet1202"), None)
    wait(lambda: any(p[1] == "forward" and p[2] >= 50 for p in progress))
    t = time.perf_counter()
    runner.shutdown()
    out["shutdown_s"] = time.perf_counter() - t

    from explorer.ui.document import Document
    from explorer.ui.app_window import build_window

    def window_close(after_probe):
        win, bench = build_window(Document(preset("resnet1202")))
        win.resize(1600, 1000)
        win.show()
        wait(lambda: False, 0.3)
        bench.gradflow_dock.raise_()
        g = bench.gradflow
        if after_probe:
            wait(lambda: g.last_outcome is not None)
        else:
            wait(lambda: "forward pass, block" in g.status.text())
        t = time.perf_counter()
        closed = win.close()
        took = time.perf_counter() - t
        if not closed or g.runner._task.is_running():
            raise SystemExit("the window refused to close or left the probe thread running")
        return took

    out["close_during_s"] = window_close(False)
    out["close_after_s"] = window_close(True)
    print(json.dumps(out))
""")


def measure(argv: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", MEASURE_CHILD, *argv], cwd=ROOT, capture_output=True, text=True)
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", action="store_true", help="also run the old batch of 32 (slow, 4+ GB)")
    args = parser.parse_args()
    env_threads = "import torch; torch.set_num_threads(1); from explorer.launcher import main; raise SystemExit(main(["
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"on {os.cpu_count()} CPUs")
    cases = [("gradflow resnet1202 (automatic batch)", "'gradflow', 'resnet1202'")]
    if args.baseline:
        cases.append(("gradflow resnet1202 --batch 32 (the old default)", "'gradflow', 'resnet1202', '--batch', '32'"))
    results = {}
    for name, argv in cases:
        r = measure([sys.executable, "-c", env_threads + argv + "]))"])
        results[name] = r
        ok = "" if r["rc"] == 0 else f"  (exit {r['rc']}: {r['stderr'].strip()})"
        print(f"CLI {name}: peak {r['peak_mb']:.0f} MB resident, {r['wall_s']:.1f} s wall, "
              f"{r['cpu_s']:.1f} s CPU{ok}")
    if args.baseline:
        new, old = (results[n] for n, _ in cases)
        print(f"  peak memory ratio new/old: {new['peak_mb'] / old['peak_mb']:.2f}, "
              f"CPU time ratio {new['cpu_s'] / old['cpu_s']:.2f}")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-c", APP_SIDE], cwd=ROOT, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print("app-side measurement failed:", proc.stderr[-2000:])
        return
    app = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"app probe thread: resnet20 {app['resnet20_rss_mb']:.0f} MB; resnet1202 probe (batch "
          f"{app['resnet1202_batch']}) {app['resnet1202_probe_wall_s']:.1f} s wall, "
          f"{app['resnet1202_probe_cpu_s']:.1f} s CPU; after it {app['after_resnet1202_rss_mb']:.0f} MB; "
          f"back on resnet20 {app['back_to_resnet20_rss_mb']:.0f} MB; process peak {app['peak_mb']:.0f} MB")
    print(f"quit during a resnet1202 probe (50 blocks in): shutdown took {app['shutdown_s']:.2f} s")
    print(f"closing the window with resnet1202 open: {app['close_during_s']:.2f} s while its probe runs, "
          f"{app['close_after_s']:.2f} s after it finished")


if __name__ == "__main__":
    main()
