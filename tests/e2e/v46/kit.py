"""What the v4.6 end-to-end tests share: the route keys of the fake arena's counters, the
README quick-start project, and reads of the arena's side (stored bytes, writes, requests)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from helpers.arena import mutations
from helpers.project import Project

from mlarena_sync.arena import FakeArena

SUBMISSIONS = "/api/submissions"
FILES = f"{SUBMISSIONS}/challenge/{{cid}}/{{sid}}/file"
#: Counter keys of the v4.6 routes (``arena.counters``).
CREATE = f"POST {SUBMISSIONS}/challenge/{{cid}}"
PIN_RUNTIME = f"PUT {SUBMISSIONS}/agent_runtime/{{sid}}"
LIST_FILES = f"GET {FILES}"
PUT_FILE = f"PUT {FILES}"
DOWNLOAD = f"GET {FILES}/{{name}}"
SUBMISSION = f"GET {SUBMISSIONS}/submission/{{sid}}"
DEPLOY = f"PUT {SUBMISSIONS}/challenge/{{cid}}/{{sid}}/deploy"
QUOTA = f"GET {SUBMISSIONS}/challenge/{{cid}}/{{sid}}/deploy"
RUNS = f"GET {SUBMISSIONS}/submission/{{sid}}/runs"
CHALLENGE = "GET /api/challenges/{cid}"

#: How long a deploy waits in the queue under the ``slow_queue`` fixture: long enough for a
#: test to act while it is in flight, short enough for a test to wait it out.
SLOW_QUEUE_SECONDS = 3.0

#: A code challenge's agent: prints a marker line when built and at each step (the runner
#: keeps what the agent prints as the run's stdout).
MARKER = "V46-MARKER hello from the agent"
AGENT_PY = (
    "class Agent:\n"
    "    def __init__(self):\n"
    f"        print({MARKER!r} + ' (init)')\n\n"
    "    def predict(self, observation):\n"
    f"        print({MARKER!r})\n"
    "        return 0\n"
)


class RequestLog(list[str]):
    """The fake arena's request lines (``127.0.0.1 "GET /api/x" 200 3ms``), in order."""

    def requests(self) -> list[str]:
        """``"GET /api/x"`` of each request served, in order."""
        return [line.split('"')[1] for line in list(self)]


def writes(counters: Mapping[str, int]) -> dict[str, int]:
    """The requests of a counters snapshot that may change something (PUT/POST/DELETE/PATCH)."""
    return mutations(counters)


def stored(arena: FakeArena, sid: int, name: str) -> bytes | None:
    """The exact bytes the arena stores for ``name`` of submission ``sid`` (None: absent)."""
    path = arena.store.files.path(sid, name)
    return None if path is None else Path(path).read_bytes()


def remembered_generations(project: Project) -> dict[str, str]:
    """``.mlarena-sync/api.json``: server → the generation detected there."""
    data = json.loads((project.state_dir / "api.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict), data
    return data


def code_project(
    tmp: Path,
    url: str,
    *,
    name: str = "v46-agent",
    extra: str = "",
    files: Mapping[str, str | bytes] | None = None,
) -> Project:
    """A code-challenge project as a user writes it (no ``api:`` key: auto-detected): the
    synced folder is ``agent/`` beside ``mlarena.yaml``; ``extra`` is appended to the config."""
    project = Project(tmp / "proj", url)
    project.root.mkdir(parents=True)
    project.config.write_text(
        f"version: 1\nserver: {url}\ncompetition: 1\nagent:\n  name: {name}\n"
        "files:\n  root: agent\n" + extra,
        encoding="utf-8",
    )
    for rel, data in (files if files is not None else {"agent.py": AGENT_PY}).items():
        project.write(rel, data)
    return project
