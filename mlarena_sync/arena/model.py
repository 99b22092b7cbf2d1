"""The fake arena's records: users, competitions, runtimes, agents, deploys and games."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Agent statuses (api-v0.md "Status").
CREATED = "created"
UPLOAD_VALIDATED = "upload_validated"
UPLOAD_FAILED = "upload_failed"
DEPLOY_QUEUE = "deploy_queue"
DEPLOY_RUN = "deploy_run"
DEPLOY_FAILED = "deploy_failed"
ACTIVE = "active"
DELETED = "deleted"

DEPLOYABLE = frozenset({UPLOAD_VALIDATED, DEPLOY_FAILED, ACTIVE})
IN_FLIGHT = frozenset({DEPLOY_QUEUE, DEPLOY_RUN})
HOLDS_SLOT = frozenset({DEPLOY_QUEUE, DEPLOY_RUN, ACTIVE})

# Deployment statuses (``latestDeploy.status``).
D_QUEUED = "queued"
D_RUNNING = "running"
D_SUCCEEDED = "succeeded"
D_FAILED = "failed"
D_CANCELLED = "cancelled"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    scope: str
    lookup: str
    secret: str

    @property
    def token(self) -> str:
        return f"mlk_{self.scope}_{self.lookup}_{self.secret}"


@dataclass(frozen=True)
class Runtime:
    id: int
    engine: str
    language: str
    language_version: str
    framework: str
    framework_version: str
    requirement: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "language_version": self.language_version,
            "framework": self.framework,
            "framework_version": self.framework_version,
            "requirement": self.requirement,
            "engine": self.engine,
        }

    @property
    def display_name(self) -> str:
        """The runtime's one name, as the v4.6 console shows it."""
        return {"torch": "PyTorch", "pandas": "pandas"}.get(self.framework, "No framework")

    @property
    def packages(self) -> list[dict[str, str]]:
        """Headline packages ``{name, version}`` parsed from ``requirement``."""
        out = []
        for spec in self.requirement.split():
            name, _, version = spec.partition("==")
            out.append({"name": name, "version": version})
        return out


@dataclass(frozen=True)
class Competition:
    id: int
    name: str
    description: str
    kind: str  # "code" (agent.py) or "file" (submission.csv)
    engine: str
    is_public: bool
    owner_id: int
    max_upload_size_bytes: int
    max_upload_files: int
    max_active_agents_per_participant: int
    agent_template: str | None
    default_runtime_id: int
    tags: tuple[str, ...] = ()

    @property
    def kernel_version(self) -> str:
        """The v4.6 kind: ``flex_v1`` (code: agent.py) or ``file_v1`` (one scored file)."""
        return "file_v1" if self.kind == "file" else "flex_v1"

    @property
    def entry_filename(self) -> str:
        """The one file the challenge runs (code) or scores (file)."""
        return "submission.csv" if self.kind == "file" else "agent.py"

    @property
    def metric_key(self) -> str:
        """The leaderboard's ranking metric (never ``score``: that is a row column)."""
        return "accuracy" if self.kind == "file" else "reward"

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "status": "started",
            "is_public": self.is_public,
            "submission_type": self.kind,
            "tags": list(self.tags),
        }

    def detail(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "kernel_version": f"{self.engine}-1.0",
            "engine": {
                "name": self.engine,
                "k8s_workload_value": "cpu",
                "vm_health_ok": None,
                "vm_health_checked_at": None,
            },
            "evaluation_metric": "reward",
            "max_upload_size_bytes": self.max_upload_size_bytes,
            "max_upload_files": self.max_upload_files,
            "max_active_agents_per_participant": self.max_active_agents_per_participant,
            "agent_template": self.agent_template,
            "default_runtime_id": self.default_runtime_id,
        }


@dataclass
class Agent:
    id: int
    competition_id: int
    owner_id: int
    name: str
    runtime_id: int
    created_at: str
    status: str = CREATED
    last_status_message: str | None = None
    mean_reward: float | None = None
    latest_deploy_id: int | None = None
    # Added for the v4.6 API (state files written before them load with the defaults).
    updated_at: str | None = None  # last status change: the status block's status_update_ts
    is_public: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Agent:
        return cls(**data)


@dataclass
class Deployment:
    id: int
    agent_id: int
    user_id: int
    competition_id: int
    created_at: str
    status: str = D_QUEUED
    finished_at: str | None = None
    failure_message: str | None = None
    queued_monotonic: float = 0.0
    results: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "failure_message": self.failure_message,
        }

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("queued_monotonic")
        data.pop("results")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        return cls(**data)


@dataclass
class Game:
    id: int
    agent_id: int
    deployment_id: int
    created_at: str
    reward: float | None
    outcome: str
    steps: int
    log: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Game:
        return cls(**data)
