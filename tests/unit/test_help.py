"""``--help`` of every command exits 0 and shows an example; ``--version`` prints the version.

Help is for people: ``--help`` (and ``--version``) print their text even with ``--json`` (a
script asking for help wants to read it; there is no event to report). ``--json`` with no command
is a usage error: one ``usage_error`` JSON object on stdout, exit 2 (without ``--json``, the help
on stdout, exit 2)."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize("argv", [["--json", "--help"], ["push", "--help", "--json"]])
def test_help_is_for_people_even_with_json(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: mlarena-sync")
    assert "--json" in out and not out.lstrip().startswith("{")


def test_no_command_shows_the_help_or_with_json_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_main([]) == 2
    assert capsys.readouterr().out.startswith("usage: mlarena-sync")
    assert run_main(["--json"]) == 2
    captured = capsys.readouterr()
    (line,) = [json.loads(text) for text in captured.out.splitlines()]
    assert line["event"] == "usage_error" and "no command given" in line["message"]
    assert "usage: mlarena-sync" in captured.err


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_offers_no_color(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main([command, "--help"]) == 0
    assert "--no-color" in capsys.readouterr().out
    assert run_main(["--help"]) == 0
    assert re.search(r"--no-color\s+no colour, even at a terminal", capsys.readouterr().out)
