"""Scenario 4: a checkout storm under ``watch`` — 1,000 files change at once (quick: 200).

The tree (``agent.py`` + 999 helpers) is first pushed, then ``watch`` starts (auto deploy on,
``settle`` 1 s, ``min_interval`` 0, periodic rescan off) and every file is rewritten as fast as
Python can. Measured: the reconciles watch ran (its own count from ``watch_stopped``, minus the
start-up one; the arena's listing reads as a server-side check), the uploads and deploys the
arena received, the time until the last upload
(agent in sync) and until the deploy request. Baseline: after watch stopped, a second storm of
the same size synced by one ``push --no-deploy`` (spawn to exit).
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.common import (
    AGENT_PY,
    ScenarioResult,
    arena_process,
    make_small_files,
    ratio,
    write_config,
    write_file,
)
from bench.procs import child_env, push
from bench.watching import is_reconcile, start_watch, stopped_totals, wait_quiet

FILES = 1000
SETTLE = 1.0


def count(routes: dict[str, int], method: str, suffix: str) -> int:
    return sum(
        n
        for route, n in routes.items()
        if route.startswith(method + " ") and route.rstrip("/").endswith(suffix)
    )


def storm(tree: Path, salt: str, files: int) -> None:
    write_file(tree / "agent.py", AGENT_PY.format(version=salt).encode())
    make_small_files(tree, files - 1, 512, salt=salt)


def run(res: ScenarioResult, work: Path, mode: str, api: str) -> None:
    files = FILES if mode == "full" else 200  # quick: 200 files, to stay around a minute
    tree = work / "tree"
    storm(tree, "v0", files)
    with arena_process(work, api=api, max_files=2000) as arena:
        write_config(
            tree,
            arena.url,
            agent_name="bench-storm",
            deploy_auto=True,
            settle=SETTLE,
            min_interval=0.0,
            rescan=3600.0,  # no periodic rescan inside the window: only the storm's reconciles
        )
        env = child_env(arena.token)
        push(tree, env, what="first push")

        watch = start_watch(tree, arena.token, work)
        try:
            if not wait_quiet(watch, 2.0, 60.0) or watch.popen.poll() is not None:
                raise RuntimeError(f"watch did not settle: {watch.stderr_tail()}")
            watch.drain()
            arena.reset_counters()
            t0 = time.monotonic()
            storm(tree, "v1", files)
            written = time.monotonic() - t0
            t_sync = t_deploy = None
            deadline = t0 + 180
            routes: dict[str, int] = {}
            while time.monotonic() < deadline:
                routes = arena.counters()
                now = time.monotonic()
                if t_sync is None and count(routes, "PUT", "/file") >= files:
                    t_sync = now - t0
                if t_deploy is None and count(routes, "PUT", "/deploy") >= 1:
                    t_deploy = now - t0
                if t_sync is not None and t_deploy is not None:
                    break
                if watch.popen.poll() is not None:
                    raise RuntimeError(f"watch exited: {watch.stderr_tail()}")
                time.sleep(0.05)
            # Let anything still due happen (a second reconcile, a second deploy) before counting.
            wait_quiet(watch, SETTLE + 2.0, 30.0)
            routes = arena.counters()
            watch.drain()
            working = sum(1 for ln in watch.seen if is_reconcile(ln.json()))
        finally:
            watch.stop()
        totals = stopped_totals(watch) or {}
        # watch's own count covers the session: its start-up reconcile is not the storm's.
        reconciles = int(totals["reconciles"]) - 1 if "reconciles" in totals else None

        storm(tree, "v2", files)
        base = push(tree, env, what="baseline push")

    uploads = count(routes, "PUT", "/file")
    deploys = count(routes, "PUT", "/deploy")
    listings = count(routes, "GET", "/file")
    res.row("storm written in", round(written, 2), "s")
    res.row(
        "time until agent in sync (last upload)",
        None if t_sync is None else round(t_sync, 2),
        "s",
        baseline=round(base.wall, 2),
        baseline_label="push --no-deploy of the same change",
        ratio=ratio(t_sync, base.wall),
        ratio_note="× push",
    )
    res.row("time until deploy requested", None if t_deploy is None else round(t_deploy, 2), "s")
    res.row("reconciles (watch's count, start-up one excluded)", reconciles)
    res.row("  of which synced or held something (events)", working)
    res.row("file listings (arena; ≈ reconciles)", listings)
    res.row("uploads", uploads)
    res.row("deploys", deploys)
    res.details.update({"routes": routes, "settle_s": SETTLE, "files": files})
    judged = reconciles if reconciles is not None else listings
    res.target(
        "≤ 2 reconciles and 1 deploy",
        judged <= 2 and deploys == 1,
        f"{judged} reconcile(s), {deploys} deploy(s)",
    )
