"""A/B against an older commit: ``python -m bench.ab REV [--only start,noop,first,rss,save]``.

The benchmark's figures move with the machine's load (other test suites on the same 2 cores
can double a wall time), so "no regression since the previous figures" is judged here by
running the client at commit ``REV`` (``git archive REV`` into a temp folder, first on the
child's ``PYTHONPATH``) and the working tree's client **interleaved**, old then new, against
one fake arena of this tree speaking v0 (the generation every older client speaks). Each
figure is the median of both sides measured in the same minutes: wall time and CPU
(user + sys, from wait4) of ``--version``, of a no-op push on the 10,000-file tree, of a
first push (scenario 2's trees at 0 and 20 ms), peak RSS pushing 200 MB, and save → upload
under ``watch`` minus the quiet window. The config uses the words every version reads
(``competition:``, ``agent:``). Prints one JSON document; no PASS/MISS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import (
    AGENT_PY,
    ArenaHandle,
    arena_process,
    binary_blob,
    make_big_tree,
    percentile,
    text_blob,
    write_file,
)
from bench.procs import REPO_ROOT, Proc, RunResult, child_env, cli, run_timed
from bench.s2_first_push import make_small
from bench.watching import event_time, is_upload_of, wait_quiet

MB = 1024 * 1024
SIDES = ("old", "new")
PARTS = ("start", "noop", "first", "rss", "save")
CONFIG = """version: 1
server: {url}
competition: 1
agent:
  name: {name}
files:
  root: .
  include: ["**"]
  exclude: [".venv/"]
  gitignore: true
sync:
  mode: safe
  delete: true
  max_delete: 5
watch:
  quiet: 0.3
  max_wait: 5
  rescan: 3600
deploy:
  auto: false
  settle: 10
  min_interval: 60
  reserve: 0
"""


class AB:
    def __init__(self, old_tree: Path, work: Path, arena: ArenaHandle) -> None:
        self.old_tree, self.work, self.arena = old_tree, work, arena

    def env(self, side: str) -> dict[str, str]:
        env = child_env(self.arena.token)
        if side == "old":
            env["PYTHONPATH"] = os.pathsep.join([str(self.old_tree), env["PYTHONPATH"]])
        return env

    def config(self, root: Path, name: str) -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "mlarena.yaml").write_text(CONFIG.format(url=self.arena.url, name=name))

    def push(self, tree: Path, side: str) -> RunResult:
        argv = cli("push", "-C", str(tree), "--no-deploy", "--json")
        r = run_timed(argv, env=self.env(side), timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"{side} push exited {r.returncode}: {r.stderr.strip()[-600:]}")
        return r

    def interleaved(self, reps: int, one: Callable[[str, int], RunResult]) -> dict[str, Any]:
        runs: dict[str, list[RunResult]] = {side: [] for side in SIDES}
        for i in range(reps):
            for side in SIDES:
                runs[side].append(one(side, i))
        return {
            side: {
                "wall_ms": round(statistics.median(r.wall for r in rs) * 1000, 1),
                "cpu_ms": round(statistics.median(r.cpu for r in rs) * 1000, 1),
                "peak_rss_mb": round(max(r.hwm_kb for r in rs) / 1024, 1),
            }
            for side, rs in runs.items()
        }

    def start(self) -> dict[str, Any]:
        return self.interleaved(9, lambda side, _i: run_timed(cli("--version"), env=self.env(side)))

    def noop(self) -> dict[str, Any]:
        for side in SIDES:
            tree = self.work / f"noop-{side}"
            make_big_tree(tree, selected=1000, ignored=9000)
            self.config(tree, f"ab-noop-{side}")
            self.push(tree, side)
        return self.interleaved(9, lambda side, _i: self.push(self.work / f"noop-{side}", side))

    def first(self) -> dict[str, Any]:
        small, big = self.work / "small", self.work / "big"
        make_small(small, 500)
        write_file(big / "agent.py", AGENT_PY.format(version=0).encode())
        binary_blob(big / "weights.bin", 50 * MB)
        out: dict[str, Any] = {}
        for latency_ms in (0, 20):
            for label, tree in (("500 × 2 KB", small), ("1 × 50 MB", big)):

                def one(side: str, i: int, tree: Path = tree, ms: int = latency_ms) -> RunResult:
                    self.arena.reset()
                    self.arena.set_latency(ms / 1000)
                    shutil.rmtree(tree / ".mlarena-sync", ignore_errors=True)
                    self.config(tree, f"ab-first-{side}-{i}")
                    return self.push(tree, side)

                out[f"{label}, {latency_ms} ms"] = self.interleaved(3, one)
        self.arena.set_latency(0)
        return out

    def rss(self) -> dict[str, Any]:
        tree = self.work / "rss"
        write_file(tree / "agent.py", AGENT_PY.format(version=0).encode())
        binary_blob(tree / "weights.bin", 200 * MB)

        def one(side: str, i: int) -> RunResult:
            self.arena.reset()
            shutil.rmtree(tree / ".mlarena-sync", ignore_errors=True)
            self.config(tree, f"ab-rss-{side}-{i}")
            return self.push(tree, side)

        return self.interleaved(2, one)

    def save(self, saves: int = 30, rounds: int = 2) -> dict[str, Any]:
        self.arena.reset()
        lat: dict[str, list[float]] = {side: [] for side in SIDES}
        for rnd in range(rounds):
            for side in SIDES:
                proj = self.work / f"save-{side}"
                if not proj.exists():
                    self.config(proj, f"ab-save-{side}")
                    (proj / "agent.py").write_text(AGENT_PY.format(version=0))
                    (proj / "helper.py").write_bytes(text_blob(0, 200, "save"))
                argv = cli("watch", "-C", str(proj), "--json")
                err = self.work / f"watch-{side}.err"
                watch = Proc.start(argv, env=self.env(side), cwd=proj, stderr_path=err)
                try:
                    if not wait_quiet(watch, 2.0, 60.0) or watch.popen.poll() is not None:
                        raise RuntimeError(f"{side} watch did not settle: {watch.stderr_tail()}")
                    for i in range(saves):
                        watch.drain()
                        (proj / "helper.py").write_bytes(text_blob(rnd * 1000 + i + 1, 200, "s"))
                        t0 = time.time()
                        line = watch.wait_for(lambda ln: is_upload_of(ln.json(), "helper.py"), 10)
                        if line is not None:
                            at, _ = event_time(line, line.json())
                            lat[side].append(at - t0 - 0.3)
                        wait_quiet(watch, 0.1, 5.0)
                finally:
                    watch.stop()
        return {
            side: {f"p{p}_ms": round(percentile(v, p) * 1000, 1) for p in (50, 95)} | {"n": len(v)}
            for side, v in lat.items()
        }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n")[0])
    parser.add_argument("rev", help="the older commit (anything git archive takes)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"some of {','.join(PARTS)}")
    args = parser.parse_args()
    parts = [p for p in args.only.split(",") if p]
    if set(parts) - set(PARTS):
        parser.error(f"--only takes {','.join(PARTS)}")
    work = Path(tempfile.mkdtemp(prefix="mlarena-bench-ab-"))
    try:
        old = work / "old-tree"
        old.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", args.rev],
            check=True,
            capture_output=True,
            timeout=120,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True, timeout=120)
        doc: dict[str, Any] = {"old": args.rev, "new": "working tree", "started": time.time()}
        with arena_process(work, api="v0", max_files=2000, max_upload_mb=300) as arena:
            ab = AB(old, work, arena)
            for part in parts:
                doc[part] = getattr(ab, part)()
                print(f"… {part}: {json.dumps(doc[part])}", flush=True, file=sys.stderr)
        doc["seconds"] = round(time.time() - doc.pop("started"), 1)
        print(json.dumps(doc, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
