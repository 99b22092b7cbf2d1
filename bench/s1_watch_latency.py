"""Scenario 1: save → uploaded latency under ``watch``, beside the floor measured in this run.

Figure: for each save (a write of ``helper.py``), the time from the write returning to watch's
``uploaded`` event for that file, minus the configured quiet window.
Floor: raw watchdog event latency (an Observer in this process, same kind of write) plus one
upload of the same bytes over a warm keep-alive ``requests.Session`` to the same fake arena.
"""

from __future__ import annotations

import queue
import time
from pathlib import Path
from typing import Any

from bench.common import (
    AGENT_PY,
    ScenarioResult,
    arena_process,
    percentile,
    ratio,
    text_blob,
    write_config,
)
from bench.watching import event_time, is_upload_of, start_watch, wait_quiet

QUIET = 0.3
CID = 1


def watchdog_latency(folder: Path, samples: int) -> list[float]:
    """Seconds from a write returning to watchdog's ``closed`` callback, ``samples`` times."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    events: queue.Queue[float] = queue.Queue()
    target = folder / "probe.py"
    target.write_bytes(b"x = 0\n")

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            # "closed" (IN_CLOSE_WRITE): the save is complete, as it is when our write returns.
            if str(event.src_path).endswith("probe.py") and event.event_type == "closed":
                events.put(time.time())

    observer = Observer()
    observer.schedule(Handler(), str(folder), recursive=False)
    observer.start()
    out: list[float] = []
    try:
        time.sleep(0.2)
        for i in range(samples):
            while not events.empty():
                events.get_nowait()
            target.write_bytes(text_blob(i, 200, "probe"))
            t0 = time.time()
            try:
                t1 = events.get(timeout=5)
            except queue.Empty:
                continue
            out.append(max(t1 - t0, 0.0))
            time.sleep(0.01)
    finally:
        observer.stop()
        observer.join(timeout=5)
    return out


def upload_rtt(url: str, token: str, samples: int) -> list[float]:
    """Seconds for one multipart upload PUT over a warm keep-alive session, ``samples`` times."""
    import requests

    out: list[float] = []
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {token}"
        base = f"{url}/api/direct_attache_agents/competition/{CID}"
        r = s.post(base, json={"agent_name": "bench-floor"}, timeout=30)
        r.raise_for_status()
        aid = r.json()["attache_agent_id"]
        for i in range(samples + 2):
            data = text_blob(i, 200, "rtt")
            t0 = time.perf_counter()
            r = s.put(f"{base}/{aid}/file", files={"file": ("helper.py", data)}, timeout=30)
            dt = time.perf_counter() - t0
            r.raise_for_status()
            if i >= 2:  # the first two warm the connection
                out.append(dt)
    return out


def run(res: ScenarioResult, work: Path, mode: str) -> None:
    quick = mode != "full"
    saves = 20 if quick else 200
    with arena_process(work) as arena:
        (work / "wd").mkdir()
        floor_wd = watchdog_latency(work / "wd", saves)
        floor_rtt = upload_rtt(arena.url, arena.token, saves)

        project = work / "project"
        project.mkdir()
        (project / "agent.py").write_text(AGENT_PY.format(version=0))
        helper = project / "helper.py"
        helper.write_bytes(text_blob(0, 200, "save"))
        write_config(project, arena.url, agent_name="bench-latency", quiet=QUIET)

        watch = start_watch(project, arena.token, work)
        try:
            # The initial sync is over when watch has been silent for a while.
            if not wait_quiet(watch, 2.0, 60.0) or watch.popen.poll() is not None:
                raise RuntimeError(f"watch did not settle: {watch.stderr_tail()}")
            lat: list[float] = []
            sources: set[str] = set()
            missed = 0
            for i in range(1, saves + 1):
                watch.drain()
                helper.write_bytes(text_blob(i, 200, "save"))
                t0 = time.time()
                line = watch.wait_for(lambda ln: is_upload_of(ln.json(), "helper.py"), 10.0)
                if line is None:
                    missed += 1
                    if watch.popen.poll() is not None:
                        raise RuntimeError(f"watch exited: {watch.stderr_tail()}")
                    continue
                at, src = event_time(line, line.json())
                sources.add(src)
                lat.append(at - t0 - QUIET)
                wait_quiet(watch, 0.1, 5.0)  # let the reconcile finish its tail
        finally:
            watch.stop()

    floor = [a + b for a, b in zip(floor_wd, floor_rtt, strict=False)]
    ms = 1000.0
    det: dict[str, Any] = {
        "saves": saves,
        "uploads_seen": len(lat),
        "missed": missed,
        "quiet_s": QUIET,
        "timestamp_source": sorted(sources),
        "watchdog_ms": {p: percentile(floor_wd, p) * ms for p in (50, 95, 99)},
        "upload_rtt_ms": {p: percentile(floor_rtt, p) * ms for p in (50, 95, 99)},
    }
    res.details.update(det)
    for p in (50, 95, 99):
        v = percentile(lat, p) * ms
        f = percentile(floor, p) * ms
        res.row(
            f"p{p} save→uploaded − quiet",
            round(v, 1),
            "ms",
            baseline=round(f, 1),
            baseline_label="floor: watchdog + keep-alive PUT",
            ratio=ratio(v, f),
            ratio_note="× floor",
        )
    res.row("saves uploaded", f"{len(lat)}/{saves}")
    p50 = percentile(lat, 50) * ms
    res.target(
        f"p50 ≤ quiet + 5 ms (quiet {QUIET * ms:.0f} ms)",
        None if not lat else p50 <= 5.0,
        f"p50 − quiet = {p50:.1f} ms",
    )
