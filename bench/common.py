"""Shared pieces of the benchmarks: results, statistics, the arena handle, trees, configs."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.procs import Proc, child_env

# ---- results --------------------------------------------------------------------------------


@dataclass
class Target:
    """One target of the issue, judged on this run's figure (reported, never fatal)."""

    text: str
    passed: bool | None  # None: could not be judged
    detail: str = ""

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "N/A"}[self.passed]


@dataclass
class Row:
    """A figure beside its baseline measured in the same run."""

    metric: str
    value: float | int | str | None
    unit: str = ""
    baseline: float | int | str | None = None
    baseline_label: str = ""
    ratio: float | None = None
    ratio_note: str = ""  # what the ratio means, e.g. "× faster" or "× baseline"


@dataclass
class ScenarioResult:
    key: str
    title: str
    api: str = ""  # the generation the fake arena spoke: "v0" or "v4.6"
    status: str = "ok"  # ok | not run | error
    reason: str = ""
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def row(self, metric: str, value: float | int | str | None, unit: str = "", **kw: Any) -> Row:
        r = Row(metric, value, unit, **kw)
        self.rows.append(r)
        return r

    def target(self, text: str, passed: bool | None, detail: str = "") -> None:
        self.targets.append(Target(text, passed, detail))

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for t, src in zip(out["targets"], self.targets, strict=True):
            t["verdict"] = src.verdict
        return out


class NotRun(Exception):
    """A scenario cannot run (a piece is missing): reported as ``not run: <reason>``."""


# ---- statistics -----------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100) of a non-empty sequence."""
    if not values:
        return math.nan
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return a / b


# ---- the fake arena in a child process ------------------------------------------------------


class ArenaHandle:
    """``bench.arena_child`` running in its own process; commands over its stdin."""

    def __init__(self, proc: Proc, url: str, token: str) -> None:
        self.proc = proc
        self.url = url
        self.token = token

    def command(self, op: str, **kw: Any) -> dict[str, Any]:
        self.proc.send(json.dumps({"op": op, **kw}))
        line = self.proc.wait_for(lambda ln: ln.text.startswith("{"), timeout=30)
        if line is None:
            raise RuntimeError(f"fake arena did not answer {op!r}: {self.proc.stderr_tail()}")
        reply = line.json() or {}
        if "error" in reply:
            raise RuntimeError(f"fake arena refused {op!r}: {reply['error']}")
        return reply

    def counters(self) -> dict[str, int]:
        return dict(self.command("counters")["counters"])

    def reset_counters(self) -> None:
        self.command("reset_counters")

    def set_latency(self, seconds: float) -> None:
        self.command("latency", seconds=seconds)

    def reset(self) -> None:
        self.command("reset")

    def requests(self) -> list[tuple[str, str]]:
        """``(method, path)`` of the requests answered since the last call, in that order."""
        out = []
        for line in self.command("requests")["requests"]:
            method, _, path = line.split('"', 2)[1].partition(" ")
            out.append((method, path))
        return out


# ---- the two API generations ----------------------------------------------------------------

APIS = ("v0", "v4.6")


def request_kind(method: str, path: str) -> str:
    """What a participant request is for, in words that read the same in both generations."""
    parts = path.rstrip("/").split("/")
    if method == "PUT" and parts[-1] == "file":
        return "upload PUT"
    if method == "PUT" and parts[-1] == "deploy":
        return "deploy"
    if method == "GET" and parts[-1] == "file":
        return "file listing"
    if method == "GET" and "file" in parts[:-1]:
        return "read-back of a file"  # v4.6: raw bytes or text content
    if method == "GET" and (
        parts[-1] == "status" or parts[:-1] == ["", "api", "submissions", "submission"]
    ):
        return "status"
    if method == "GET" and parts[:-1] in (["", "api", "challenges"], ["", "api", "competitions"]):
        return "challenge detail"
    return f"{method} {path}"


def arena_available() -> str | None:
    """None when the fake arena can be imported, else why not."""
    try:
        from mlarena_sync.arena import FakeArena  # noqa: F401
    except ImportError as exc:
        return f"fake arena not importable ({exc})"
    return None


@contextmanager
def arena_process(
    workdir: Path,
    *,
    api: str = "v4.6",
    max_upload_mb: int = 100,
    max_files: int = 1000,
    max_active: int = 50,
) -> Iterator[ArenaHandle]:
    """The fake arena speaking ``api`` (``v0`` or ``v4.6``) in its own process."""
    why = arena_available()
    if why:
        raise NotRun(why)
    argv = [
        sys.executable,
        "-m",
        "bench.arena_child",
        "--max-upload-mb",
        str(max_upload_mb),
        "--max-files",
        str(max_files),
        "--max-active",
        str(max_active),
        "--api",
        api,
    ]
    err = workdir / f"arena-{api}.stderr"
    proc = Proc.start(argv, env=child_env(), stderr_path=err, stdin=True)
    try:
        t0 = time.monotonic()
        first = proc.wait_for(lambda ln: ln.text.startswith("MLARENA_SERVER="), timeout=30)
        second = proc.wait_for(lambda ln: ln.text.startswith("MLARENA_API_KEY="), timeout=5)
        if first is None or second is None:
            code = proc.popen.poll()
            state = "still running" if code is None else f"exit code {code}"
            seen = " | ".join(ln.text for ln in proc.seen[-2:])
            raise NotRun(
                f"fake arena ({api}) did not print MLARENA_SERVER=… and MLARENA_API_KEY=… within "
                f"{time.monotonic() - t0:.0f} s ({state}; stdout: {seen!r}): {proc.stderr_tail()}"
            )
        handle = ArenaHandle(proc, first.text.split("=", 1)[1], second.text.split("=", 1)[1])
        yield handle
    finally:
        proc.stop(grace=3.0)


# ---- trees and configs ----------------------------------------------------------------------

AGENT_PY = """class Agent:
    def __init__(self):
        self.version = {version!r}

    def predict(self, observation):
        return 0
"""


def write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def text_blob(i: int, size: int, salt: str = "") -> bytes:
    """Deterministic text of exactly ``size`` bytes, different for each (i, salt)."""
    head = f"# file {i} {salt}\n".encode()
    line = f"VALUE_{i} = {i * 7919 % 100003}  # padding {salt}\n".encode()
    body = head + line * (size // len(line) + 1)
    return body[:size]


def binary_blob(path: Path, size: int, seed: int = 0) -> None:
    """A binary file of ``size`` bytes (not UTF-8), written in 1 MiB chunks."""
    chunk = bytes((seed + i * 131) % 256 for i in range(256)) * 4096
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)


def make_small_files(root: Path, count: int, size: int, *, salt: str = "") -> list[Path]:
    """``count`` text files of ``size`` bytes with unique basenames, 50 per folder."""
    out = []
    for i in range(count):
        p = root / f"pkg{i // 50:03d}" / f"mod_{i:05d}.py"
        write_file(p, text_blob(i, size, salt))
        out.append(p)
    return out


def make_big_tree(root: Path, selected: int, ignored: int) -> None:
    """``selected`` synced files (agent.py included) plus ``ignored`` files inside ``.venv``."""
    write_file(root / "agent.py", AGENT_PY.format(version=0).encode())
    make_small_files(root, selected - 1, 512)
    venv = root / ".venv" / "lib" / "python3.11" / "site-packages"
    for i in range(ignored):
        write_file(venv / f"dist{i // 100:03d}" / f"m{i:05d}.py", text_blob(i, 256, "venv"))


def write_config(
    root: Path,
    server: str,
    *,
    agent_name: str,
    quiet: float = 0.3,
    max_wait: float = 5.0,
    deploy_auto: bool = False,
    settle: float = 10.0,
    min_interval: float = 60.0,
    rescan: float = 30.0,
    exclude: Sequence[str] = (".venv/",),
) -> Path:
    """An ``mlarena.yaml`` for challenge 1 as ``docs/product.md`` spells it, with ``api: auto``:
    the same file works against either generation (mlarena-sync detects it once)."""
    text = f"""version: 1
server: {server}
challenge: 1
api: auto
submission:
  name: {agent_name}
files:
  root: .
  include: ["**"]
  exclude: {json.dumps(list(exclude))}
  gitignore: true
sync:
  mode: safe
  delete: true
  max_delete: 5
watch:
  quiet: {quiet}
  max_wait: {max_wait}
  rescan: {rescan}
deploy:
  auto: {"true" if deploy_auto else "false"}
  settle: {settle}
  min_interval: {min_interval}
  reserve: 0
"""
    path = root / "mlarena.yaml"
    path.write_text(text)
    return path


def machine_info() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
