"""The v0 adapter: :class:`ArenaClient` speaks the "attached agents" routes (``docs/api-v0.md``).

This is the client mlarena-sync was born with; it keeps its behaviour (routes, retries, the
lost-deploy inference) and gains the :class:`~mlarena_sync.api.interface.Arena` operations that
v0 can offer:

* my agents come from the leaderboard (v0 has no "mine" route), so only deployed ones show;
* there is no raw download: :meth:`ArenaClient.download_file` raises
  :class:`~mlarena_sync.errors.UnsupportedOperationError` (``capabilities.download_bytes`` is
  false); the listing carries text content instead, so text files have a hash;
* run logs are the recent games' stdout, fetched from signed URLs without the token;
* ``uploadable`` / ``deployable`` / ``settled`` are derived from the status name (the one place
  they are derived, :func:`mlarena_sync.api.models.v0_flags`).

A deploy whose reply never comes (timeout, or the connection dropped after the request went
out) is followed by a status read, never by a second deploy: :meth:`ArenaClient.deploy` returns
``DeployOutcome(timed_out=True, accepted=<inferred>)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

import requests
import structlog

from mlarena_sync.api.http import BodyFactory, Call, HttpCore, Timeouts
from mlarena_sync.api.interface import V0_CAPABILITIES, Capabilities
from mlarena_sync.api.models import (
    DEPLOY_CLOCK_SKEW,
    AgentStatus,
    Competition,
    DeployLimits,
    DeployOutcome,
    DeployStatus,
    FileOpResult,
    Game,
    LatestDeploy,
    LeaderboardRow,
    RemoteFile,
    RunLog,
    Runtime,
    SubmissionSummary,
    as_list,
    as_object,
    parse_datetime,
)
from mlarena_sync.api.multipart import Progress, upload_body
from mlarena_sync.api.parsing import FIRST_PAGE, id_name_list
from mlarena_sync.api.responses import transport_error
from mlarena_sync.api.transport import maybe_sent
from mlarena_sync.errors import (
    ApiError,
    GenerationChangedError,
    NotFoundError,
    ServerError,
    TransportError,
    UnsupportedOperationError,
)

__all__ = ["DEPLOY_CLOCK_SKEW", "ArenaClient", "Timeouts"]

log = structlog.get_logger("mlarena_sync.api")

_AGENTS = "/api/direct_attache_agents"


class ArenaClient(HttpCore):
    """The ML Arena API (v0 routes). Use as a context manager, or call :meth:`close`."""

    @property
    def capabilities(self) -> Capabilities:
        return V0_CAPABILITIES

    def _explain_404(self, exc: NotFoundError, segments: Mapping[str, int | str]) -> ApiError:
        """A 404 under a competition that is gone while ``/api/challenges/{cid}`` answers is
        today's server (every v0 route 404s there since SDK 2.0), not a missing agent.

        One probe (the competition) in the common case of a missing agent; a second one
        (the challenge) only when the competition 404s too.
        """
        cid = segments.get("cid")
        if not isinstance(cid, int) or self._probe("/api/competitions/{cid}", {"cid": cid}) != 404:
            return exc
        if self._probe("/api/challenges/{cid}", {"cid": cid}) not in (200, 401, 403):
            return exc  # the competition is just missing (or hidden)
        return GenerationChangedError(
            "the server no longer speaks the v0 API: the v0 routes of competition "
            f"{cid} answer 404 while it exists as a challenge of today's API",
            status_code=404,
            hint="set `api:` in mlarena.yaml to `auto` (or `v4.6`); the agent binding is kept",
        )

    # ---- competitions ----------------------------------------------------------------------

    def competition(self, cid: int) -> Competition:
        what = f"competition {cid}"
        return Competition.from_json(
            self._get("/api/competitions/{cid}", {"cid": cid}, what, auth=False)
        )

    def competitions(self) -> list[tuple[int, str]]:
        data = self._get("/api/competitions/", {}, "competition list", params=FIRST_PAGE)
        return id_name_list(data)

    def leaderboard(self, cid: int) -> list[LeaderboardRow]:
        what = f"leaderboard of competition {cid}"
        data = self._get("/api/leaderboard/competition/{cid}", {"cid": cid}, what, auth=False)
        return LeaderboardRow.list_from_json(data)

    def runtime_options(self, cid: int) -> list[Runtime]:
        what = f"runtime options of competition {cid}"
        data = self._get(_AGENTS + "/runtime_options/{cid}", {"cid": cid}, what)
        if isinstance(data, Mapping):
            data = data.get("runtimes", data.get("items"))
        return [Runtime.from_json(r) for r in as_list(data, what)]

    # ---- agents ----------------------------------------------------------------------------

    def create_agent(self, cid: int, name: str, copy_from: int | None = None) -> int:
        """Create an agent; sent once, never retried (a retry could create two)."""
        what = f"create agent {name!r} in competition {cid}"
        payload: dict[str, object] = {"agent_name": name}
        if copy_from is not None:
            payload["copy_from_agent_id"] = copy_from
        response = self._request(
            Call(
                "POST",
                _AGENTS + "/competition/{cid}",
                {"cid": cid},
                what=what,
                read_timeout=self.timeouts.create,
                retried=False,
                json=payload,
            )
        )
        obj = as_object(self._json(response, what), what)
        agent_id = obj.get("attache_agent_id", obj.get("id"))
        if isinstance(agent_id, bool) or not isinstance(agent_id, int):
            raise ServerError(f"unexpected reply from the server for {what}: no agent id")
        return agent_id

    def delete_agent(self, cid: int, aid: int) -> None:
        """Soft-delete an agent; sent once."""
        self._request(
            Call(
                "DELETE",
                _AGENTS + "/competition/{cid}/{aid}",
                {"cid": cid, "aid": aid},
                what=f"agent {aid} of competition {cid}",
                read_timeout=self.timeouts.read,
                retried=False,
            )
        )

    def status(self, cid: int, aid: int) -> AgentStatus:
        what = f"agent {aid} of competition {cid}"
        route = _AGENTS + "/competition/{cid}/{aid}/status"
        return AgentStatus.from_json(self._get(route, {"cid": cid, "aid": aid}, what))

    def games(self, aid: int) -> list[Game]:
        what = f"games of agent {aid}"
        return Game.list_from_json(self._get(_AGENTS + "/agent/{aid}/games", {"aid": aid}, what))

    def agent_runtime(self, aid: int) -> Runtime | None:
        what = f"runtime of agent {aid}"
        data = self._get(_AGENTS + "/agent_runtime/{aid}", {"aid": aid}, what)
        return Runtime.optional_from_json(data)

    def set_agent_runtime(self, aid: int, runtime_id: int) -> Runtime:
        """Pin a runtime (an idempotent PUT, so retried)."""
        what = f"runtime of agent {aid}"
        response = self._request(
            Call(
                "PUT",
                _AGENTS + "/agent_runtime/{aid}",
                {"aid": aid},
                what=what,
                read_timeout=self.timeouts.read,
                retried=True,
                json={"docker_image_agent_runtime_id": runtime_id},
            )
        )
        runtime = Runtime.optional_from_json(self._json(response, what))
        return runtime or Runtime(runtime_id, None, None, None, None, None)

    # ---- files -----------------------------------------------------------------------------

    def list_files(self, cid: int, aid: int) -> dict[str, RemoteFile]:
        what = f"files of agent {aid} in competition {cid}"
        route = _AGENTS + "/competition/{cid}/{aid}/file"
        return RemoteFile.map_from_json(self._get(route, {"cid": cid, "aid": aid}, what))

    def file_content(self, cid: int, aid: int, name: str) -> str:
        what = f"file {name!r} of agent {aid}"
        route = _AGENTS + "/competition/{cid}/{aid}/file/{name}/content"
        data = as_object(self._get(route, {"cid": cid, "aid": aid, "name": name}, what), what)
        content = data.get("content")
        if not isinstance(content, str):
            raise ServerError(f"unexpected reply from the server for {what}: no text content")
        return content

    def upload_file(
        self,
        cid: int,
        aid: int,
        name: str,
        source: Path | bytes,
        progress: Progress | None = None,
    ) -> FileOpResult:
        """Upload (or overwrite) ``name`` from a file, streamed, or from bytes.

        Retried like a read: an overwrite is idempotent. Each attempt reopens the file, and the
        progress callback starts again from 0.
        """
        what = f"upload of {name!r} to agent {aid}"
        return self._file_put(
            cid, aid, name, what, body=lambda: upload_body(name, source, progress)
        )

    def delete_file(self, cid: int, aid: int, name: str) -> FileOpResult:
        """Delete ``name`` (the upload PUT with a form field ``delete_file``); retried."""
        what = f"delete of {name!r} from agent {aid}"
        return self._file_put(cid, aid, name, what, data={"delete_file": name})

    def _file_put(
        self,
        cid: int,
        aid: int,
        name: str,
        what: str,
        *,
        body: BodyFactory | None = None,
        data: Mapping[str, str] | None = None,
    ) -> FileOpResult:
        """The file route's PUT: an upload (``body``) or a delete (``data``); retried."""
        response = self._request(
            Call(
                "PUT",
                _AGENTS + "/competition/{cid}/{aid}/file",
                {"cid": cid, "aid": aid},
                what=what,
                read_timeout=self.timeouts.upload,
                retried=True,
                data=data,
                body=body,
            ),
            file_name=name,
        )
        return FileOpResult.from_json(self._json(response, what))

    # ---- deploys ---------------------------------------------------------------------------

    def deploy_status(self, cid: int, aid: int) -> DeployStatus:
        what = f"deploy status of agent {aid}"
        route = _AGENTS + "/competition/{cid}/{aid}/deploy"
        return DeployStatus.from_json(self._get(route, {"cid": cid, "aid": aid}, what))

    def deploy(self, cid: int, aid: int) -> DeployOutcome:
        """Ask for one deploy. Never retried: a lost reply is followed by status reads.

        409 → :class:`QuotaError`. A timeout, or a connection dropped after the request went
        out, returns ``DeployOutcome(timed_out=True, accepted=...)`` inferred from the agent's
        status and the latest deploy; a failure before the request left is a
        :class:`TransportError` (nothing was sent, so nothing was spent).
        """
        what = f"deploy of agent {aid} in competition {cid}"
        route = _AGENTS + "/competition/{cid}/{aid}/deploy"
        started = datetime.now(timezone.utc)
        call = Call(
            "PUT",
            route,
            {"cid": cid, "aid": aid},
            what=what,
            read_timeout=self.timeouts.deploy,
            retried=False,
        )
        try:
            response = self._send(call)
        except requests.RequestException as exc:
            lost = transport_error(exc, what=what, token=self._token)
            if not maybe_sent(exc):
                raise lost from None  # it never left: nothing was spent
            log.warning("deploy_reply_lost", agent_id=aid, reason=lost.message)
            return self._after_lost_deploy(cid, aid, started, lost.message)
        self._verdict(response, call, deploy_route=True)
        return DeployOutcome.from_json(self._json(response, what))

    def _after_lost_deploy(self, cid: int, aid: int, started: datetime, lost: str) -> DeployOutcome:
        try:
            agent = self.status(cid, aid)
        except ApiError as exc:
            raise TransportError(
                f"the deploy request of agent {aid} got no reply ({lost}), and its "
                f"status could not be read ({exc.message}): the deploy may or may not have "
                "been accepted",
                hint="run `mlarena-sync status` before deploying again",
            ) from None
        latest = None
        try:
            latest = self.deploy_status(cid, aid).latest
        except ApiError as exc:
            log.warning("deploy_status_unreadable", agent_id=aid, reason=exc.message)
        recent = bool(
            latest is not None
            and latest.created_at is not None
            and latest.created_at >= started - DEPLOY_CLOCK_SKEW
        )
        accepted = agent.in_flight or bool(latest is not None and (latest.open or recent))
        if accepted:
            message = (
                f"the deploy request got no reply, but the server took it (agent {agent.status})"
            )
        else:
            message = (
                f"the deploy request got no reply and no deploy is seen (agent {agent.status})"
            )
        return DeployOutcome(
            accepted=accepted,
            deployment_id=latest.id if accepted and latest is not None else None,
            status=(latest.status if latest is not None else None) or agent.status,
            message=message,
            timed_out=True,
            agent_status=agent,
        )

    def deploy_limits(self, cid: int, aid: int) -> DeployLimits:
        """The daily quota (the deploy-status read; v0 sends the latest deploy beside it)."""
        return self.deploy_status(cid, aid).limits

    def deploys(self, cid: int, aid: int) -> list[LatestDeploy]:
        """v0 keeps no history: the latest attempt only, or nothing before the first."""
        latest = self.deploy_status(cid, aid).latest
        return [latest] if latest is not None else []

    # ---- my agents, logs, downloads (the Arena interface on v0) ----------------------------

    def my_submissions(self, cid: int) -> list[SubmissionSummary]:
        """My agents on the leaderboard of ``cid`` (v0 has no "mine" route: deployed ones only)."""
        return [
            SubmissionSummary(
                id=row.agent_id,
                name=row.agent_name,
                competition_id=cid,
                status=None,
                rank=row.rank,
            )
            for row in self.leaderboard(cid)
            if row.is_mine and row.agent_id is not None
        ]

    def download_file(self, cid: int, aid: int, name: str) -> bytes:
        """v0 has no download route (``docs/api-v0.md``, Files)."""
        raise UnsupportedOperationError(
            f"the server's API (v0) cannot send back the bytes of {name!r} of agent {aid}: "
            "only text files are readable there"
        )

    def game_log(self, url: str) -> str:
        """Fetch a game's log from its signed URL, without the Authorization header."""
        return self.fetch_signed(url, what="game log")

    def run_logs(self, cid: int, aid: int, *, limit: int = 10) -> list[RunLog]:
        """The newest games with their stdout; an unreadable log is noted, not raised."""
        out: list[RunLog] = []
        for game in self.games(aid)[: max(0, limit)]:
            text: str | None = None
            error: str | None = None
            if game.signed_url:
                try:
                    text = self.game_log(game.signed_url)
                except ApiError as exc:
                    error = exc.message
            out.append(
                RunLog(
                    id=game.id,
                    status=None,
                    score=game.reward,
                    outcome=game.outcome,
                    created_at=parse_datetime(game.raw.get("created_at")),
                    log=text,
                    log_error=error,
                )
            )
        return out
