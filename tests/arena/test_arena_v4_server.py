"""The v4.6 generation from the outside: the CLI's ``--api`` flag (default v4.6) and a restart
that keeps a submission's state and files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from arena_v4_helpers import SUBS, Api4

from mlarena_sync.arena import FakeArena

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("flags", "served", "absent"),
    [
        ([], "/api/challenges/1", "/api/competitions/1"),
        (["--api", "v0"], "/api/competitions/1", "/api/challenges/1"),
    ],
)
def test_cli_speaks_v4_by_default_and_v0_on_request(
    tmp_path: Path, flags: list[str], served: str, absent: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLARENA_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "mlarena_sync.arena", "--port", "0", "--quiet-requests", *flags]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().split("=", 1)[1]
        assert requests.get(url + served, timeout=10).status_code == 200
        assert requests.get(url + absent, timeout=10).status_code == 404
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


def test_cli_refuses_an_unknown_generation() -> None:
    from mlarena_sync.arena.cli import main as arena_main

    with pytest.raises(SystemExit) as exc:
        arena_main(["--api", "v3"])
    assert exc.value.code == 2


def test_a_restart_keeps_submissions_files_and_runs(tmp_path: Path) -> None:
    with (
        FakeArena(tmp_path, api="v4.6", queue_seconds=0.05) as first,
        Api4(first.url, first.user_token) as a,
    ):
        sid = a.ready(1, "kept")
        a.request("PATCH", f"{SUBS}/submission/{sid}", json={"is_public": True})
        a.deploy(1, sid)
        before = a.wait_settled(sid)
        assert before["status"] == "active"
    with FakeArena(tmp_path, api="v4.6") as second, Api4(second.url, second.user_token) as a:
        after = a.submission(sid)
        assert (after["status"], after["is_public"], after["score"]) == (
            "active",
            True,
            before["score"],
        )
        assert after["status_update_ts"] == before["status_update_ts"]
        assert [f["name"] for f in a.files(1, sid)] == ["agent.py"]
        assert a.request("GET", f"{SUBS}/submission/{sid}/runs").json()["total"] == 3
        copyable = a.request("GET", f"{SUBS}/copyable_submissions").json()["submissions"]
        assert [row["id"] for row in copyable] == [sid]
