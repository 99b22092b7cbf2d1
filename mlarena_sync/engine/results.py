"""What a reconcile is asked to do and what it did (:mod:`~.reconcile`'s options and result)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from mlarena_sync.api.models import AgentStatus
from mlarena_sync.engine.plan import Plan
from mlarena_sync.local.scan import LocalFile

__all__ = [
    "DEFAULT_OPTIONS",
    "RESCANS",
    "UNBOUND",
    "OverDeleteCap",
    "ReconcileOptions",
    "ReconcileResult",
    "after_rescan",
]

#: What a reconcile does when the plan deletes more than ``sync.max_delete`` files (no --force):
#: ``"stop"`` raises :class:`ConflictError`, nothing applied (push); ``"skip_deletes"`` applies
#: everything else and reports the deletes in :attr:`ReconcileResult.deletes_skipped` (watch).
OverDeleteCap = Literal["stop", "skip_deletes"]

#: Shown as the status of an agent that does not exist yet (dry run before the first push).
UNBOUND = AgentStatus(None, "no agent yet: the first push creates it", None, None, ())


@dataclass(frozen=True)
class ReconcileOptions:
    dry_run: bool = False  # plan only: no request that changes anything
    force: bool = False  # overwrite remote changes, exceed max_delete, upload mid-deploy
    skip_conflicts: bool = False  # watch: sync everything else, report conflicted files
    hold_while_deploying: bool = True  # in-flight deploy → apply nothing, report `held`
    mark_deploy_pending: bool = False  # push: journal "deploy decision pending" before applying
    over_delete_cap: OverDeleteCap = "stop"  # watch: "skip_deletes" syncs the rest
    # replica push: read back every remote file the listing cannot prove equal (v4.6 lists no
    # hash), so a same-size remote edit is overwritten too; watch leaves it off (a read per file
    # per save would cost every save).
    verify_all: bool = False


DEFAULT_OPTIONS = ReconcileOptions()


@dataclass(frozen=True, kw_only=True)
class ReconcileResult:
    plan: Plan
    agent_status: AgentStatus  # read after the batch (validation verdict)
    uploaded: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    held: int = 0  # operations not applied because a deploy is in flight
    changed: bool = False  # something was uploaded or deleted
    validation_ok: bool = True
    created_agent: bool = False
    agent_id: int | None = None  # None only for a dry run before the first push
    validation_message: str | None = None
    local: Mapping[str, LocalFile] = field(default_factory=dict, repr=False)
    deletes_skipped: tuple[str, ...] = ()  # over the delete cap, with "skip_deletes"
    vanished: tuple[str, ...] = ()  # deleted after the scan: skipped, then rescanned


#: Reconciles run again while files vanish between a scan and their upload.
RESCANS = 2


def after_rescan(first: ReconcileResult, then: ReconcileResult) -> ReconcileResult:
    """One result for a reconcile and the one that rescanned after files vanished."""
    return replace(
        then,
        uploaded=first.uploaded + then.uploaded,
        deleted=first.deleted + then.deleted,
        changed=first.changed or then.changed,
        created_agent=first.created_agent or then.created_agent,
    )
