"""The v4.6 generation's reply shapes, built from the shared store's records.

Names and keys follow ``mlarena-sdk==4.6.0`` (``mlarena/client.py`` docstrings and the keys
it reads); api-v4.md is the digest. Timestamps are ISO-8601 UTC with a ``Z``.
"""

from __future__ import annotations

import time
from typing import Any

from mlarena_sync.arena.model import (
    ACTIVE,
    CREATED,
    D_FAILED,
    DELETED,
    DEPLOY_FAILED,
    DEPLOY_QUEUE,
    DEPLOYABLE,
    IN_FLIGHT,
    UPLOAD_FAILED,
    UPLOAD_VALIDATED,
    Agent,
    Competition,
    Deployment,
    Game,
    Runtime,
    User,
)
from mlarena_sync.arena.seed import Seed
from mlarena_sync.arena.storage import language_of
from mlarena_sync.arena.store import ArenaStore

PHASES = {
    CREATED: "upload",
    UPLOAD_FAILED: "upload",
    UPLOAD_VALIDATED: "upload",
    DEPLOY_FAILED: "upload",  # back to fixing files
    ACTIVE: "active",
    DELETED: "terminal",
}
KIND_LABELS = {"flex_v1": "Code challenge", "file_v1": "File challenge"}
RETENTION_DAYS = 364  # the replay bucket keeps runs 365 days
ROLE_ORDER = {"entry": 0, "report": 1, "other": 2}
ROLE_ORDER = {"entry": 0, "report": 1, "other": 2}
AGENT_ERROR = "code_error"


def ts(value: str | None) -> str | None:
    """The store's ``+00:00`` ISO-8601 as the v4.6 API writes it (``...Z``)."""
    return None if value is None else value.replace("+00:00", "Z")


def status_block(agent: Agent, put_policy: str) -> dict[str, Any]:
    """The block every submission reply carries; the three flags are the server's answer.

    ``put_policy`` is ``"refuse"`` or ``"cancel"``: under "cancel" a file PUT during a deploy
    is taken (and cancels it), so the submission stays uploadable.
    """
    in_flight = agent.status in IN_FLIGHT
    return {
        "status": agent.status,
        "phase": PHASES.get(agent.status, "deployment"),
        "last_status_message": agent.last_status_message,
        "status_update_ts": ts(agent.updated_at or agent.created_at),
        "is_uploadable": agent.status != DELETED and not (in_flight and put_policy == "refuse"),
        "is_deployable": agent.status in DEPLOYABLE,
        "is_settled": not in_flight,
    }


def runtime_json(rt: Runtime) -> dict[str, Any]:
    return {
        "id": rt.id,
        "language": rt.language,
        "language_version": rt.language_version,
        "framework": rt.framework,
        "framework_version": rt.framework_version,
        "requirement": rt.requirement,
        "display_name": rt.display_name,
        "packages": rt.packages,
    }


def runtime_options(comp: Competition, seed: Seed) -> list[dict[str, Any]]:
    """A file challenge runs no agent container: it offers (and pins) no runtime."""
    if comp.kind == "file":
        return []
    return [runtime_json(rt) for rt in seed.runtimes if rt.engine == comp.engine]


def metric_spec(comp: Competition) -> dict[str, Any]:
    return {
        "key": comp.metric_key,
        "label": comp.metric_key.capitalize(),
        "source": "score",  # the env's main score (SDK README, "Metrics")
        "agg": "mean",
        "order": "desc",
        "format": "number",
        "unit": None,
        "precision": 4,
        "is_ranking": True,
        "visible": True,
    }


def challenge_row(comp: Competition) -> dict[str, Any]:
    """A row of ``GET /api/challenges/``."""
    return {
        "id": comp.id,
        "name": comp.name,
        "description": comp.description,
        "miniature": None,
        "status": "started",
        "is_public": comp.is_public,
        "is_award_points": False,
        "number_of_agents": 1,
        "tags": list(comp.tags),
        "statistics": None,
        "kernel_version": comp.kernel_version,
        "kind_label": KIND_LABELS[comp.kernel_version],
        "my_rank": None,
        "course": None,
    }


def challenge_detail(comp: Competition, seed: Seed) -> dict[str, Any]:
    """``GET /api/challenges/{cid}``: limits, the entry file, runtimes and the machine."""
    is_file = comp.kind == "file"
    return {
        **challenge_row(comp),
        "entry_filename": comp.entry_filename,
        "submission_filename": comp.entry_filename if is_file else None,
        "max_upload_size_bytes": comp.max_upload_size_bytes,
        "max_upload_files": comp.max_upload_files,
        "max_active_submissions": comp.max_active_agents_per_participant,
        "runtime_options": runtime_options(comp, seed),
        "default_runtime_id": None if is_file else comp.default_runtime_id,
        "machine": {
            "id": comp.id,
            "name": f"{comp.engine}-cpu",
            "runtime": "k8s",
            "vm_health_ok": None,
            "vm_health_checked_at_ts": None,
        },
        "agent_cpu_limit": "1",
        "agent_memory_limit": "1Gi",
        "gpu_memory_limit": None,
        "has_gpu": False,
        "metrics": [metric_spec(comp)],
        "agent_template": None if is_file else comp.agent_template,
        "submission_layout": {
            "columns": ["id", "prediction"],
            "separator": ",",
            "id_column": "id",
            "target_column": "prediction",
            "row_count": None,
        }
        if is_file
        else None,
    }


def current_user(user: User) -> dict[str, Any]:
    """``GET /api/auth/current_user``: every key always present."""
    return {
        "is_authenticated": True,
        "id": user.id,
        "username": user.username,
        "email": f"{user.username}@fake-arena.test",
        "avatar_key": None,
        "is_admin": False,
        "is_teacher": user.scope == "teacher",
        "is_creator": user.scope == "creator",
        "is_human_verified": True,
        "has_teacher_access": user.scope == "teacher",
        "has_creator_access": user.scope == "creator",
        "can_create_course": False,
    }


def deploy_row(dep: Deployment) -> dict[str, Any]:
    """An attempt: ``latest_deploy`` and the rows of ``/deploys``."""
    return {
        "id": dep.id,
        "created_at_ts": ts(dep.created_at),
        "status": dep.status,
        "finished_at_ts": ts(dep.finished_at),
        "failure_message": dep.failure_message,
        "failure_owner": "participant" if dep.status == D_FAILED else None,
    }


def active_block(limits: dict[str, Any]) -> dict[str, Any]:
    """The v4.6 names of ``quotas.active_limits``' block."""
    return {
        "max_active_submissions": limits["max_active_agents_per_participant"],
        "active_submissions_count": limits["active_agents"],
        "active_submissions_remaining": limits["remaining"],
    }


def queue_info(store: ArenaStore, agent: Agent) -> dict[str, Any]:
    """Position in the deploy queue; every key null when nothing of this submission waits."""
    dep = store.deployments.get(agent.latest_deploy_id or -1)
    if agent.status != DEPLOY_QUEUE or dep is None or dep.id not in store.queue:
        return {
            "queue_position": None,
            "queue_total": None,
            "created_at_ts": None,
            "in_queue_for_second": None,
        }
    return {
        "queue_position": store.queue.index(dep.id) + 1,
        "queue_total": len(store.queue),
        "created_at_ts": ts(dep.created_at),
        "in_queue_for_second": int(max(0.0, time.monotonic() - dep.queued_monotonic)),
    }


def file_rows(store: ArenaStore, agent: Agent, comp: Competition) -> list[dict[str, Any]]:
    """``{name, size, role, language}``: the entry file first, then reports, then the rest."""
    rows: list[tuple[int, str, int, str, str | None]] = []
    for name, size, text in store.files.entries(agent.id):  # read under the store's lock
        role = file_role(name, comp)
        language = None if name.lower().endswith(".pdf") or text is None else language_of(name)
        rows.append((ROLE_ORDER[role], name, size, role, language))
    rows.sort()
    return [
        {"name": name, "size": size, "role": role, "language": language}
        for _, name, size, role, language in rows
    ]


def file_role(name: str, comp: Competition) -> str:
    if name == comp.entry_filename:
        return "entry"
    if name.lower() == "readme.md" or name.lower().endswith(".pdf"):
        return "report"
    return "other"


def game_run(game: Game, agent: Agent, owner: User | None, comp: Competition) -> dict[str, Any]:
    """One ``RunResult``: a solo run with this submission's row in ``submission_results``."""
    failed = game.outcome == "error"
    mine = {
        "id": game.id,
        "submission_id": agent.id,
        "submission_name": agent.name,
        "user_name": owner.username if owner else None,
        "submission_status": agent.status,
        "agent_attached_player_id": 0,
        "env_player_name": "player_0",
        "score": game.reward,
        "score_variance": None,
        "n_episodes": 1,
        "score_ci95": None,
        "agent_nb_steps": game.steps,
        "game_outcome": None,
        "final_rank": None,
        "score_elo_before": None,
        "score_elo_delta": None,
        "metrics": {comp.metric_key: game.reward},
        "info_message": None if failed else game.outcome,
        "agent_error_type": AGENT_ERROR if failed else None,
        "agent_error_message": game.log.strip().splitlines()[-1] if failed and game.log else None,
        "agent_stdout_logs": game.log,
    }
    created = ts(game.created_at)
    return {
        "simulation_result_id": game.id,
        "submission_deploy_id": game.deployment_id,
        "job_status": "completed",
        "job_started_at_ts": created,
        "job_completed_at_ts": created,
        "job_error_type": None,
        "job_error_message": None,
        "job_retry_count": 0,
        "created_at_ts": created,
        "simulate_end_time_ts": created,
        "is_test": False,
        "is_deployment": True,
        "env_nb_steps": game.steps,
        "env_error_type": None,
        "env_error_message": None,
        "env_stdout_logs": None,
        "replay": None,
        "submission_results": [mine],
    }


def runs_context(comp: Competition) -> dict[str, Any]:
    return {"metrics": [metric_spec(comp)], "number_of_agents": 1, "render_delay_second": None}
