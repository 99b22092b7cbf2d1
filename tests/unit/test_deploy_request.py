"""One deploy request (issue 15, items 5-7): journaled before it leaves, its lost reply judged by
the server's deploy ids (never by clocks), a killed run's request settled by the next run."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from mlarena_sync.api.models import AgentStatus, DeployOutcome, LatestDeploy
from mlarena_sync.engine.deploy import request_deploy, settle_request
from mlarena_sync.errors import (
    MlarenaSyncError,
    NotFoundError,
    QuotaError,
    ServerError,
    TransportError,
)
from mlarena_sync.store.journal import DeployRequest, Journal
from mlarena_sync.store.state import StateDir

CID, AID = 1, 101
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def _row(did: int) -> LatestDeploy:
    return LatestDeploy(
        id=did, status="active", created_at=NOW, finished_at=None, failure_message=None
    )


class StubArena:
    """Deploy ids as a list; ``deploy`` appends one (or not) and answers as told."""

    def __init__(self, ids: list[int], *, takes: bool, answer: Any) -> None:
        self.ids = list(ids)
        self.takes = takes
        self.answer = answer
        self.deploy_calls = 0
        self.journal: Journal | None = None
        self.journaled: list[DeployRequest | None] = []

    def deploys(self, cid: int, aid: int) -> list[LatestDeploy]:
        return [_row(i) for i in sorted(self.ids, reverse=True)]

    def status(self, cid: int, aid: int) -> AgentStatus:
        return AgentStatus(status="deploy_queue", message=None, name=None, queue=None, runs=())

    def deploy(self, cid: int, aid: int) -> DeployOutcome:
        self.deploy_calls += 1
        if self.journal is not None:  # what a kill at this instant would leave
            self.journaled.append(self.journal.deploy_request())
        if self.takes:
            self.ids.append(max(self.ids, default=0) + 1)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer  # type: ignore[no-any-return]


def _journal(tmp_path: Path) -> Journal:
    return Journal(StateDir(tmp_path / ".mlarena-sync"), "key")


def _lost(accepted: bool) -> DeployOutcome:
    """What an adapter answers after a timeout (its own, clock-based, guess in ``accepted``)."""
    return DeployOutcome(
        accepted=accepted,
        deployment_id=None,
        status=None,
        message="timed out",
        timed_out=True,
        agent_status=None,
    )


def test_the_request_is_journaled_before_it_leaves_and_forgotten_after(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    ok = DeployOutcome(True, 8, "deploy_queue", None, False, None)
    arena = StubArena([3, 7], takes=True, answer=ok)
    arena.journal = journal
    outcome = request_deploy(arena, CID, AID, journal, now=NOW)  # type: ignore[arg-type]
    assert outcome.deployment_id == 8
    assert arena.journaled == [DeployRequest(AID, 7, NOW)], "a kill mid-request leaves the id seen"
    assert journal.deploy_request() is None
    # the record survives the process: a fresh StateDir reads it from disk
    journal.set_deploy_request(DeployRequest(AID, 7, NOW))
    assert _journal(tmp_path).deploy_request() == DeployRequest(AID, 7, NOW)


def test_a_lost_reply_is_judged_by_ids_not_by_the_adapters_clock_guess(tmp_path: Path) -> None:
    """The server clock far behind: the adapter's created_at guess says "not taken"; a deploy id
    newer than the one seen before says it was (issue item 7)."""
    journal = _journal(tmp_path)
    arena = StubArena([4], takes=True, answer=_lost(accepted=False))
    outcome = request_deploy(arena, CID, AID, journal, now=NOW)  # type: ignore[arg-type]
    assert outcome.accepted and outcome.timed_out
    assert outcome.deployment_id == 5
    assert arena.deploy_calls == 1
    assert journal.deploy_request() is None


def test_a_lost_reply_the_adapter_calls_taken_is_not_taken_when_no_new_id(tmp_path: Path) -> None:
    """An older deploy still open made the adapter say "taken": the ids say no deploy is new."""
    journal = _journal(tmp_path)
    arena = StubArena([4], takes=False, answer=_lost(accepted=True))
    with pytest.raises(MlarenaSyncError, match="no new deploy"):
        request_deploy(arena, CID, AID, journal, now=NOW)  # type: ignore[arg-type]
    assert arena.deploy_calls == 1
    assert journal.deploy_request() is None  # settled: not taken


@pytest.mark.parametrize(
    "error",
    [
        ServerError("the server failed on deploy (502: Bad Gateway)", status_code=502),
        ServerError("the server failed on deploy (504: Gateway Timeout)", status_code=504),
        ServerError("unexpected reply from the server for deploy: not JSON", status_code=200),
    ],
    ids=["502", "504", "unreadable-2xx"],
)
def test_a_gateway_error_after_the_deploy_was_taken_is_a_taken_deploy(
    tmp_path: Path, error: ServerError
) -> None:
    arena = StubArena([], takes=True, answer=error)
    outcome = request_deploy(arena, CID, AID, _journal(tmp_path), now=NOW)  # type: ignore[arg-type]
    assert outcome.accepted
    assert outcome.deployment_id == 1
    assert arena.deploy_calls == 1


def test_a_gateway_error_that_did_nothing_says_so(tmp_path: Path) -> None:
    arena = StubArena([2], takes=False, answer=ServerError("504", status_code=504))
    with pytest.raises(MlarenaSyncError, match="no new deploy"):
        request_deploy(arena, CID, AID, _journal(tmp_path), now=NOW)  # type: ignore[arg-type]
    assert arena.deploy_calls == 1


def test_a_refusal_forgets_the_request(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    arena = StubArena([2], takes=False, answer=QuotaError("Daily deployment limit (5) reached"))
    with pytest.raises(QuotaError):
        request_deploy(arena, CID, AID, journal, now=NOW)  # type: ignore[arg-type]
    assert journal.deploy_request() is None


def test_unreadable_deploys_after_a_lost_reply_keep_the_record(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    arena = StubArena([2], takes=True, answer=_lost(accepted=True))

    def unreadable(cid: int, aid: int) -> list[LatestDeploy]:
        raise TransportError("connection refused")

    arena.deploys = unreadable  # type: ignore[method-assign]
    with pytest.raises(TransportError):
        request_deploy(arena, CID, AID, journal, now=NOW)  # type: ignore[arg-type]
    assert arena.deploy_calls == 0  # the id before could not be read: nothing was sent


@pytest.mark.parametrize(
    ("ids", "before", "taken"),
    [([3, 4], 3, True), ([3], 3, False), ([1], None, True), ([], None, False)],
)
def test_settle_a_killed_runs_request(
    tmp_path: Path, ids: list[int], before: int | None, taken: bool
) -> None:
    journal = _journal(tmp_path)
    journal.set_deploy_pending(True, at=NOW)
    journal.set_deploy_request(DeployRequest(AID, before, NOW))
    arena = StubArena(ids, takes=False, answer=None)
    assert settle_request(arena, CID, journal) is taken  # type: ignore[arg-type]
    assert journal.deploy_request() is None
    assert journal.deploy_pending() is not taken
    assert arena.deploy_calls == 0
    assert settle_request(arena, CID, journal) is None  # type: ignore[arg-type]


def test_settle_keeps_newer_edits_pending(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    journal.set_deploy_pending(True, at=NOW)
    journal.set_deploy_request(DeployRequest(AID, 3, NOW))
    arena = StubArena([3, 4], takes=False, answer=None)
    assert settle_request(arena, CID, journal, keep_pending=True) is True  # type: ignore[arg-type]
    assert journal.deploy_pending()


def test_settle_for_a_deleted_agent_forgets_the_request(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    journal.set_deploy_pending(True, at=NOW)
    journal.set_deploy_request(DeployRequest(AID, 3, NOW))
    arena = StubArena([], takes=False, answer=None)

    def gone(cid: int, aid: int) -> list[LatestDeploy]:
        raise NotFoundError("Submission not found")

    arena.deploys = gone  # type: ignore[method-assign]
    assert settle_request(arena, CID, journal) is False  # type: ignore[arg-type]
    assert journal.deploy_request() is None
    assert journal.deploy_pending()
