"""Scenario 5: ``watch`` idle on the 10,000-file tree (1,000 selected, 9,000 inside ``.venv``;
quick mode: 2,000 files, 200 selected, a 5 s window).

After the initial sync, over a fixed window: CPU seconds (utime + stime from /proc/<pid>/stat),
RSS (VmRSS), inotify watches held (``inotify wd:`` lines of /proc/<pid>/fdinfo/*), and which
folders they are on (inode → folder of the tree), so a watch inside ``.venv`` is reported.
Baseline, measured over the same window: a plain recursive watchdog Observer on the same tree.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from bench.common import ScenarioResult, arena_process, make_big_tree, ratio, write_config
from bench.procs import (
    Proc,
    child_env,
    cpu_seconds,
    inotify_watches,
    push,
    status_kb,
)
from bench.watching import start_watch, wait_quiet


def folders_by_inode(root: Path) -> dict[tuple[int, int], str]:
    out: dict[tuple[int, int], str] = {}
    for d, _, _ in os.walk(root):
        st = os.stat(d)
        out[(st.st_dev, st.st_ino)] = os.path.relpath(d, root)
    return out


def watched_folders(pid: int, index: dict[tuple[int, int], str]) -> tuple[list[str], int]:
    """Folders of the tree a process watches, and how many of its watches are elsewhere."""
    inside: list[str] = []
    other = 0
    for w in inotify_watches(pid):
        # fdinfo's sdev is the kernel's dev_t (major << 20 | minor); st_dev is glibc's encoding.
        major, minor = w.sdev >> 20, w.sdev & 0xFFFFF
        name = index.get((os.makedev(major, minor), w.ino))
        if name is None:
            other += 1
        else:
            inside.append(name)
    return inside, other


def run(res: ScenarioResult, work: Path, mode: str, api: str) -> None:
    quick = mode != "full"
    window = 5.0 if quick else 30.0
    tree = work / "tree"
    selected = 200 if quick else 1000  # quick: a 2,000-file tree, same 10 % selected
    make_big_tree(tree, selected=selected, ignored=9 * selected)
    index = folders_by_inode(tree)
    venv_dirs = sum(1 for name in index.values() if name.split(os.sep)[0] == ".venv")
    with arena_process(work, api=api, max_files=2000) as arena:
        write_config(tree, arena.url, agent_name="bench-idle")
        env = child_env(arena.token)
        push(tree, env, what="first push")
        watch = start_watch(tree, arena.token, work)
        raw = Proc.start(
            [sys.executable, "-m", "bench.raw_watch", str(tree)],
            env=env,
            stderr_path=work / "raw.err",
            stdin=True,
        )
        try:
            if raw.wait_for(lambda ln: ln.text == "ready", 60.0) is None:
                raise RuntimeError(f"raw observer did not start: {raw.stderr_tail()}")
            if not wait_quiet(watch, 2.0, 60.0) or watch.popen.poll() is not None:
                raise RuntimeError(f"watch did not settle: {watch.stderr_tail()}")
            arena.reset_counters()
            c0, r0 = cpu_seconds(watch.pid), cpu_seconds(raw.pid)
            t0 = time.monotonic()
            time.sleep(window)
            elapsed = time.monotonic() - t0
            c1, r1 = cpu_seconds(watch.pid), cpu_seconds(raw.pid)
            rss, raw_rss = status_kb(watch.pid, "VmRSS"), status_kb(raw.pid, "VmRSS")
            ours, ours_other = watched_folders(watch.pid, index)
            theirs, _ = watched_folders(raw.pid, index)
            idle_requests = arena.counters()
        finally:
            watch.stop()
            raw.stop()

    cpu_pct = (c1 - c0) / elapsed * 100
    raw_pct = (r1 - r0) / elapsed * 100
    in_venv = sorted(n for n in ours if n.split(os.sep)[0] == ".venv")
    res.row(
        f"CPU over {window:.0f} s idle",
        round(c1 - c0, 3),
        "s",
        baseline=round(r1 - r0, 3),
        baseline_label="plain recursive watchdog Observer",
    )
    res.row("CPU, % of one core", round(cpu_pct, 3), "%", baseline=round(raw_pct, 3))
    res.row(
        "RSS",
        round(rss / 1024, 1),
        "MB",
        baseline=round(raw_rss / 1024, 1),
        ratio=ratio(rss, raw_rss),
        ratio_note="× baseline",
    )
    res.row("inotify watches (on the tree)", len(ours), baseline=len(theirs))
    res.row(
        "inotify watches inside .venv",
        len(in_venv),
        baseline=venv_dirs,
        baseline_label="folders inside .venv",
    )
    res.row("requests sent while idle (periodic rescan)", sum(idle_requests.values()))
    res.details.update(
        {
            "idle_requests": idle_requests,
            "window_s": elapsed,
            "watches_elsewhere": ours_other,
            "venv_watched": in_venv[:20],
            "tree_folders": len(index),
        }
    )
    res.target("idle CPU < 0.1 % of a core", cpu_pct < 0.1, f"{cpu_pct:.3f} %")
    res.target("RSS < 50 MB", rss < 50 * 1024, f"{rss / 1024:.1f} MB")
    res.target(
        "no inotify watch inside ignored folders",
        not in_venv,
        f"{len(in_venv)} of {venv_dirs} .venv folders watched",
    )
