"""The v4.6 adapter: :class:`V4Arena` speaks today's "submissions" routes (``api-v4.md``).

The routes, timeouts and replies follow the official client ``mlarena-sdk==4.6.0``
(``mlarena/client.py``). What this adapter does that the v0 one does not:

* the status flags (``is_uploadable``, ``is_deployable``, ``is_settled``), ``phase``,
  ``viewer_role``, ``latest_deploy`` and the integer queue position are read from the server;
* my submissions come from ``/api/submissions/mine`` (any status), not from the leaderboard;
* a file's raw bytes can be downloaded (the way to hash a remote binary; the listing has no
  content and no hash);
* run logs are ``agent_stdout_logs`` of my own row of each run, paged;
* a 409 on a file PUT is :class:`~mlarena_sync.errors.UploadsHeldError` (a deploy in flight);
* a 404 is checked against ``/api/submissions/mine`` before it is believed: a 404 on a route of
  a submission I own (or on ``/mine`` itself) means the server changed generation
  (:class:`~mlarena_sync.errors.GenerationChangedError`), not "agent missing".

Create, deploy and delete are sent once; a deploy whose reply is lost is answered by reading the
submission and its ``/deploys`` (a row created after our request means the server took it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests
import structlog

from mlarena_sync.api.http import BodyFactory, Call, HttpCore
from mlarena_sync.api.interface import V4_CAPABILITIES, Capabilities
from mlarena_sync.api.models import (
    DEPLOY_CLOCK_SKEW,
    ActiveLimits,
    AgentStatus,
    Competition,
    DeployLimits,
    DeployOutcome,
    DeployStatus,
    FileOpResult,
    LatestDeploy,
    LeaderboardRow,
    RemoteFile,
    RunLog,
    Runtime,
    SubmissionSummary,
    as_object,
)
from mlarena_sync.api.multipart import Progress, upload_body
from mlarena_sync.api.parsing import FIRST_PAGE, id_name_list, to_int
from mlarena_sync.api.responses import transport_error
from mlarena_sync.api.transport import maybe_sent
from mlarena_sync.api.v4_parse import (
    deploy_outcome_from_v4,
    deploys_from_v4,
    file_op_from_v4,
    files_from_v4,
    my_submissions_from_v4,
    run_logs_from_v4,
    status_from_v4,
)
from mlarena_sync.errors import (
    ApiError,
    GenerationChangedError,
    NotFoundError,
    ServerError,
    TransportError,
)

__all__ = ["RUNS_PAGE", "V4Arena"]

log = structlog.get_logger("mlarena_sync.api")

_SUBS = "/api/submissions"
_ONE = _SUBS + "/challenge/{cid}/{sid}"
_SUBMISSION = _SUBS + "/submission/{sid}"
#: The runs route's largest page (``limit`` 1..100).
RUNS_PAGE = 100


class V4Arena(HttpCore):
    """The ML Arena API (v4.6 "submissions" routes). Use as a context manager, or :meth:`close`."""

    @property
    def capabilities(self) -> Capabilities:
        return V4_CAPABILITIES

    # ---- the request path, with the 404 check ----------------------------------------------

    def _call(self, call: Call, *, file: str | None = None) -> Any:
        """``call``'s decoded JSON (a 404 is explained by :meth:`_explain_404` on the way)."""
        return self._json(self._request(call, file_name=file), call.what)

    def _read(self, route: str, segs: Mapping[str, int | str], what: str, **kw: Any) -> Any:
        """A retried GET (token sent when we have one)."""
        return self._call(Call("GET", route, segs, what, self.timeouts.read, True, **kw))

    def _explain_404(self, exc: NotFoundError, segments: Mapping[str, int | str]) -> ApiError:
        """Believe a 404 only when ``/api/submissions/mine`` agrees that the thing is missing.

        ``/mine`` exists for every signed-in user: its own 404 means the routes are gone. A
        submission it lists (so it exists, and is mine) whose route answered 404 means the same.
        A file route's 404 is first checked against the file list (a file deleted meanwhile is
        just missing); a runtime pin's 404 is never explained (the runtime id may be unknown).
        """
        cid, sid = _ids(segments)
        if self._token is None:
            return exc
        if (
            "name" in segments
            and self._probe(_ONE + "/file", {"cid": cid or 0, "sid": sid or 0}) == 200
        ):
            return exc  # the submission's files are listed: that one file is missing
        what = "my submissions (after a 404)"
        probe = Call("GET", _SUBS + "/mine", {}, what, self.timeouts.read, True, explain_404=False)
        try:
            mine = as_object(self._call(probe), what)
        except NotFoundError:
            return _generation_changed(exc.message)
        except ApiError:
            return exc  # cannot tell: keep the first answer
        rows = mine.get("submissions")
        row = next(
            (r for r in rows or [] if isinstance(r, Mapping) and to_int(r.get("id")) == sid),
            None,
        )
        if sid is None or row is None:
            return exc
        owner_cid = to_int(row.get("challenge_id"))
        if cid is not None and owner_cid is not None and owner_cid != cid:
            return NotFoundError(
                f"submission {sid} belongs to challenge {owner_cid}, not {cid}",
                status_code=404,
                hint="check `competition:` and `agent:` in mlarena.yaml",
            )
        return _generation_changed(exc.message)

    # ---- the challenge ---------------------------------------------------------------------

    def competition(self, cid: int) -> Competition:
        data = self._read("/api/challenges/{cid}", {"cid": cid}, f"challenge {cid}", auth=False)
        return Competition.from_json(data)

    def competitions(self) -> list[tuple[int, str]]:
        return id_name_list(self._read("/api/challenges/", {}, "challenge list", params=FIRST_PAGE))

    def leaderboard(self, cid: int) -> list[LeaderboardRow]:
        what = f"leaderboard of challenge {cid}"
        route = "/api/leaderboard/challenge/{cid}"
        return LeaderboardRow.list_from_json(self._read(route, {"cid": cid}, what, auth=False))

    def runtime_options(self, cid: int) -> list[Runtime]:
        """The challenge detail's own ``runtime_options`` (v4.6 has no route of its own)."""
        return list(self.competition(cid).runtime_options)

    # ---- my submissions --------------------------------------------------------------------

    def my_submissions(self, cid: int) -> list[SubmissionSummary]:
        """Every submission of mine on ``cid``, any status (``/mine`` has no filter: ours)."""
        return my_submissions_from_v4(self._read(_SUBS + "/mine", {}, "my submissions"), cid)

    def create_agent(self, cid: int, name: str, copy_from: int | None = None) -> int:
        """Create a submission; sent once, never retried (a retry could create two)."""
        what = f"create submission {name!r} in challenge {cid}"
        payload: dict[str, object] = {"submission_name": name}
        if copy_from is not None:
            payload["copy_from_submission_id"] = copy_from
        call = Call(
            "POST", _SUBS + "/challenge/{cid}", {"cid": cid}, what, self.timeouts.create, False
        )
        obj = as_object(self._call(_with(call, json=payload)), what)
        sid = to_int(obj.get("submission_id", obj.get("id")))
        if sid is None or isinstance(obj.get("submission_id"), bool):
            raise ServerError(f"unexpected reply from the server for {what}: no submission id")
        return sid

    def delete_agent(self, cid: int, aid: int) -> None:
        """Soft-delete the submission (files removed, open deploy cancelled); sent once."""
        what = f"submission {aid} of challenge {cid}"
        call = Call("DELETE", _ONE, {"cid": cid, "sid": aid}, what, self.timeouts.delete, False)
        self._request(call).close()

    def status(self, cid: int, aid: int) -> AgentStatus:
        """The submission with the server's flags; one of another challenge is "not found"
        here, as v0's status route under the wrong competition is."""
        what = f"submission {aid} of challenge {cid}"
        status = status_from_v4(self._read(_SUBMISSION, {"sid": aid}, what), what)
        if status.competition_id is not None and status.competition_id != cid:
            raise NotFoundError(
                f"submission {aid} belongs to challenge {status.competition_id}, not {cid}",
                status_code=404,
                hint="check `competition:` and `agent:` in mlarena.yaml",
            )
        return status

    def agent_runtime(self, aid: int) -> Runtime | None:
        """The submission's pinned runtime (None on a kernel without agent containers)."""
        data = self._read(_SUBMISSION, {"sid": aid}, f"runtime of submission {aid}")
        return Runtime.optional_from_json(as_object(data, "submission").get("agent_runtime"))

    def set_agent_runtime(self, aid: int, runtime_id: int) -> Runtime:
        """Pin a runtime (an idempotent PUT, so retried)."""
        what = f"runtime of submission {aid}"
        route = _SUBS + "/agent_runtime/{sid}"
        call = Call("PUT", route, {"sid": aid}, what, self.timeouts.read, True, explain_404=False)
        body = {"docker_image_agent_runtime_id": runtime_id}
        runtime = Runtime.optional_from_json(self._call(_with(call, json=body)))
        return runtime or Runtime(runtime_id, None, None, None, None, None)

    # ---- files -----------------------------------------------------------------------------

    def list_files(self, cid: int, aid: int) -> dict[str, RemoteFile]:
        """Names, sizes, roles and languages: no content and no hash on v4.6."""
        what = f"files of submission {aid} in challenge {cid}"
        return files_from_v4(self._read(_ONE + "/file", {"cid": cid, "sid": aid}, what))

    def file_content(self, cid: int, aid: int, name: str) -> str:
        """A text file's content (400 for a file listed with ``language: null``)."""
        what = f"file {name!r} of submission {aid}"
        segs: dict[str, int | str] = {"cid": cid, "sid": aid, "name": name}
        data = as_object(self._read(_ONE + "/file/{name}/content", segs, what), what)
        content = data.get("content")
        if not isinstance(content, str):
            raise ServerError(f"unexpected reply from the server for {what}: no text content")
        return content

    def download_file(self, cid: int, aid: int, name: str) -> bytes:
        """The file's raw bytes (any file, binaries included): the evidence to hash."""
        what = f"download of {name!r} from submission {aid}"
        segs: dict[str, int | str] = {"cid": cid, "sid": aid, "name": name}
        call = Call("GET", _ONE + "/file/{name}", segs, what, self.timeouts.download, True)
        response = self._request(call)
        try:
            return response.content
        except requests.RequestException as exc:
            raise transport_error(exc, what=what, token=self._token) from None
        finally:
            response.close()

    def upload_file(
        self,
        cid: int,
        aid: int,
        name: str,
        source: Path | bytes,
        progress: Progress | None = None,
    ) -> FileOpResult:
        """Upload (or overwrite) ``name``, streamed; retried (an overwrite is idempotent).

        200 even when validation rejects: read ``result.agent_status.deployable``. A 409 is
        :class:`~mlarena_sync.errors.UploadsHeldError` (a deploy is in flight).
        """
        what = f"upload of {name!r} to submission {aid}"
        return self._file_put(
            cid,
            aid,
            name,
            what,
            self.timeouts.upload,
            body=lambda: upload_body(name, source, progress),
        )

    def delete_file(self, cid: int, aid: int, name: str) -> FileOpResult:
        """Delete ``name`` (the upload PUT with a form field ``delete_file``); retried."""
        what = f"delete of {name!r} from submission {aid}"
        return self._file_put(
            cid, aid, name, what, self.timeouts.delete, data={"delete_file": name}
        )

    def _file_put(
        self,
        cid: int,
        aid: int,
        name: str,
        what: str,
        timeout: float,
        *,
        body: BodyFactory | None = None,
        data: Mapping[str, str] | None = None,
    ) -> FileOpResult:
        segs = {"cid": cid, "sid": aid}
        call = Call("PUT", _ONE + "/file", segs, what, timeout, True, data=data, body=body)
        return file_op_from_v4(self._call(call, file=name), what)

    # ---- deploys ---------------------------------------------------------------------------

    def deploy_limits(self, cid: int, aid: int) -> DeployLimits:
        what = f"deploy quota of submission {aid}"
        data = self._read(_ONE + "/deploy", {"cid": cid, "sid": aid}, what)
        return DeployLimits.from_reply(data) or DeployLimits.from_json({})

    def deploy_status(self, cid: int, aid: int) -> DeployStatus:
        """Quota and active limits (``/deploy``) with the latest attempt (the submission)."""
        what = f"deploy quota of submission {aid}"
        data = self._read(_ONE + "/deploy", {"cid": cid, "sid": aid}, what)
        return DeployStatus(
            limits=DeployLimits.from_reply(data) or DeployLimits.from_json({}),
            latest=self.status(cid, aid).latest_deploy,
            active=ActiveLimits.from_reply(data),
        )

    def deploys(self, cid: int, aid: int) -> list[LatestDeploy]:
        """Every deploy attempt, newest first."""
        what = f"deploy attempts of submission {aid}"
        return deploys_from_v4(self._read(_SUBMISSION + "/deploys", {"sid": aid}, what))

    def deploy(self, cid: int, aid: int) -> DeployOutcome:
        """Ask for one deploy. Never retried: a lost reply is followed by reads.

        409 → :class:`QuotaError` (quota, active-submission limit or state). A timeout, or a
        connection dropped after the request went out, returns ``DeployOutcome(timed_out=True,
        accepted=...)`` from the submission and its attempts; a failure before the request left
        is a :class:`TransportError` (nothing was sent, so nothing was spent).
        """
        what = f"deploy of submission {aid} in challenge {cid}"
        segs = {"cid": cid, "sid": aid}
        started = datetime.now(timezone.utc)
        call = Call("PUT", _ONE + "/deploy", segs, what, self.timeouts.deploy, retried=False)
        try:
            response = self._send(call)
        except requests.RequestException as exc:
            lost = transport_error(exc, what=what, token=self._token)
            if not maybe_sent(exc):
                raise lost from None
            log.warning("deploy_reply_lost", agent_id=aid, reason=lost.message)
            return self._after_lost_deploy(cid, aid, started, lost.message)
        checked = self._verdict(response, call, deploy_route=True)
        return deploy_outcome_from_v4(self._json(checked, what), what)

    def _after_lost_deploy(self, cid: int, aid: int, started: datetime, lost: str) -> DeployOutcome:
        try:
            status = self.status(cid, aid)
        except ApiError as exc:
            raise TransportError(
                f"the deploy request of submission {aid} got no reply ({lost}), and it could "
                f"not be read ({exc.message}): the deploy may or may not have been accepted",
                hint="run `mlarena-sync status` before deploying again",
            ) from None
        attempts: list[LatestDeploy] = []
        try:
            attempts = self.deploys(cid, aid)
        except ApiError as exc:
            log.warning("deploy_attempts_unreadable", agent_id=aid, reason=exc.message)
        ours = [
            a
            for a in attempts
            if a.created_at is not None and a.created_at >= started - DEPLOY_CLOCK_SKEW
        ]
        latest = ours[0] if ours else status.latest_deploy
        accepted = bool(ours) or status.in_flight or bool(latest is not None and latest.open)
        seen = "the server took it" if accepted else "no deploy is seen"
        return DeployOutcome(
            accepted=accepted,
            deployment_id=latest.id if accepted and latest is not None else None,
            status=(latest.status if latest is not None else None) or status.status,
            message=f"the deploy request got no reply, and {seen} (submission {status.status})",
            timed_out=True,
            agent_status=status,
        )

    # ---- logs ------------------------------------------------------------------------------

    def run_logs(self, cid: int, aid: int, *, limit: int = 10) -> list[RunLog]:
        """My stdout of the newest runs (my row of each), paged by :data:`RUNS_PAGE`."""
        what = f"runs of submission {aid}"
        out: list[RunLog] = []
        while len(out) < max(0, limit):
            page = min(RUNS_PAGE, limit - len(out))
            params = {"offset": len(out), "limit": page}
            data = self._read(_SUBMISSION + "/runs", {"sid": aid}, what, params=params)
            runs, total = run_logs_from_v4(data, aid)
            out.extend(runs)
            if len(runs) < page or (total is not None and len(out) >= total):
                break
        return out[: max(0, limit)]


def _ids(segs: Mapping[str, int | str]) -> tuple[int | None, int | None]:
    cid, sid = segs.get("cid"), segs.get("sid")
    return (cid if isinstance(cid, int) else None, sid if isinstance(sid, int) else None)


def _with(call: Call, **changes: Any) -> Call:
    return replace(call, **changes)


def _generation_changed(first_answer: str) -> GenerationChangedError:
    return GenerationChangedError(
        "the server no longer speaks the v4.6 submissions API: a route that exists in it "
        f"answered 404 for a submission (or a list) that exists ({first_answer})",
        status_code=404,
        hint="upgrade mlarena-sync, or set `api:` in mlarena.yaml to the server's generation; "
        "the agent binding is kept",
    )
