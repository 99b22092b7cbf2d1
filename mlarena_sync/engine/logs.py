"""The agent's log (``mlarena-sync logs``): its status lines; ``--follow`` keeps polling;
``--games`` prints the stdout logs of recent games."""

from __future__ import annotations

from mlarena_sync.api.client import ArenaClient
from mlarena_sync.api.models import LatestDeploy
from mlarena_sync.engine.status_lines import StatusTracker
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.errors import ApiError, ConfigError

__all__ = ["logs"]

POLL_SECONDS = 1.0


def _games(ws: Workspace, client: ArenaClient, aid: int, limit: int) -> None:
    out = ws.out
    games = client.games(aid)[: max(0, limit)]
    if not games:
        out.result("games", "no games yet", agent_id=aid, count=0)
        return
    for game in games:
        head = f"=== game {game.id}: reward {game.reward}, outcome {game.outcome}"
        if not game.signed_url:
            out.result(
                "game_log",
                head + " (no log available)",
                game_id=game.id,
                reward=game.reward,
                outcome=game.outcome,
                log=None,
            )
            continue
        try:
            text = client.game_log(game.signed_url)
        except ApiError as exc:
            out.warning("game_log_unavailable", game_id=game.id, reason=exc.message)
            continue
        out.result(
            "game_log",
            f"{head}\n{text.rstrip()}",
            game_id=game.id,
            reward=game.reward,
            outcome=game.outcome,
            log=text,
        )


def _deploy_line(ws: Workspace, aid: int, latest: LatestDeploy) -> None:
    text = f"deploy #{latest.id}: {latest.status or 'unknown'}"
    if latest.failure_message:
        text += f" ({latest.failure_message.strip().splitlines()[0]})"
    ws.out.result(
        "deploy",
        text,
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
                out.result(event.event, event.text, agent_id=aid, **event.fields)
            if not follow:
                return 0
            if timeout is not None and ws.clock.monotonic() - start >= timeout:
                return 0
            ws.clock.sleep(poll)
