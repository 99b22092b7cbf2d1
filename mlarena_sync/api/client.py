"""``ArenaClient``: typed methods for every ML Arena API route that mlarena-sync uses.

One pooled ``requests.Session`` (keep-alive) carries every authenticated call; the bearer token
is added per request, never stored on the session, and redirects are never followed, so the
token cannot travel to another host. Plain ``http://`` is refused except to loopback hosts.

* Timeouts follow the official client (reads 30 s, uploads 120 s, create/deploy 60 s, connect
  10 s) and are configurable through :class:`Timeouts`.
* Reads and file PUTs are retried on 429/502/503/504 and connection failures
  (see :mod:`mlarena_sync.api.retry` for the design); create-agent, deploy and delete-agent are
  sent exactly once.
* A deploy whose reply never comes (timeout, or the connection dropped after the request went
  out) is followed by a status read, never by a second deploy: :meth:`ArenaClient.deploy`
  returns ``DeployOutcome(timed_out=True, accepted=<inferred>)``.
* Uploads are streamed from disk (:mod:`mlarena_sync.api.multipart`).
* Replies become exceptions in one place, :mod:`mlarena_sync.api.responses`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.auth
import structlog

from mlarena_sync import __version__
from mlarena_sync.api.auth import TokenParts, check_url, parse_token, redact
from mlarena_sync.api.models import (
    AgentStatus,
    Competition,
    DeployOutcome,
    DeployStatus,
    FileOpResult,
    Game,
    LeaderboardRow,
    RemoteFile,
    Runtime,
    as_list,
    as_object,
)
from mlarena_sync.api.multipart import Progress, UploadBody, upload_body
from mlarena_sync.api.responses import json_body, raise_for_status, server_message, transport_error
from mlarena_sync.api.retry import make_retry, send_with_retries
from mlarena_sync.api.transport import (
    Bearer,
    NoAuth,
    close_session,
    maybe_sent,
    new_session,
    segment,
)
from mlarena_sync.errors import (
    ApiError,
    AuthError,
    MlarenaSyncError,
    ServerError,
    TransportError,
)

log = structlog.get_logger("mlarena_sync.api")

_AGENTS = "/api/direct_attache_agents"
#: A deploy whose ``created_at`` is at most this much older than our request (clock skew between
#: us and the server) still counts as ours after a timeout.
DEPLOY_CLOCK_SKEW = timedelta(seconds=60)

#: Builds a fresh streamed request body (a context manager, entered once per attempt).
BodyFactory = Callable[[], AbstractContextManager[UploadBody]]


@dataclass(frozen=True)
class Timeouts:
    """Seconds. ``connect`` applies to every call; the others are the read timeout per kind."""

    connect: float = 10.0
    read: float = 30.0
    upload: float = 120.0
    create: float = 60.0
    deploy: float = 60.0


@dataclass(frozen=True)
class _Call:
    """One API call, as :meth:`ArenaClient._send` sends it."""

    method: str
    route: str  # the path template (``{cid}``-style), logged instead of the URL
    segments: Mapping[str, int | str]
    what: str  # the call's subject in messages ("agent 12 of competition 3")
    read_timeout: float
    retried: bool
    auth: bool = True
    json: object | None = None
    data: Mapping[str, str] | None = None
    body: BodyFactory | None = None


class ArenaClient:
    """The ML Arena API (v0 routes). Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeouts: Timeouts | None = None,
        retry_total: int = 4,
        backoff_factor: float = 0.2,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = check_url(base_url).rstrip("/")
        self._token = token
        self.token_parts: TokenParts | None = parse_token(token) if token is not None else None
        self.timeouts = timeouts or Timeouts()
        self.retry_total = max(0, int(retry_total))
        self.backoff_factor = backoff_factor
        self._owns_session = session is None
        self._session = session if session is not None else new_session()
        self._plain: requests.Session | None = None
        self._sleep: Callable[[float], None] = time.sleep
        self._headers = {"User-Agent": f"mlarena-sync/{__version__}", "Accept": "application/json"}

    # ---- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close pooled connections now (of our own sessions; a caller's session is left open)."""
        if self._owns_session:
            close_session(self._session)
        if self._plain is not None:
            close_session(self._plain)
            self._plain = None

    def __enter__(self) -> ArenaClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        token = self.token_parts.masked if self.token_parts else None
        return f"ArenaClient(base_url={self.base_url!r}, token={token!r})"

    # ---- the one request path --------------------------------------------------------------

    def _request(self, call: _Call, *, file_name: str | None = None) -> requests.Response:
        """Send ``call`` (with retries if ``call.retried``); raise ours for any failure or non-2xx.

        ``file_name`` marks a file PUT whose 400/413/422 is an input problem of that file.
        """
        try:
            response = self._send(call)
        except requests.RequestException as exc:
            raise transport_error(exc, what=call.what, token=self._token) from None
        return self._checked(response, call.what, file_name=file_name)

    def _checked(
        self,
        response: requests.Response,
        what: str,
        *,
        deploy_route: bool = False,
        file_name: str | None = None,
    ) -> requests.Response:
        """``response`` when it is a 2xx; otherwise closed, and ours raised for it."""
        try:
            raise_for_status(
                response,
                what=what,
                token=self._token,
                deploy_route=deploy_route,
                file_name=file_name,
            )
        except MlarenaSyncError:
            response.close()  # a traceback kept by the caller must not pin the socket
            raise
        return response

    def _send(self, call: _Call) -> requests.Response:
        """The HTTP exchange itself: any reply is returned; transport failures propagate.

        ``call.body`` builds a fresh streamed body for every attempt (a retried upload rereads
        its file).
        """
        if call.auth and self._token is None:
            raise AuthError(
                f"{call.what}: an API token is required",
                hint="set MLARENA_API_KEY to a token of scope `user` from your ML Arena profile",
            )
        method, route, body = call.method, call.route, call.body
        url = self.base_url + route.format(**{k: segment(v) for k, v in call.segments.items()})
        credentials: requests.auth.AuthBase = (
            Bearer(self._token) if self._token is not None else NoAuth()
        )
        common: dict[str, Any] = {
            "auth": credentials,
            "timeout": (self.timeouts.connect, call.read_timeout),
            "allow_redirects": False,
        }
        attempt = 0

        def send() -> requests.Response:
            nonlocal attempt
            attempt += 1
            started = time.monotonic()

            def logged(**outcome: object) -> None:
                elapsed_ms = round((time.monotonic() - started) * 1000, 1)
                log.debug(
                    "api_request",
                    method=method,
                    route=route,
                    **outcome,
                    elapsed_ms=elapsed_ms,
                    attempt=attempt,
                )

            try:
                if body is not None:
                    with body() as upload:
                        headers = {**self._headers, "Content-Type": upload.content_type}
                        response = self._session.request(
                            method, url, data=upload.data, headers=headers, **common
                        )
                else:
                    response = self._session.request(
                        method, url, headers=self._headers, json=call.json, data=call.data, **common
                    )
            except requests.RequestException as exc:
                logged(error=type(exc).__name__)
                raise
            logged(status=response.status_code)
            return response

        retry = make_retry(self.retry_total, self.backoff_factor) if call.retried else None
        return send_with_retries(send, method=method, route=route, retry=retry, sleep=self._sleep)

    def _json(self, response: requests.Response, what: str) -> Any:
        return json_body(response, what, self._token)

    def _get(
        self, route: str, segments: Mapping[str, int | str], what: str, *, auth: bool = True
    ) -> Any:
        response = self._request(
            _Call(
                "GET",
                route,
                segments,
                what=what,
                read_timeout=self.timeouts.read,
                retried=True,
                auth=auth,
            )
        )
        return self._json(response, what)

    # ---- competitions ----------------------------------------------------------------------

    def competition(self, cid: int) -> Competition:
        what = f"competition {cid}"
        return Competition.from_json(
            self._get("/api/competitions/{cid}", {"cid": cid}, what, auth=False)
        )

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
            _Call(
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
            _Call(
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
            _Call(
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
            _Call(
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
        try:
            response = self._send(
                _Call(
                    "PUT",
                    route,
                    {"cid": cid, "aid": aid},
                    what=what,
                    read_timeout=self.timeouts.deploy,
                    retried=False,
                )
            )
        except requests.RequestException as exc:
            lost = transport_error(exc, what=what, token=self._token)
            if not maybe_sent(exc):
                raise lost from None  # it never left: nothing was spent
            log.warning("deploy_reply_lost", agent_id=aid, reason=lost.message)
            return self._after_lost_deploy(cid, aid, started, lost.message)
        self._checked(response, what, deploy_route=True)
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

    # ---- game logs (signed URLs, no token) -------------------------------------------------

    def game_log(self, url: str) -> str:
        """Fetch a game's log from its signed URL, without the Authorization header."""
        url = check_url(url, what="game log")
        host = urlsplit(url).hostname or "?"
        what = f"game log on {host}"
        if self._plain is None:
            self._plain = new_session()
        plain = self._plain
        timeout = (self.timeouts.connect, self.timeouts.read)
        ua = {"User-Agent": self._headers["User-Agent"]}

        def send() -> requests.Response:
            started = time.monotonic()
            response = plain.get(
                url, headers=ua, auth=NoAuth(), timeout=timeout, allow_redirects=False
            )
            log.debug(
                "api_request",
                method="GET",
                route="game_log",
                host=host,
                status=response.status_code,
                elapsed_ms=round((time.monotonic() - started) * 1000, 1),
            )
            return response

        retry = make_retry(self.retry_total, self.backoff_factor)
        try:
            response = send_with_retries(
                send, method="GET", route="game_log", retry=retry, sleep=self._sleep
            )
        except requests.RequestException as exc:
            raise transport_error(exc, what=what, token=self._token) from None
        code = response.status_code
        if 200 <= code < 300:
            return response.text
        if 300 <= code < 400:
            raise ApiError(
                f"{what}: the storage answered {code} (a redirect, not followed)",
                status_code=code,
            )
        message = server_message(response, self._token)
        if code >= 500 or code == 429:
            raise ServerError(f"{what} failed ({code}: {message})", status_code=code)
        raise ApiError(
            f"{what} is not available ({code}: {message})",
            status_code=code,
            hint="signed log URLs expire: list the games again for a fresh one",
        )

    def redact(self, text: str) -> str:
        """``text`` with this client's token masked."""
        return redact(text, self._token)
