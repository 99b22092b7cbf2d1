"""Secrets: the API token never shows up in any output mode, log, crash log, state file or
exception message; plain http to another host is refused; redirects are not followed; the
token is never sent to a game's signed_url host."""

from __future__ import annotations

import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers.arena import adapter_class, mutations
from helpers.checks import assert_clear_error, bound_agent_id
from helpers.cli import Cli, Result
from helpers.processes import cli_env, spawn_cli, stop_process
from helpers.project import Project, make_project, small_tree
from helpers.wait import wait_until

from mlarena_sync.api.client import ArenaClient
from mlarena_sync.api.interface import Generation
from mlarena_sync.arena import FakeArena

MODES = [[], ["-v"], ["--json"]]
COMMANDS = [
    ["plan"],
    ["push", "--no-deploy"],
    ["status"],
    ["logs"],
    ["logs", "--games"],
    ["pull"],
]


def secret_of(token: str) -> str:
    return token.split("_", 3)[3]


def leaks(text: str, token: str) -> bool:
    return token in text or secret_of(token) in text


def files_leaking(folder: Path, token: str, *, skip: tuple[Path, ...] = ()) -> list[str]:
    """Every file under ``folder`` (logs, crash logs, state, caches) holding the token."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and path not in skip:
            data = path.read_bytes()
            if token.encode() in data or secret_of(token).encode() in data:
                found.append(str(path))
    return found


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME, XDG dirs and TMPDIR inside tmp_path: crash logs and caches land where we grep."""
    home = tmp_path / "home"
    for sub in ("", ".cache", ".local/state", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local/state"))
    monkeypatch.setenv("TMPDIR", str(home / "tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(home / "tmp"))  # gettempdir() caches
    return home


def _run_all(cli: Cli, project: Project) -> list[tuple[list[str], Result]]:
    runs = []
    for mode in MODES:
        for command in COMMANDS:
            args = ["-C", str(project.dir), *mode, *command]
            runs.append((args, cli(*args)))
    return runs


def test_token_absent_from_every_command_and_mode(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, home: Path
) -> None:
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(3))
    first = cli("-C", str(project.dir), "-v", "push", "--wait")  # a deploy: games to show
    assert first.code == 0, first.text
    assert not leaks(first.text, token)
    for args, res in _run_all(cli, project):
        assert "Traceback" not in res.text, (args, res.text)
        assert not leaks(res.text, token), f"token in the output of {args}:\n{res.text}"
    assert files_leaking(tmp_path, token) == []


def test_token_absent_on_error_paths(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, home: Path
) -> None:
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(3))
    assert cli("-C", str(project.dir), "push", "--no-deploy").code == 0
    (project.root / "pkg0" / "helper_00.py").write_text("VALUE = 2\n")
    for mode in MODES:
        arena.faults.fail_next(1000, 503, retry_after=0)
        res = cli("-C", str(project.dir), *mode, "push", "--no-deploy")
        arena.faults.clear()
        assert res.code == 1, res.text
        assert not leaks(res.text, token), res.text
        arena.faults.drop_next(1000)
        res = cli("-C", str(project.dir), *mode, "status")
        arena.faults.clear()
        assert res.code == 1, res.text
        assert not leaks(res.text, token), res.text
    assert files_leaking(tmp_path, token) == []


def test_wrong_token_not_echoed_in_any_mode(
    arena: FakeArena, cli: Cli, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path, arena.url, "faults")
    wrong = "mlk_user_alice01_wrong_secret_0123456789"
    monkeypatch.setenv("MLARENA_API_KEY", wrong)
    for mode in MODES:
        res = cli("-C", str(project.dir), *mode, "push")
        assert res.code == 4, res.text
        assert not leaks(res.text, wrong), res.text
    assert files_leaking(tmp_path, wrong) == []


def test_forced_crash_writes_a_crash_log_without_the_token(
    arena: FakeArena,
    token: str,
    cli: Cli,
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = make_project(tmp_path, arena.url, "faults")

    def boom(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"unexpected bug while holding Bearer {token}")

    monkeypatch.setattr(adapter_class(arena), "list_files", boom)
    for mode in MODES:
        res = cli("-C", str(project.dir), *mode, "push", "--no-deploy")
        assert res.code == 1, res.text
        assert not leaks(res.text, token), f"token in crash output ({mode}):\n{res.text}"
        assert "crash" in res.text.lower(), f"no crash log path printed:\n{res.text}"
    crash_logs = [p for p in tmp_path.rglob("*") if p.is_file() and "crash" in p.name.lower()]
    assert crash_logs, "the CLI printed a crash line but no crash log file was found"
    assert any("RuntimeError" in p.read_text(errors="replace") for p in crash_logs)
    assert files_leaking(tmp_path, token) == []


def test_file_holding_the_token_is_never_uploaded(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, home: Path
) -> None:
    tree: dict[str, bytes | str] = dict(small_tree(2))
    tree["settings.py"] = f"API_KEY = '{token}'\n"
    project = make_project(tmp_path, arena.url, "faults", files=tree)
    res = cli("-C", str(project.dir), "push", "--no-deploy")
    assert_clear_error(res, 2, "settings.py", lines=2)
    assert not leaks(res.text, token)
    assert not mutations(arena.counters)


def test_watch_output_has_no_token(
    arena: FakeArena, token: str, tmp_path: Path, home: Path
) -> None:
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(3))
    log = tmp_path / "watch.log"
    env = cli_env(token, HOME=str(home), TMPDIR=str(home / "tmp"))
    with log.open("wb") as out:
        proc = spawn_cli(
            "-C", str(project.dir), "-v", "watch", env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            try:
                wait_until(lambda: bound_agent_id(project) > 0, timeout=30, what="watch to bind")
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n--- watch output\n{log.read_text()}") from exc
            (project.root / "pkg0" / "helper_00.py").write_text("VALUE = 7\n")
            wait_until(lambda: len(log.read_bytes()) > 0, timeout=10, what="watch output")
        finally:
            code = stop_process(proc, sig=signal.SIGINT)
    assert code == 130, log.read_text()
    assert not leaks(log.read_text(errors="replace"), token)
    assert files_leaking(tmp_path, token) == []


# ---------------------------------------------------------------- where the token may travel


@pytest.mark.parametrize(
    "how", ["config", "flag", "env"], ids=["mlarena.yaml", "--server", "MLARENA_SERVER"]
)
def test_plain_http_to_another_host_is_refused(
    arena: FakeArena,
    token: str,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    remote = "http://arena.example.invalid"  # .invalid never resolves: no packet can leave
    project = make_project(tmp_path, remote if how == "config" else arena.url, "faults")
    args = ["-C", str(project.dir)]
    if how == "flag":
        args += ["--server", remote]
    if how == "env":
        monkeypatch.setenv("MLARENA_SERVER", remote)
    res = cli(*args, "push")
    assert_clear_error(res, 2, "http", "arena.example.invalid")
    assert not arena.counters


class _Recorder(BaseHTTPRequestHandler):
    """Records (path, Authorization) of every request; answers per the server's ``reply``."""

    def _handle(self) -> None:
        server: Any = self.server
        server.seen.append((self.command, self.path, self.headers.get("Authorization")))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, headers, body = server.reply(self)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


Reply = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


@pytest.fixture
def tiny_server() -> Iterator[Callable[[Reply], Any]]:
    servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(reply: Reply) -> Any:
        server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        server.daemon_threads = True
        server.seen = []
        server.reply = reply
        server.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return server

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_redirects_are_not_followed(
    token: str, cli: Cli, tmp_path: Path, home: Path, tiny_server: Callable[[Reply], Any]
) -> None:
    elsewhere = tiny_server(lambda h: (200, {"Content-Type": "application/json"}, b"{}"))
    redirector = tiny_server(lambda h: (302, {"Location": f"{elsewhere.url}{h.path}"}, b""))
    project = make_project(tmp_path, redirector.url, "faults")
    res = cli("-C", str(project.dir), "push")
    assert res.code in (1, 2), res.text  # a server error, or a config one (the server URL)
    assert_clear_error(res, res.code, "redirect", "server")
    assert not leaks(res.text, token)
    assert redirector.seen, "the client never reached the redirecting server"
    assert elsewhere.seen == [], f"the redirect was followed: {elsewhere.seen}"


@pytest.mark.api("v0")  # signed game-log URLs are v0's; v4.6 serves run stdout in the runs
def test_game_log_fetch_sends_no_token(
    arena: FakeArena, token: str, tiny_server: Callable[[Reply], Any]
) -> None:
    logs = tiny_server(lambda h: (200, {"Content-Type": "text/plain"}, b"episode 1: reward 9\n"))
    with ArenaClient(arena.url, token) as client:
        text = client.game_log(f"{logs.url}/bucket/game-1.log?X-Signature=abc")
    assert "reward 9" in text
    assert logs.seen and all(auth is None for _m, _p, auth in logs.seen), logs.seen


class _AuthRecorder:
    """WSGI wrapper around the fake arena's app: records Authorization per path."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str | None]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.seen.append((environ.get("PATH_INFO", ""), environ.get("HTTP_AUTHORIZATION")))
        return self.app(environ, start_response)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)


@pytest.mark.api("v0")  # signed game-log URLs are v0's; v4.6 serves run stdout in the runs
def test_logs_games_sends_no_token_to_signed_urls(
    api_generation: Generation, token: str, cli: Cli, tmp_path: Path, home: Path
) -> None:
    own = FakeArena(tmp_path / "arena-data", api=api_generation, queue_seconds=0.05)
    recorder = _AuthRecorder(own.app)
    own.app = recorder  # type: ignore[assignment]
    own.start("127.0.0.1", 0)
    try:
        project = make_project(tmp_path, own.url, "faults", files=small_tree(2))
        assert cli("-C", str(project.dir), "push", "--wait").code == 0
        res = cli("-C", str(project.dir), "logs", "--games")
        assert res.code == 0, res.text
    finally:
        own.stop()
    game_fetches = [auth for path, auth in recorder.seen if path.startswith("/_games/")]
    assert game_fetches, "logs --games fetched no signed game log"
    assert all(auth is None for auth in game_fetches), "the token went to a signed_url"
    assert all(auth for path, auth in recorder.seen if path.startswith("/api/direct"))
