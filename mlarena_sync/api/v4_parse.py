"""v4.6 reply shapes → the shared reply types of :mod:`mlarena_sync.api.models`.

Only the shapes whose *meaning* changed since v0 are parsed here (a renamed key alone is read by
the shared parsers). The rules, from ``api-v4.md`` and the official 4.6.0 client:

* the status block's ``is_uploadable`` / ``is_deployable`` / ``is_settled`` are read, never
  derived; a reply without them is not a v4.6 reply (:class:`GenerationChangedError`), as the
  SDK fails loudly on the same keys;
* the file list is a list without content or hash (``language: null`` = not served as text);
* my stdout of a run is ``agent_stdout_logs`` on *my own* row of ``submission_results`` (the
  one whose ``submission_id`` is mine), never an opponent's.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlarena_sync.api.models import (
    AgentStatus,
    DeployOutcome,
    FileOpResult,
    LatestDeploy,
    QueueInfo,
    RemoteFile,
    RunLog,
    Runtime,
    SubmissionSummary,
)
from mlarena_sync.api.parsing import JsonObject, as_list, as_object, first, parse_datetime
from mlarena_sync.api.parsing import obj_or_empty as _obj
from mlarena_sync.api.parsing import to_float as _float
from mlarena_sync.api.parsing import to_int as _int
from mlarena_sync.api.parsing import to_str as _str
from mlarena_sync.errors import GenerationChangedError

_FLAGS = ("is_uploadable", "is_deployable", "is_settled")


def _flag(obj: JsonObject, key: str, what: str) -> bool:
    value = obj.get(key)
    if isinstance(value, bool):
        return value
    raise GenerationChangedError(
        f"the server's reply for {what} has no {key!r} flag: it does not speak the v4.6 "
        "submissions API any more",
        hint="upgrade mlarena-sync, or set `api:` in mlarena.yaml to the server's generation",
    )


def has_status_block(data: object) -> bool:
    """The reply carries the three flags (some replies may omit the block altogether)."""
    obj = _obj(data)
    return all(isinstance(obj.get(key), bool) for key in _FLAGS)


def status_from_v4(data: object, what: str) -> AgentStatus:
    """A submission (``GET /api/submissions/submission/{sid}``) or any reply with the block."""
    obj = as_object(data, what)
    runtime = Runtime.optional_from_json(obj.get("agent_runtime"))
    return AgentStatus(
        status=_str(obj.get("status")),
        message=_str(obj.get("last_status_message")),
        name=_str(obj.get("submission_name")),
        queue=QueueInfo.from_json(obj.get("queue_info")),
        runs=(),
        is_uploadable=_flag(obj, "is_uploadable", what),
        is_deployable=_flag(obj, "is_deployable", what),
        is_settled=_flag(obj, "is_settled", what),
        phase=_str(obj.get("phase")),
        viewer_role=_str(obj.get("viewer_role")),
        latest_deploy=LatestDeploy.from_json(obj.get("latest_deploy")),
        agent_id=_int(first(obj, "id", "submission_id")),
        competition_id=_int(obj.get("challenge_id")),
        runtime=runtime,
        score=_float(obj.get("score")),
        number_of_runs=_int(obj.get("number_of_runs")),
    )


def file_op_from_v4(data: object, what: str) -> FileOpResult:
    """A file PUT's reply: 200 even when validation rejects; the block says what it means."""
    obj = as_object(data, what)
    return FileOpResult(
        message=_str(obj.get("message")),
        status=_str(obj.get("status")),
        validation_message=_str(obj.get("validation_message")),
        agent_status=status_from_v4(obj, what) if has_status_block(obj) else None,
    )


def deploy_outcome_from_v4(data: object, what: str) -> DeployOutcome:
    """The 202 of a deploy: ``deployment_id`` and the block as the transaction left it."""
    obj = as_object(data, what)
    return DeployOutcome(
        accepted=True,
        deployment_id=_int(obj.get("deployment_id")),
        status=_str(obj.get("status")),
        message=_str(obj.get("message")),
        timed_out=False,
        agent_status=status_from_v4(obj, what) if has_status_block(obj) else None,
    )


def files_from_v4(data: object) -> dict[str, RemoteFile]:
    """``{"files": [{name, size, role, language}]}``: no content, so no hash, for any file."""
    files = as_object(data, "file list").get("files")
    out: dict[str, RemoteFile] = {}
    for item in as_list(files if files is not None else [], "file list"):
        row = _obj(item)
        name = _str(row.get("name"))
        if not name:
            continue
        language = _str(row.get("language"))
        out[name] = RemoteFile(
            name=name,
            content=None,
            is_binary=language is None,
            size=_int(row.get("size")),
            language=language,
            role=_str(row.get("role")),
        )
    return out


def my_submissions_from_v4(data: object, cid: int) -> list[SubmissionSummary]:
    """My submissions on challenge ``cid`` out of ``/api/submissions/mine`` (every challenge,
    any status, deleted ones absent; the route has no filter)."""
    rows = as_object(data, "my submissions").get("submissions")
    out: list[SubmissionSummary] = []
    for row in as_list(rows if rows is not None else [], "my submissions"):
        summary = SubmissionSummary.from_json(row)
        if summary is not None and summary.competition_id == cid:
            out.append(summary)
    return out


def deploys_from_v4(data: object) -> list[LatestDeploy]:
    """``{"deploys": [...]}``, newest first."""
    rows = as_object(data, "deploy attempts").get("deploys")
    attempts = (LatestDeploy.from_json(r) for r in as_list(rows or [], "deploy attempts"))
    return [a for a in attempts if a is not None]


def run_logs_from_v4(data: object, sid: int) -> tuple[list[RunLog], int | None]:
    """One page of ``/runs``: my row of each run, and the ``total`` of runs that match."""
    obj = as_object(data, "runs")
    runs = as_list(obj.get("runs") or [], "runs")
    return [_run_log(_obj(run), sid) for run in runs], _int(obj.get("total"))


def _run_log(run: JsonObject, sid: int) -> RunLog:
    mine = _my_row(run, sid)
    return RunLog(
        id=_int(first(run, "simulation_result_id", "id")),
        status=_str(run.get("job_status")),
        score=_float(mine.get("score")),
        outcome=_str(first(mine, "game_outcome", "info_message")),
        created_at=parse_datetime(run.get("created_at_ts")),
        log=_str(mine.get("agent_stdout_logs")),
        error_type=_str(first(mine, "agent_error_type") or run.get("env_error_type")),
        error_message=_str(mine.get("agent_error_message")),
    )


def _my_row(run: JsonObject, sid: int) -> Mapping[str, object]:
    """The ``submission_results`` row whose ``submission_id`` is mine (opponents' rows carry no
    stdout for me); an empty row when the run lists none."""
    rows = run.get("submission_results")
    if isinstance(rows, list):
        for row in rows:
            if isinstance(row, Mapping) and _int(row.get("submission_id")) == sid:
                return row
    return {}
