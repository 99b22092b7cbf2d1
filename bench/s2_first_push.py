"""Scenario 2: a first push, ``mlarena-sync push --no-deploy`` vs the official SDK's ``submit``
(the SDK of the arena's generation: 0.2.0 on v0, 4.6.0 on v4.6, see ``bench/sdk.py``).

Two trees: 500 text files of 2 KB (quick mode: 100; ``agent.py`` padded to 2 KB among them),
and one 50 MB binary plus ``agent.py``. Each tool runs as the command a user would type (a
fresh interpreter, timed from spawn to exit), against the same fake arena, at 0 ms and 20 ms
of injected per-request latency. ``submit(files=…)`` also creates the agent and sends one
deploy request at the end (4.6.0 also reads the submission once before it); ``push --no-deploy``
creates the agent too but does not deploy. The arena is reset between runs: every run is a
first push (and mlarena-sync's first contact with that server: ``.mlarena-sync/`` is removed,
so ``api: auto`` detects the generation every time).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from bench.common import (
    AGENT_PY,
    ArenaHandle,
    ScenarioResult,
    arena_process,
    binary_blob,
    median,
    ratio,
    write_config,
    write_file,
)
from bench.procs import child_env, push, run_timed
from bench.sdk import SDK_VERSION, sdk_env

MB = 1024 * 1024


def make_small(root: Path, count: int = 500) -> None:
    agent = AGENT_PY.format(version=0).encode()
    write_file(root / "agent.py", agent + b"#" * (2048 - len(agent) - 1) + b"\n")
    for i in range(count - 1):
        body = (f"# helper {i}\nVALUE = {i}\n".encode() + b"x = 1  # pad\n" * 200)[:2047]
        write_file(root / f"pkg{i // 50:02d}" / f"helper_{i:03d}.py", body + b"\n")


def make_binary(root: Path, size: int) -> None:
    write_file(root / "agent.py", AGENT_PY.format(version=0).encode())
    binary_blob(root / "weights.bin", size)


def time_push(arena: ArenaHandle, tree: Path, name: str) -> float:
    shutil.rmtree(tree / ".mlarena-sync", ignore_errors=True)
    write_config(tree, arena.url, agent_name=name)
    return push(tree, child_env(arena.token)).wall


def time_sdk(arena: ArenaHandle, tree: Path, name: str, api: str) -> tuple[float, dict[str, str]]:
    argv = [sys.executable, "-m", "bench.sdk_submit", arena.url, "1", str(tree), name]
    r = run_timed(argv, env=sdk_env(api, arena.token), timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"SDK submit exited {r.returncode}: {r.stderr.strip()[-600:]}")
    lines = r.stdout.strip().splitlines()
    doc = json.loads(lines[-1]) if lines else {}
    if doc.get("sdk") != SDK_VERSION[api]:
        raise RuntimeError(f"the SDK child ran mlarena {doc.get('sdk')}, not {SDK_VERSION[api]}")
    return r.wall, doc


def run(res: ScenarioResult, work: Path, mode: str, api: str) -> None:
    quick = mode != "full"
    reps = 1 if quick else 3
    small = 100 if quick else 500  # quick: a fifth of the tree, to stay around a minute
    big = 50 * MB
    small_label = f"{small} × 2 KB"
    trees = {small_label: work / "small", "1 × 50 MB binary": work / "binary"}
    make_small(trees[small_label], small)
    make_binary(trees["1 × 50 MB binary"], big)
    sdk_notes: set[str] = set()
    sdk = f"SDK {SDK_VERSION[api]} submit(files=…)"
    with arena_process(work, api=api, max_upload_mb=100, max_files=1000, max_active=100) as arena:
        n = 0
        for latency_ms in (0, 20):
            for label, tree in trees.items():
                ours: list[float] = []
                theirs: list[float] = []
                for _ in range(reps):
                    n += 1
                    arena.reset()
                    arena.set_latency(latency_ms / 1000.0)
                    ours.append(time_push(arena, tree, f"bench-push-{n}"))
                    arena.reset()
                    arena.set_latency(latency_ms / 1000.0)
                    wall, doc = time_sdk(arena, tree, f"bench-sdk-{n}", api)
                    theirs.append(wall)
                    sdk_notes.add(str(doc.get("deploy")))
                a, b = median(ours), median(theirs)
                speedup = ratio(b, a)
                res.row(
                    f"{label}, {latency_ms} ms: push --no-deploy",
                    round(a, 2),
                    "s",
                    baseline=round(b, 2),
                    baseline_label=sdk,
                    ratio=speedup,
                    ratio_note="× faster",
                )
                res.details[f"{label} @ {latency_ms} ms"] = {"push_s": ours, "sdk_s": theirs}
                need = 5.0 if latency_ms == 20 else 2.0
                res.target(
                    f"{label} at {latency_ms} ms: ≥ {need:.0f}× faster than the SDK",
                    None if speedup is None else speedup >= need,
                    "" if speedup is None else f"{speedup:.2f}×",
                )
    res.details["sdk_deploy"] = sorted(sdk_notes)
    res.details["reps"] = reps
    res.details["sdk"] = SDK_VERSION[api]
