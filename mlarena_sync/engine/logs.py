"""The agent's log (``mlarena-sync logs``): its status lines; ``--follow`` keeps polling;
``--games`` prints the stdout logs of recent games."""

from __future__ import annotations

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import LatestDeploy
from mlarena_sync.engine import shared_events
from mlarena_sync.engine.status_lines import StatusTracker
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.errors import ConfigError

__all__ = ["logs"]

POLL_SECONDS = 1.0


def _games(ws: Workspace, client: Arena, aid: int, limit: int) -> None:
    """The stdout of my agent's newest games (v0) or runs (v4.6), newest first."""
    out = ws.out
    runs = client.run_logs(ws.target.competition, aid, limit=max(0, limit))
    if not runs:
        out.emit("games", level="result", text="no games yet", agent_id=aid, count=0)
        return
    for run in runs:
        head = f"=== game {run.id}: reward {run.score}, outcome {run.outcome or run.status}"
        if run.log_error is not None:
            out.emit("game_log_unavailable", level="warning", game_id=run.id, reason=run.log_error)
            continue
        error = f"\n{run.error_type or 'error'}: {run.error_message}" if run.error_message else ""
        body = f"\n{run.log.rstrip()}" if run.log else " (no log available)"
        out.emit(
            "game_log",
            level="result",
            text=head + body + error,
            game_id=run.id,
            reward=run.score,
            outcome=run.outcome,
            log=run.log,
            error_type=run.error_type,
            error_message=run.error_message,
        )


def _deploy_line(ws: Workspace, aid: int, latest: LatestDeploy) -> None:
    text = f"deploy #{latest.id}: {latest.status or 'unknown'}"
    if latest.failure_message:
        text += f" ({latest.failure_message.strip().splitlines()[0]})"
    ws.out.emit(
        "deploy",
        level="result",
        text=text,
        agent_id=aid,
        deployment_id=latest.id,
        status=latest.status,
        failure_message=latest.failure_message,
    )


def logs(
    ws: Workspace,
    *,
    follow: bool = False,
    games: bool = False,
    limit: int = 3,
    timeout: float | None = None,
    poll: float = POLL_SECONDS,
) -> int:
    out = ws.out
    cid = ws.target.competition
    with ws.client() as client:
        aid = ws.reconciler(client).bound_id()
        if aid is None:
            raise ConfigError(
                "no agent bound yet: nothing to show",
                hint="run `mlarena-sync push` first (or set agent.id in mlarena.yaml)",
            )
        if games:
            _games(ws, client, aid, limit)
            return 0
        tracker = StatusTracker()
        start = ws.clock.monotonic()
        deploy_seen: LatestDeploy | None = None
        first = True
        while True:
            if follow:  # a redeploy between two polls can end where the last one did: by its id
                latest = client.deploy_status(cid, aid).latest
                if latest is not None and latest != deploy_seen:
                    new_deploy = deploy_seen is None or latest.id != deploy_seen.id
                    if not first:
                        if new_deploy:
                            tracker = StatusTracker()  # its lines from the start, each once
                        _deploy_line(ws, aid, latest)
                    deploy_seen = latest
            first = False
            snap = client.status(cid, aid)
            for event in tracker.update(snap):
                out.emit(event.event, level="result", **shared_events.status_line(event, aid))
            if not follow:
                return 0
            if timeout is not None and ws.clock.monotonic() - start >= timeout:
                return 0
            ws.clock.sleep(poll)
