"""CI: the app installs like any package and starts from the installed wheel.

1. Build the wheel from a clean copy of the source (files git tracks or would track,
   so stale build folders never leak into it).
2. Check that every icon in explorer/resources/icons is inside the wheel, byte for byte.
3. Install the wheel into a fresh virtual environment that also sees the packages of the
   environment running this script (torch is large: it is reused, not installed again;
   a ``.pth`` file adds that environment's site-packages after the venv's own), and check
   that the venv imports its own copy of ``explorer``, not this clone or an editable install.
4. Start the installed ``resnet-explorer`` offscreen; it closes itself after a few seconds
   (RESNET_EXPLORER_QUIT_AFTER) and must exit 0 with no Python traceback. Then run one
   CLI command from it.

Run from anywhere: ``python .ci/check_wheel.py``. Prints one line per step; exits 1 on
the first failure, with the output of the step that failed.
"""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICONS = Path("explorer") / "resources" / "icons"
QUIT_AFTER = "4"
START_TIMEOUT_S = 180


def fail(message: str, output: str = "") -> None:
    print(f"check_wheel: FAILED: {message}", file=sys.stderr)
    if output:
        print(output, file=sys.stderr)
    sys.exit(1)


def run(cmd: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        fail(f"{what} (exit status {proc.returncode})", proc.stdout + proc.stderr)
    return proc


def clean_copy(dest: Path) -> None:
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                 "listing the source files", cwd=ROOT).stdout
    for name in filter(None, listed.split("\0")):
        src = ROOT / name
        if src.is_file():  # a tracked file deleted in the work tree is skipped
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def build_wheel(work: Path) -> Path:
    src = work / "src"
    clean_copy(src)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work / "dist"), str(src)],
        "building the wheel")
    wheels = sorted((work / "dist").glob("resnet_explorer-*.whl"))
    if len(wheels) != 1:
        fail(f"expected one wheel, found {[w.name for w in wheels]}")
    print(f"check_wheel: built {wheels[0].name}")
    return wheels[0]


def check_icons(wheel: Path) -> None:
    icons = sorted((ROOT / ICONS).glob("*.svg"))
    if not icons:
        fail(f"no icons in {ICONS}")
    with zipfile.ZipFile(wheel) as zf:
        inside = set(zf.namelist())
        for icon in icons:
            name = f"{ICONS.as_posix()}/{icon.name}"
            if name not in inside:
                fail(f"{name} is not in the wheel")
            if zf.read(name) != icon.read_bytes():
                fail(f"{name} in the wheel differs from the source")
    print(f"check_wheel: all {len(icons)} icons are in the wheel")


def install(wheel: Path, work: Path) -> Path:
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], "creating the venv")
    python = venv / "bin" / "python"
    # --system-site-packages would show the base interpreter's packages, not those of the
    # venv running this script (CI runs it from .venv); name those folders instead.
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                  "asking the venv for its site-packages").stdout.strip()
    reused = [p for p in dict.fromkeys(site.getsitepackages()) if Path(p).is_dir()]
    Path(purelib, "_reuse_installed_packages.pth").write_text("".join(f"{p}\n" for p in reused))
    run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], "installing the wheel")
    where = run([str(python), "-c", "import explorer; print(explorer.__file__)"], "importing explorer",
                cwd=work, env=isolated_env(work)).stdout.strip()
    if not Path(where).resolve().is_relative_to(venv.resolve()):
        fail(f"the venv imports explorer from {where}, not from its own installed wheel")
    print(f"check_wheel: installed into a fresh venv; explorer comes from {where}")
    return venv


def isolated_env(work: Path) -> dict:
    """No Python path from the caller, and settings written to a scratch folder, not the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    home = work / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), QT_QPA_PLATFORM="offscreen")
    return env


def start_app(venv: Path, work: Path) -> None:
    exe = venv / "bin" / "resnet-explorer"
    env = isolated_env(work)
    env["RESNET_EXPLORER_QUIT_AFTER"] = QUIT_AFTER
    try:
        proc = subprocess.run([str(exe)], capture_output=True, text=True, cwd=work, env=env,
                              timeout=START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        fail(f"the installed app did not close within {START_TIMEOUT_S} s")
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        fail(f"the installed app exited with status {proc.returncode}", output)
    if "Traceback" in output or "Error" in output:
        fail("the installed app printed an error", output)
    print(f"check_wheel: the installed resnet-explorer ran {QUIT_AFTER} s offscreen and exited 0")
    listed = run([str(exe), "presets"], "running the installed CLI", cwd=work, env=env).stdout
    if "resnet20" not in listed:
        fail("the installed CLI's 'presets' does not list resnet20", listed)
    print("check_wheel: the installed CLI runs")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="check_wheel.") as tmp:
        work = Path(tmp)
        wheel = build_wheel(work)
        check_icons(wheel)
        venv = install(wheel, work)
        start_app(venv, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
