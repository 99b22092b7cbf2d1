"""The hint under a quota refusal says when the synced files get deployed: after the next slot
(in how long, at what time), or by ``watch`` when a slot opens; never "the next push", which
fails the same way until then."""

from __future__ import annotations

from datetime import datetime, timezone

from mlarena_sync.api.models import DeployLimits
from mlarena_sync.engine.gate import DeployContext, decide, pending_hint

NOW = datetime(2026, 12, 1, 16, 25, tzinfo=timezone.utc)
MIDNIGHT = datetime(2026, 12, 2, tzinfo=timezone.utc)


def test_the_hint_says_when_the_next_slot_opens() -> None:
    assert pending_hint(MIDNIGHT, NOW) == (
        "the deploy stays pending: the next push after the next slot (in 7 h 35 min, "
        "00:00 UTC) deploys it, or `mlarena-sync watch` deploys it when a slot opens"
    )


def test_a_slot_more_than_a_day_away_names_its_day() -> None:
    later = datetime(2026, 12, 3, tzinfo=timezone.utc)
    assert "(in 1 d 7 h, Dec 3 00:00 UTC)" in pending_hint(later, NOW)


def test_an_unknown_slot_points_at_watch() -> None:
    hint = pending_hint(None, NOW)
    assert "`mlarena-sync watch` deploys it when a slot opens" in hint
    assert "next `mlarena-sync push`" not in hint


def test_a_slot_already_open_says_push() -> None:
    assert pending_hint(NOW, NOW).endswith("a slot is open again; `mlarena-sync push` deploys it")


def test_the_quota_decision_carries_the_hint() -> None:
    limits = DeployLimits(5, 5, 0, MIDNIGHT, False)
    ctx = DeployContext(caller="push", now=NOW, changed=True, limits=limits)
    decision = decide(ctx)
    assert decision.blocker == "quota"
    assert decision.next_step == pending_hint(MIDNIGHT, NOW)
    assert decide(DeployContext(caller="push", now=NOW, changed=True)).next_step is None
