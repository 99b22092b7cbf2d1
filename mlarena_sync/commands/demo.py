"""``mlarena-sync demo``: the whole loop against a fake arena embedded in this process.

Copies the bundled example agent (``examples/cartpole-agent``) into a temporary folder (or
``--dir``), points its ``mlarena.yaml`` at the embedded arena, runs the same code as
``push --wait``, then reports the agent's status and its leaderboard line. ``--watch`` goes on
with ``watch`` on the copy until Ctrl-C, so that an edit there is seen syncing and redeploying.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from pathlib import Path

import mlarena_sync
from mlarena_sync.arena import ArenaSetupError, load_fake_arena
from mlarena_sync.cli.output import Output
from mlarena_sync.commands.common import workspace_at
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.engine.push import PushOptions, push
from mlarena_sync.engine.workspace import Workspace
from mlarena_sync.errors import ConfigError, MlarenaSyncError
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


def point_at_arena(config: Path, url: str) -> None:
    """Rewrite the copy's ``server:`` to the embedded arena, and shorten the deploy timings."""
    text = config.read_text(encoding="utf-8")
    text, found = re.subn(
        r"^server:.*$",
        f"server: {url}   # the demo's embedded fake arena (gone when the demo ends)",
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
  README.md, "Quick start on ML Arena": the same commands against the real platform
"""


_KEPT = """
The copy is kept in {folder}. Its mlarena.yaml points at the demo's arena, which has stopped:
to go on with it offline, start `mlarena-sync fake-arena` and pass the URL it prints with
--server (or MLARENA_SERVER), with its MLARENA_API_KEY in the environment.
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


def run(inv: Invocation, args: argparse.Namespace) -> int:
    out = inv.out
    try:
        fake_arena = load_fake_arena()
    except ArenaSetupError as exc:  # without the `arena` extra: a usage error (exit 2)
        raise ConfigError(str(exc)) from None
    requested = None if args.dir is None else inv.cwd / args.dir
    source = example_dir()
    folder, temporary = prepare_folder(requested)
    try:
        copy_example(source, folder)
        # --api v0 runs the demo on the older API (the embedded arena serves that generation)
        generation = "v0" if getattr(args, "api", None) == "v0" else "v4.6"
        with fake_arena(deploy_limit=DEMO_DEPLOY_LIMIT, api=generation) as arena:
            point_at_arena(folder / "mlarena.yaml", arena.url)
            out.event("demo_arena_started", url=arena.url, competition=COMPETITION, user="alice")
            out.event("demo_agent_copied", folder=str(folder))
            env = {k: v for k, v in inv.env.items() if not k.startswith("MLARENA_")}
            env["MLARENA_API_KEY"] = arena.user_token
            ws = workspace_at(folder, env, out)
            code = push(ws, PushOptions(wait=True))
            if code != 0:
                return code
            _report(ws, out)
            if args.watch:
                out.text(f"\nWatching {folder}: edit a file there and save (Ctrl-C stops).\n")
                return watch(ws)
    finally:
        if temporary and not args.keep:
            shutil.rmtree(folder.parent, ignore_errors=True)
            out.event("demo_folder_removed", folder=str(folder))
        else:
            out.event("demo_folder_kept", folder=str(folder))
            out.text(_KEPT.format(folder=folder))
    out.text(_NEXT_STEPS)
    return 0


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
        f"\nAgent {name} (id {agent_id}): {status.status}",
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
        f"Leaderboard, competition {COMPETITION}: #{mine.rank} of {len(rows)}: {name} "
        f"({mine.username}), mean reward {mine.mean_reward}",
        agent=name,
        rank=mine.rank,
        agents=len(rows),
        username=mine.username,
        mean_reward=mine.mean_reward,
    )
