"""Fault injection, counters, the loopback-only control routes, keep-alive."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from arena_helpers import Api

from mlarena_sync.arena import FakeArena
from mlarena_sync.arena.control import is_loopback

DEPLOY_KEY = "PUT /api/direct_attache_agents/competition/{cid}/{aid}/deploy"


def test_fail_next_with_retry_after_on_one_route(alice: Api, arena: FakeArena) -> None:
    arena.faults.fail_next(2, 503, retry_after=1.5, route="competition")
    other = alice.request("GET", "/api/competitions/")
    assert other.status_code == 200
    for _ in range(2):
        resp = alice.request("GET", "/api/competitions/1")
        assert resp.status_code == 503
        assert resp.headers["Retry-After"] == "1.5"
        assert resp.json() == {"error": "Injected fault"}
    assert alice.request("GET", "/api/competitions/1").status_code == 200
    assert arena.counters["GET /api/competitions/{cid}"] == 3


def test_a_failed_request_does_nothing(alice: Api, arena: FakeArena) -> None:
    aid = alice.create(1)
    arena.faults.fail_next(1, 500, route="put_file")
    assert alice.upload(1, aid, "x.py", b"X = 1\n").status_code == 500
    assert "x.py" not in alice.files(1, aid)


def test_latency(alice: Api, arena: FakeArena) -> None:
    arena.faults.latency = 0.3
    started = time.monotonic()
    assert alice.request("GET", "/api/competitions/1").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_hung_deploy_still_takes_effect(alice: Api, arena: FakeArena) -> None:
    aid = alice.ready_agent()
    arena.faults.hang_deploy = 1.0
    with pytest.raises(requests.exceptions.ReadTimeout):
        alice.request("PUT", alice.agent_path(1, aid, "/deploy"), timeout=0.3)
    assert arena.deploy_count(aid) == 1
    arena.faults.hang_deploy = 0
    assert alice.wait_settled(1, aid)["status"] == "active"


def test_dropped_connection(alice: Api, arena: FakeArena) -> None:
    aid = alice.ready_agent()
    arena.faults.drop_next(1, route=DEPLOY_KEY)
    assert alice.request("GET", "/api/competitions/1").status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError):
        alice.request("PUT", alice.agent_path(1, aid, "/deploy"))
    assert arena.deploy_count(aid) == 0
    assert arena.counters[DEPLOY_KEY] == 1
    assert alice.request("PUT", alice.agent_path(1, aid, "/deploy")).status_code == 202
    arena.wait_deploys_idle()


def test_keep_alive_reuses_one_connection(arena: FakeArena) -> None:
    arena.reset_counters()
    with requests.Session() as session:
        for _ in range(3):
            assert session.get(arena.url + "/api/competitions/1", timeout=10).status_code == 200
        resp = session.get(arena.url + "/api/competitions/1", timeout=10)
        assert resp.headers.get("Connection", "").lower() != "close"
    assert arena.connections == 1
    assert arena.counters == {"GET /api/competitions/{cid}": 4}


def test_control_routes(alice: Api, arena: FakeArena) -> None:
    ctl = arena.url + "/_arena"
    with requests.Session() as s:
        spec = {"latency": 0.01, "fail_next": {"count": 1, "status": 429, "route": "competitions"}}
        assert s.post(ctl + "/faults", json=spec, timeout=10).status_code == 200
        assert s.get(ctl + "/faults", timeout=10).json()["faults"]["fail_next"][0]["status"] == 429
        assert s.get(arena.url + "/api/competitions/", timeout=10).status_code == 429
        assert s.delete(ctl + "/faults", timeout=10).json()["faults"]["latency"] == 0.0
        counters = s.get(ctl + "/counters", timeout=10).json()
        assert counters["counters"]["GET /api/competitions/"] == 1
        s.post(ctl + "/counters/reset", timeout=10)
        assert s.get(ctl + "/counters", timeout=10).json()["counters"] == {}

        aid = alice.ready_agent()
        edit = {"agent_id": aid, "name": "agent.py", "content": "x = 1\n"}
        assert s.post(ctl + "/browser_edit", json=edit, timeout=10).status_code == 200
        assert alice.status(1, aid)["status"] == "upload_failed"

        assert s.post(ctl + "/deploy_limit", json={"limit": 0}, timeout=10).status_code == 200
        assert alice.deploy_status(1, aid)["deploymentLimits"]["daily_deploy_limit"] == 0
        assert s.post(ctl + "/clock", json={"offset_seconds": 86400}, timeout=10).ok
        assert arena.now() - datetime.now(timezone.utc) > timedelta(hours=23)
        assert s.post(ctl + "/wait_idle", json={"timeout": 5}, timeout=10).json()["idle"] is True
        assert s.post(ctl + "/reset", timeout=10).status_code == 200
        assert alice.request("GET", alice.agent_path(1, aid, "/status")).status_code == 404
        assert arena.deploy_limit == 5
        assert s.post(ctl + "/browser_edit", json={}, timeout=10).status_code == 400
        assert s.post(ctl + "/nope", timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("addr", "ok"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.2", False),
        ("192.168.1.4", False),
        ("::ffff:10.0.0.1", False),
        ("fe80::1", False),
        ("", False),
        (None, False),
        ("garbage", False),
    ],
)
def test_control_routes_are_loopback_only(addr: str | None, ok: bool) -> None:
    assert is_loopback(addr) is ok
