"""Helpers of the watch tests: a project on disk, an in-process watch session in a thread that
records what it reports, bounded waits on conditions."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _project import ProjectDir

from mlarena_sync.api.client import ArenaClient
from mlarena_sync.arena import FakeArena
from mlarena_sync.cli.output import Output, Redactor
from mlarena_sync.config.model import load_config
from mlarena_sync.store.state import StateStore, target_key

COMPETITION = 1
AGENT_PY = "class Agent:\n    def predict(self, observation):\n        return 0\n"


def write_config(folder: Path, server: str, **over: Any) -> Path:
    v: dict[str, Any] = {
        "quiet": 0.1,
        "max_wait": 2,
        "rescan": 0,
        "auto": "false",
        "settle": 0.3,
        "min_interval": 0,
        "reserve": 0,
        "check": "null",
        "max_delete": 50,
    }
    v.update(over)
    text = f"""\
version: 1
server: {server}
competition: {COMPETITION}
agent:
  name: watch-agent
files:
  root: agent
sync:
  mode: safe
  delete: true
  max_delete: {v["max_delete"]}
watch:
  quiet: {v["quiet"]}
  max_wait: {v["max_wait"]}
  rescan: {v["rescan"]}
deploy:
  auto: {v["auto"]}
  settle: {v["settle"]}
  min_interval: {v["min_interval"]}
  reserve: {v["reserve"]}
  check: {v["check"]}
"""
    path = folder / "mlarena.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Project(ProjectDir):
    def agent_id(self) -> int | None:
        target = load_config(self.config).target(None)
        return StateStore.for_config(self.config).load(target_key(target)).agent_id


def make_project(
    tmp_path: Path, server: str, files: dict[str, str] | None = None, **cfg: Any
) -> Project:
    project = Project(tmp_path / "proj")
    project.root.mkdir(parents=True)
    write_config(project.dir, server, **cfg)
    project.write("agent.py", AGENT_PY)
    for rel, text in (files or {"helper.py": "VALUE = 0\n"}).items():
        project.write(rel, text)
    return project


class RecordingOutput(Output):
    """Output that records every event (name + fields) instead of printing."""

    def __init__(self) -> None:
        super().__init__(
            json_mode=False, verbosity=0, stream=io.StringIO(), color=False, redactor=Redactor()
        )
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def _add(self, event: str, fields: dict[str, Any]) -> None:
        with self._lock:
            self.events.append((event, fields))

    def event(self, event: str, **fields: Any) -> None:
        self._add(event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._add(event, {**fields, "level": "warning"})

    def result(self, event: str, text: str, **fields: Any) -> None:
        self._add(event, {**fields, "text": text})

    def named(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [f for e, f in self.events if e == name]

    def names(self) -> list[str]:
        with self._lock:
            return [e for e, _ in self.events]


def wait_until(cond: Callable[[], bool], timeout: float, what: str, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@dataclass
class WatchRun:
    project: Project
    arena: FakeArena
    out: RecordingOutput
    stop: threading.Event
    thread: threading.Thread
    errors: list[BaseException] = field(default_factory=list)
    code: list[int] = field(default_factory=list)

    def client(self) -> ArenaClient:
        return ArenaClient(self.arena.url, self.arena.user_token)

    def remote(self) -> dict[str, str | None]:
        aid = self.project.agent_id()
        assert aid is not None
        with self.client() as c:
            return {n: f.content for n, f in c.list_files(COMPETITION, aid).items()}

    def wait_bound(self, timeout: float = 10) -> int:
        wait_until(lambda: self.project.agent_id() is not None, timeout, "the agent to be bound")
        aid = self.project.agent_id()
        assert aid is not None
        return aid

    def wait_remote(self, name: str, content: str | None, timeout: float = 10) -> None:
        def ok() -> bool:
            self.check_alive()
            return self.remote().get(name, "<absent>") == content

        wait_until(ok, timeout, f"{name} to be {content!r} remotely")

    def check_alive(self) -> None:
        if self.errors:
            raise AssertionError(f"watch failed: {self.errors[0]!r}") from self.errors[0]

    def finish(self, timeout: float = 15) -> int:
        self.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the watch did not stop"
        self.check_alive()
        return self.code[0]
