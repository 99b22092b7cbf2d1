"""Parsed replies of the ML Arena API: frozen dataclasses built by tolerant ``from_json`` parsers.

Every JSON shape the client reads is parsed here and nowhere else. The parsers are lenient on
purpose (see ``docs/api-v0.md``): a missing key becomes ``None``, both spellings of the deploy
keys are read (``deploymentLimits`` / ``deployment_limits``, ``latestDeploy`` /
``latest_deploy``), unknown agent statuses (``uploading``, ``deploying``, tomorrow's names) are
kept as strings, and ISO-8601 datetimes are accepted with or without a trailing ``Z``. A reply of
the wrong *type* (a list where an object is expected) is the one thing they refuse, with
:class:`~mlarena_sync.errors.ServerError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mlarena_sync.errors import ServerError

JsonObject = Mapping[str, Any]

#: Statuses after which nothing is in flight (stop polling).
SETTLED_STATUSES = frozenset(
    {"created", "upload_failed", "upload_validated", "deploy_failed", "active", "deleted"}
)
#: Statuses of a deploy that is queued or running (``deploying`` is the older servers' name).
IN_FLIGHT_STATUSES = frozenset({"deploy_queue", "deploy_run", "deploying"})
#: ``latestDeploy.status`` values of a deploy that has not finished yet.
DEPLOY_OPEN_STATUSES = frozenset({"queued", "running", "deploy_queue", "deploy_run", "deploying"})


def as_object(data: object, what: str) -> JsonObject:
    """``data`` as a JSON object, or :class:`ServerError` naming the reply."""
    if isinstance(data, Mapping):
        return data
    raise ServerError(f"unexpected reply from the server for {what}: expected a JSON object")


def as_list(data: object, what: str) -> list[Any]:
    """``data`` as a JSON array, or :class:`ServerError` naming the reply."""
    if isinstance(data, list):
        return data
    raise ServerError(f"unexpected reply from the server for {what}: expected a JSON array")


def _obj(data: object) -> JsonObject:
    return data if isinstance(data, Mapping) else {}


def _first(data: JsonObject, *keys: str) -> Any:
    """The value of the first of ``keys`` present (and not null) in ``data``."""
    for key in keys:
        value = data.get(key)
        if value is not None:
            return value
    return None


def _str(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "yes", "1"}:
            return True
        if lowered in {"false", "no", "0"}:
            return False
    return None


def parse_datetime(value: object) -> datetime | None:
    """An ISO-8601 timestamp (``Z`` or offset or naive = UTC) as an aware datetime, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


@dataclass(frozen=True)
class Competition:
    id: int | None
    name: str | None
    engine: str | None
    max_upload_size_bytes: int | None
    max_upload_files: int | None
    agent_template: str | None
    raw: JsonObject = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: object) -> Competition:
        obj = as_object(data, "competition")
        engine = obj.get("engine")
        if isinstance(engine, Mapping):
            engine_name = _str(_first(engine, "name", "kernel_version", "k8s_workload_value"))
        else:
            engine_name = _str(engine)
        return cls(
            id=_int(obj.get("id")),
            name=_str(obj.get("name")),
            engine=engine_name,
            max_upload_size_bytes=_int(obj.get("max_upload_size_bytes")),
            max_upload_files=_int(obj.get("max_upload_files")),
            agent_template=_str(obj.get("agent_template")),
            raw=obj,
        )


@dataclass(frozen=True)
class RemoteFile:
    name: str
    content: str | None
    is_binary: bool
    size: int | None
    language: str | None

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the served text (``content.encode()``); None for binary files."""
        if self.content is None:
            return None
        return hashlib.sha256(self.content.encode()).hexdigest()

    @classmethod
    def from_json(cls, name: str, data: object) -> RemoteFile:
        obj = _obj(data)
        content = obj.get("content")
        content = content if isinstance(content, str) else None
        is_binary = _bool(obj.get("is_binary"))
        return cls(
            name=name,
            content=content,
            is_binary=is_binary if is_binary is not None else content is None,
            size=_int(obj.get("size")),
            language=_str(obj.get("language")),
        )

    @staticmethod
    def map_from_json(data: object) -> dict[str, RemoteFile]:
        """The ``{"files": {...}}`` reply of the list route (also a list of ``{"name", ...}``)."""
        files = as_object(data, "file list").get("files")
        if files is None:
            return {}
        if isinstance(files, Mapping):
            return {str(name): RemoteFile.from_json(str(name), v) for name, v in files.items()}
        if isinstance(files, list):
            out: dict[str, RemoteFile] = {}
            for item in files:
                name = _str(_obj(item).get("name"))
                if name:
                    out[name] = RemoteFile.from_json(name, item)
            return out
        raise ServerError("unexpected reply from the server for file list: bad 'files'")


@dataclass(frozen=True)
class FileOpResult:
    message: str | None
    status: str | None
    validation_message: str | None

    @classmethod
    def from_json(cls, data: object) -> FileOpResult:
        obj = as_object(data, "file operation")
        return cls(
            message=_str(obj.get("message")),
            status=_str(obj.get("status")),
            validation_message=_str(obj.get("validation_message")),
        )


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
            created_at=parse_datetime(data.get("created_at")),
            finished_at=parse_datetime(data.get("finished_at")),
            failure_message=_str(data.get("failure_message")),
        )
        if latest.id is None and latest.status is None and latest.created_at is None:
            return None
        return latest


@dataclass(frozen=True)
class DeployStatus:
    limits: DeployLimits
    latest: LatestDeploy | None

    @classmethod
    def from_json(cls, data: object) -> DeployStatus:
        obj = as_object(data, "deploy status")
        limits = DeployLimits.from_reply(obj) or DeployLimits.from_json({})
        return cls(
            limits=limits,
            latest=LatestDeploy.from_json(_first(obj, "latestDeploy", "latest_deploy")),
        )


@dataclass(frozen=True)
class QueueInfo:
    position: str | None
    waiting_seconds: float | None

    @classmethod
    def from_json(cls, data: object) -> QueueInfo | None:
        if not isinstance(data, Mapping) or not data:
            return None
        position = data.get("position_in_queue")
        return cls(
            position=_str(position),
            waiting_seconds=_float(data.get("in_queue_for_second")),
        )


@dataclass(frozen=True)
class RunResult:
    status: str | None
    steps: int | None
    reward: float | None
    outcome: str | None
    error_type: str | None
    error_message: str | None

    @classmethod
    def from_json(cls, data: object) -> RunResult:
        obj = _obj(data)
        return cls(
            status=_str(obj.get("status")),
            steps=_int(obj.get("steps_completed")),
            reward=_float(obj.get("current_reward")),
            outcome=_str(obj.get("game_outcome")),
            error_type=_str(obj.get("error_type")),
            error_message=_str(obj.get("error_message")),
        )


@dataclass(frozen=True)
class AgentStatus:
    status: str | None
    message: str | None
    name: str | None
    queue: QueueInfo | None
    runs: tuple[RunResult, ...]

    @property
    def settled(self) -> bool:
        """Nothing in flight: stop polling. Unknown statuses are neither settled nor in flight."""
        return self.status in SETTLED_STATUSES

    @property
    def in_flight(self) -> bool:
        """A deploy is queued or running."""
        return self.status in IN_FLIGHT_STATUSES

    @classmethod
    def from_json(cls, data: object) -> AgentStatus:
        obj = as_object(data, "agent status")
        run_info = _obj(obj.get("run_info"))
        results = run_info.get("results")
        runs = tuple(RunResult.from_json(r) for r in results) if isinstance(results, list) else ()
        return cls(
            status=_str(obj.get("status")),
            message=_str(_first(obj, "last_status_message", "message")),
            name=_str(obj.get("name")),
            queue=QueueInfo.from_json(obj.get("queue_info")),
            runs=runs,
        )


@dataclass(frozen=True)
class DeployOutcome:
    accepted: bool
    deployment_id: int | None
    status: str | None
    message: str | None
    timed_out: bool
    agent_status: AgentStatus | None

    @classmethod
    def from_json(cls, data: object) -> DeployOutcome:
        obj = as_object(data, "deploy")
        return cls(
            accepted=True,
            deployment_id=_int(obj.get("deployment_id")),
            status=_str(obj.get("status")),
            message=_str(obj.get("message")),
            timed_out=False,
            agent_status=None,
        )


@dataclass(frozen=True)
class Game:
    id: int | None
    reward: float | None
    outcome: str | None
    signed_url: str | None
    raw: JsonObject = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: object) -> Game:
        obj = _obj(data)
        return cls(
            id=_int(_first(obj, "id", "game_id")),
            reward=_float(_first(obj, "reward", "current_reward")),
            outcome=_str(_first(obj, "outcome", "game_outcome")),
            signed_url=_str(obj.get("signed_url")),
            raw=obj,
        )

    @staticmethod
    def list_from_json(data: object) -> list[Game]:
        """The ``{"games": [...], ...}`` reply (a bare list is accepted too)."""
        games = data if isinstance(data, list) else as_object(data, "games").get("games")
        if not isinstance(games, list):
            return []
        return [Game.from_json(g) for g in games]


@dataclass(frozen=True)
class Runtime:
    id: int | None
    language: str | None
    language_version: str | None
    framework: str | None
    framework_version: str | None
    requirement: str | None

    @classmethod
    def from_json(cls, data: object) -> Runtime:
        obj = _obj(data)
        return cls(
            id=_int(_first(obj, "id", "docker_image_agent_runtime_id")),
            language=_str(obj.get("language")),
            language_version=_str(obj.get("language_version")),
            framework=_str(obj.get("framework")),
            framework_version=_str(obj.get("framework_version")),
            requirement=_str(obj.get("requirement")),
        )

    @classmethod
    def optional_from_json(cls, data: object) -> Runtime | None:
        """A runtime reply that may be null / empty (no runtime pinned)."""
        if not isinstance(data, Mapping) or not data:
            return None
        inner = data.get("runtime")
        if isinstance(inner, Mapping):
            return cls.optional_from_json(inner)
        runtime = cls.from_json(data)
        return None if runtime.id is None else runtime


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int | None
    agent_name: str | None
    username: str | None
    mean_reward: float | None
    is_mine: bool
    agent_id: int | None

    @classmethod
    def from_json(cls, data: object) -> LeaderboardRow:
        obj = _obj(data)
        return cls(
            rank=_int(_first(obj, "Rank", "rank")),
            agent_name=_str(_first(obj, "AgentName", "agent_name")),
            username=_str(_first(obj, "Username", "username")),
            mean_reward=_float(_first(obj, "MeanReward", "mean_reward")),
            is_mine=bool(_bool(_first(obj, "IsMyAgent", "is_my_agent"))),
            agent_id=_int(_first(obj, "agentAttachId", "attache_agent_id", "agent_id")),
        )

    @staticmethod
    def list_from_json(data: object) -> list[LeaderboardRow]:
        """A bare JSON array of rows (or ``{"rows"|"items"|"leaderboard": [...]}``)."""
        if isinstance(data, Mapping):
            data = _first(data, "rows", "items", "leaderboard", "data")
        return [LeaderboardRow.from_json(row) for row in as_list(data, "leaderboard")]
