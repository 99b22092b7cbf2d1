"""Scenario 6: peak memory of ``push --no-deploy`` sending one large binary.

Figure: the child's own peak RSS (``VmHWM``, polled until it exits: ``run_timed``) while it
pushes a 200 MB binary (quick: 50 MB) plus ``agent.py``. Baseline: the same of the bare CLI
start-up (``--version``). ``ru_maxrss`` from wait4 is kept in the details: it also counts the
runner's RSS at fork, so it reads high once the runner has grown.
The bench arena lets competition 1 take files up to 300 MB (the seeded limit is 100 MB).
"""

from __future__ import annotations

from pathlib import Path

from bench.common import (
    AGENT_PY,
    ScenarioResult,
    arena_process,
    binary_blob,
    ratio,
    write_config,
    write_file,
)
from bench.procs import child_env, cli, push, run_timed

MB = 1024 * 1024


def run(res: ScenarioResult, work: Path, mode: str, api: str) -> None:
    size_mb = {"smoke": 5, "quick": 50}.get(mode, 200)
    tree = work / "tree"
    write_file(tree / "agent.py", AGENT_PY.format(version=0).encode())
    binary_blob(tree / "weights.bin", size_mb * MB)
    with arena_process(work, api=api, max_upload_mb=300) as arena:
        write_config(tree, arena.url, agent_name="bench-rss")
        env = child_env(arena.token)
        r = push(tree, env)
        bare = run_timed(cli("--version"), env=env)
    peak, base = r.hwm_kb / 1024, bare.hwm_kb / 1024
    res.details["ru_maxrss_mb"] = {"push": r.maxrss_kb / 1024, "start-up": bare.maxrss_kb / 1024}
    res.row(
        f"peak RSS pushing {size_mb} MB",
        round(peak, 1),
        "MB",
        baseline=round(base, 1),
        baseline_label="bare start-up (--version)",
        ratio=ratio(peak, base),
        ratio_note="× start-up",
    )
    res.row("push wall time", round(r.wall, 2), "s")
    res.row("throughput", round(size_mb / r.wall, 1), "MB/s")
    res.target("peak RSS ≤ 80 MB", peak <= 80, f"{peak:.1f} MB")
