"""Reply types that list things (runtimes, games, runs, leaderboard rows, my submissions).

Split from :mod:`.models` (which re-exports them) to keep each module small; they depend on
nothing but the tolerant readers of :mod:`.parsing`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from mlarena_sync.api.parsing import JsonObject, as_list, as_object, parse_datetime
from mlarena_sync.api.parsing import first as _first
from mlarena_sync.api.parsing import obj_or_empty as _obj
from mlarena_sync.api.parsing import to_bool as _bool
from mlarena_sync.api.parsing import to_float as _float
from mlarena_sync.api.parsing import to_int as _int
from mlarena_sync.api.parsing import to_str as _str


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
    #: The runtime's one name (v4.6: ``"PyTorch"``, ``"No framework"``), None on v0.
    display_name: str | None = None

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
            display_name=_str(obj.get("display_name")),
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
            agent_name=_str(_first(obj, "AgentName", "agent_name", "submission_name")),
            username=_str(_first(obj, "Username", "username")),
            mean_reward=_float(_first(obj, "MeanReward", "mean_reward", "score")),
            is_mine=bool(_bool(_first(obj, "IsMyAgent", "is_my_agent", "is_my_submission"))),
            agent_id=_int(
                _first(obj, "agentAttachId", "attache_agent_id", "agent_id", "submission_id")
            ),
        )

    @staticmethod
    def list_from_json(data: object) -> list[LeaderboardRow]:
        """A bare JSON array of rows (or ``{"leaders"|"rows"|"items"|"leaderboard": [...]}``:
        ``leaders`` is v4.6's envelope, whose rows mark a teammate's row as yours too)."""
        if isinstance(data, Mapping):
            data = _first(data, "leaders", "rows", "items", "leaderboard", "data")
        return [LeaderboardRow.from_json(row) for row in as_list(data, "leaderboard")]


@dataclass(frozen=True)
class SubmissionSummary:
    """One of my agents / submissions, as listed for binding by name and the twin guard."""

    id: int
    name: str | None
    competition_id: int | None
    status: str | None
    #: The server's ``is_settled`` (v4.6); None when the listing does not say (v0).
    settled: bool | None = None
    rank: int | None = None
    created_at: datetime | None = None

    @classmethod
    def from_json(cls, data: object) -> SubmissionSummary | None:
        """A row of v4.6's ``/api/submissions/mine``; None for a row without an id."""
        obj = _obj(data)
        sid = _int(_first(obj, "id", "submission_id"))
        if sid is None:
            return None
        return cls(
            id=sid,
            name=_str(obj.get("submission_name")),
            competition_id=_int(obj.get("challenge_id")),
            status=_str(obj.get("status")),
            settled=_bool(obj.get("is_settled")),
            rank=_int(obj.get("rank")),
            created_at=parse_datetime(obj.get("created_at_ts")),
        )


@dataclass(frozen=True)
class RunLog:
    """One game (v0) or run (v4.6) of my agent, with its stdout when it could be read.

    ``log`` is None when the run kept none; ``log_error`` then says why it could not be read
    (an expired signed URL on v0), so one bad run never hides the others.
    """

    id: int | None
    status: str | None
    score: float | None
    outcome: str | None
    created_at: datetime | None
    log: str | None
    log_error: str | None = None
    error_type: str | None = None
    error_message: str | None = None
