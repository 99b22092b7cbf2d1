"""Helpers of the fault and bad-input matrices: projects on disk, CLI runs, remote checks.

Everything here talks to the fake arena over real HTTP on 127.0.0.1, or reads its storage
folder directly (for exact bytes of binary files, which the v0 API cannot serve).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from _support import Result, remote_files

import mlarena_sync

REPO_ROOT = Path(mlarena_sync.__file__).resolve().parent.parent
MUTATING = ("PUT", "POST", "DELETE", "PATCH")
CODE_COMPETITION = 1
FILE_COMPETITION = 2

AGENT_PY = """\
from helper_00 import VALUE


class Agent:
    def predict(self, observation):
        return VALUE % 2
"""


# ---------------------------------------------------------------- projects


@dataclass
class Project:
    """A folder with ``mlarena.yaml``; the mirrored files live in ``root``."""

    dir: Path
    root: Path

    @property
    def config(self) -> Path:
        return self.dir / "mlarena.yaml"

    @property
    def state_dir(self) -> Path:
        return self.dir / ".mlarena-sync"


def write_config(
    folder: Path,
    server: str,
    *,
    competition: int = CODE_COMPETITION,
    agent_name: str | None = "faults-agent",
    agent_id: int | None = None,
    root: str = "agent",
    mode: str = "safe",
    max_delete: int = 5,
    auto: bool = False,
    quiet: float = 0.1,
    max_wait: float = 1.0,
    rescan: float = 0.0,
    extra: str = "",
) -> Path:
    agent_lines = []
    if agent_name is not None:
        agent_lines.append(f"  name: {agent_name}")
    if agent_id is not None:
        agent_lines.append(f"  id: {agent_id}")
    text = "\n".join(
        [
            "version: 1",
            f"server: {server}",
            f"competition: {competition}",
            "agent:",
            *agent_lines,
            "files:",
            f"  root: {root}",
            "sync:",
            f"  mode: {mode}",
            "  delete: true",
            f"  max_delete: {max_delete}",
            "watch:",
            f"  quiet: {quiet}",
            f"  max_wait: {max_wait}",
            f"  rescan: {rescan}",
            "deploy:",
            f"  auto: {'true' if auto else 'false'}",
            "  settle: 0.5",
            "  min_interval: 0",
            "  reserve: 0",
            "  check: null",
        ]
    )
    path = folder / "mlarena.yaml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


def make_project(
    tmp: Path, server: str, *, files: Mapping[str, bytes | str] | None = None, **config: Any
) -> Project:
    folder = tmp / "proj"
    root = folder / str(config.get("root", "agent"))
    root.mkdir(parents=True, exist_ok=True)
    write_config(folder, server, **config)
    for rel, data in (files if files is not None else small_tree(4)).items():
        write_file(root / rel, data)
    return Project(folder, root)


def write_file(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def small_tree(helpers: int, *, binaries: int = 0, version: int = 0) -> dict[str, bytes]:
    """``agent.py`` + ``helper_NN.py`` text helpers (+ a few binary weights)."""
    tree: dict[str, bytes] = {"agent.py": AGENT_PY.encode()}
    for i in range(helpers):
        tree[f"pkg{i % 3}/helper_{i:02d}.py"] = f"VALUE = {i}  # v{version}\n".encode()
    for i in range(binaries):
        tree[f"weights/w{i}.bin"] = bytes([0xFF, 0xFE, i, version % 256]) * 64
    return tree


def local_selection(root: Path) -> dict[str, bytes]:
    """What the user expects remotely: every regular file under ``root``, by basename
    (``mlarena.yaml`` and dot-entries are ignored by design)."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or rel.name == "mlarena.yaml":
            continue
        if path.is_file() and not path.is_symlink():
            assert path.name not in out, f"test tree has a name clash: {path.name}"
            out[path.name] = path.read_bytes()
    return out


# ---------------------------------------------------------------- environment and CLI


def cli_env(token: str | None, **extra: str) -> dict[str, str]:
    """A subprocess environment: no MLARENA_* from outside, the repo importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLARENA_")}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if token is not None:
        env["MLARENA_API_KEY"] = token
    env.update(extra)
    return env


def cli_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "mlarena_sync", *args]


def spawn_cli(*args: str, env: Mapping[str, str], **popen: Any) -> subprocess.Popen[bytes]:
    """``python -m mlarena_sync *args`` in the background, stdin closed; the output goes to
    ``popen``'s ``stdout``/``stderr`` (default: discarded)."""
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen(cli_cmd(*args), env=dict(env), stdin=subprocess.DEVNULL, **popen)


#: ``mlarena_sync.cli.main.main`` run in-process (the ``cli`` fixture).
Cli = Callable[[Sequence[str]], Result]


def push_args(project: Project, *extra: str) -> list[str]:
    """``push --no-deploy`` in ``project`` (+ ``extra``)."""
    return ["-C", str(project.dir), "push", "--no-deploy", *extra]


def push(cli: Cli, project: Project, *extra: str) -> Result:
    return cli(push_args(project, *extra))


def run_cli(
    args: Iterable[str], env: Mapping[str, str], *, timeout: float = 60, prefix: Sequence[str] = ()
) -> Result:
    """``python -m mlarena_sync *args`` to its end (run under the command ``prefix``, if any)."""
    proc = subprocess.run(
        [*prefix, *cli_cmd(*args)],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def stop_process(
    proc: subprocess.Popen[Any], *, sig: int = signal.SIGINT, grace: float = 10
) -> int:
    """Stop ``proc`` (``sig`` first, SIGKILL after ``grace`` s); its exit code."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    predicate: Callable[[], object], *, timeout: float, interval: float = 0.05, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            if predicate():
                return
        except (requests.RequestException, OSError, AssertionError, KeyError) as exc:
            last = exc  # not there yet
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what or predicate} (last: {last!r})"
            )
        time.sleep(interval)


# ---------------------------------------------------------------- remote side


def remote_bytes(arena: Any, aid: int, name: str) -> bytes | None:
    """Exact bytes of a stored file, read from the fake arena's storage folder."""
    store = getattr(arena, "store", None)
    files = getattr(store, "files", None)
    if files is None:
        return None
    path = files.path(aid, name)
    return None if path is None else Path(path).read_bytes()


def mutations(counters: Mapping[str, int]) -> dict[str, int]:
    """The requests of a counters snapshot that may change something on the server."""
    return {k: v for k, v in counters.items() if k.split(" ", 1)[0] in MUTATING and v}


def count(counters: Mapping[str, int], method: str, suffix: str) -> int:
    """Requests of ``method`` to a route ending with ``suffix`` (e.g. ``"/deploy"``)."""
    return sum(
        v
        for k, v in counters.items()
        if k.split(" ", 1)[0] == method and k.split(" ", 1)[-1].rstrip("/").endswith(suffix)
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def state_files(project: Project) -> list[Path]:
    if not project.state_dir.is_dir():
        return []
    return [p for p in project.state_dir.rglob("*") if p.is_file()]


def bound_agent_id(project: Project) -> int:
    """The agent id the state folder binds (searched in its JSON files)."""
    for path in state_files(project):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        found = _find_key(data, "agent_id")
        if isinstance(found, int):
            return found
    raise AssertionError(f"no agent_id in {project.state_dir}: {state_files(project)}")


def _find_key(data: object, key: str) -> object:
    if isinstance(data, dict):
        if key in data and data[key] is not None:
            return data[key]
        for value in data.values():
            got = _find_key(value, key)
            if got is not None:
                return got
    if isinstance(data, list):
        for value in data:
            got = _find_key(value, key)
            if got is not None:
                return got
    return None


def assert_converged(
    arena: Any, project: Project, aid: int, *, token: str, extra_remote: Iterable[str] = ()
) -> int:
    """Remote files == the local selection (+ ``extra_remote``), byte for byte; the number
    of files checked. Binary files are compared through the arena's storage folder."""
    local = local_selection(project.root)
    remote = remote_files(arena.url, token, aid)
    extra = set(extra_remote)
    missing = sorted(set(local) - set(remote))
    unexpected = sorted(set(remote) - set(local) - extra)
    assert not missing, f"files lost (local, not remote): {missing}"
    assert not unexpected, f"remote files the local selection does not hold: {unexpected}"
    for name, data in local.items():
        entry = remote[name]
        assert entry["size"] == len(data), f"{name}: remote size {entry['size']} != {len(data)}"
        if entry["content"] is not None:
            assert entry["content"].encode() == data, f"{name}: remote text differs from local"
        else:
            stored = remote_bytes(arena, aid, name)
            if stored is not None:
                assert stored == data, f"{name}: remote bytes differ from local"
    base = assert_base_consistent(project, remote, aid)
    unrecorded = sorted(set(local) - set(base))
    assert not unrecorded, f"synced files missing from the base manifest: {unrecorded}"
    return len(local)


def assert_base_consistent(project: Project, remote: Mapping[str, Any], aid: int) -> dict[str, Any]:
    """The base manifest in ``.mlarena-sync/`` describes exactly what the remote holds."""
    from mlarena_sync.config.model import load_config
    from mlarena_sync.store.state import StateStore, target_key

    target = load_config(project.config).target(None)
    state = StateStore(project.state_dir).load(target_key(target))
    assert state.agent_id == aid, f"state binds agent {state.agent_id}, not {aid}"
    base = state.files
    stale = sorted(set(base) - set(remote))
    assert not stale, f"base lists files the remote does not hold: {stale}"
    for name, entry in base.items():
        got = remote[name]
        assert entry.size == got["size"], f"{name}: base size {entry.size} != {got['size']}"
        if got["content"] is not None:
            served = sha256(got["content"].encode())
            assert served in (entry.sha256, entry.remote_sha256), f"{name}: base hash != remote"
    return dict(base)


# ---------------------------------------------------------------- pushes that must converge


def pushed_project(
    cli: Cli, tmp: Path, server: str, files: Mapping[str, bytes]
) -> tuple[Project, int]:
    """A project holding ``files``, pushed once without faults; it and its bound agent id."""
    project = make_project(tmp, server, files=files)
    assert push(cli, project).code == 0
    return project, bound_agent_id(project)


def rewrite_tree(project: Project, version: int, helpers: int = 6) -> None:
    """Write ``small_tree(helpers, version=version, binaries=1)`` over the project's files."""
    for rel, data in small_tree(helpers, version=version, binaries=1).items():
        write_file(project.root / rel, data)


def assert_stable(cli: Cli, project: Project, arena: Any) -> None:
    """The base manifest agrees with the remote: a second push sends nothing that changes."""
    arena.faults.clear()
    arena.reset_counters()
    res = push(cli, project)
    assert res.code == 0, res.text
    assert not mutations(arena.counters), f"second push changed things: {arena.counters}"
    plan = cli(["-C", str(project.dir), "plan"])
    assert plan.code == 0, plan.text


def assert_recovered(
    res: Result,
    cli: Cli,
    arena: Any,
    project: Project,
    aid: int,
    *,
    token: str,
    extra_remote: Iterable[str] = (),
) -> None:
    """The push ``res`` succeeded, the remote equals the local selection, and it is stable."""
    assert res.code == 0, res.text
    assert_converged(arena, project, aid, token=token, extra_remote=extra_remote)
    assert_stable(cli, project, arena)


# ---------------------------------------------------------------- error output


def assert_clear_error(res: Result, code: int, *needles: str, lines: int = 1) -> None:
    """Exit ``code``; no traceback; stderr holds the error in ``lines`` line(s) (one, or a
    head line + one line per file problem) containing every needle (case-insensitive)."""
    assert res.code == code, (
        f"exit {res.code}, expected {code}\n--- out\n{res.out}\n--- err\n{res.err}"
    )
    assert "Traceback" not in res.text, res.text
    err_lines = [line for line in res.err.splitlines() if line.strip()]
    assert 1 <= len(err_lines) <= lines, (
        f"expected the error in {lines} line(s) on stderr, got {len(err_lines)}:\n{res.err}"
    )
    text = "\n".join(err_lines).lower()
    for needle in needles:
        assert needle.lower() in text, f"{needle!r} not in the error:\n{res.err}"


def can_drop_read_override() -> bool:
    """Running as root: can ``setpriv`` drop CAP_DAC_OVERRIDE so chmod 000 bites?"""
    return os.geteuid() == 0 and Path("/usr/bin/setpriv").exists()


UNPRIVILEGED = [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
    "--",
]
