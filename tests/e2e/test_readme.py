"""README.md: the set-up commands match CI, every command is documented, every shell block is
tested or marked as not runnable here, and the runnable ones run twice and leave nothing behind.

Every ```sh block carries a marker comment on the line before it:

- ``<!-- runnable -->``: runs offline, from a folder holding a copy of ``examples/``, with
  ``mlarena-sync`` on PATH; twice in a row in that folder, each time in its own session (so that
  whatever it starts, a background fake arena say, can be found), with an empty ``HOME`` and
  ``TMPDIR``. Each run must succeed and leave no process, no file in the folder that was not there
  before, nothing in ``HOME`` or ``TMPDIR``.
- ``<!-- real-platform -->`` (needs a real ML Arena key), ``<!-- install -->`` (downloads),
  ``<!-- reference -->`` (one-liners to pick from) and ``<!-- development -->`` (CI's checks):
  not run; every ``mlarena-sync`` line in them must parse with the CLI's own parser, and the
  development block must hold every check ``.ci/run`` runs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO
from helpers.processes import stop_group, wait_group_gone

from mlarena_sync.cli.main import COMMANDS as CLI_COMMANDS
from mlarena_sync.cli.parser import build_parser

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

#: The markers a shell block may carry; only ``runnable`` blocks are run.
MARKERS = ("runnable", "real-platform", "install", "reference", "development")
MARKED = re.compile(r"<!--\s*([a-z-]+)\s*-->\s*\n```(?:bash|sh)\n(.*?)\n```", re.DOTALL)
SHELL_BLOCK = re.compile(r"```(?:bash|sh)\n(.*?)\n```", re.DOTALL)
#: A runnable block's two runs, one after the other, each within this many seconds.
RUN_TIMEOUT = 120


def readme() -> str:
    return README.read_text(encoding="utf-8")


def marked_blocks(marker: str | None = None) -> list[tuple[str, str]]:
    """(marker, block) of every marked shell block, or of those marked ``marker``."""
    found = MARKED.findall(readme())
    return [(m, block) for m, block in found if marker is None or m == marker]


def runnable_blocks() -> list[str]:
    return [block for _, block in marked_blocks("runnable")]


def documented_commands() -> tuple[str, ...]:
    """The contract's commands and any the CLI adds (``completion``, ...): all in README."""
    return tuple(sorted(set(COMMANDS) | set(CLI_COMMANDS)))


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
    assert set(COMMANDS) <= set(CLI_COMMANDS)


@pytest.mark.parametrize("command", documented_commands())
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


def test_every_shell_block_is_marked() -> None:
    """A block a reader would run is either run here or says why not (its marker)."""
    blocks = SHELL_BLOCK.findall(readme())
    marked = marked_blocks()
    unknown = sorted({m for m, _ in marked} - set(MARKERS))
    assert not unknown, f"unknown README block markers: {unknown}; known: {MARKERS}"
    unmarked = [b for b in blocks if b not in {block for _, block in marked}]
    assert not unmarked, "shell blocks without a marker:\n" + "\n---\n".join(unmarked)


def test_every_link_of_readme_leads_somewhere() -> None:
    """The deep material lives in docs/ pages: a link to one that is not there, or to a heading
    that is not there, strands the reader."""
    text = readme()
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    files = [link for link in links if not re.match(r"[a-z]+:|#", link)]
    assert files, "README links to no page of the repository"
    missing = [link for link in files if not (REPO / link.partition("#")[0]).exists()]
    assert not missing, f"README links to files that are not there: {missing}"
    headings = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^#{2,6} (.+)$", text, re.M)
    }
    lost = [link for link in links if link.startswith("#") and link[1:] not in headings]
    assert not lost, f"README links to headings that are not there: {lost}"


def _cli_lines(block: str) -> list[list[str]]:
    """The argv (after ``mlarena-sync``) of every line of ``block`` that runs the CLI."""
    found = []
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["mlarena-sync"]:
            found.append(words[1:])
    return found


def test_every_cli_line_of_the_blocks_not_run_parses() -> None:
    """What a test cannot run (a real key, a download) is at least a valid command line."""
    lines = [
        (marker, argv)
        for marker, block in marked_blocks()
        if marker != "runnable"
        for argv in _cli_lines(block)
    ]
    assert len({marker for marker, _ in lines}) >= 2, "no mlarena-sync line in the blocks not run"
    for marker, argv in lines:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"README ({marker}): `mlarena-sync {shlex.join(argv)}` does not parse")
        assert args.command, f"README ({marker}): `mlarena-sync {shlex.join(argv)}` runs nothing"


def test_the_development_block_runs_every_check_of_ci() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    checks = re.findall(r'^echo "== [^"]*";\s*(.+?)\s*$', ci, re.M)
    assert checks, 'no `echo "== NAME"; COMMAND` line in .ci/run'
    checks.append("python -m pytest")
    development = "\n".join(block for _, block in marked_blocks("development"))
    missing = [check for check in checks if check not in development]
    assert not missing, f"README's development block lacks CI's {missing}"


def _shim(bin_dir: Path) -> None:
    """``mlarena-sync`` on PATH, running this interpreter on this checkout (installed or not)."""
    bin_dir.mkdir()
    script = bin_dir / "mlarena-sync"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mlarena_sync "$@"\n')
    script.chmod(0o755)


def _tree(folder: Path) -> set[str]:
    """Every path under ``folder``, relative to it."""
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def _block_env(tmp_path: Path) -> dict[str, str]:
    """A reader's environment: no MLARENA_*, ``mlarena-sync`` on PATH, an empty HOME and TMPDIR."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLARENA_")}
    _shim(tmp_path / "bin")
    env["PATH"] = os.pathsep.join(
        [str(tmp_path / "bin"), str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for name, folder in (("HOME", "home"), ("TMPDIR", "tmp")):
        (tmp_path / folder).mkdir()
        env[name] = str(tmp_path / folder)
    return env


def _run_block(block: str, work: Path, env: dict[str, str], log: Path) -> tuple[int, bool]:
    """Run ``block`` in ``work`` in a session of its own: (exit code, everything it started
    has stopped)."""
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
        returncode = proc.wait(timeout=RUN_TIMEOUT)
        return returncode, wait_group_gone(proc.pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stop_group(proc.pid)


@pytest.mark.slow
@pytest.mark.timeout(2 * RUN_TIMEOUT + 30)
@pytest.mark.parametrize("index", range(len(runnable_blocks())))
def test_runnable_block_runs_twice_and_leaves_nothing_behind(index: int, tmp_path: Path) -> None:
    block = runnable_blocks()[index]
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copytree(
        REPO / "examples", work / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = _block_env(tmp_path)
    before = _tree(work)
    for run in (1, 2):
        log = tmp_path / f"output-{run}.txt"
        returncode, stopped = _run_block(block, work, env, log)
        output = log.read_text(errors="replace")
        where = f"README block {index}, run {run}"
        assert returncode == 0, f"{where} failed:\n{block}\n--- output ---\n{output}"
        assert stopped, f"{where} left a process running\n--- output ---\n{output}"
        assert _tree(work) == before, f"{where} left files behind: {_tree(work) ^ before}"
        for name in ("HOME", "TMPDIR"):
            left = _tree(Path(env[name]))
            assert not left, f"{where} left files in ${name}: {sorted(left)}"
