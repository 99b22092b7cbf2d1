"""Scenario 1: save → uploaded latency under ``watch``, beside the floor measured in this run.

Figure: for each save (a write of ``helper.py``), the time from the write returning to watch's
``uploaded`` event for that file, minus the configured quiet window.
Floor: raw watchdog event latency (an Observer in this process, same kind of write) plus one
upload of the same bytes over a warm keep-alive ``requests.Session`` to the same fake arena.
Also: the requests each save costs, in the order the arena answered them, split at the upload
PUT (what the save → upload figure waits for) and what follows it (the validation verdict).
"""

from __future__ import annotations

import queue
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import (
    AGENT_PY,
    ScenarioResult,
    arena_process,
    median,
    percentile,
    ratio,
    request_kind,
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


def upload_rtt(url: str, token: str, samples: int, api: str) -> list[float]:
    """Seconds for one multipart upload PUT over a warm keep-alive session, ``samples`` times."""
    import requests

    out: list[float] = []
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {token}"
        if api == "v0":
            base = f"{url}/api/direct_attache_agents/competition/{CID}"
            r = s.post(base, json={"agent_name": "bench-floor"}, timeout=30)
            r.raise_for_status()
            put = f"{base}/{r.json()['attache_agent_id']}/file"
        else:
            base = f"{url}/api/submissions/challenge/{CID}"
            r = s.post(base, json={"submission_name": "bench-floor"}, timeout=30)
            r.raise_for_status()
            put = f"{base}/{r.json()['submission_id']}/file"
        for i in range(samples + 2):
            data = text_blob(i, 200, "rtt")
            t0 = time.perf_counter()
            r = s.put(put, files={"file": ("helper.py", data)}, timeout=30)
            dt = time.perf_counter() - t0
            r.raise_for_status()
            if i >= 2:  # the first two warm the connection
                out.append(dt)
    return out


def split_at_upload(answered: list[tuple[str, str]]) -> tuple[list[str], list[str]] | None:
    """A save's requests as kinds: up to and including the upload PUT, and after it."""
    kinds = [request_kind(m, p) for m, p in answered]
    if "upload PUT" not in kinds:
        return None
    i = kinds.index("upload PUT") + 1
    return kinds[:i], kinds[i:]


def run(res: ScenarioResult, work: Path, mode: str, api: str) -> None:
    quick = mode != "full"
    saves = 20 if quick else 200
    with arena_process(work, api=api) as arena:
        (work / "wd").mkdir()
        floor_wd = watchdog_latency(work / "wd", saves)
        floor_rtt = upload_rtt(arena.url, arena.token, saves, api)

        project = work / "project"
        project.mkdir()
        (project / "agent.py").write_text(AGENT_PY.format(version=0))
        helper = project / "helper.py"
        helper.write_bytes(text_blob(0, 200, "save"))
        # No periodic rescan inside the window: every request counted is a save's.
        write_config(project, arena.url, agent_name="bench-latency", quiet=QUIET, rescan=3600.0)

        watch = start_watch(project, arena.token, work)
        try:
            # The initial sync is over when watch has been silent for a while.
            if not wait_quiet(watch, 2.0, 60.0) or watch.popen.poll() is not None:
                raise RuntimeError(f"watch did not settle: {watch.stderr_tail()}")
            lat: list[float] = []
            sources: set[str] = set()
            missed = 0
            arena.requests()  # forget the initial sync's
            per_save: list[tuple[list[str], list[str]]] = []
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
                split = split_at_upload(arena.requests())
                if split is not None:
                    per_save.append(split)
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
    count_requests(res, per_save)
    p50 = percentile(lat, 50) * ms
    res.target(
        f"p50 ≤ quiet + 5 ms (quiet {QUIET * ms:.0f} ms)",
        None if not lat else p50 <= 5.0,
        f"p50 − quiet = {p50:.1f} ms",
    )


def count_requests(res: ScenarioResult, per_save: list[tuple[list[str], list[str]]]) -> None:
    """Rows: the requests a save costs up to its upload (median: the common case), by kind."""
    if not per_save:
        res.row("requests per save → upload", None)
        return
    before = [len(pre) for pre, _ in per_save]
    after = [len(post) for _, post in per_save]
    common = round(median(before))
    res.row("requests per save → upload (median; PUT included)", common)
    res.row("  max over the saves", max(before))
    kinds: Counter[str] = Counter()
    usual = [pre for pre in (p for p, _ in per_save) if len(pre) == common]
    for pre in usual:
        kinds.update(pre)
    for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
        res.row(f"  {kind}", round(n / len(usual), 2))
    res.row("requests after the upload (median; validation verdict)", round(median(after)))
    res.details["requests_per_save"] = {
        "to_upload_median": common,
        "to_upload": before,
        "after_upload": after,
        "sequences": [[*pre, "|", *post] for pre, post in per_save[:5]],
    }
