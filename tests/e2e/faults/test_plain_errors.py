"""Errors that say what to do, through the CLI on both API generations: a server that cannot be
reached (where, why, what to check), and a server speaking another API generation than the one
asked for (exit 2, the hint naming what asked for it: ``--api``, ``MLARENA_API``, ``api:`` in
mlarena.yaml, or the generation remembered in ``.mlarena-sync/``)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from helpers.checks import assert_clear_error, pushed_project
from helpers.cli import Cli, in_project
from helpers.project import small_tree

from mlarena_sync.arena import FakeArena

CONFIG_ERROR = 2
FAILED = 1


def _other(arena: FakeArena) -> str:
    return "v0" if arena.api == "v4.6" else "v4.6"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _no_jargon(err: str) -> None:
    assert "_Connection" not in err and "Errno" not in err and "404: " not in err, err
    assert "binding" not in err and "((" not in err, err


def test_a_server_that_is_not_running_is_said_plainly(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project, _ = pushed_project(cli, tmp_path, arena.url, small_tree(1))
    url = f"http://127.0.0.1:{_free_port()}"
    for command in ("status", "push"):
        res = cli(*in_project(project, "--server", url, command))
        assert_clear_error(
            res,
            FAILED,
            f"could not connect to {url}: connection refused",
            "is the server running? check --server / MLARENA_SERVER / server: in mlarena.yaml",
        )
        _no_jargon(res.err)
    res = cli(*in_project(project, "-v", "--server", url, "status"))
    assert "Connection refused" in res.err  # the details stay for -v


def test_api_flag_naming_the_other_generation(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project, _ = pushed_project(cli, tmp_path, arena.url, small_tree(1))
    other = _other(arena)
    res = cli(*in_project(project, "--api", other, "status"))
    assert_clear_error(
        res,
        CONFIG_ERROR,
        f"the server at {arena.url} does not speak the {other} API that --api {other} asks for",
        f"leave out --api: auto detects the server's API; or pass --api {arena.api}",
    )
    assert "mlarena.yaml" not in res.err  # the file says auto: the flag caused it
    _no_jargon(res.err)
    json_line = cli(*in_project(project, "--json", "--api", other, "status")).json_lines()[-1]
    assert json_line["event"] == "error" and json_line["exit_code"] == CONFIG_ERROR


def test_mlarena_api_variable_naming_the_other_generation(
    arena: FakeArena,
    token: str,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, _ = pushed_project(cli, tmp_path, arena.url, small_tree(1))
    other = _other(arena)
    monkeypatch.setenv("MLARENA_API", other)
    res = cli(*in_project(project, "push"))
    assert_clear_error(
        res,
        CONFIG_ERROR,
        f"MLARENA_API={other} asks for",
        f"unset MLARENA_API: auto detects the server's API; or set it to {arena.api}",
    )


def test_api_in_the_file_naming_the_other_generation(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project, _ = pushed_project(cli, tmp_path, arena.url, small_tree(1))
    other = _other(arena)
    config = project.dir / "mlarena.yaml"
    config.write_text(config.read_text(encoding="utf-8") + f"api: {other}\n", encoding="utf-8")
    res = cli(*in_project(project, "status"))
    assert_clear_error(
        res,
        CONFIG_ERROR,
        f"`api: {other}` in mlarena.yaml asks for",
        f"set `api:` in mlarena.yaml to `auto`: it detects the server's API; or to `{arena.api}`",
    )


def test_a_stale_remembered_generation_names_the_file_to_delete(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project, _ = pushed_project(cli, tmp_path, arena.url, small_tree(1))
    remembered = project.dir / ".mlarena-sync" / "api.json"
    known = json.loads(remembered.read_text(encoding="utf-8"))
    assert list(known.values()) == [arena.api]
    remembered.write_text(json.dumps({k: _other(arena) for k in known}), encoding="utf-8")
    res = cli(*in_project(project, "status"))
    assert_clear_error(
        res,
        CONFIG_ERROR,
        f"no longer speaks the {_other(arena)} API",
        "delete .mlarena-sync/api.json and run again",
    )
    remembered.unlink()
    assert cli(*in_project(project, "status")).code == 0


def test_a_malformed_key_file_is_named_in_the_hint(
    arena: FakeArena,
    token: str,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, _ = pushed_project(cli, tmp_path, arena.url, small_tree(1))
    (project.dir / "k.txt").write_text("mlk_user_bad\n", encoding="utf-8")
    monkeypatch.chdir(project.dir)
    res = cli(*in_project(project, "--api-key-file", "k.txt", "status"))
    assert_clear_error(res, 4, "is malformed", "hint: fix k.txt: it must hold only the full")
    assert "MLARENA_API_KEY" not in res.err  # the token did not come from there
    monkeypatch.setenv("MLARENA_API_KEY", "garbage")
    res = cli(*in_project(project, "status"))
    assert_clear_error(res, 4, "from MLARENA_API_KEY is malformed", "set MLARENA_API_KEY to")


def test_a_refused_token_is_checked_where_it_came_from(
    arena: FakeArena,
    token: str,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, _ = pushed_project(cli, tmp_path, arena.url, small_tree(1))
    (project.dir / "k.txt").write_text("mlk_user_nobody_not_a_secret\n", encoding="utf-8")
    monkeypatch.chdir(project.dir)
    res = cli(*in_project(project, "--api-key-file", "k.txt", "status"))
    assert_clear_error(res, 4, "refused the api token", "hint: check k.txt: ")
    monkeypatch.setenv("MLARENA_API_KEY", "mlk_user_nobody_not_a_secret")
    res = cli(*in_project(project, "status"))
    assert_clear_error(res, 4, "refused the api token", "hint: check MLARENA_API_KEY: ")
