"""``Arena``: the one interface the engine speaks, whatever API generation the server speaks.

Two adapters implement it: :class:`mlarena_sync.api.v0.ArenaClient` (the v0 "attached agents"
routes of SDK 0.2.0, which the fake arena keeps serving) and :class:`mlarena_sync.api.v4.V4Arena`
(today's "submissions" routes, as SDK 4.6.0 speaks them). :func:`mlarena_sync.api.generation.
open_arena` picks one. Both return the reply types of :mod:`mlarena_sync.api.models`, and both
raise the errors of :mod:`mlarena_sync.errors`; the words stay the v0 ones (``cid`` is a
competition / challenge id, ``aid`` an agent / submission id).

Callers branch on :class:`Capabilities`, never on the generation's name: what differs between
the generations is said once, here, as facts a caller can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol

from mlarena_sync.api.models import (
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
)
from mlarena_sync.api.multipart import Progress
from mlarena_sync.tokens import TokenParts

#: The API generations mlarena-sync speaks.
Generation = Literal["v0", "v4.6"]
GENERATIONS: tuple[Generation, ...] = ("v0", "v4.6")


@dataclass(frozen=True)
class Capabilities:
    """What the server's API generation can and cannot do, as facts to branch on."""

    generation: Generation
    #: :meth:`Arena.download_file` works: any remote file, binaries included, can be read back
    #: and hashed (v4.6). On v0 a binary is known only by its size.
    download_bytes: bool
    #: The file listing carries each text file's content, so :attr:`RemoteFile.sha256` is set
    #: for text files without another request (v0). The v4.6 listing holds names and sizes
    #: only: a same-size remote edit is invisible there (read the file to see it).
    remote_hashes: bool
    #: A file PUT while a deploy is queued or running is refused (409 →
    #: :class:`~mlarena_sync.errors.UploadsHeldError`), the probable v4.6 behaviour.
    uploads_refused_while_deploying: bool
    #: A file PUT while a deploy is in flight cancels that deploy (the fake arena's reading of
    #: v0); either way the engine holds its edits until the status is settled.
    upload_cancels_deploy: bool
    #: :meth:`Arena.my_submissions` lists every one of my agents, any status (v4.6's
    #: ``/submissions/mine``). v0 has no such route: only agents shown on the leaderboard (ever
    #: deployed) are found, so an undeployed twin can go unnoticed.
    lists_undeployed_submissions: bool
    #: ``uploadable`` / ``deployable`` / ``settled`` are the server's own answers (v4.6); on v0
    #: the adapter derives them from the status name.
    server_status_flags: bool
    #: :meth:`Arena.status` carries ``latest_deploy`` (v4.6); on v0 read :meth:`deploy_status`.
    status_has_latest_deploy: bool
    #: ``viewer_role`` tells a teammate's (read-only) submission from my own (v4.6); v0 shows
    #: nobody another's agent, so it is always ``owner`` there.
    viewer_roles: bool
    #: The leaderboard's ``is_mine`` is also true on a teammate's row (v4.6): do not bind by it.
    leaderboard_marks_team_rows: bool
    #: A new agent starts holding the competition's template as ``agent.py`` (v0); a new v4.6
    #: submission starts empty (the template comes back in the create reply only).
    new_agents_hold_the_template: bool


V0_CAPABILITIES = Capabilities(
    generation="v0",
    download_bytes=False,
    remote_hashes=True,
    uploads_refused_while_deploying=False,
    upload_cancels_deploy=True,
    lists_undeployed_submissions=False,
    server_status_flags=False,
    status_has_latest_deploy=False,
    viewer_roles=False,
    leaderboard_marks_team_rows=False,
    new_agents_hold_the_template=True,
)

V4_CAPABILITIES = Capabilities(
    generation="v4.6",
    download_bytes=True,
    remote_hashes=False,
    uploads_refused_while_deploying=True,
    upload_cancels_deploy=False,
    lists_undeployed_submissions=True,
    server_status_flags=True,
    status_has_latest_deploy=True,
    viewer_roles=True,
    leaderboard_marks_team_rows=True,
    new_agents_hold_the_template=False,
)


class Arena(Protocol):
    """The operations the engine needs from ML Arena; every method raises our errors only.

    Writes (create, upload, delete, deploy) are the owner's: on v4.6 check
    ``status(...).owned`` (``viewer_role == "owner"``) before writing.
    """

    base_url: str
    token_parts: TokenParts | None

    @property
    def capabilities(self) -> Capabilities:
        """What this server's generation can do (constant for the adapter's life)."""
        ...

    # ---- lifecycle
    def close(self) -> None: ...
    def __enter__(self) -> Arena: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def redact(self, text: str) -> str:
        """``text`` with the token masked."""
        ...

    # ---- the competition / challenge
    def competition(self, cid: int) -> Competition: ...
    def competitions(self) -> list[tuple[int, str]]:
        """``(id, name)`` of the challenges this token can see (the list's first page)."""
        ...

    def leaderboard(self, cid: int) -> list[LeaderboardRow]: ...
    def runtime_options(self, cid: int) -> list[Runtime]: ...

    # ---- my agents / submissions
    def my_submissions(self, cid: int) -> list[SubmissionSummary]:
        """My agents on ``cid``: for binding by name and the twin guard (see
        :attr:`Capabilities.lists_undeployed_submissions`)."""
        ...

    def create_agent(self, cid: int, name: str, copy_from: int | None = None) -> int:
        """Create one; sent once, never retried (a retry could create two)."""
        ...

    def delete_agent(self, cid: int, aid: int) -> None: ...
    def status(self, cid: int, aid: int) -> AgentStatus: ...
    def agent_runtime(self, aid: int) -> Runtime | None: ...
    def set_agent_runtime(self, aid: int, runtime_id: int) -> Runtime: ...

    # ---- files
    def list_files(self, cid: int, aid: int) -> dict[str, RemoteFile]: ...
    def file_content(self, cid: int, aid: int, name: str) -> str: ...
    def download_file(self, cid: int, aid: int, name: str) -> bytes:
        """The raw bytes (see :attr:`Capabilities.download_bytes`; else
        :class:`~mlarena_sync.errors.UnsupportedOperationError`)."""
        ...

    def upload_file(
        self,
        cid: int,
        aid: int,
        name: str,
        source: Path | bytes,
        progress: Progress | None = None,
    ) -> FileOpResult:
        """Upload or overwrite; 200 even when validation rejects (read ``result.agent_status``
        or ``status()``). While a deploy is in flight: see the two upload capabilities."""
        ...

    def delete_file(self, cid: int, aid: int, name: str) -> FileOpResult: ...

    # ---- deploys
    def deploy_limits(self, cid: int, aid: int) -> DeployLimits:
        """The daily quota only: one read on every generation."""
        ...

    def deploy_status(self, cid: int, aid: int) -> DeployStatus:
        """Quota, active-submission limits and the latest attempt (two reads on v4.6)."""
        ...

    def deploy(self, cid: int, aid: int) -> DeployOutcome:
        """Ask for one deploy; never retried. A lost reply is answered from status reads."""
        ...

    def deploys(self, cid: int, aid: int) -> list[LatestDeploy]:
        """Deploy attempts, newest first (v0 knows only the latest)."""
        ...

    # ---- logs
    def run_logs(self, cid: int, aid: int, *, limit: int = 10) -> list[RunLog]:
        """My agent's stdout of its newest games / runs, newest first."""
        ...
