"""A lost ``.mlarena-sync/`` must not quietly make a twin agent (M2); a bound agent that cannot be
found says where the binding came from and how to go on (m8)."""

from __future__ import annotations

import shutil

import pytest
from helpers.arena import delete_agent, hits, routes
from helpers.cli import Cli, in_project, push_ok
from helpers.project import Project, write_config

from mlarena_sync.arena import FakeArena
from mlarena_sync.arena.seed import BOB
from mlarena_sync.store.state import server_key


def _push_bound_by_state_only(cli: Cli, project: Project, *flags: str) -> int:
    """A first push, then mlarena.yaml as it was (the pin the push wrote is dropped: the binding
    lives in .mlarena-sync/ only, as for a user who did not keep the pinned file)."""
    name_only = project.config.read_text()
    aid = push_ok(cli, project, *flags)
    project.config.write_text(name_only)
    return aid


def test_a_created_agent_is_pinned_in_mlarena_yaml_and_said_once(
    cli: Cli, project: Project
) -> None:
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    aid = project.agent_id()
    assert f"created agent {aid} and pinned it in mlarena.yaml (id: {aid})" in res.out
    assert f"  id: {aid}\n" in project.config.read_text()
    again = cli(*in_project(project, "push", "--no-deploy"))
    assert "pinned" not in again.out, "said once, when the agent is created"


def test_a_file_it_cannot_edit_surely_gets_the_hint_instead(cli: Cli, project: Project) -> None:
    text = project.config.read_text().replace("agent:\n", "agent: &mine\n")  # an anchor
    project.config.write_text(text)
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    aid = project.agent_id()
    assert f"created agent {aid}; pin it with `agent: {{id: {aid}}}` in mlarena.yaml" in res.out
    assert project.config.read_text() == text, "the user's file is left byte for byte"


def test_a_lost_state_folder_refuses_to_create_a_twin_of_a_listed_agent(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    aid = _push_bound_by_state_only(cli, project, "--wait")  # deployed: on the leaderboard
    shutil.rmtree(project.dir / ".mlarena-sync")
    arena.reset_counters()
    res = cli(*in_project(project, "push"))
    assert res.code == 2, res.text
    assert (
        f"an agent named 'cli-agent' already exists in competition 1 (id {aid}): set "
        f"`agent: {{id: {aid}}}` in mlarena.yaml, or pass --force to create another"
    ) in res.err
    assert hits(arena.counters, routes(arena).create) == 0
    plan = cli(*in_project(project, "plan"))
    assert plan.code == 2 and plan.err == res.err, "plan says what push would do"
    assert cli(*in_project(project, "plan", "--force")).code == 0
    forced = cli(*in_project(project, "push", "--no-deploy", "--force"))
    assert forced.code == 0, forced.text
    assert hits(arena.counters, routes(arena).create) == 1
    assert project.agent_id() != aid


def test_an_equivalent_server_url_keeps_the_binding(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    aid = push_ok(cli, project)
    host_port = arena.url.removeprefix("http://")
    write_config(project.dir, f"HTTP://{host_port}/")
    arena.reset_counters()
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 0, res.text
    assert hits(arena.counters, routes(arena).create) == 0
    assert project.agent_id() == aid


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://ML-Arena.com:443/", "https://ml-arena.com"),
        ("HTTP://127.0.0.1:80", "http://127.0.0.1"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://example.org:8443/api/", "https://example.org:8443/api"),
        ("http://[::1]:5000", "http://[::1]:5000"),
        ("http://localhost:5000", "http://localhost:5000"),  # not equated with 127.0.0.1
    ],
)
def test_server_key_normalises_the_url(url: str, key: str) -> None:
    assert server_key(url) == key


def test_another_users_token_in_a_bound_folder_says_where_the_binding_is(
    cli: Cli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    aid = _push_bound_by_state_only(cli, project)
    monkeypatch.setenv("MLARENA_API_KEY", BOB.token)
    res = cli(*in_project(project, "status"))
    assert res.code == 4, res.text  # permission refused (issue 12), not a failure
    assert f"agent {aid} (bound in .mlarena-sync/) was bound with the token" in res.err
    assert "it is another user's agent" in res.err
    assert "set MLARENA_API_KEY to the owner's token" in res.err
    assert "remove it (and .mlarena-sync/)" not in res.err


def test_a_missing_agent_id_in_the_config_points_at_agent_id(cli: Cli, project: Project) -> None:
    text = project.config.read_text().replace("agent:\n", "agent:\n  id: 4242\n")
    project.config.write_text(text)
    res = cli(*in_project(project, "plan"))
    assert res.code == 1, res.text
    assert "agent 4242 (the `id:` under `submission:` in mlarena.yaml) was not found" in res.err
    assert "check `challenge:` and the `id:` under `submission:`" in res.err
    assert "--force" not in res.err


def test_push_force_replaces_a_state_binding_whose_agent_was_deleted(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    aid = _push_bound_by_state_only(cli, project)
    delete_agent(arena, token, aid).raise_for_status()
    res = cli(*in_project(project, "push", "--no-deploy"))
    assert res.code == 1, res.text
    assert f"agent {aid} (bound in .mlarena-sync/) was deleted on the server" in res.err
    forced = cli(*in_project(project, "push", "--no-deploy", "--force"))
    assert forced.code == 0, forced.text
    assert project.agent_id() != aid
