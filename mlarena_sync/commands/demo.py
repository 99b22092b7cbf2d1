"""``mlarena-sync demo``: the whole loop against a fake arena embedded in this process.

Copies the bundled example agent (``examples/cartpole-agent``) into a temporary folder (or
``--dir``), points its ``mlarena.yaml`` at the embedded arena, runs the same code as
``push --wait``, then reports the agent's status and its leaderboard line. ``--watch`` goes on
with ``watch`` on the copy until Ctrl-C, so that an edit there is seen syncing and redeploying.

``--server URL`` runs the same loop against a fake arena already running on this machine (one
``mlarena-sync fake-arena`` serves in another shell), with its token from ``MLARENA_API_KEY``
(or ``--api-key-file``), instead of an embedded one. A server beyond this machine is refused:
the demo creates and deploys an agent on challenge 1, which is the fake arena's CartPole and
nobody knows what on a real server (``init`` and ``push`` are the way there).
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mlarena_sync
from mlarena_sync.arena import ArenaSetupError, load_fake_arena
from mlarena_sync.cli.human import words
from mlarena_sync.cli.output import Output
from mlarena_sync.commands.common import workspace_at
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.config.model import validate_server
from mlarena_sync.config.targets import DEFAULT_API_KEY_ENV
from mlarena_sync.engine.push import PushOptions, push
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.errors import ConfigError, MlarenaSyncError
from mlarena_sync.events import EventSink, Level
from mlarena_sync.tokens import is_loopback_host
from mlarena_sync.watch.session import watch

EXAMPLE_NAME = "cartpole-agent"
COMPETITION = 1  # the fake arena's CartPole code competition, the one the example targets
# The demo arena allows more deploys a day than the real platform, so `--watch` has room to play.
DEMO_DEPLOY_LIMIT = 20
# Faster automatic deploys than the example's defaults, for `--watch` (seconds).
DEMO_DEPLOY_TIMING = {"settle": 2, "min_interval": 5}


def example_dir(package_dir: Path | None = None) -> Path:
    """The example agent's folder: inside an installed wheel, or in the source checkout.

    A wheel carries ``examples/`` as ``mlarena_sync/examples/`` (see pyproject.toml); a checkout
    (editable install or ``PYTHONPATH``) has it beside the package.
    """
    package = package_dir or Path(mlarena_sync.__file__).resolve().parent
    candidates = (package / "examples" / EXAMPLE_NAME, package.parent / "examples" / EXAMPLE_NAME)
    for candidate in candidates:
        if (candidate / "agent.py").is_file() and (candidate / "mlarena.yaml").is_file():
            return candidate
    raise MlarenaSyncError(
        f"the example agent is not where it should be: {candidates[0]} or {candidates[1]}",
        hint="reinstall mlarena-sync",
    )


def prepare_folder(requested: Path | None) -> tuple[Path, bool]:
    """The folder to copy the example into, and whether it is a temporary one of ours."""
    if requested is None:
        return Path(tempfile.mkdtemp(prefix="mlarena-demo-")) / EXAMPLE_NAME, True
    folder = requested.expanduser().resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(
            f"--dir {requested}: exists and is not an empty folder; the demo never overwrites it",
            hint="pass a new folder name, or leave --dir out to use a temporary folder",
        )
    return folder, False


def copy_example(source: Path, folder: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mlarena-sync")
    shutil.copytree(source, folder, ignore=ignore, dirs_exist_ok=True)


EMBEDDED_NOTE = "the demo's embedded fake arena (gone when the demo ends)"
EXTERNAL_NOTE = "the fake arena the demo ran against (--server)"


def point_at_arena(config: Path, url: str, note: str = EMBEDDED_NOTE) -> None:
    """Rewrite the copy's ``server:`` to the arena, and shorten the deploy timings."""
    text = config.read_text(encoding="utf-8")
    text, found = re.subn(
        r"^server:.*$",
        f"server: {url}   # {note}",
        text,
        count=1,
        flags=re.MULTILINE,
    )
    if not found:
        raise MlarenaSyncError(f"{config} has no top-level `server:` line to point at the arena")
    for key, seconds in DEMO_DEPLOY_TIMING.items():
        text = re.sub(
            rf"^(\s+{key}:)[ \t]*[^\s#]+", rf"\g<1> {seconds}", text, count=1, flags=re.MULTILINE
        )
    config.write_text(text, encoding="utf-8")


_NEXT_STEPS = """
Next:
  mlarena-sync demo --watch     edit the copy and watch it sync and redeploy
  mlarena-sync demo --dir DIR   keep the copy in DIR to look at (its mlarena.yaml, .mlarena-sync/)
  mlarena-sync demo --server URL   the same against a `mlarena-sync fake-arena` in another shell
  README.md, "Quick start on ML Arena": the same commands against the real platform
"""


_KEPT = """
The copy is kept in {folder}. Its mlarena.yaml points at the demo's arena, which has stopped:
to go on with it offline, start `mlarena-sync fake-arena` and pass the URL it prints with
--server (or MLARENA_SERVER), with its MLARENA_API_KEY in the environment.
"""

_KEPT_EXTERNAL = """
The copy is kept in {folder}. Its mlarena.yaml points at {url}: run mlarena-sync there
(`mlarena-sync -C {folder} status`) while that fake arena runs.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="copy the example agent into DIR (new or empty) and keep it (default: a temporary "
        "folder, removed at the end)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder and print where it is"
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="after the deploy, watch the copy: edit a file there and see it sync and redeploy "
        "(Ctrl-C stops)",
    )


@dataclass(frozen=True)
class DemoArena:
    """Where the demo runs: the URL, the environment its commands see (the token), the API
    generation asked for, the ``--api-key-file``, and whether the arena is another process's."""

    url: str
    env: dict[str, str]
    api: str | None
    key_file: Path | None
    external: bool

    @property
    def note(self) -> str:
        return EXTERNAL_NOTE if self.external else EMBEDDED_NOTE


def external_server(given: str | None) -> str | None:
    """``--server``'s URL when it is a fake arena on this machine; None without ``--server``;
    :class:`ConfigError` (exit 2) for a server beyond this machine."""
    if not given:
        return None
    url = validate_server(given, source="--server")
    if not is_loopback_host(urlsplit(url).hostname):
        raise ConfigError(
            f"demo --server {url}: the demo runs only against a fake arena on this machine "
            "(it creates and deploys an agent on challenge 1, the fake arena's CartPole)",
            hint="for ML Arena itself: `mlarena-sync init --challenge ID`, then "
            "`mlarena-sync push`; for a fake arena: `mlarena-sync fake-arena` in another shell, "
            "then `mlarena-sync demo --server URL` with the URL it prints",
        )
    return url


@contextmanager
def demo_arena(inv: Invocation, args: argparse.Namespace) -> Iterator[DemoArena]:
    """The arena the demo runs against: ``--server``'s (its token from ``MLARENA_API_KEY`` or
    ``--api-key-file``, checked by the rule every command uses), else one embedded in this
    process and stopped at the end."""
    url = external_server(getattr(args, "server", None))
    env = {k: v for k, v in inv.env.items() if not k.startswith("MLARENA_")}
    if url is not None:
        key_file = getattr(args, "api_key_file", None)
        token = inv.env.get(DEFAULT_API_KEY_ENV, "").strip()
        if not token and not key_file:
            raise ConfigError(
                f"demo --server {url} needs that fake arena's token: set {DEFAULT_API_KEY_ENV}",
                hint="`mlarena-sync fake-arena` prints it on its second line",
            )
        if token:
            env[DEFAULT_API_KEY_ENV] = token
        key_path = inv.cwd / key_file if key_file else None
        yield DemoArena(url, env, getattr(args, "api", None), key_path, external=True)
        return
    try:
        fake_arena = load_fake_arena()
    except ArenaSetupError as exc:  # without the `arena` extra: a usage error (exit 2)
        raise ConfigError(str(exc)) from None
    # --api v0 runs the demo on the older API (the embedded arena serves that generation)
    generation = "v0" if getattr(args, "api", None) == "v0" else "v4.6"
    with fake_arena(deploy_limit=DEMO_DEPLOY_LIMIT, api=generation) as arena:
        env[DEFAULT_API_KEY_ENV] = arena.user_token
        yield DemoArena(arena.url, env, None, None, external=False)


class _DemoFolder:
    """The demo's events as they are, but for the new agent's line: its ``mlarena.yaml`` is
    the demo's copy (thrown away, or a folder to look at), not a file to commit."""

    def __init__(self, out: EventSink) -> None:
        self.out = out

    def emit(self, event: str, /, *, level: Level = "info", **fields: Any) -> None:
        if event == "agent_created" and fields.get("pinned"):
            aid = fields.get("agent_id")
            fields["text"] = f"created agent {aid} and pinned it in the demo's mlarena.yaml"
        self.out.emit(event, level=level, **fields)


def run(inv: Invocation, args: argparse.Namespace) -> int:
    out = inv.out
    requested = None if args.dir is None else inv.cwd / args.dir
    source = example_dir()
    with demo_arena(inv, args) as where:
        folder, temporary = prepare_folder(requested)
        try:
            copy_example(source, folder)
            point_at_arena(folder / "mlarena.yaml", where.url, where.note)
            out.event("demo_arena_started", url=where.url, competition=COMPETITION, user="alice")
            out.event("demo_agent_copied", folder=str(folder))
            ws = workspace_at(folder, where.env, out, api=where.api, api_key_file=where.key_file)
            ws.out = _DemoFolder(ws.out)
            code = push(ws, PushOptions(wait=True))
            if code != 0:
                return code
            _report(ws, out)
            if args.watch:
                out.text(f"\nWatching {folder}: edit a file there and save (Ctrl-C stops).\n")
                return watch(ws)
        finally:
            _leave(out, folder, temporary and not args.keep, where.url if where.external else None)
    out.text(_NEXT_STEPS)
    return 0


def _leave(out: Output, folder: Path, remove: bool, external: str | None) -> None:
    """Remove the temporary copy, or say where it is kept (and what it points at)."""
    if remove:
        shutil.rmtree(folder.parent, ignore_errors=True)
        out.event("demo_folder_removed", folder=str(folder))
        return
    out.event("demo_folder_kept", folder=str(folder))
    if external is None:
        out.text(_KEPT.format(folder=folder))
    else:
        out.text(_KEPT_EXTERNAL.format(folder=folder, url=external))


def _report(ws: Workspace, out: Output) -> None:
    """The agent's status and its line on the leaderboard."""
    target = ws.target
    agent_id = ws.store.load(ws.key).agent_id
    if agent_id is None:
        raise MlarenaSyncError(f"push left no agent bound in {ws.config_path.parent}")
    with ws.client() as client:
        status = client.status(COMPETITION, agent_id)
        rows = client.leaderboard(COMPETITION)
    name = status.name or target.agent.name or f"agent {agent_id}"
    out.result(
        "demo_status",
        f"\nAgent {name} (id {agent_id}): {words.status_word(status.status)}",
        agent=name,
        agent_id=agent_id,
        status=status.status,
    )
    mine = next((row for row in rows if row.agent_id == agent_id), None)
    if mine is None:
        out.result("demo_leaderboard", f"{name} is not on the leaderboard", agent=name, rank=None)
        return
    out.result(
        "demo_leaderboard",
        f"Leaderboard, challenge {COMPETITION}: #{mine.rank} of {len(rows)}: {name} "
        f"({mine.username}), mean reward {_reward(mine.mean_reward)}",
        agent=name,
        rank=mine.rank,
        agents=len(rows),
        username=mine.username,
        mean_reward=mine.mean_reward,
    )


def _reward(value: object) -> str:
    """``200``, ``42.3``: one decimal at most, as the other lines say a reward."""
    if isinstance(value, (int, float)):
        return f"{float(value):.1f}".removesuffix(".0")
    return str(value)
