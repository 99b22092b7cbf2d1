"""Deploy replies: the daily quota, the active-submission limit, deploy attempts.

Split from :mod:`.models` (which re-exports every name) to keep each module small. Both
spellings are read: v0's ``deploymentLimits`` / ``latestDeploy`` with ``created_at``, and
today's ``deployment_limits`` / ``latest_deploy`` with ``created_at_ts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from mlarena_sync.api.parsing import as_object, parse_datetime
from mlarena_sync.api.parsing import first as _first
from mlarena_sync.api.parsing import obj_or_empty as _obj
from mlarena_sync.api.parsing import to_bool as _bool
from mlarena_sync.api.parsing import to_int as _int
from mlarena_sync.api.parsing import to_str as _str

#: ``latestDeploy.status`` values of a deploy that has not finished yet.
DEPLOY_OPEN_STATUSES = frozenset({"queued", "running", "deploy_queue", "deploy_run", "deploying"})


@dataclass(frozen=True)
class DeployLimits:
    daily_limit: int | None
    used: int | None
    remaining: int | None
    next_available_at: datetime | None
    can_deploy: bool | None

    @classmethod
    def from_json(cls, data: object) -> DeployLimits:
        obj = _obj(data)
        return cls(
            daily_limit=_int(_first(obj, "daily_deploy_limit", "daily_limit")),
            used=_int(_first(obj, "daily_deploys_used", "used")),
            remaining=_int(_first(obj, "daily_deploys_remaining", "remaining")),
            next_available_at=parse_datetime(
                _first(obj, "next_deploy_available_at", "next_available_at")
            ),
            can_deploy=_bool(obj.get("can_deploy")),
        )

    @classmethod
    def from_reply(cls, data: object) -> DeployLimits | None:
        """The limits inside a deploy-status or 409 reply (either spelling), or None."""
        limits = _first(_obj(data), "deploymentLimits", "deployment_limits")
        return cls.from_json(limits) if isinstance(limits, Mapping) else None


@dataclass(frozen=True)
class LatestDeploy:
    id: int | None
    status: str | None
    created_at: datetime | None
    finished_at: datetime | None
    failure_message: str | None
    #: Who a failed attempt's verdict blames: ``participant`` | ``challenge`` | ``platform``.
    failure_owner: str | None = None

    @property
    def open(self) -> bool:
        """True while this deploy is queued or running."""
        return self.status in DEPLOY_OPEN_STATUSES

    @classmethod
    def from_json(cls, data: object) -> LatestDeploy | None:
        """None when the reply holds no deploy (missing, null, or all fields null)."""
        if not isinstance(data, Mapping):
            return None
        latest = cls(
            id=_int(data.get("id")),
            status=_str(data.get("status")),
            created_at=parse_datetime(_first(data, "created_at", "created_at_ts")),
            finished_at=parse_datetime(_first(data, "finished_at", "finished_at_ts")),
            failure_message=_str(data.get("failure_message")),
            failure_owner=_str(data.get("failure_owner")),
        )
        if latest.id is None and latest.status is None and latest.created_at is None:
            return None
        return latest


@dataclass(frozen=True)
class DeployStatus:
    limits: DeployLimits
    latest: LatestDeploy | None
    #: The per-challenge limit of active submissions (``active_submission_limits``), if sent.
    active: ActiveLimits | None = None

    @classmethod
    def from_json(cls, data: object) -> DeployStatus:
        obj = as_object(data, "deploy status")
        limits = DeployLimits.from_reply(obj) or DeployLimits.from_json({})
        return cls(
            limits=limits,
            latest=LatestDeploy.from_json(_first(obj, "latestDeploy", "latest_deploy")),
            active=ActiveLimits.from_reply(obj),
        )


@dataclass(frozen=True)
class ActiveLimits:
    """How many submissions may be active (or deploying) at once on the challenge."""

    max_active: int | None
    active_count: int | None
    remaining: int | None

    @classmethod
    def from_reply(cls, data: object) -> ActiveLimits | None:
        """The ``active_submission_limits`` block of a deploy-status or 409 reply, or None."""
        block = _obj(data).get("active_submission_limits")
        if not isinstance(block, Mapping):
            return None
        return cls(
            max_active=_int(_first(block, "max_active_submissions", "max_active_agents")),
            active_count=_int(block.get("active_submissions_count")),
            remaining=_int(block.get("active_submissions_remaining")),
        )
