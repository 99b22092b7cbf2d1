"""Exit codes as README's table says (issue 12): a competition that is not there is a usage error
(2, naming the id); another user's agent is a permission refused (4), not a failure (1)."""

from __future__ import annotations

import pytest
from helpers.cli import Cli
from helpers.project import Project, write_config

from mlarena_sync.arena import FakeArena
from mlarena_sync.arena.seed import BOB_AGENT_ID

COMMANDS = (("push",), ("plan",), ("status",))


def _competition(project: Project, cid: int) -> None:
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text.replace("competition: 1\n", f"competition: {cid}\n"))


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_missing_competition_exits_2_naming_it(
    cli: Cli, project: Project, command: tuple[str, ...]
) -> None:
    _competition(project, 999)
    res = cli("-C", str(project.dir), *command)
    assert res.code == 2, res.err
    assert "challenge 999 was not found" in res.err


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_missing_competition_of_a_bound_agent_exits_2(
    cli: Cli, project: Project, command: tuple[str, ...]
) -> None:
    assert cli("-C", str(project.dir), "push", "--no-deploy").code == 0
    _competition(project, 999)
    res = cli("-C", str(project.dir), *command)
    assert res.code == 2, res.err
    assert "challenge 999 was not found" in res.err


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_agent_bound_by_another_user_exits_4(
    cli: Cli,
    project: Project,
    arena: FakeArena,
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
) -> None:
    assert cli("-C", str(project.dir), "push", "--no-deploy").code == 0  # bound by alice
    monkeypatch.setenv("MLARENA_API_KEY", arena.other_token)  # bob's token on her folder
    res = cli("-C", str(project.dir), *command)
    assert res.code == 4, res.err
    assert "another user's agent" in res.err
    assert arena.other_token not in res.err + res.out


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_another_users_agent_on_the_leaderboard_exits_4(
    cli: Cli, project: Project, arena: FakeArena, command: tuple[str, ...]
) -> None:
    write_config(project.dir, arena.url, agent_id=BOB_AGENT_ID)  # bob's, as alice
    res = cli("-C", str(project.dir), *command)
    assert res.code == 4, res.err
    assert f"agent {BOB_AGENT_ID}" in res.err and "bob's agent" in res.err


def test_an_agent_missing_for_its_owner_still_exits_1(cli: Cli, project: Project) -> None:
    write_config(project.dir, project.url, agent_id=4242)
    res = cli("-C", str(project.dir), "status")
    assert res.code == 1, res.err
    assert "agent 4242" in res.err


def test_a_server_without_scheme_says_what_to_write(cli: Cli, project: Project) -> None:
    for given in ("arena.example.org", "arena.example.org:443"):
        res = cli("-C", str(project.dir), "--server", given, "status")
        assert res.code == 2, res.err
        assert f"write https://{given}" in res.err


def test_a_url_with_credentials_and_no_scheme_is_not_echoed(cli: Cli, project: Project) -> None:
    res = cli("-C", str(project.dir), "--server", "bob:s3cr3tpass@arena.example.org", "status")
    assert res.code == 2, res.err
    assert "s3cr3tpass" not in res.text


def test_usage_errors_exit_2(cli: Cli, project: Project) -> None:
    for argv in (["psuh"], ["push", "--wiat"], ["--api", "v5", "status"], ["logs", "--limit", "x"]):
        res = cli("-C", str(project.dir), *argv)
        assert (res.code, res.out) == (2, ""), (argv, res.err)
        assert "mlarena-sync" in res.err and "error:" in res.err
