"""B1: a base install (no `arena` extra) runs every command but `fake-arena` and `demo`, which
say how to install the extra (exit 2, no traceback, no crash log).

The child process gets a ``sitecustomize.py`` that makes ``import werkzeug`` and ``import
cheroot`` fail as they do when the packages are not installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

from mlarena_sync.arena import FakeArena

MISSING = "the fake arena needs the `arena` extra: pip install 'mlarena-sync[arena]'"

SITECUSTOMIZE = '''
import sys


class _NotInstalled:
    """The `arena` extra is not installed: werkzeug and cheroot cannot be imported."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("werkzeug", "cheroot"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
'''


@pytest.fixture
def base_install(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLARENA_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(REPO)])
    return tmp_path, env


def _run(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlarena_sync", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_without_the_arena_extra_only_the_fake_arena_commands_refuse(
    base_install: tuple[Path, dict[str, str]], arena: FakeArena
) -> None:
    folder, env = base_install
    check = subprocess.run(
        [sys.executable, "-c", "import werkzeug"], env=env, capture_output=True, check=False
    )
    assert check.returncode != 0 and b"ModuleNotFoundError" in check.stderr  # blocked
    for args in (["--version"], ["--help"], ["push", "--help"], ["fake-arena", "--help"]):
        res = _run(env, *args, cwd=folder)
        assert res.returncode == 0, (args, res.stderr)
        assert "Traceback" not in res.stderr
    project = folder / "proj"
    project.mkdir()
    init = _run(env, "-C", str(project), "init", "--competition", "1", cwd=folder)
    assert init.returncode == 0, init.stderr
    env_plan = {**env, "MLARENA_API_KEY": arena.user_token, "MLARENA_SERVER": arena.url}
    plan = _run(env_plan, "-C", str(project), "plan", cwd=folder)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "agent: none yet" in plan.stdout and "Traceback" not in plan.stderr
    for command in (["fake-arena", "--port", "0"], ["demo"]):
        res = _run(env, *command, cwd=folder)
        assert res.returncode == 2, (command, res.stdout, res.stderr)
        assert res.stderr.strip() == f"mlarena-sync: error: {MISSING}", res.stderr
    via_module = subprocess.run(
        [sys.executable, "-m", "mlarena_sync.arena", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert via_module.returncode == 2 and MISSING in via_module.stderr, via_module.stderr
    for where in (folder, Path(env["TMPDIR"])):
        assert not list(where.rglob("mlarena-sync-crash-*"))
