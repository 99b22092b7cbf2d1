"""The deploy simulator: one worker thread that really runs each queued agent.

A code agent runs in a subprocess (``sys.executable -I _runner.py``, cwd = the agent's
flat folder, ``MLARENA_*`` variables removed) on a tiny CartPole, with a timeout. A file
competition's ``submission.csv`` is scored in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import structlog

from mlarena_sync.arena._runner import MARK
from mlarena_sync.arena.model import Deployment
from mlarena_sync.arena.storage import read_text
from mlarena_sync.arena.store import ArenaStore
from mlarena_sync.arena.validation import SUBMISSION, parse_submission, score_submission

log = structlog.get_logger(__name__)

RUNNER = Path(__file__).with_name("_runner.py")
GameRecord = tuple[float | None, str, int, str]


class DeploySimulator:
    def __init__(
        self,
        store: ArenaStore,
        *,
        queue_seconds: float,
        timeout: float = 20.0,
        episodes: int = 3,
        max_steps: int = 200,
    ) -> None:
        self.store = store
        self.queue_seconds = queue_seconds
        self.timeout = timeout
        self.episodes = episodes
        self.max_steps = max_steps
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._proc_lock = threading.Lock()
        self._current: tuple[int, subprocess.Popen[str]] | None = None
        self._busy = False
        store.on_cancel = self.cancel

    # ---- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="fake-arena-deploys", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self.store.work:
            self._stopped = True
            self.store.work.notify_all()
        self._kill_current(None)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def cancel(self, did: int) -> None:
        """The store cancelled deploy ``did``: stop its runner if it is the one running."""
        self._kill_current(did)

    def idle(self) -> bool:
        with self.store.lock:
            return not self.store.queue and not self._busy

    def _kill_current(self, did: int | None) -> None:
        with self._proc_lock:
            if self._current is not None and did in (None, self._current[0]):
                self._current[1].kill()

    # ---- the worker -----------------------------------------------------------------

    def _next_job(self) -> tuple[Deployment, int] | None:
        store = self.store
        with store.work:
            while not self._stopped:
                if store.queue:
                    dep = store.deployments[store.queue[0]]
                    wait = dep.queued_monotonic + self.queue_seconds - time.monotonic()
                    if wait <= 0:
                        generation = store.generation
                        started = store.start_run(dep.id, generation)
                        if started is not None:
                            self._busy = True
                            return started, generation
                        continue
                    store.work.wait(wait)
                else:
                    store.work.wait(1.0)
        return None

    def _loop(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                return
            dep, generation = job
            try:
                self._run(dep, generation)
            except Exception as exc:  # a simulator bug must not kill the worker
                log.exception("fake_arena_deploy_crashed", deployment=dep.id)
                self.store.finish(
                    dep.id, generation, reward=None, failure=f"Internal error: {exc}", games=[]
                )
            finally:
                with self.store.lock:
                    self._busy = False

    def _run(self, dep: Deployment, generation: int) -> None:
        comp = self.store.seed.competition(dep.competition_id)
        folder = self.store.files.folder(dep.agent_id)
        if comp is not None and comp.kind == "file":
            self._score_csv(dep, generation, folder)
        else:
            self._run_agent(dep, generation, folder)

    def _score_csv(self, dep: Deployment, generation: int, folder: Path) -> None:
        path = folder / SUBMISSION
        text = read_text(path) if path.is_file() else None
        try:
            if text is None:
                raise ValueError(f"{SUBMISSION} is missing or not text")
            score = score_submission(parse_submission(text))
        except ValueError as exc:
            failure = f"Deploy failed: {SUBMISSION}: {exc}"
            self.store.finish(
                dep.id,
                generation,
                reward=None,
                failure=failure,
                games=[(None, "error", 0, failure)],
            )
            return
        summary = f"scored {SUBMISSION}: accuracy {score}\n"
        self.store.finish(
            dep.id, generation, reward=score, failure=None, games=[(score, "scored", 0, summary)]
        )

    def _spawn(self, dep: Deployment, folder: Path) -> subprocess.Popen[str]:
        """The runner subprocess for one deploy: isolated, without the MLARENA_* variables."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLARENA_")}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        cmd = [
            sys.executable,
            "-I",
            str(RUNNER),
            str(self.episodes),
            str(self.max_steps),
            str(dep.id),
        ]
        return subprocess.Popen(
            cmd,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )

    def _run_agent(self, dep: Deployment, generation: int, folder: Path) -> None:
        proc = self._spawn(dep, folder)
        with self._proc_lock:
            self._current = (dep.id, proc)
        killed = threading.Event()

        def on_timeout() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(self.timeout, on_timeout)
        timer.start()
        games: list[GameRecord] = []
        raw: list[str] = []
        error: dict[str, Any] | None = None
        done = False
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if not line.startswith(MARK):
                    raw.append(line)
                    continue
                msg = json.loads(line[len(MARK) :])
                if msg["type"] == "episode":
                    game = self._episode_game(msg, raw)
                    games.append(game)
                    raw = []
                    # Stored at once: v4.6 runs appear while the deploy still runs.
                    self.store.add_result(dep.id, generation, _result(msg), game)
                elif msg["type"] == "error":
                    error = msg
                elif msg["type"] == "done":
                    done = True
            proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
            with self._proc_lock:
                self._current = None
        timed_out = killed.is_set() and not done
        self._settle(dep, generation, games, error, done, "".join(raw), proc.returncode, timed_out)

    def _episode_game(self, msg: dict[str, Any], raw: list[str]) -> GameRecord:
        summary = (
            f"[arena] episode {msg['episode']}/{self.episodes}: {msg['steps']} steps, "
            f"reward {msg['reward']}, {msg['outcome']}\n"
        )
        return (
            float(msg["reward"]),
            str(msg["outcome"]),
            int(msg["steps"]),
            "".join(raw) + msg["log"] + summary,
        )

    def _settle(
        self,
        dep: Deployment,
        generation: int,
        games: list[GameRecord],
        error: dict[str, Any] | None,
        done: bool,
        raw: str,
        returncode: int,
        timed_out: bool,
    ) -> None:
        if done and error is None and games:
            reward = round(sum(g[0] or 0.0 for g in games) / len(games), 4)
            self.store.finish(dep.id, generation, reward=reward, failure=None, games=[])
            return
        if error is not None:
            failure = (
                f"Deploy failed: the agent raised {error['error_type']}: {error['message']}\n"
                f"{error['traceback']}"
            )
            log_text = raw + error.get("log", "") + failure
        elif timed_out:
            failure = f"Deploy failed: the agent did not finish within {self.timeout:g} s"
            log_text = raw + failure
        else:
            failure = (
                f"Deploy failed: the agent process exited with code {returncode}\n{raw[-4000:]}"
            )
            log_text = raw + failure
        error_game: GameRecord = (None, "error", 0, log_text)
        self.store.finish(dep.id, generation, reward=None, failure=failure, games=[error_game])


def _result(msg: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": "completed",
        "steps_completed": msg["steps"],
        "current_reward": msg["reward"],
        "game_outcome": msg["outcome"],
        "error_type": None,
        "error_message": None,
    }
