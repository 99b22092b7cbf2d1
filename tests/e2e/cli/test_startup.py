"""Start-up stays light: the parser imports no command module; a command imports only its own
(no watchdog or fake arena for push); each command's flags are still there when it is used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlarena_sync.cli.main import main

HEAVY = ("watchdog", "werkzeug", "cheroot", "requests", "structlog", "mlarena_sync.commands")

PROBE = """
import json, sys
from mlarena_sync.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = %r
loaded = {m for m in sys.modules for h in heavy if m == h or m.startswith(h + ".")}
print(json.dumps(sorted(loaded)))
"""


def _loaded(*argv: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_version_and_help_import_no_command_module() -> None:
    assert _loaded("--version") == []
    assert _loaded("--help") == []


def test_push_does_not_import_watchdog_or_the_arena(tmp_path: Path) -> None:
    loaded = _loaded("-C", str(tmp_path), "push", "--no-deploy")  # no mlarena.yaml: exit 2
    assert "mlarena_sync.commands.push" in loaded
    assert not [m for m in loaded if m.split(".")[0] in {"watchdog", "werkzeug", "cheroot"}]


@pytest.mark.parametrize(
    ("command", "flag"),
    [("push", "--no-deploy"), ("logs", "--follow"), ("fake-arena", "--port"), ("demo", "--keep")],
)
def test_each_command_still_offers_its_flags(
    capsys: pytest.CaptureFixture[str], command: str, flag: str
) -> None:
    assert main([command, "--help"]) == 0
    assert flag in capsys.readouterr().out
