"""Scenario 3: a no-op push on a 10,000-file tree (1,000 selected, 9,000 inside ``.venv``;
quick mode: 2,000 files, 200 selected).

Figure: wall time of ``push --no-deploy`` when everything is already in sync (median of several
runs, a fresh interpreter each), beside the CLI's bare start-up (``--version``) timed the same way.
Also: the requests that no-op push sent, from the arena's per-route counters.
"""

from __future__ import annotations

from pathlib import Path

from bench.common import (
    ScenarioResult,
    arena_process,
    make_big_tree,
    median,
    ratio,
    request_kind,
    write_config,
)
from bench.procs import child_env, cli, push, run_timed

ALLOWED = ("file listing", "status")  # what a no-op push may send (request_kind), per generation


def is_allowed(route: str) -> bool:
    method, _, path = route.partition(" ")
    return request_kind(method, path) in ALLOWED


def run(res: ScenarioResult, work: Path, mode: str, api: str) -> None:
    quick = mode != "full"
    reps = 3 if quick else 7
    tree = work / "tree"
    selected = 200 if quick else 1000  # quick: a 2,000-file tree, same 10 % selected
    make_big_tree(tree, selected=selected, ignored=9 * selected)
    with arena_process(work, api=api, max_files=2000) as arena:
        write_config(tree, arena.url, agent_name="bench-noop")
        env = child_env(arena.token)
        first = push(tree, env, what="first push")
        res.details["first_push_s"] = round(first.wall, 2)

        noop: list[float] = []
        noop_cpu: list[float] = []
        routes: dict[str, int] = {}
        for i in range(reps):
            arena.reset_counters()
            r = push(tree, env, what="no-op push")
            noop.append(r.wall)
            noop_cpu.append(r.cpu)
            if i == 0:
                routes = arena.counters()
        bare: list[float] = []
        bare_cpu: list[float] = []
        for _ in range(reps):
            r = run_timed(cli("--version"), env=env)
            if r.returncode != 0:
                raise RuntimeError(f"--version exited {r.returncode}: {r.stderr[-600:]}")
            bare.append(r.wall)
            bare_cpu.append(r.cpu)

    a, b = median(noop), median(bare)
    x = ratio(a, b)
    res.row(
        f"no-op push, {selected * 10:,}-file tree",
        round(a * 1000),
        "ms",
        baseline=round(b * 1000),
        baseline_label="bare start-up (--version)",
        ratio=x,
        ratio_note="× start-up",
    )
    # CPU (user + sys, from wait4) moves less than wall time when others load the machine.
    res.row(
        "  its CPU (user + sys)",
        round(median(noop_cpu) * 1000),
        "ms",
        baseline=round(median(bare_cpu) * 1000),
        baseline_label="bare start-up (--version)",
        ratio=ratio(median(noop_cpu), median(bare_cpu)),
        ratio_note="× start-up",
    )
    sent = sum(routes.values())
    res.row("requests sent by the no-op push", sent)
    kinds: dict[str, int] = {}
    for route, count in routes.items():
        method, _, path = route.partition(" ")
        kind = request_kind(method, path)
        kinds[kind] = kinds.get(kind, 0) + count
    for kind, count in sorted(kinds.items()):
        res.row(f"  {kind}", count)
    res.details.update(
        {
            "noop_s": noop,
            "bare_s": bare,
            "noop_cpu_s": noop_cpu,
            "bare_cpu_s": bare_cpu,
            "routes": routes,
            "reps": reps,
        }
    )
    res.target(
        "no-op push ≤ 1.5× bare start-up",
        None if x is None else x <= 1.5,
        "" if x is None else f"{x:.2f}×",
    )
    extra = sorted(r for r in routes if not is_allowed(r))
    res.target(
        "no-op push sends only listing + status reads",
        bool(routes) and not extra,
        ("also: " + ", ".join(extra)) if extra else f"{sent} request(s)",
    )
