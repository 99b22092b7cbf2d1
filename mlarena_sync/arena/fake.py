"""``FakeArena``: a local, faithful emulator of the ML Arena API, today's v4.6 or v0.

See docs/fake-arena.md. One store, simulator and set of knobs; the ``api`` argument picks
the route table the HTTP server speaks.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Protocol

from mlarena_sync.arena import routes_v0, routes_v4
from mlarena_sync.arena.app import ArenaApp
from mlarena_sync.arena.faults import Counters, Faults
from mlarena_sync.arena.model import User
from mlarena_sync.arena.seed import STANDARD, Seed
from mlarena_sync.arena.server import ArenaServer, Drop
from mlarena_sync.arena.simulator import DeploySimulator
from mlarena_sync.arena.storage import unsafe_name_reason
from mlarena_sync.arena.store import ArenaStore
from mlarena_sync.arena.table import RouteTable

#: The generations the fake arena speaks; the first is today's platform (the default).
APIS: dict[str, RouteTable] = {"v4.6": routes_v4.TABLE, "v0": routes_v0.TABLE}
DEFAULT_API = "v4.6"
#: What a file PUT during a deploy in flight gets in each generation (``Faults`` overrides).
PUT_DURING_DEPLOY = {"v4.6": "refuse", "v0": "cancel"}


class _HasNow(Protocol):
    def now(self) -> datetime: ...


ClockLike = Callable[[], datetime] | _HasNow


def _system_now() -> datetime:
    return datetime.now(timezone.utc)


class _SeedToken:
    """A seeded user's token: the arena's own seed on an instance, the standard world's on
    the class (``FakeArena.user_token`` is alice's, as before seeds were a parameter)."""

    def __init__(self, role: str) -> None:
        self.role = role

    def __get__(self, obj: FakeArena | None, owner: type | None = None) -> str:
        seed = STANDARD if obj is None else obj.seed
        user: User = getattr(seed, self.role)
        return user.token


class FakeArena:
    """The fake arena: state, deploy simulator and HTTP server, started and stopped together.

    ``data_dir`` keeps the state across restarts (files + ``arena-state.json``); without it a
    temporary folder is used and removed by ``stop()``. ``api`` is the generation served:
    ``"v4.6"`` (today's platform, the default) or ``"v0"``; every route of the other one
    answers 404. ``seed`` is the world a fresh store starts from (``seed.STANDARD``).
    ``clock`` returns an aware datetime (a callable, or an object with ``now()``);
    ``queue_seconds`` is how long a deploy waits in the queue before it runs.
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        api: str = DEFAULT_API,
        seed: Seed = STANDARD,
        deploy_limit: int = 5,
        clock: ClockLike | None = None,
        queue_seconds: float = 0.2,
        deploy_timeout: float = 20.0,
        request_log: Callable[[str], None] | None = None,
    ) -> None:
        if api not in APIS:
            raise ValueError(f"unknown api {api!r}: use one of {', '.join(APIS)}")
        self.api = api
        self.seed = seed.for_api(api)
        if data_dir is None:
            self._tmp: str | None = tempfile.mkdtemp(prefix="fake-arena-")
            root = Path(self._tmp)
        else:
            self._tmp = None
            root = Path(data_dir)
            root.mkdir(parents=True, exist_ok=True)
        self.data_dir = root
        if clock is None:
            self._base_clock: Callable[[], datetime] = _system_now
        elif callable(clock):
            self._base_clock = clock
        else:
            self._base_clock = clock.now
        self._initial_limit = deploy_limit
        self._deploy_limit = deploy_limit
        self._clock_offset = timedelta()
        self._request_log = request_log
        self.faults = Faults()
        self.request_counters = Counters()
        self.stopping = threading.Event()
        self.store = ArenaStore(root, persist=data_dir is not None, clock=self.now, seed=self.seed)
        self.simulator = DeploySimulator(
            self.store, queue_seconds=queue_seconds, timeout=deploy_timeout
        )
        self.app = ArenaApp(self, APIS[api])
        self._server: ArenaServer | None = None
        self._url: str | None = None

    # ---- lifecycle ------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeArena:
        if self._server is not None:
            raise RuntimeError("the fake arena is already started")
        self.stopping.clear()
        self.simulator.start()
        self._server = ArenaServer(
            self.app,
            host,
            port,
            drop_hook=self._should_drop,
            on_connection=self.request_counters.connection,
        )
        try:
            bound_host, bound_port = self._server.start()
        except BaseException:
            self._server = None
            self.simulator.stop()
            raise
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self._url = f"http://{shown}:{bound_port}"
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.simulator.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> FakeArena:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the fake arena is not started")
        return self._url

    # ---- seeded identities ----------------------------------------------------------

    user_token = _SeedToken("user")  # alice: the token the CLI prints
    other_token = _SeedToken("other")  # bob: owner of the seeded submissions
    creator_token = _SeedToken("creator")  # carol: creator scope, refused by participant routes

    # ---- knobs ----------------------------------------------------------------------

    @property
    def counters(self) -> dict[str, int]:
        """Requests per route, ``"METHOD /template"`` → count (control routes excluded)."""
        return self.request_counters.snapshot()

    @property
    def connections(self) -> int:
        """TCP connections accepted since the last counter reset."""
        return self.request_counters.connections

    def reset_counters(self) -> None:
        self.request_counters.reset()

    @property
    def deploy_limit(self) -> int:
        return self._deploy_limit

    def set_deploy_limit(self, limit: int) -> None:
        self._deploy_limit = limit

    def put_during_deploy_policy(self) -> str:
        """``"cancel"`` or ``"refuse"``: the ``Faults`` knob, else this generation's default."""
        return self.faults.put_during_deploy or PUT_DURING_DEPLOY[self.api]

    def set_clock_offset(self, seconds: float) -> None:
        """Shift the arena's clock (quota days, timestamps) by ``seconds`` from the base clock."""
        self._clock_offset = timedelta(seconds=seconds)

    def now(self) -> datetime:
        return self._base_clock().astimezone(timezone.utc) + self._clock_offset

    def reset(self) -> None:
        """Fresh seeded store, no faults, counters zeroed, default limit and clock."""
        self.faults.clear()
        self.store.reset()
        self._deploy_limit = self._initial_limit
        self._clock_offset = timedelta()
        self.request_counters.reset()

    def browser_edit(self, aid: int, name: str, content: str) -> None:
        """Simulate an edit in the web editor: the file changes and the agent re-validates."""
        reason = unsafe_name_reason(name)
        if reason is not None:
            raise ValueError(f"unsafe file name {name!r}: {reason}")
        with self.store.lock:
            agent = self.store.agents.get(aid)
            if agent is None:
                raise KeyError(f"no agent {aid}")
            self.store.files.write_bytes(aid, name, content.encode("utf-8"))
            self.store.after_file_change(agent, self.seed.competition_of(agent))

    def wait_deploys_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no deploy is queued or running; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.simulator.idle():
                return True
            time.sleep(0.02)
        return self.simulator.idle()

    def deploy_count(self, aid: int) -> int:
        """Deploys ever requested for agent ``aid`` (cancelled and failed ones included)."""
        with self.store.lock:
            return sum(1 for d in self.store.deployments.values() if d.agent_id == aid)

    def agent_status(self, aid: int) -> str:
        with self.store.lock:
            return self.store.agents[aid].status

    def log_request(self, line: str) -> None:
        # Only on request: structured logs from the server threads would leak into the
        # structlog.testing.capture_logs() of every test using the session-wide arena.
        if self._request_log is not None:
            self._request_log(line)

    def _should_drop(self, method: str, path: str) -> Drop:
        """None (answer it), ``"before"`` (close unhandled) or ``"after"`` (handle, then close
        unanswered)."""
        if not self.faults.has_drops() or not path.startswith("/api/"):
            return None
        route = self.app.route_of(method, path)
        if route is None:
            return None
        key, endpoint = route
        rule = self.faults.take_drop(key, endpoint)
        if rule is None:
            return None
        if rule.after:  # the app counts it as it handles it
            self.log_request(f'"{method} {path}" handled, reply dropped (injected fault)')
            return "after"
        self.request_counters.hit(key)
        self.log_request(f'"{method} {path}" dropped (injected fault)')
        return "before"
