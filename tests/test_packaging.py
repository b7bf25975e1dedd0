"""Install like any package: the README's two set-up commands are the ones CI runs, the
icons are package data, and the launcher's self-closing switch reads its setting strictly.

(CI also builds the wheel, installs it into a fresh venv and starts it: .ci/check_wheel.py.)
"""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from explorer.launcher import QUIT_AFTER_ENV, LaunchError, quit_after_seconds

ROOT = Path(__file__).resolve().parents[1]


def _readme_setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set up, run, test", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_the_readmes_two_setup_commands_are_the_ones_ci_runs():
    commands = _readme_setup_commands()
    assert len(commands) == 2
    install, test = commands
    assert install.startswith("python3 -m venv .venv && ") and install.endswith(" && .venv/bin/resnet-explorer")
    assert "torch==2.13.0" in install
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert f"-e '.[{','.join(extras)}]'" in install  # every extra, so no test skips
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert install in ci_lines and test in ci_lines
    assert ci_lines.index(install) < ci_lines.index(test)


def test_every_icon_file_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = {p for pattern in config["explorer"] for p in (ROOT / "explorer").glob(pattern)}
    icons = set((ROOT / "explorer" / "resources" / "icons").glob("*.svg"))
    assert icons and icons <= shipped


@pytest.mark.parametrize("raw, seconds", [(None, None), ("", None), ("  ", None), ("3", 3.0), ("0.5", 0.5),
                                          (" 10 ", 10.0), ("86400", 86400.0)])
def test_quit_after_reads_seconds(raw, seconds):
    env = {} if raw is None else {QUIT_AFTER_ENV: raw}
    assert quit_after_seconds(env) == seconds


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "nan", "inf", "86401", "3s"])
def test_quit_after_refuses_what_is_not_a_sensible_number_of_seconds(raw):
    with pytest.raises(LaunchError, match=re.escape(f"not {raw!r}")):
        quit_after_seconds({QUIT_AFTER_ENV: raw})


def test_a_bad_quit_after_is_one_error_line_before_anything_loads(tmp_path):
    env = {"PATH": "/usr/bin:/bin", QUIT_AFTER_ENV: "soon", "HOME": str(tmp_path)}
    script = "import sys; from explorer.launcher import main; code = main([]); " \
             "print('torch' in sys.modules, 'PySide6' in sys.modules); sys.exit(code)"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr == (f"error: {QUIT_AFTER_ENV} must be a number of seconds between 0 and 86400, "
                           f"not 'soon'\n")
    assert done.stdout.split() == ["False", "False"]
