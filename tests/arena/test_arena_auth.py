"""Tokens and scopes, public reads, hidden competitions, unknown routes."""

from __future__ import annotations

import pytest
from arena_helpers import Api

from mlarena_sync.arena import FakeArena
from mlarena_sync.arena.auth import parse_token

STATUS = "/api/direct_attache_agents/competition/1/1/status"


def test_parse_token_splits_on_the_first_three_underscores() -> None:
    assert parse_token("mlk_user_abc_se_cr_et") == ("user", "abc", "se_cr_et")
    assert parse_token("mlk_user_abc") is None
    assert parse_token("xyz_user_abc_secret") is None
    assert parse_token("mlk__abc_secret") is None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer ",
        "Token mlk_user_alice01_fake_alice_0123456789abcdef",
        "Bearer mlk_user_alice01_wrong",
        "Bearer mlk_user_nobody_fake_alice_0123456789abcdef",
        "Bearer mlk_creator_alice01_fake_alice_0123456789abcdef",  # scope not the token's own
        "Bearer not-a-token",
    ],
)
def test_missing_or_invalid_token_is_401(arena: FakeArena, header: str | None) -> None:
    api = Api(arena.url, None)
    try:
        headers = {"Authorization": header} if header is not None else {}
        resp = api.request("GET", STATUS, headers=headers)
        assert resp.status_code == 401
        assert "error" in resp.json()
    finally:
        api.close()


def test_wrong_scope_is_403(arena: FakeArena) -> None:
    api = Api(arena.url, arena.creator_token)
    try:
        resp = api.request(
            "POST", "/api/direct_attache_agents/competition/1", json={"agent_name": "x"}
        )
        assert resp.status_code == 403
        assert "'user' scope" in resp.json()["error"]
    finally:
        api.close()


def test_someone_elses_agent_is_404_everywhere(alice: Api, bob: Api) -> None:
    aid = alice.ready_agent()
    for method, path in [
        ("GET", bob.agent_path(1, aid, "/status")),
        ("GET", bob.agent_path(1, aid, "/file")),
        ("GET", bob.agent_path(1, aid, "/file/agent.py/content")),
        ("PUT", bob.agent_path(1, aid, "/deploy")),
        ("GET", bob.agent_path(1, aid, "/deploy")),
        ("GET", f"/api/direct_attache_agents/agent/{aid}/games"),
        ("GET", f"/api/direct_attache_agents/agent_runtime/{aid}"),
    ]:
        resp = bob.request(method, path)
        assert resp.status_code == 404, (method, path)
        assert resp.json() == {"error": "Agent not found"}
    assert bob.request("GET", bob.agent_path(1, 9999, "/status")).json() == {
        "error": "Agent not found"
    }
    assert alice.request("GET", alice.agent_path(2, aid, "/status")).status_code == 404
    assert bob.status(1, 1)["status"] == "active"  # bob's own seeded agent


def test_public_reads_need_no_token(anon: Api) -> None:
    listing = anon.request("GET", "/api/competitions/").json()
    assert [c["id"] for c in listing["items"]] == [1, 2]
    assert listing["metadata"]["has_next"] is False
    page = anon.request("GET", "/api/competitions/", params={"page": 1, "per_page": 1}).json()
    assert [c["id"] for c in page["items"]] == [1] and page["metadata"]["has_next"] is True
    page2 = anon.request("GET", "/api/competitions/", params={"page": 2, "per_page": 1}).json()
    assert [c["id"] for c in page2["items"]] == [2] and page2["metadata"]["has_next"] is False
    assert (
        anon.request("GET", "/api/competitions/", params={"q": "parity"}).json()["items"][0]["id"]
        == 2
    )
    assert anon.request("GET", "/api/competitions/2").json()["submission_type"] == "file"
    board = anon.request("GET", "/api/leaderboard/competition/1").json()
    assert isinstance(board, list) and board[0]["AgentName"] == "bob-baseline"


def test_hidden_and_unknown_competitions(anon: Api, alice: Api, arena: FakeArena) -> None:
    for api in (anon, alice):
        assert api.request("GET", "/api/competitions/3").status_code == 404
        assert api.request("GET", "/api/competitions/77").json() == {
            "error": "Competition not found"
        }
        board = api.request("GET", "/api/leaderboard/competition/3")
        assert board.status_code == 500
        assert board.json() == {"error": "Failed to fetch leaderboard"}
    opts = alice.request("GET", "/api/direct_attache_agents/runtime_options/3")
    assert opts.status_code == 500 and opts.json()["error"].startswith("Failed to fetch")
    create = alice.request(
        "POST", "/api/direct_attache_agents/competition/3", json={"agent_name": "x"}
    )
    assert create.status_code == 404
    owner = Api(arena.url, arena.creator_token)
    try:
        assert owner.request("GET", "/api/competitions/3").json()["is_public"] is False
    finally:
        owner.close()


def test_unknown_route_and_method(anon: Api) -> None:
    assert anon.request("GET", "/api/nope").json() == {"error": "Not Found"}
    resp = anon.request("DELETE", "/api/competitions/1")
    assert resp.status_code == 405 and resp.json() == {"error": "Method Not Allowed"}


def test_create_agent_body_is_checked(alice: Api) -> None:
    path = "/api/direct_attache_agents/competition/1"
    assert alice.request("POST", path, json={}).status_code == 400
    assert alice.request("POST", path, data="x").status_code == 400
    resp = alice.request("POST", path, json={"agent_name": "ok"})
    assert resp.status_code == 201
    assert set(resp.json()) >= {"attache_agent_id", "agent_name", "status", "message"}
