"""Table tests of the pure deploy decision (quota.decide)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from mlarena_sync.api.models import DeployLimits
from mlarena_sync.engine.gate import DeployContext, decide

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
MIDNIGHT = datetime(2025, 3, 2, tzinfo=timezone.utc)


def limits(remaining: int | None, *, can: bool | None = None, limit: int = 5) -> DeployLimits:
    used = None if remaining is None else limit - remaining
    if can is None and remaining is not None:
        can = remaining > 0
    return DeployLimits(limit, used, remaining, MIDNIGHT, can)


def ctx(**kw: Any) -> DeployContext:
    base: dict[str, Any] = {"caller": "push", "now": NOW, "changed": True, "limits": limits(3)}
    base.update(kw)
    return DeployContext(**base)


CASES: list[tuple[str, dict[str, Any], bool, str | None]] = [
    ("push after a change", {}, True, None),
    ("push with nothing changed", {"changed": False}, False, "unchanged"),
    ("push --deploy with nothing changed", {"changed": False, "forced": True}, True, None),
    ("deploy left pending, nothing changed", {"changed": False, "pending": True}, True, None),
    (
        "pending, quota used up",
        {"changed": False, "pending": True, "limits": limits(0)},
        False,
        "quota",
    ),
    ("push --no-deploy", {"enabled": False}, False, "disabled"),
    ("watch with auto off", {"caller": "watch", "enabled": False}, False, "disabled"),
    ("deploy in flight", {"in_flight": True}, False, "in_flight"),
    ("in flight beats --deploy", {"in_flight": True, "forced": True}, False, "in_flight"),
    ("validation failed", {"validation_ok": False}, False, "validation"),
    ("validation failed, --deploy", {"validation_ok": False, "forced": True}, False, "validation"),
    ("check failed", {"check_ok": False}, False, "check"),
    ("check passed", {"check_ok": True}, True, None),
    ("quota used up", {"limits": limits(0)}, False, "quota"),
    ("can_deploy false", {"limits": limits(2, can=False)}, False, "quota"),
    ("quota unknown", {"limits": None}, True, None),
    ("remaining unknown", {"limits": limits(None)}, True, None),
    ("push may spend the reserve", {"limits": limits(1), "reserve": 1}, True, None),
    (
        "watch keeps the reserve",
        {"caller": "watch", "limits": limits(1), "reserve": 1},
        False,
        "reserve",
    ),
    ("watch above the reserve", {"caller": "watch", "limits": limits(2), "reserve": 1}, True, None),
    (
        "watch within min_interval",
        {"caller": "watch", "last_auto_deploy_at": NOW - timedelta(seconds=30), "min_interval": 60},
        False,
        "interval",
    ),
    (
        "watch after min_interval",
        {"caller": "watch", "last_auto_deploy_at": NOW - timedelta(seconds=61), "min_interval": 60},
        True,
        None,
    ),
    (
        "push ignores min_interval",
        {"last_auto_deploy_at": NOW - timedelta(seconds=1), "min_interval": 60},
        True,
        None,
    ),
    (
        "quota before interval",
        {"caller": "watch", "limits": limits(0), "last_auto_deploy_at": NOW, "min_interval": 60},
        False,
        "quota",
    ),
]


@pytest.mark.parametrize(
    ("kw", "deploy", "blocker"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decide(kw: dict[str, Any], deploy: bool, blocker: str | None) -> None:
    decision = decide(ctx(**kw))
    assert decision.deploy is deploy, decision.reason
    assert decision.blocker == blocker
    assert decision.reason


def test_quota_refusal_names_the_next_slot() -> None:
    decision = decide(ctx(limits=limits(0)))
    assert decision.wait_until == MIDNIGHT
    assert "2025-03-02T00:00:00+00:00" in decision.reason


def test_interval_wait_until_is_last_plus_interval() -> None:
    last = NOW - timedelta(seconds=20)
    decision = decide(ctx(caller="watch", last_auto_deploy_at=last, min_interval=60))
    assert decision.wait_until == last + timedelta(seconds=60)


def test_reserve_wait_until_is_the_next_slot() -> None:
    decision = decide(ctx(caller="watch", limits=limits(1), reserve=2))
    assert decision.blocker == "reserve"
    assert decision.wait_until == MIDNIGHT
    assert "push --deploy" in decision.reason


def test_validation_message_is_shown() -> None:
    decision = decide(ctx(validation_ok=False, validation_message="agent.py is missing"))
    assert "agent.py is missing" in decision.reason
