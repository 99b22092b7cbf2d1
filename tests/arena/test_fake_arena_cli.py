"""``mlarena-sync fake-arena`` for a person: the two ``MLARENA_*`` lines a script reads, then one
ready line on stderr saying how to use it from another shell, before the request log; flag
values that make no sense are usage errors (exit 2) before anything starts."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys

import pytest
import requests
from helpers.processes import cli_env

from mlarena_sync.arena import FakeArena
from mlarena_sync.arena.cli import add_arguments
from mlarena_sync.cli.main import main

ROUTE = {"v4.6": "/api/challenges/1", "v0": "/api/competitions/1"}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("api", ["v4.6", "v0"])
def test_ready_line_follows_the_two_variables_and_precedes_the_request_log(api: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlarena_sync", "fake-arena", "--api", api],
        env=cli_env(None),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        server_line = proc.stdout.readline().rstrip("\n")
        key_line = proc.stdout.readline().rstrip("\n")
        ready = proc.stderr.readline().rstrip("\n")
        url = server_line.removeprefix("MLARENA_SERVER=")
        assert server_line.startswith("MLARENA_SERVER=http://127.0.0.1:")
        assert key_line == f"MLARENA_API_KEY={FakeArena.user_token}"
        assert ready == (
            f"fake arena (API {api}) ready at {url} \N{EM DASH} in another shell: export "
            f"MLARENA_SERVER={url} MLARENA_API_KEY={FakeArena.user_token}  (Ctrl-C stops)"
        )
        assert requests.get(url + ROUTE[api], timeout=10).status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert out == ""  # stdout holds the two variables only
    assert f'"GET {ROUTE[api]}" 200' in err  # the request log, after the ready line


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--deploy-limit", "-1", "argument --deploy-limit: -1 is negative; give 0 or more"),
        ("--deploy-limit", "many", "argument --deploy-limit: 'many' is not a whole number"),
        ("--port", "70000", "argument --port: 70000 is not a port"),
        ("--port", "-5", "argument --port: -5 is negative"),
        ("--queue-seconds", "-0.5", "argument --queue-seconds: -0.5 is not a duration"),
        ("--queue-seconds", "inf", "argument --queue-seconds: inf is not a duration"),
        ("--queue-seconds", "soon", "argument --queue-seconds: 'soon' is not a number"),
    ],
)
def test_nonsense_flag_values_are_usage_errors(
    capsys: pytest.CaptureFixture[str], flag: str, value: str, says: str
) -> None:
    assert main(["fake-arena", flag, value]) == 2
    captured = capsys.readouterr()
    assert says in captured.err
    assert "MLARENA_SERVER=" not in captured.out  # nothing started


def test_zero_deploys_a_day_is_a_valid_limit() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--deploy-limit", "0", "--queue-seconds", "0", "--port", "0"])
    assert (args.deploy_limit, args.queue_seconds, args.port) == (0, 0.0, 0)
