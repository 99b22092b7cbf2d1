"""A ``last_deploy_at`` in the future or without a timezone (issue 15, item 14): it never holds
watch's automatic deploys longer than ``deploy.min_interval``, never crashes, and a wait's end
is shown with its date when it is not today."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mlarena_sync.engine.gate import DeployContext, decide
from mlarena_sync.store.state import StateStore
from mlarena_sync.watch.scheduler import _when

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def _watch(last: datetime, min_interval: float = 60.0) -> DeployContext:
    return DeployContext(
        caller="watch", now=NOW, changed=True, last_auto_deploy_at=last, min_interval=min_interval
    )


@pytest.mark.parametrize("ahead", [timedelta(days=3), timedelta(seconds=61), timedelta(0)])
def test_a_future_last_deploy_holds_at_most_one_min_interval(ahead: timedelta) -> None:
    d = decide(_watch(NOW + ahead))
    assert d.blocker == "interval"
    assert d.wait_until == NOW + timedelta(seconds=60)


def test_a_past_last_deploy_is_unchanged() -> None:
    assert decide(_watch(NOW - timedelta(seconds=30))).wait_until == NOW + timedelta(seconds=30)
    assert decide(_watch(NOW - timedelta(seconds=61))).deploy


def test_a_last_deploy_without_timezone_is_read_as_utc(tmp_path: Path) -> None:
    state_dir = tmp_path / ".mlarena-sync"
    state_dir.mkdir()
    (state_dir / "state.json").write_text(
        '{"version": 1, "targets": {"t": {"last_deploy_at": "2026-12-04T12:00:00"}}}'
    )
    last = StateStore(state_dir).load("t").last_deploy_at
    assert last == datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
    assert decide(_watch(last)).wait_until == NOW + timedelta(seconds=60)  # no TypeError


def test_a_wait_shows_its_date_unless_it_is_today() -> None:
    local_now = datetime(2026, 12, 1, 12, 0).astimezone()
    later_today = local_now + timedelta(minutes=5)
    in_three_days = local_now + timedelta(days=3)
    assert _when(later_today, local_now) == later_today.strftime("%H:%M:%S")
    assert _when(in_three_days, local_now) == in_three_days.strftime("%Y-%m-%d %H:%M:%S")
    assert _when(None, local_now) == "later"
