"""Both generations side by side: each answers 404 on the other's routes; the fault knobs
(maintenance, fail_next, drop_next, latency, hang_deploy, counters) work in v4.6 too."""

from __future__ import annotations

import re
import time

import pytest
import requests
from arena_v4_helpers import SUBS, Api4

from mlarena_sync.arena import FakeArena, routes_v0, routes_v4
from mlarena_sync.arena.table import Route

MESSAGE = "Upgrading the runners, back at 15:00"


def _concrete(routes: list[Route]) -> list[tuple[str, str]]:
    """``(method, path)`` of every route, with 1 for each id and agent.py for a file name."""
    out = []
    for rule, _endpoint, methods, _handler in routes:
        path = re.sub(r"<int:\w+>", "1", rule).replace("<path:name>", "agent.py")
        out.extend((method, path) for method in methods)
    return out


def test_v4_answers_404_on_every_v0_route(arena_v4: FakeArena) -> None:
    headers = {"Authorization": f"Bearer {arena_v4.user_token}"}
    for method, path in _concrete(routes_v0.ROUTES):
        resp = requests.request(method, arena_v4.url + path, headers=headers, timeout=10)
        assert resp.status_code == 404, (method, path)
        assert resp.json() == {"error": "Not Found"}


def test_v0_answers_404_on_every_v4_route(arena: FakeArena) -> None:
    assert arena.api == "v0"
    headers = {"Authorization": f"Bearer {arena.user_token}"}
    for method, path in _concrete(routes_v4.ROUTES):
        resp = requests.request(method, arena.url + path, headers=headers, timeout=10)
        assert resp.status_code == 404, (method, path)


def test_unknown_generation_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown api"):
        FakeArena(api="v3")


def test_maintenance_answers_503_on_every_route_and_ends(arena_v4: FakeArena) -> None:
    arena_v4.faults.maintenance = MESSAGE
    headers = {"Authorization": f"Bearer {arena_v4.user_token}"}
    for method, path in _concrete(routes_v4.ROUTES):
        resp = requests.request(method, arena_v4.url + path, headers=headers, timeout=10)
        assert resp.status_code == 503, (method, path)
        assert resp.json() == {"error": MESSAGE, "maintenance_mode": True}
    # the control routes keep answering: that is how maintenance ends
    control = arena_v4.url + "/_arena/faults"
    assert requests.post(control, json={"maintenance": None}, timeout=10).status_code == 200
    assert requests.get(arena_v4.url + "/api/challenges/1", timeout=10).status_code == 200


def test_maintenance_over_the_control_route_in_v0(arena: FakeArena) -> None:
    control = arena.url + "/_arena/faults"
    reply = requests.post(control, json={"maintenance": True}, timeout=10).json()
    assert reply["faults"]["maintenance"]
    resp = requests.get(arena.url + "/api/competitions/1", timeout=10)
    assert resp.status_code == 503 and resp.json()["maintenance_mode"] is True
    requests.delete(control, timeout=10)
    assert requests.get(arena.url + "/api/competitions/1", timeout=10).status_code == 200


def test_v0_can_be_told_to_refuse_a_put_during_a_deploy(
    arena: FakeArena, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arena_helpers import Api

    monkeypatch.setattr(arena.simulator, "queue_seconds", 60.0)
    arena.faults.put_during_deploy = "refuse"
    with Api(arena.url, arena.user_token) as alice:
        aid = alice.ready_agent()
        assert alice.deploy(1, aid).status_code == 202
        assert alice.upload(1, aid, "agent.py", b"x = 1\n").status_code == 409
        assert alice.status(1, aid)["status"] == "deploy_queue"


def test_fail_next_drop_next_and_counters_by_v4_route(arena_v4: FakeArena, alice4: Api4) -> None:
    sid = alice4.ready(1)
    arena_v4.faults.fail_next(1, 502, route="deploy", retry_after=2)
    failed = alice4.deploy(1, sid)
    assert failed.status_code == 502 and failed.headers["Retry-After"] == "2"
    arena_v4.faults.drop_next(1, route=f"GET {SUBS}/submission/{{sid}}")
    with pytest.raises(requests.ConnectionError):
        alice4.request("GET", f"{SUBS}/submission/{sid}")
    assert alice4.deploy(1, sid).status_code == 202
    counters = arena_v4.counters
    assert counters[f"PUT {SUBS}/challenge/{{cid}}/{{sid}}/deploy"] == 2
    assert counters[f"GET {SUBS}/submission/{{sid}}"] == 1


def test_latency_and_hang_deploy_in_v4(arena_v4: FakeArena, alice4: Api4) -> None:
    sid = alice4.ready(1)
    arena_v4.faults.latency = 0.2
    started = time.monotonic()
    alice4.request("GET", "/api/challenges/1")
    assert time.monotonic() - started >= 0.2
    arena_v4.faults.latency = 0.0
    arena_v4.faults.hang_deploy = 0.3
    started = time.monotonic()
    assert alice4.deploy(1, sid).status_code == 202
    assert time.monotonic() - started >= 0.3
    assert arena_v4.deploy_count(sid) == 1


def test_the_team_and_its_submission_are_seeded_in_v4_only(
    arena: FakeArena, arena_v4: FakeArena
) -> None:
    assert set(arena.store.agents) == {1} and arena.seed.teams == ()
    assert set(arena_v4.store.agents) == {1, 2} and len(arena_v4.seed.teams) == 1
