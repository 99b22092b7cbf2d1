"""Persistence across restarts, the CLI entry point, big streamed uploads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from arena_helpers import Api

from mlarena_sync.arena import FakeArena

REPO = Path(__file__).resolve().parents[2]


def test_data_dir_survives_a_restart(tmp_path: Path) -> None:
    with FakeArena(tmp_path, api="v0") as first:
        api = Api(first.url, first.user_token)
        aid = api.ready_agent(1, "keeper")
        api.upload(1, aid, "model.pkl", b"\x80\x04binary")
        api.deploy(1, aid)
        assert api.wait_settled(1, aid)["status"] == "active"
        games = api.request("GET", f"/api/direct_attache_agents/agent/{aid}/games").json()
        log_path = games["games"][0]["signed_url"].split("/", 3)[3]
        api.close()
    state = (tmp_path / "arena-state.json").read_text()
    assert first.user_token not in state and "fake_alice" not in state
    assert json.loads(state)["agents"]
    with FakeArena(tmp_path, api="v0") as second:
        api = Api(second.url, second.user_token)
        try:
            assert api.status(1, aid)["status"] == "active"
            assert sorted(api.files(1, aid)) == ["agent.py", "model.pkl"]
            assert api.deploy_status(1, aid)["deploymentLimits"]["daily_deploys_used"] == 1
            board = api.request("GET", "/api/leaderboard/competition/1").json()
            assert aid in [row["agentAttachId"] for row in board]
            log = requests.get(f"{second.url}/{log_path}", timeout=10)
            assert log.status_code == 200 and "[arena]" in log.text
            assert api.create(1, "next") == aid + 1
        finally:
            api.close()


def test_without_data_dir_the_temp_folder_is_removed() -> None:
    arena = FakeArena(api="v0").start()
    folder = arena.data_dir
    assert folder.is_dir()
    arena.stop()
    assert not folder.exists()


def test_big_upload_is_stored_intact(alice: Api) -> None:
    aid = alice.create(1)
    data = os.urandom(1024) * (24 * 1024)  # 24 MiB
    resp = alice.upload(1, aid, "weights.bin", data)
    assert resp.status_code == 200
    assert alice.files(1, aid)["weights.bin"] == {
        "content": None,
        "language": "plaintext",
        "is_binary": True,
        "size": len(data),
    }


def _start_cli(tmp_path: Path) -> tuple[subprocess.Popen[str], str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLARENA_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlarena_sync.arena",
            "--api",
            "v0",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    url_line = proc.stdout.readline().strip()
    key_line = proc.stdout.readline().strip()
    return proc, url_line, key_line


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_cli_prints_two_lines_then_stops_on_a_signal(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    proc, url_line, key_line = _start_cli(tmp_path)
    try:
        assert url_line.startswith("MLARENA_SERVER=http://127.0.0.1:")
        assert key_line == f"MLARENA_API_KEY={FakeArena.user_token}"
        url = url_line.split("=", 1)[1]
        resp = requests.get(url + "/api/competitions/1", timeout=10)
        assert resp.status_code == 200
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code
    assert out == ""
    assert '"GET /api/competitions/1" 200' in err
    ready, _, request_log = err.partition("\n")
    assert ready.startswith("fake arena (API v0) ready at ")  # the fixed test token, to paste
    assert FakeArena.user_token not in request_log


def test_a_busy_port_is_a_plain_error_without_a_crash_log(
    arena_server: FakeArena, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlarena_sync.arena.cli import main as arena_main
    from mlarena_sync.arena.errors import ArenaSetupError

    port = int(arena_server.url.rsplit(":", 1)[1])  # the session's arena holds it
    assert arena_main(["--port", str(port)]) == 2  # python -m mlarena_sync.arena
    err = capsys.readouterr().err
    assert f"port {port} is in use on 127.0.0.1; pass --port 0 for a free one" in err
    assert "Traceback" not in err
    with (
        pytest.raises(ArenaSetupError, match="is in use"),
        FakeArena(api="v0").start("127.0.0.1", port),
    ):
        pass


def test_mlarena_sync_fake_arena_on_a_busy_port_exits_2_without_a_crash_log(
    arena_server: FakeArena, capsys: pytest.CaptureFixture[str]
) -> None:
    import tempfile

    from mlarena_sync.cli.main import main

    port = int(arena_server.url.rsplit(":", 1)[1])
    assert main(["fake-arena", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} is in use on 127.0.0.1; pass --port 0 for a free one" in err
    assert "unexpected" not in err and "Traceback" not in err
    assert not list(Path(tempfile.gettempdir()).glob("mlarena-sync-crash-*"))


def test_a_host_beyond_loopback_warns_that_the_tokens_are_public(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from mlarena_sync.arena.cli import _warn_if_exposed, is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.2", "example.org"))
    _warn_if_exposed("127.0.0.1")
    assert capsys.readouterr().err == ""
    _warn_if_exposed("0.0.0.0")
    assert "tokens are fixed and public" in capsys.readouterr().err


def test_file_count_limit_and_verdict_hold_across_a_restart(tmp_path: Path) -> None:
    """The per-agent file names kept in memory are rebuilt from disk after a restart."""
    csv = b"id,prediction\n1,1\n2,0\n"
    with FakeArena(tmp_path, api="v0") as first, Api(first.url, first.user_token) as api:
        aid = api.create(2, "counted")
        assert api.upload(2, aid, "submission.csv", csv).json()["status"] == "upload_validated"
        for i in range(3):
            reply = api.upload(2, aid, f"n{i}.txt", b"x").json()
            assert reply["status"] == "upload_validated"  # unchanged verdict: not re-saved
        assert api.delete_file(2, aid, "n0.txt").status_code == 200
    with FakeArena(tmp_path, api="v0") as second, Api(second.url, second.user_token) as api:
        assert api.status(2, aid)["status"] == "upload_validated"
        assert sorted(api.files(2, aid)) == ["n1.txt", "n2.txt", "submission.csv"]
        assert api.upload(2, aid, "n1.txt", b"overwrite").status_code == 200
        assert api.upload(2, aid, "n3.txt", b"x").status_code == 200
        assert api.upload(2, aid, "n4.txt", b"x").status_code == 200
        full = api.upload(2, aid, "n5.txt", b"x")
        assert full.status_code == 400 and "Too many files" in full.json()["error"]
        assert api.upload(2, aid, "n4.txt", b"again").status_code == 200  # overwrite is fine
        assert api.delete_file(2, aid, "n4.txt").status_code == 200
        assert api.upload(2, aid, "n5.txt", b"x").status_code == 200
        copy = api.request(
            "POST",
            "/api/direct_attache_agents/competition/2",
            json={"agent_name": "copy", "copy_from_agent_id": aid},
        ).json()["attache_agent_id"]
        assert api.upload(2, copy, "n6.txt", b"x").status_code == 400  # 5 copied files
