"""README.md: the set-up commands match CI, every command is documented, runnable blocks run.

A shell block marked ``<!-- runnable -->`` runs offline, from a folder holding a copy of
``examples/``, with ``mlarena-sync`` on PATH. It runs in its own session so that every process
it starts (a background fake arena, say) can be found and stopped afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO
from helpers.processes import stop_group, wait_group_gone

from mlarena_sync.cli.main import COMMANDS as CLI_COMMANDS

README = REPO / "README.md"
PRODUCT = REPO.parent / "shared" / "docs" / "product.md"

# The commands of the product contract (docs/product.md in the steering repo).
COMMANDS = (
    "init",
    "plan",
    "push",
    "watch",
    "status",
    "logs",
    "pull",
    "history",
    "diff",
    "restore",
    "fake-arena",
    "demo",
)

RUNNABLE = re.compile(r"<!--\s*runnable\s*-->\s*\n```(?:bash|sh)\n(.*?)\n```", re.DOTALL)
SHELL_BLOCK = re.compile(r"```(?:bash|sh)\n(.*?)\n```", re.DOTALL)


def readme() -> str:
    return README.read_text(encoding="utf-8")


def runnable_blocks() -> list[str]:
    return RUNNABLE.findall(readme())


def product_commands() -> tuple[str, ...]:
    """The commands listed in product.md's table, or the known list where it is not beside us."""
    if not PRODUCT.is_file():
        return COMMANDS
    found = re.findall(
        r"^\| `mlarena-sync ([a-z-]+)[^`]*`", PRODUCT.read_text(encoding="utf-8"), re.M
    )
    return tuple(found)


def test_product_commands_are_known_and_all_in_the_cli() -> None:
    assert set(product_commands()) == set(COMMANDS)
    assert set(CLI_COMMANDS) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented_with_an_example(command: str) -> None:
    text = readme()
    assert f"| `mlarena-sync {command}` |" in text, f"{command} missing from the command table"
    example_lines = [
        line
        for block in SHELL_BLOCK.findall(text)
        for line in block.splitlines()
        if re.match(rf"mlarena-sync (-C \S+ )?(--\S+ )*{re.escape(command)}\b", line.strip())
    ]
    assert example_lines, f"no shell example of `mlarena-sync {command}` in README.md"


def test_set_up_commands_come_first_and_match_ci() -> None:
    blocks = SHELL_BLOCK.findall(readme())
    demo, tests = blocks[0], blocks[1]
    assert "python3 -m venv .venv" in demo and demo.rstrip().endswith("mlarena-sync demo")
    assert "pip install -e '.[arena]'" in demo
    assert tests.strip() == "pip install -e '.[dev]' && python -m pytest"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^python -m pytest$", ci, re.M), ".ci/run must run exactly `python -m pytest`"
    assert "-e '.[dev]'" in ci


def test_exit_codes_table_matches_the_contract() -> None:
    text = readme()
    for code in ("0", "1", "2", "3", "4", "5", "6", "130"):
        assert re.search(rf"^\| {code} \| \S", text, re.M), f"exit code {code} not documented"
    if PRODUCT.is_file():  # the same rows, word for word
        rows = re.findall(r"^\| \d+ \| .*$", PRODUCT.read_text(encoding="utf-8"), re.M)
        assert rows and all(row in text.splitlines() for row in rows)


def test_readme_has_runnable_blocks() -> None:
    assert runnable_blocks(), "no block marked <!-- runnable --> in README.md"


def _shim(bin_dir: Path) -> None:
    """``mlarena-sync`` on PATH, running this interpreter on this checkout (installed or not)."""
    bin_dir.mkdir()
    script = bin_dir / "mlarena-sync"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mlarena_sync "$@"\n')
    script.chmod(0o755)


@pytest.mark.slow
@pytest.mark.timeout(150)
@pytest.mark.parametrize("index", range(len(runnable_blocks())))
def test_runnable_block(index: int, tmp_path: Path) -> None:
    block = runnable_blocks()[index]
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copytree(
        REPO / "examples", work / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    _shim(tmp_path / "bin")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        [str(tmp_path / "bin"), str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["HOME"] = str(tmp_path / "home")
    log = tmp_path / "output.txt"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        returncode = proc.wait(timeout=120)
        output = log.read_text(errors="replace")
        assert returncode == 0, f"README block {index} failed:\n{block}\n--- output ---\n{output}"
        # The block cleans up after itself: whatever it started in the background has stopped.
        assert wait_group_gone(proc.pid), f"README block {index} left a process running"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stop_group(proc.pid)
