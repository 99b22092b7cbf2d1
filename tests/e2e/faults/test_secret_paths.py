"""The token's secret never printed, uploaded or handed to a command (issue 15, items 9-11).

- a token pasted as ``api_key_env:``'s value, or given as ``--api-key-file``'s path, is refused
  as such (exit 2) without being echoed, on stderr and in ``--json``;
- the secrets guard refuses a file holding the secret part of the user's token alone, or any
  token-shaped string (another user's token);
- ``deploy.check`` runs without ``MLARENA_API_KEY`` (nor the variable ``api_key_env`` names, nor
  any token-shaped value) in its environment.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.arena import hits, routes
from helpers.checks import assert_clear_error
from helpers.cli import Cli, in_project
from helpers.project import make_project, small_tree

from mlarena_sync.arena import FakeArena

CONFIG_ERROR = 2
CHECK_REFUSED = 5


def _secret(token: str) -> str:
    return token.split("_", 3)[3]


@pytest.mark.parametrize("json_mode", [False, True], ids=["human", "json"])
@pytest.mark.parametrize("lookup", ["alice01", "alice-01"])
def test_a_token_pasted_as_api_key_env_is_refused_unechoed(
    arena: FakeArena, cli: Cli, tmp_path: Path, json_mode: bool, lookup: str
) -> None:
    pasted = f"mlk_user_{lookup}_fake_alice_0123456789abcdef"
    project = make_project(tmp_path, arena.url, "cli", extra=f"api_key_env: {pasted}\n")
    args = ["--json"] if json_mode else []
    res = cli(*args, *in_project(project, "push", "--no-deploy"))
    assert_clear_error(res, CONFIG_ERROR, "api_key_env", "looks like an API token")
    assert _secret(pasted) not in res.text
    assert pasted not in res.text
    assert "fake_alice" not in res.text
    if json_mode:
        assert '"exit_code": 2' in res.out
    assert hits(arena.counters, routes(arena).create) == 0


def test_a_token_given_as_api_key_file_is_refused_unechoed(
    arena: FakeArena, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "cli")
    res = cli(*in_project(project, "push", "--api-key-file", arena.user_token))
    assert_clear_error(res, CONFIG_ERROR, "--api-key-file", "looks like an API token")
    assert _secret(arena.user_token) not in res.text


def test_the_secret_part_alone_is_never_uploaded(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    files = {**small_tree(2), "pkg0/creds.py": f"SECRET = '{_secret(token)}'\n".encode()}
    project = make_project(tmp_path, arena.url, "cli", files=files)
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert_clear_error(res, CONFIG_ERROR, "creds.py", "secret part", lines=2)
    assert _secret(token) not in res.text
    assert hits(arena.counters, routes(arena).file) == 0


def test_any_token_shaped_string_is_never_uploaded(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    """Bob's token in alice's folder: not her credential, still a credential."""
    files = {**small_tree(2), "pkg1/bob.py": f"KEY = '{arena.other_token}'\n".encode()}
    project = make_project(tmp_path, arena.url, "cli", files=files)
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert_clear_error(res, CONFIG_ERROR, "bob.py", "API token", lines=2)
    assert _secret(arena.other_token) not in res.text
    assert hits(arena.counters, routes(arena).file) == 0


ENV_PROBE = """\
import os, sys
leaks = sorted(
    k for k, v in os.environ.items()
    if k in ("MLARENA_API_KEY", "MY_ARENA_KEY") or "mlk_" in v
)
print("leaked:", leaks)
sys.exit(1 if leaks else 0)
"""


@pytest.mark.parametrize("variable", ["MLARENA_API_KEY", "MY_ARENA_KEY"])
def test_the_check_never_sees_the_token(
    arena: FakeArena,
    token: str,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    extra = f"api_key_env: {variable}\n" if variable != "MLARENA_API_KEY" else ""
    monkeypatch.setenv(variable, token)
    monkeypatch.setenv("UNRELATED_COPY", token)  # a token-shaped value under another name
    project = make_project(
        tmp_path, arena.url, "cli", files=small_tree(2), check="python ../probe.py", extra=extra
    )
    (project.dir / "probe.py").write_text(ENV_PROBE)  # beside the synced folder: not uploaded
    res = cli(*in_project(project, "push"))
    assert res.code != CHECK_REFUSED, f"the check saw the token:\n{res.text}"
    assert res.code == 0, res.text
    assert "leaked: []" in res.text, res.text
    assert arena.deploy_count(project.agent_id() or 0) == 1
