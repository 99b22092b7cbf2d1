"""Bad-input matrix: each bad input gives one clear line naming the fix, the documented exit
code (docs/product.md), no traceback, and no request that changes anything on the arena."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.arena import delete_agent, mutations, remote_bytes, remote_files
from helpers.checks import (
    CODE_COMPETITION,
    FILE_COMPETITION,
    UNPRIVILEGED,
    assert_clear_error,
    bound_agent_id,
    can_drop_read_override,
)
from helpers.cli import Cli, push, push_args
from helpers.processes import cli_env, run_process
from helpers.project import local_selection, make_project, small_tree

from mlarena_sync.arena import FakeArena

CONFIG_ERROR = 2
CONFLICT = 3
AUTH_ERROR = 4
FAILED = 1
MB = 1024 * 1024


def assert_untouched(arena: FakeArena) -> None:
    changed = mutations(arena.counters)
    assert not changed, f"requests that change the arena were sent: {changed}"


# ---------------------------------------------------------------- mlarena.yaml


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new)

    return edit


YAML_CASES = [
    # id, edit of the config text, needles of the error line
    ("malformed-yaml", _replace("competition: 1", "competition: [1"), ["mlarena.yaml"]),
    ("unknown-top-key", lambda t: t + "colour: blue\n", ["mlarena.yaml:", "colour"]),
    (
        "unknown-nested-key",
        _replace("  max_delete: 5", "  max_delete: 5\n  max_deletes: 3"),
        ["@max_deletes", "sync.max_deletes"],
    ),
    (
        "wrong-type-count",
        _replace("  max_delete: 5", "  max_delete: many"),
        ["@max_delete:", "sync.max_delete"],
    ),
    ("wrong-type-id", _replace("competition: 1", "competition: first"), ["competition"]),
    ("wrong-type-bool", _replace("  delete: true", "  delete: sometimes"), ["sync.delete"]),
    ("bad-mode", _replace("  mode: safe", "  mode: yolo"), ["sync.mode", "safe", "replica"]),
    ("no-agent", _replace("  name: faults-agent", ""), ["agent"]),
    ("missing-root", _replace("  root: agent", "  root: nowhere"), ["files.root"]),
    ("version-2", lambda t: t.replace("version: 1", "version: 2"), ["version"]),
]


def _at_line(text: str, needle: str) -> str:
    """``@key`` → ``mlarena.yaml:<line of key>:`` (the error must point at the line)."""
    if not needle.startswith("@"):
        return needle
    key = needle[1:]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.strip().startswith(key))
    return f"mlarena.yaml:{line}:"


@pytest.mark.parametrize(
    ("edit", "needles"), [c[1:] for c in YAML_CASES], ids=[c[0] for c in YAML_CASES]
)
def test_bad_config_is_one_line_exit_2(
    arena: FakeArena,
    token: str,
    cli: Cli,
    tmp_path: Path,
    edit: Callable[[str], str],
    needles: list[str],
) -> None:
    project = make_project(tmp_path, arena.url, "faults")
    text = edit(project.config.read_text())
    project.config.write_text(text)
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, *(_at_line(text, n) for n in needles))
    assert_untouched(arena)


def test_token_in_config_is_refused_without_echoing_it(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "faults")
    project.config.write_text(project.config.read_text() + f"api_key: {token}\n")
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, "api_key", "MLARENA_API_KEY")
    assert token not in res.text
    assert token.split("_", 3)[3] not in res.text
    assert_untouched(arena)


# ---------------------------------------------------------------- token


def test_missing_token(
    arena: FakeArena, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path, arena.url, "faults")
    monkeypatch.delenv("MLARENA_API_KEY", raising=False)
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, "MLARENA_API_KEY")
    assert_untouched(arena)


def test_missing_token_named_by_api_key_env(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "faults", extra="api_key_env: TEAM_ARENA_KEY\n")
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, "TEAM_ARENA_KEY")
    assert_untouched(arena)


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ("mlk_user_only", "malformed"),
        ("not-a-token-at-all", "malformed"),
        ("mlk_user_alice01_fake alice", "malformed"),
    ],
    ids=["three-parts", "no-prefix", "space-in-secret"],
)
def test_malformed_token_exit_4_not_echoed(
    arena: FakeArena,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bad: str,
    needle: str,
) -> None:
    project = make_project(tmp_path, arena.url, "faults")
    monkeypatch.setenv("MLARENA_API_KEY", bad)
    res = push(cli, project)
    assert_clear_error(res, AUTH_ERROR, needle)
    assert bad not in res.text
    assert_untouched(arena)
    assert not arena.counters, "a malformed token must not even be sent"


def test_wrong_scope_token_exit_4(
    arena: FakeArena, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path, arena.url, "faults")
    monkeypatch.setenv("MLARENA_API_KEY", arena.creator_token)
    res = push(cli, project)
    assert_clear_error(res, AUTH_ERROR, "scope")
    assert arena.creator_token not in res.text
    assert_untouched(arena)


def test_revoked_token_exit_4(
    arena: FakeArena, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path, arena.url, "faults")
    seeded = set(arena.store.agents)
    revoked = "mlk_user_alice01_revoked_0123456789abcdef"
    monkeypatch.setenv("MLARENA_API_KEY", revoked)
    res = push(cli, project)
    assert_clear_error(res, AUTH_ERROR, "MLARENA_API_KEY")
    assert "revoked_0123456789abcdef" not in res.text
    # A revoked token cannot be told from a good one without a request: the first one may be
    # the create-agent POST, which the arena refuses (401). Nothing may have changed.
    assert set(arena.store.agents) == seeded, "an agent was created with a revoked token"


# ---------------------------------------------------------------- server-side references


def test_unknown_competition(arena: FakeArena, token: str, cli: Cli, tmp_path: Path) -> None:
    project = make_project(tmp_path, arena.url, "faults", competition=999)
    res = push(cli, project)
    # a configuration error (5cc93ff, issue 12): `competition:` names no competition there
    assert_clear_error(res, CONFIG_ERROR, "challenge 999", "`challenge:`")
    assert_untouched(arena)


def test_hidden_competition(arena: FakeArena, token: str, cli: Cli, tmp_path: Path) -> None:
    project = make_project(tmp_path, arena.url, "faults", competition=3)
    res = push(cli, project)
    assert res.code in (CONFIG_ERROR, AUTH_ERROR), res.text
    assert_clear_error(res, res.code, "challenge 3")
    assert_untouched(arena)


@pytest.mark.parametrize(
    "runtime",
    [
        "runtime:\n  language: cobol\n",
        "runtime:\n  framework: tensorflow\n",
        "runtime:\n  id: 99\n",
        "runtime:\n  id: 3\n",  # exists, but for the csv engine: not this competition's
    ],
    ids=["language", "framework", "id", "other-engine"],
)
def test_unknown_runtime_creates_nothing(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, runtime: str
) -> None:
    project = make_project(tmp_path, arena.url, "faults", extra=runtime)
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, "runtime")
    assert_untouched(arena)


def test_agent_deleted_remotely(arena: FakeArena, token: str, cli: Cli, tmp_path: Path) -> None:
    project = make_project(tmp_path, arena.url, "faults")
    assert push(cli, project).code == 0
    aid = bound_agent_id(project)
    resp = delete_agent(arena, token, aid, CODE_COMPETITION)
    assert resp.status_code == 200, resp.text
    (project.root / "agent.py").write_text(
        "class Agent:\n    def predict(self, o):\n        return 1\n"
    )
    arena.reset_counters()
    res = push(cli, project)
    assert_clear_error(res, FAILED, "agent", str(aid))
    assert_untouched(arena)


def test_bound_agent_id_of_someone_else(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    # agent 1 is bob's, on the leaderboard: a permission refused (5cc93ff, issue 12), naming
    # the owner and the fix
    project = make_project(tmp_path, arena.url, "faults", name=None, agent_id=1)
    res = push(cli, project)
    assert_clear_error(res, AUTH_ERROR, "agent 1", "bob", "MLARENA_API_KEY")
    assert_untouched(arena)


# ---------------------------------------------------------------- the local selection


def test_oversize_file(arena: FakeArena, token: str, cli: Cli, tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        arena.url,
        "faults",
        competition=FILE_COMPETITION,
        files={"submission.csv": "id,prediction\n1,1\n"},
    )
    with (project.root / "big.bin").open("wb") as out:  # sparse: cheap to make
        out.truncate(10 * MB + 1)
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, "big.bin", lines=2)
    assert_untouched(arena)


def test_too_many_files(arena: FakeArena, token: str, cli: Cli, tmp_path: Path) -> None:
    files = {"submission.csv": "id,prediction\n1,1\n"}
    files.update({f"extra{i}.txt": f"{i}\n" for i in range(5)})  # 6 files, the limit is 5
    project = make_project(tmp_path, arena.url, "faults", competition=FILE_COMPETITION, files=files)
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, "6", "5", lines=2)
    assert_untouched(arena)


def test_unsafe_names_all_reported(arena: FakeArena, token: str, cli: Cli, tmp_path: Path) -> None:
    tree: dict[str, bytes | str] = dict(small_tree(2))
    tree.update({"my file.py": "x = 1\n", "naïve.py": "x = 2\n", "a+b.py": "x = 3\n"})
    project = make_project(tmp_path, arena.url, "faults", files=tree)
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, "my file.py", "naïve.py", "a+b.py", lines=4)
    assert_untouched(arena)


def test_non_utf8_file_name(arena: FakeArena, token: str, cli: Cli, tmp_path: Path) -> None:
    project = make_project(tmp_path, arena.url, "faults")
    bad = os.fsencode(str(project.root)) + b"/caf\xe9.py"
    with open(bad, "wb") as out:
        out.write(b"x = 1\n")
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, "caf", lines=2)
    assert_untouched(arena)


def test_name_collision(arena: FakeArena, token: str, cli: Cli, tmp_path: Path) -> None:
    tree: dict[str, bytes | str] = dict(small_tree(2))
    tree.update({"a/util.py": "A = 1\n", "b/util.py": "B = 1\n"})
    project = make_project(tmp_path, arena.url, "faults", files=tree)
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, "a/util.py", "b/util.py", "util.py", lines=2)
    assert_untouched(arena)


def test_symlink_outside_the_folder(arena: FakeArena, token: str, cli: Cli, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "stolen.py").write_text("SECRET = 'do not upload'\n")
    project = make_project(tmp_path, arena.url, "faults")
    (project.root / "stolen.py").symlink_to(outside / "stolen.py")
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, "stolen.py", lines=2)
    assert_untouched(arena)


def test_symlinked_folder_outside(arena: FakeArena, token: str, cli: Cli, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "creds.py").write_text("KEY = 1\n")
    project = make_project(tmp_path, arena.url, "faults")
    (project.root / "linked").symlink_to(outside, target_is_directory=True)
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, "linked", lines=2)
    assert_untouched(arena)


def test_unreadable_file(arena: FakeArena, tmp_path: Path) -> None:
    """chmod 000 stops reads only without CAP_DAC_OVERRIDE: as root (CI), the CLI runs under
    ``setpriv`` with that capability dropped, so the file really is unreadable to it."""
    project = make_project(tmp_path, arena.url, "faults")
    locked = project.root / "locked.py"
    locked.write_text("X = 1\n")
    locked.chmod(0)
    prefix: list[str] = []
    if os.geteuid() == 0:
        assert can_drop_read_override(), "running as root without setpriv: cannot test this"
        prefix = UNPRIVILEGED
    try:
        res = run_process(push_args(project), cli_env(arena.user_token), prefix=prefix)
    finally:
        locked.chmod(0o644)
    assert_clear_error(res, CONFIG_ERROR, "locked.py", lines=2)
    assert_untouched(arena)


def test_root_reads_chmod_000_file_and_syncs_it(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    """The root behaviour, stated honestly: chmod 000 does not stop root, so the file syncs."""
    if os.geteuid() != 0:
        pytest.skip("only meaningful as root (non-root: test_unreadable_file covers it)")
    project = make_project(tmp_path, arena.url, "faults")
    locked = project.root / "locked.py"
    locked.write_text("X = 1\n")
    locked.chmod(0)
    try:
        res = push(cli, project)
    finally:
        locked.chmod(0o644)
    assert res.code == 0, res.text
    remote = remote_files(arena, token, bound_agent_id(project))
    assert remote["locked.py"]["content"] == "X = 1\n"


def test_non_utf8_content_syncs_as_binary(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    tree: dict[str, bytes | str] = dict(small_tree(2))
    tree["notes.txt"] = "café latin-1\n".encode("latin-1")
    tree["weights.bin"] = bytes(range(256)) * 8
    tree["nul.py"] = b"X = 1\x00\n"
    project = make_project(tmp_path, arena.url, "faults", files=tree)
    res = push(cli, project)
    assert res.code == 0, res.text
    assert "Traceback" not in res.text
    aid = bound_agent_id(project)
    remote = remote_files(arena, token, aid)
    local = local_selection(project.root)
    for name in ("notes.txt", "weights.bin", "nul.py"):
        assert remote[name]["is_binary"] is True, name
        assert remote[name]["size"] == len(local[name]), name
        assert remote_bytes(arena, aid, name, token) == local[name], name
    arena.reset_counters()
    again = push(cli, project)
    assert again.code == 0, again.text
    assert_untouched(arena)  # binary files remembered by the base: no re-upload


def test_empty_folder(arena: FakeArena, token: str, cli: Cli, tmp_path: Path) -> None:
    project = make_project(tmp_path, arena.url, "faults", files={})
    res = push(cli, project)
    assert_clear_error(res, CONFIG_ERROR, "no files", "files.root")
    assert_untouched(arena)


def test_emptied_bound_folder_hits_the_delete_cap(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(9), max_delete=3)
    assert push(cli, project).code == 0
    for path in list(project.root.rglob("*")):
        if path.is_file():
            path.unlink()
    arena.reset_counters()
    res = push(cli, project)
    assert_clear_error(res, CONFLICT, "--force", lines=12)
    assert_untouched(arena)
