"""``--help`` of every command exits 0 and shows an example; ``--version`` prints the version."""

from __future__ import annotations

import re

import pytest
from helpers import REPO

import mlarena_sync
from mlarena_sync.cli.main import COMMANDS as CLI_COMMANDS
from mlarena_sync.cli.main import main

COMMANDS = tuple(CLI_COMMANDS)  # tests/e2e/test_readme.py checks them against the product contract


def run_main(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own exit for --help / --version
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out, f"{command} missing from `mlarena-sync --help`"


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_exits_0_with_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:"), out
    _, found, section = out.partition("example")
    assert found, f"`mlarena-sync {command} --help` has no example section:\n{out}"
    example = re.compile(rf"mlarena-sync (\S+ )*{re.escape(command)}\b")
    assert any(example.search(line) for line in section.splitlines()), (
        f"`mlarena-sync {command} --help` shows no example line:\n{out}"
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["--version"]) == 0
    captured = capsys.readouterr()
    assert mlarena_sync.__version__ in captured.out
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert f"## [{mlarena_sync.__version__}]" in changelog


def test_help_lists_only_the_flags_a_command_uses(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["fake-arena", "--help"]) == 0
    arena = capsys.readouterr().out
    for ignored in ("--config", "--target", "--api-key-file", "--server", "-C DIR"):
        assert ignored not in arena, f"fake-arena --help offers {ignored}, which it ignores"
    assert "--json" in arena and "--port" in arena
    for command in COMMANDS:
        assert run_main([command, "--help"]) == 0
        assert "--version" not in capsys.readouterr().out, command
    assert run_main(["--help"]) == 0
    assert "--version" in capsys.readouterr().out
