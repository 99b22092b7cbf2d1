"""The fake arena's state: agents, deploys, games; persisted as one JSON file + flat folders.

All mutations hold one lock. ``Condition`` ``work`` wakes the deploy simulator. The store is
shared by both API generations and knows nothing of HTTP: what it refuses it raises as a
domain error (``arena.errors``), which each route table maps to its own status code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from mlarena_sync.arena.errors import Conflict, NotFound
from mlarena_sync.arena.model import (
    ACTIVE,
    CREATED,
    D_CANCELLED,
    D_FAILED,
    D_QUEUED,
    D_RUNNING,
    D_SUCCEEDED,
    DELETED,
    DEPLOY_FAILED,
    DEPLOY_QUEUE,
    DEPLOY_RUN,
    IN_FLIGHT,
    UPLOAD_FAILED,
    UPLOAD_VALIDATED,
    Agent,
    Competition,
    Deployment,
    Game,
)
from mlarena_sync.arena.quotas import iso
from mlarena_sync.arena.seed import STANDARD, Seed
from mlarena_sync.arena.storage import AgentFiles
from mlarena_sync.arena.validation import validate

STATE_FILE = "arena-state.json"
GAME_LOG_LIMIT = 64 * 1024


def _first_ids(seed: Seed) -> dict[str, int]:
    """The next id of each kind of record in a freshly seeded store."""
    return {"agent": seed.first_new_agent_id, "deployment": 1, "game": 1}


class ArenaStore:
    """Agents, deploys and games of one fake arena; see ``docs/fake-arena.md``."""

    def __init__(
        self,
        root: Path,
        *,
        persist: bool,
        clock: Callable[[], datetime],
        seed: Seed = STANDARD,
    ) -> None:
        self.root = root
        self.seed = seed
        self.persist = persist
        self.clock = clock
        self.lock = threading.RLock()
        self.work = threading.Condition(self.lock)
        self.files = AgentFiles(root / "agents")
        self.agents: dict[int, Agent] = {}
        self.deployments: dict[int, Deployment] = {}
        self.games: dict[int, Game] = {}
        self.queue: list[int] = []  # deployment ids waiting, oldest first
        self.next_ids = _first_ids(self.seed)
        self.sign_key = secrets.token_hex(16)
        self.generation = 0  # bumped by reset(): the simulator drops older work
        self.on_cancel: Callable[[int], None] = lambda _did: None
        # True while the state on disk may differ from memory (a save started, not finished).
        self._unsaved = True
        if not self._load():
            self._seed()

    # ---- persistence ----------------------------------------------------------------

    def _load(self) -> bool:
        path = self.root / STATE_FILE
        if not (self.persist and path.is_file()):
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
        self.agents = {a["id"]: Agent.from_json(a) for a in data["agents"]}
        self.deployments = {d["id"]: Deployment.from_json(d) for d in data["deployments"]}
        self.games = {g["id"]: Game.from_json(g) for g in data["games"]}
        self.next_ids = dict(data["next_ids"])
        self.sign_key = data["sign_key"]
        # Deploys in flight when the arena stopped go back to the queue, oldest first.
        for dep in sorted(self.deployments.values(), key=lambda d: d.id):
            if dep.status in (D_QUEUED, D_RUNNING):
                dep.status = D_QUEUED
                dep.queued_monotonic = time.monotonic()
                self.queue.append(dep.id)
                self.agents[dep.agent_id].status = DEPLOY_QUEUE
        return True

    def stamp(self, agent: Agent) -> None:
        """Record that the agent's status (or its message) just changed."""
        agent.updated_at = iso(self.clock())

    def save(self) -> None:
        if not self.persist:
            return
        data = {
            "agents": [a.to_json() for a in self.agents.values()],
            "deployments": [d.to_json() for d in self.deployments.values()],
            "games": [g.to_json() for g in self.games.values()],
            "next_ids": self.next_ids,
            "sign_key": self.sign_key,
        }
        self._unsaved = True
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".state-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.root / STATE_FILE)
        self._unsaved = False

    def _seed(self) -> None:
        for agent, files in self.seed.fresh_agents(iso(self.clock())):
            self.agents[agent.id] = agent
            for name, text in files:
                self.files.write_bytes(agent.id, name, text.encode())
        self.save()

    def reset(self) -> None:
        """Back to the seeded world (in-flight deploys are abandoned)."""
        with self.lock:
            for did in list(self.queue):
                self.on_cancel(did)
            for dep in self.deployments.values():
                if dep.status == D_RUNNING:
                    self.on_cancel(dep.id)
            self.generation += 1
            self.agents.clear()
            self.deployments.clear()
            self.games.clear()
            self.queue.clear()
            self.next_ids = _first_ids(self.seed)
            self.files.wipe()
            self._seed()
            self.work.notify_all()

    def _next(self, kind: str) -> int:
        value = self.next_ids[kind]
        self.next_ids[kind] = value + 1
        return value

    # ---- lookups --------------------------------------------------------------------

    def agent_of(self, user_id: int, aid: int, cid: int | None = None) -> Agent:
        """The user's agent, or 404 (missing and someone else's look the same)."""
        agent = self.agents.get(aid)
        if agent is None or agent.owner_id != user_id:
            raise NotFound("Agent not found")
        if cid is not None and agent.competition_id != cid:
            raise NotFound("Agent not found in this competition")
        return agent

    # ---- agents and files -----------------------------------------------------------

    def create_agent(
        self,
        user_id: int,
        comp: Competition,
        name: str,
        copy_from: int | None,
        *,
        with_template: bool = True,
    ) -> Agent:
        """A new agent: a copy of ``copy_from``'s files, or (v0) the template as agent.py."""
        with self.lock:
            source = self.agent_of(user_id, copy_from) if copy_from is not None else None
            agent = Agent(
                id=self._next("agent"),
                competition_id=comp.id,
                owner_id=user_id,
                name=name,
                runtime_id=comp.default_runtime_id,
                created_at=iso(self.clock()),
            )
            self.stamp(agent)
            self.agents[agent.id] = agent
            self.files.folder(agent.id).mkdir(parents=True, exist_ok=True)
            if source is not None:
                self.files.copy_all(source.id, agent.id)
                self._revalidate(agent, comp)
            elif comp.agent_template is not None and with_template:
                self.files.write_bytes(agent.id, "agent.py", comp.agent_template.encode())
                agent.last_status_message = "Agent created from the competition template"
            self.save()
            return agent

    def check_writable(self, agent: Agent) -> None:
        if agent.status == DELETED:
            raise Conflict("Cannot change files of agent in 'deleted' state")

    def check_uploadable(self, agent: Agent, what: str = "a submission") -> None:
        """Refuse a file change while a deploy is in flight (v4.6 by default; see faults)."""
        self.check_writable(agent)
        if agent.status in IN_FLIGHT:
            raise Conflict(
                f"Cannot change files of {what} in '{agent.status}' state: "
                "wait until the deploy settles"
            )

    def after_file_change(self, agent: Agent, comp: Competition) -> None:
        """Every file PUT: cancel a deploy in flight, then re-validate the whole agent."""
        with self.lock:
            before = (agent.status, agent.last_status_message, agent.mean_reward)
            cancelled = self._cancel_in_flight(agent, "cancelled: files changed during the deploy")
            self._revalidate(agent, comp)
            after = (agent.status, agent.last_status_message, agent.mean_reward)
            # Every other change saves at once, so when this one changed nothing the state
            # on disk is already current: skip rewriting (and fsyncing) it.
            if cancelled or after != before or self._unsaved:
                self.save()

    def _revalidate(self, agent: Agent, comp: Competition) -> None:
        verdict = validate(comp, self.files.folder(agent.id))
        agent.status = UPLOAD_VALIDATED if verdict.ok else UPLOAD_FAILED
        agent.last_status_message = verdict.message
        agent.mean_reward = None
        self.stamp(agent)

    def _cancel_in_flight(self, agent: Agent, reason: str) -> bool:
        """Cancel the agent's queued or running deploy; True when there was one."""
        if agent.status not in IN_FLIGHT or agent.latest_deploy_id is None:
            return False
        dep = self.deployments[agent.latest_deploy_id]
        if dep.status in (D_QUEUED, D_RUNNING):
            dep.status = D_CANCELLED
            dep.finished_at = iso(self.clock())
            dep.failure_message = reason
            if dep.id in self.queue:
                self.queue.remove(dep.id)
            self.on_cancel(dep.id)
            return True
        return False

    def delete_agent(self, agent: Agent) -> None:
        with self.lock:
            self._cancel_in_flight(agent, "cancelled: agent deleted")
            agent.status = DELETED
            agent.last_status_message = "Agent deleted"
            agent.mean_reward = None
            self.stamp(agent)
            self.files.remove_agent(agent.id)
            self.save()

    # ---- deploys (the HTTP side) ----------------------------------------------------

    def enqueue_deploy(self, agent: Agent, user_id: int) -> Deployment:
        with self.lock:
            dep = Deployment(
                id=self._next("deployment"),
                agent_id=agent.id,
                user_id=user_id,
                competition_id=agent.competition_id,
                created_at=iso(self.clock()),
                queued_monotonic=time.monotonic(),
            )
            self.deployments[dep.id] = dep
            self.queue.append(dep.id)
            agent.status = DEPLOY_QUEUE
            agent.last_status_message = "Deploy queued"
            agent.latest_deploy_id = dep.id
            self.stamp(agent)
            self.save()
            self.work.notify_all()
            return dep

    # ---- deploys (the simulator side) -----------------------------------------------

    def start_run(self, did: int, generation: int) -> Deployment | None:
        """Mark a queued deploy running; None when it was cancelled or reset meanwhile."""
        with self.lock:
            dep = self.deployments.get(did)
            if generation != self.generation or dep is None or dep.status != D_QUEUED:
                return None
            if did in self.queue:
                self.queue.remove(did)
            dep.status = D_RUNNING
            agent = self.agents[dep.agent_id]
            agent.status = DEPLOY_RUN
            agent.last_status_message = "Deploy running"
            self.stamp(agent)
            self.save()
            return dep

    def still_running(self, did: int, generation: int) -> bool:
        with self.lock:
            dep = self.deployments.get(did)
            return generation == self.generation and dep is not None and dep.status == D_RUNNING

    def add_result(
        self,
        did: int,
        generation: int,
        result: dict[str, Any],
        game: tuple[float | None, str, int, str] | None = None,
    ) -> None:
        """One finished episode of a running deploy: its result and, if given, its game."""
        with self.lock:
            if self.still_running(did, generation):
                dep = self.deployments[did]
                dep.results.append(result)
                if game is not None:
                    self.add_game(dep, *game)

    def add_game(
        self, dep: Deployment, reward: float | None, outcome: str, steps: int, log: str
    ) -> None:
        game = Game(
            id=self._next("game"),
            agent_id=dep.agent_id,
            deployment_id=dep.id,
            created_at=iso(self.clock()),
            reward=reward,
            outcome=outcome,
            steps=steps,
            log=log[-GAME_LOG_LIMIT:],
        )
        self.games[game.id] = game

    def finish(
        self,
        did: int,
        generation: int,
        *,
        reward: float | None,
        failure: str | None,
        games: list[tuple[float | None, str, int, str]],
    ) -> None:
        """Settle a running deploy: ``active`` with ``reward``, or ``deploy_failed``."""
        with self.lock:
            if not self.still_running(did, generation):
                return
            dep = self.deployments[did]
            agent = self.agents[dep.agent_id]
            for game in games:
                self.add_game(dep, *game)
            dep.finished_at = iso(self.clock())
            if failure is None:
                dep.status = D_SUCCEEDED
                agent.status = ACTIVE
                agent.mean_reward = reward
                agent.last_status_message = f"Deployed: mean reward {reward}"
            else:
                dep.status = D_FAILED
                dep.failure_message = failure
                agent.status = DEPLOY_FAILED
                agent.mean_reward = None
                agent.last_status_message = failure
            self.stamp(agent)
            self.save()

    # ---- games and leaderboard ------------------------------------------------------

    def sign(self, game_id: int) -> str:
        return hmac.new(self.sign_key.encode(), str(game_id).encode(), hashlib.sha256).hexdigest()[
            :32
        ]

    def game_log(self, game_id: int, sig: str) -> str | None:
        with self.lock:
            game = self.games.get(game_id)
            if game is None or not hmac.compare_digest(sig, self.sign(game_id)):
                return None
            return game.log


__all__ = ["CREATED", "ArenaStore"]
