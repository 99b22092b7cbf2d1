"""Child processes for the benchmarks: start, read, measure, and always stop.

Every process started here is stopped by the caller's ``finally`` (``Proc.stop``), and every wait
is bounded by a deadline. Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

REPO_ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def child_env(token: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: ours minus MLARENA_*, the repo on PYTHONPATH, the token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLARENA_")}
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + old if old else "")
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if token is not None:
        env["MLARENA_API_KEY"] = token
    if extra:
        env.update(extra)
    return env


def cli(*args: str) -> list[str]:
    """The mlarena-sync command line, run by this interpreter (no install needed)."""
    return [sys.executable, "-m", "mlarena_sync", *args]


@dataclass
class Line:
    """One stdout line of a child, with the wall clock when we read it."""

    at: float
    text: str

    def json(self) -> dict[str, Any] | None:
        try:
            obj = json.loads(self.text)
        except ValueError:
            return None
        return obj if isinstance(obj, dict) else None


@dataclass
class Proc:
    """A long-running child whose stdout lines are collected by a reader thread."""

    popen: subprocess.Popen[str]
    lines: queue.Queue[Line] = field(default_factory=queue.Queue)
    seen: list[Line] = field(default_factory=list)
    stderr_path: Path | None = None
    _reader: threading.Thread | None = None

    @classmethod
    def start(
        cls,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        stderr_path: Path | None = None,
        stdin: bool = False,
    ) -> Proc:
        err: TextIO | int = subprocess.DEVNULL
        if stderr_path is not None:
            err = open(stderr_path, "w")  # noqa: SIM115 - closed by the child's exit
        try:
            popen = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=err,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                text=True,
                bufsize=1,
                start_new_session=True,
            )
        finally:
            if not isinstance(err, int):
                err.close()
        proc = cls(popen=popen, stderr_path=stderr_path)
        proc._reader = threading.Thread(target=proc._read, daemon=True)
        proc._reader.start()
        return proc

    @property
    def pid(self) -> int:
        return self.popen.pid

    def _read(self) -> None:
        stream = self.popen.stdout
        assert stream is not None
        for raw in stream:
            self.lines.put(Line(time.time(), raw.rstrip("\n")))

    def next_line(self, timeout: float) -> Line | None:
        """The next stdout line, or None when none came within ``timeout`` seconds."""
        try:
            line = self.lines.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        self.seen.append(line)
        return line

    def wait_for(self, pred: Callable[[Line], bool], timeout: float) -> Line | None:
        """Read lines until one satisfies ``pred``; None at the deadline or when the child died."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            line = self.next_line(min(left, 0.5))
            if line is None:
                if self.popen.poll() is not None and self.lines.empty():
                    return None
                continue
            if pred(line):
                return line

    def drain(self) -> list[Line]:
        """Every line already read and not yet consumed."""
        out: list[Line] = []
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return out
            self.seen.append(line)
            out.append(line)

    def send(self, text: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(text + "\n")
        self.popen.stdin.flush()

    def stderr_tail(self, n: int = 20) -> str:
        if self.stderr_path is None or not self.stderr_path.exists():
            return ""
        return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGINT (clean stop), then SIGTERM, then SIGKILL on the whole process group."""
        if self.popen.poll() is None:
            for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
                try:
                    os.killpg(self.popen.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.popen.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self.popen.stdin is not None:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()
        if self._reader is not None:
            self._reader.join(timeout=2.0)
        return self.popen.poll()


@dataclass(frozen=True)
class RunResult:
    """A finished one-shot child: wall time, exit code, output, resource use."""

    wall: float
    returncode: int
    stdout: str
    stderr: str
    maxrss_kb: int  # ru_maxrss: counts the runner's own RSS at fork (see hwm_kb)
    cpu: float
    hwm_kb: int = 0  # the child's own peak RSS (VmHWM of its exec'd image), polled until exit


def run_timed(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    timeout: float = 300.0,
) -> RunResult:
    """Run a child to completion; wall clock from spawn to reap, ``ru_maxrss`` via wait4.

    ``ru_maxrss`` of a forked child starts at the parent's RSS (the kernel carries the
    high-water mark over fork and exec), so a runner that grew hides a smaller child. The
    child's own peak is ``VmHWM`` of ``/proc/<pid>/status`` (reset by exec), polled every
    ~2 ms while it runs: the last reading before it exits."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}

    def pump(fd: int) -> None:
        with os.fdopen(fd, "rb") as f:
            for block in iter(lambda: f.read(65536), b""):
                chunks[fd].append(block)

    t0 = time.perf_counter()
    popen = subprocess.Popen(
        list(argv),
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=out_w,
        stderr=err_w,
        start_new_session=True,
    )
    os.close(out_w)
    os.close(err_w)
    pumps = [threading.Thread(target=pump, args=(fd,), daemon=True) for fd in (out_r, err_r)]
    for t in pumps:
        t.start()
    deadline = time.monotonic() + timeout
    status = None
    rusage = None
    hwm = 0
    try:
        while True:
            pid, status, rusage = os.wait4(popen.pid, os.WNOHANG)
            if pid:
                break
            with contextlib.suppress(OSError, ValueError):
                hwm = max(hwm, status_kb(popen.pid, "VmHWM"))
            if time.monotonic() > deadline:
                raise TimeoutError(f"{' '.join(argv[:4])} ... still running after {timeout:.0f}s")
            time.sleep(0.002)
        wall = time.perf_counter() - t0
    finally:
        if status is None or rusage is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(timeout=5)
        popen.returncode = popen.returncode if popen.returncode is not None else 0
        for t in pumps:
            t.join(timeout=5)
    code = os.waitstatus_to_exitcode(status)
    return RunResult(
        wall=wall,
        returncode=code,
        stdout=b"".join(chunks[out_r]).decode(errors="replace"),
        stderr=b"".join(chunks[err_r]).decode(errors="replace"),
        maxrss_kb=rusage.ru_maxrss,
        cpu=rusage.ru_utime + rusage.ru_stime,
        hwm_kb=hwm,
    )


def push(
    tree: Path, env: Mapping[str, str], *, what: str = "push", timeout: float = 600.0
) -> RunResult:
    """``mlarena-sync push -C TREE --no-deploy --json``, timed; a non-zero exit raises."""
    r = run_timed(cli("push", "-C", str(tree), "--no-deploy", "--json"), env=env, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{what} exited {r.returncode}: {r.stderr.strip()[-600:]}")
    return r


# ---- /proc readings -------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kb(pid: int, key: str) -> int:
    """A ``kB`` field of /proc/<pid>/status (VmRSS, VmHWM, ...)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


@dataclass(frozen=True)
class InotifyWatch:
    ino: int
    sdev: int


def inotify_watches(pid: int) -> list[InotifyWatch]:
    """Every inotify watch a process holds (``inotify wd:`` lines of /proc/<pid>/fdinfo/*)."""
    out: list[InotifyWatch] = []
    fdinfo = Path(f"/proc/{pid}/fdinfo")
    for entry in fdinfo.iterdir():
        try:
            text = entry.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if not line.startswith("inotify wd:"):
                continue
            parts = dict(p.split(":", 1) for p in line.split()[1:] if ":" in p)
            out.append(InotifyWatch(ino=int(parts["ino"], 16), sdev=int(parts["sdev"], 16)))
    return out
