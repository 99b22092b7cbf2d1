"""Parsed replies of the ML Arena API: frozen dataclasses, the same types for every generation.

Both adapters (:mod:`.v0`, :mod:`.v4`) return these types, so the engine never sees a JSON
shape. The ``from_json`` parsers here read the v0 shapes and, where a key merely changed its
spelling, today's too; the v4.6 shapes that differ in meaning are parsed in :mod:`.v4_parse`.
The parsers are lenient on purpose (see ``docs/api-v0.md``): a missing key becomes ``None``,
both spellings of the deploy keys are read (``deploymentLimits`` / ``deployment_limits``,
``latestDeploy`` / ``latest_deploy``), unknown statuses are kept as strings, and ISO-8601
datetimes are accepted with or without a trailing ``Z``. A reply of the wrong *type* (a list
where an object is expected) is the one thing they refuse, with
:class:`~mlarena_sync.errors.ServerError`.

Fields added for v4.6 come last, with defaults, so that positional construction keeps working.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from mlarena_sync.api.deploys import DEPLOY_OPEN_STATUSES as DEPLOY_OPEN_STATUSES
from mlarena_sync.api.deploys import ActiveLimits as ActiveLimits
from mlarena_sync.api.deploys import DeployLimits as DeployLimits
from mlarena_sync.api.deploys import DeployStatus as DeployStatus
from mlarena_sync.api.deploys import LatestDeploy as LatestDeploy
from mlarena_sync.api.parsing import JsonObject as JsonObject
from mlarena_sync.api.parsing import as_list as as_list
from mlarena_sync.api.parsing import as_object as as_object
from mlarena_sync.api.parsing import first as _first
from mlarena_sync.api.parsing import obj_or_empty as _obj
from mlarena_sync.api.parsing import parse_datetime as parse_datetime
from mlarena_sync.api.parsing import to_bool as _bool
from mlarena_sync.api.parsing import to_float as _float
from mlarena_sync.api.parsing import to_int as _int
from mlarena_sync.api.parsing import to_str as _str
from mlarena_sync.api.records import Game as Game
from mlarena_sync.api.records import LeaderboardRow as LeaderboardRow
from mlarena_sync.api.records import RunLog as RunLog
from mlarena_sync.api.records import Runtime as Runtime
from mlarena_sync.api.records import SubmissionSummary as SubmissionSummary
from mlarena_sync.errors import ServerError

#: Statuses after which nothing is in flight (stop polling).
SETTLED_STATUSES = frozenset(
    {"created", "upload_failed", "upload_validated", "deploy_failed", "active", "deleted"}
)
#: Statuses of a deploy that is queued or running (``deploying`` is the older servers' name).
IN_FLIGHT_STATUSES = frozenset({"deploy_queue", "deploy_run", "deploying"})
#: After a deploy whose reply was lost, an attempt created at most this much before our request
#: (clock skew between us and the server) still counts as ours.
DEPLOY_CLOCK_SKEW = timedelta(seconds=60)
#: v0 statuses from which a deploy is allowed (``docs/api-v0.md``, Status: Flow).
V0_DEPLOYABLE_STATUSES = frozenset({"upload_validated", "deploy_failed", "active"})


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Competition:
    id: int | None
    name: str | None
    engine: str | None
    max_upload_size_bytes: int | None
    max_upload_files: int | None
    agent_template: str | None
    raw: JsonObject = field(repr=False, compare=False)
    #: The file that is run or scored (``agent.py``, or a file challenge's submission file).
    entry_filename: str | None = None
    #: ``flex_v1`` (code), ``file_v1`` (one scored file), ``chat_v1`` (no files); v4.6 only.
    kernel_version: str | None = None
    #: The runtimes listed in the detail itself (v4.6); v0 lists them on a route of their own.
    runtime_options: tuple[Runtime, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Competition:
        """A v0 competition or a v4.6 challenge detail (``engine`` is ``machine`` there)."""
        obj = as_object(data, "competition")
        engine = _first(obj, "engine", "machine")
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
            entry_filename=_str(_first(obj, "entry_filename", "submission_filename")),
            kernel_version=_str(obj.get("kernel_version")),
            runtime_options=tuple(Runtime.from_json(r) for r in _list(obj.get("runtime_options"))),
        )


@dataclass(frozen=True)
class RemoteFile:
    name: str
    content: str | None
    is_binary: bool
    size: int | None
    language: str | None
    #: ``entry`` | ``report`` | ``other`` (v4.6 lists it; None on v0).
    role: str | None = None
    #: SHA-256 of the bytes read back from the server (:mod:`mlarena_sync.engine.evidence`), for
    #: a listing that carries no content (v4.6, or a v0 binary).
    digest: str | None = None

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the remote file when known: read back (``digest``), else of the served
        text (``content.encode()``); None when neither is known."""
        if self.digest is not None:
            return self.digest
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
            role=_str(obj.get("role")),
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
    #: The status block the reply carries (v4.6: with the server's flags), else None.
    agent_status: AgentStatus | None = None

    @classmethod
    def from_json(cls, data: object) -> FileOpResult:
        obj = as_object(data, "file operation")
        return cls(
            message=_str(obj.get("message")),
            status=_str(obj.get("status")),
            validation_message=_str(obj.get("validation_message")),
        )


@dataclass(frozen=True)
class QueueInfo:
    #: As shown: ``"3/12"`` (v0 sends this text; v4.6's integers are rendered so).
    position: str | None
    waiting_seconds: float | None
    queue_position: int | None = None
    queue_total: int | None = None

    @classmethod
    def from_json(cls, data: object) -> QueueInfo | None:
        """v0 ``position_in_queue: "3/12"`` or v4.6 ``queue_position``/``queue_total`` ints;
        None when nothing is queued (missing, empty, or v4.6's all-null block)."""
        if not isinstance(data, Mapping) or not data:
            return None
        waiting = _float(data.get("in_queue_for_second"))
        text = _str(data.get("position_in_queue"))
        if text is not None:
            head, _, tail = text.partition("/")
            return cls(text, waiting, _int(head), _int(tail) if tail else None)
        position, total = _int(data.get("queue_position")), _int(data.get("queue_total"))
        if position is None and total is None and waiting is None:
            return None
        shown = None if position is None else f"{position}/{total}" if total else str(position)
        return cls(shown, waiting, position, total)


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
    """An agent's (v0) or submission's (v4.6) state, as one type for both generations.

    ``is_uploadable``, ``is_deployable`` and ``is_settled`` hold the server's own answers on
    v4.6 (read, never derived, so a status name the client does not know yet is still judged
    right); the v0 parser fills them from ``status`` with :func:`v0_flags`, v0 sending nothing
    else. Read them through ``uploadable`` / ``deployable`` / ``settled``, which fall back to
    that same v0 rule only for a snapshot built by hand without them.
    """

    status: str | None
    message: str | None
    name: str | None
    queue: QueueInfo | None
    runs: tuple[RunResult, ...]
    is_uploadable: bool | None = None
    is_deployable: bool | None = None
    is_settled: bool | None = None
    #: ``upload`` | ``deployment`` | ``active`` | ``terminal`` (v4.6), None on v0.
    phase: str | None = None
    #: ``owner`` | ``teammate`` | ``staff`` | ``teacher`` | ``public``; only the owner writes.
    #: v0 shows a caller nothing but their own agents, so its parser says ``owner``.
    viewer_role: str | None = None
    #: The newest deploy attempt; None before the first deploy (and always on v0's status).
    latest_deploy: LatestDeploy | None = None
    agent_id: int | None = None
    competition_id: int | None = None
    runtime: Runtime | None = None
    score: float | None = None
    number_of_runs: int | None = None

    @property
    def uploadable(self) -> bool:
        """A file PUT now would be accepted without touching a deploy in flight."""
        return self._flags()[0] if self.is_uploadable is None else self.is_uploadable

    @property
    def deployable(self) -> bool:
        """A deploy request now would be accepted (state-wise; the quota is apart)."""
        return self._flags()[1] if self.is_deployable is None else self.is_deployable

    @property
    def settled(self) -> bool:
        """Nothing in flight: stop polling (an unknown v0 status is neither)."""
        return self._flags()[2] if self.is_settled is None else self.is_settled

    def _flags(self) -> tuple[bool, bool, bool]:
        return v0_flags(self.status)

    @property
    def in_flight(self) -> bool:
        """A deploy is queued or running."""
        if self.status in IN_FLIGHT_STATUSES:
            return True
        return self.phase == "deployment" and not self.settled

    @property
    def owned(self) -> bool:
        """The caller owns it: the only reader whose writes the server accepts."""
        return self.viewer_role == "owner"

    @property
    def queue_position(self) -> int | None:
        return self.queue.queue_position if self.queue is not None else None

    @property
    def queue_total(self) -> int | None:
        return self.queue.queue_total if self.queue is not None else None

    @classmethod
    def from_json(cls, data: object) -> AgentStatus:
        """The v0 status reply; the three flags are derived here, the v0 adapter's one rule."""
        obj = as_object(data, "agent status")
        run_info = _obj(obj.get("run_info"))
        results = run_info.get("results")
        runs = tuple(RunResult.from_json(r) for r in results) if isinstance(results, list) else ()
        status = _str(obj.get("status"))
        uploadable, deployable, settled = v0_flags(status)
        return cls(
            status=status,
            message=_str(_first(obj, "last_status_message", "message")),
            name=_str(obj.get("name")),
            queue=QueueInfo.from_json(obj.get("queue_info")),
            runs=runs,
            is_uploadable=uploadable,
            is_deployable=deployable,
            is_settled=settled,
            viewer_role="owner",
        )


def v0_flags(status: str | None) -> tuple[bool, bool, bool]:
    """``(uploadable, deployable, settled)`` of a v0 status, the only generation that needs
    them derived (``docs/api-v0.md``, Status). Uploadable means "without cancelling a deploy in
    flight": the v0 server itself accepts the PUT and cancels the deploy."""
    uploadable = status not in IN_FLIGHT_STATUSES and status != "deleted"
    return uploadable, status in V0_DEPLOYABLE_STATUSES, status in SETTLED_STATUSES


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
