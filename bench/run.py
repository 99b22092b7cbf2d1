"""The benchmark runner: ``python -m bench [--quick] [--only 1,3] [--json PATH] [--keep]``.

Runs each scenario against a fake arena on 127.0.0.1 in its own process, prints a table (each
figure beside its baseline measured in the same run, then PASS/MISS per target) and writes the
whole result as JSON (default ``bench/results/<time>-<mode>.json``). A scenario whose pieces are
missing is reported as ``not run: <reason>``; a scenario that fails is reported as ``error``.
A missed target never fails the run: the exit code is 0 unless the runner itself broke.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bench import (
    s1_watch_latency,
    s2_first_push,
    s3_noop_push,
    s4_checkout_storm,
    s5_idle_watch,
    s6_peak_rss,
)
from bench.common import NotRun, ScenarioResult, arena_available, machine_info
from bench.procs import REPO_ROOT, child_env, cli


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    needs: tuple[str, ...]  # "arena", "push", "watch", "sdk"
    fn: Callable[[ScenarioResult, Path, str], None]  # (result, workdir, mode)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("1", "save → uploaded latency under watch", ("arena", "watch"), s1_watch_latency.run),
    Scenario("2", "first push vs the official SDK", ("arena", "push", "sdk"), s2_first_push.run),
    Scenario("3", "no-op push, tree with a big ignored .venv", ("arena", "push"), s3_noop_push.run),
    Scenario("4", "checkout storm under watch", ("arena", "push", "watch"), s4_checkout_storm.run),
    Scenario(
        "5",
        "idle watch, tree with a big ignored .venv",
        ("arena", "push", "watch"),
        s5_idle_watch.run,
    ),
    Scenario("6", "peak RSS pushing a large binary", ("arena", "push"), s6_peak_rss.run),
)


@cache
def missing(piece: str) -> str | None:
    """Why a piece cannot be used yet, or None."""
    if piece == "arena":
        return arena_available()
    if piece == "sdk":
        try:
            import mlarena  # noqa: F401
        except ImportError:
            return "the official SDK (mlarena-sdk==0.2.0) is not installed"
        return None
    try:
        found = importlib.util.find_spec(f"mlarena_sync.commands.{piece}") is not None
    except ImportError:
        found = False
    if not found:
        return f"`mlarena-sync {piece}` is not written yet (no mlarena_sync.commands.{piece})"
    try:
        r = subprocess.run(
            cli(piece, "--help"),
            env=child_env(),
            capture_output=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"`mlarena-sync {piece} --help` did not answer within 60 s"
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).decode(errors="replace").strip().splitlines()[-1:]
        return f"`mlarena-sync {piece}` is not available yet ({' '.join(tail)[:160]})"
    return None


def run_one(sc: Scenario, mode: str, keep: bool) -> ScenarioResult:
    res = ScenarioResult(key=sc.key, title=sc.title)
    reasons = [r for r in (missing(p) for p in sc.needs) if r]
    if reasons:
        res.status, res.reason = "not run", "; ".join(reasons)
        return res
    work = Path(tempfile.mkdtemp(prefix=f"mlarena-bench-{sc.key}-"))
    t0 = time.monotonic()
    try:
        sc.fn(res, work, mode)
    except NotRun as exc:
        res.status, res.reason = "not run", str(exc)
    except Exception as exc:  # report it, go on with the next scenario
        res.status, res.reason = "error", f"{type(exc).__name__}: {exc}"
        res.details["traceback"] = traceback.format_exc()
    finally:
        res.seconds = round(time.monotonic() - t0, 1)
        if keep:
            res.details["workdir"] = str(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return res


def fmt(v: object, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        text = f"{v:,.3f}".rstrip("0").rstrip(".") if abs(v) < 10 else f"{v:,.1f}"
    elif isinstance(v, int):
        text = f"{v:,}"
    else:
        text = str(v)
    return f"{text} {unit}".strip()


def render(results: Sequence[ScenarioResult], mode: str) -> str:
    out = [f"mlarena-sync benchmarks ({mode} mode)", ""]
    for res in results:
        head = f"[{res.key}] {res.title}"
        if res.status != "ok":
            out += [f"{head}: {res.status}: {res.reason}", ""]
            continue
        out.append(f"{head}  ({res.seconds:.0f} s)")
        labels = [r.baseline_label for r in res.rows if r.baseline_label]
        w = max([len(r.metric) for r in res.rows] + [6])
        out.append(f"  {'metric':<{w}}  {'value':>14}  {'baseline':>14}  ratio")
        for r in res.rows:
            ratio = "" if r.ratio is None else f"{r.ratio:.2f}{r.ratio_note or '×'}"
            line = f"  {r.metric:<{w}}  {fmt(r.value, r.unit):>14}  "
            line += f"{fmt(r.baseline, r.unit) if r.baseline is not None else '':>14}  {ratio}"
            if r.baseline_label and labels and r.baseline_label != labels[0]:
                line += f"  (baseline: {r.baseline_label})"
            out.append(line.rstrip())
        if labels:
            out.append(f"  baseline: {labels[0]}")
        for t in res.targets:
            out.append(f"  {t.verdict:4}  {t.text}" + (f"  ({t.detail})" if t.detail else ""))
        out.append("")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: about a minute")
    parser.add_argument("--only", default="", help="comma-separated scenario numbers, e.g. 1,3")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON result")
    parser.add_argument("--keep", action="store_true", help="keep the scenarios' temp folders")
    # Tinier than --quick, for the smoke test only: not a measurement.
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    wanted = {k.strip() for k in args.only.split(",") if k.strip()}
    unknown = wanted - {s.key for s in SCENARIOS}
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    started = time.monotonic()
    results = []
    for sc in SCENARIOS:
        if wanted and sc.key not in wanted:
            continue
        print(f"… [{sc.key}] {sc.title}", file=sys.stderr, flush=True)
        results.append(run_one(sc, mode, args.keep))
    text = render(results, mode)
    print(text)

    path = (
        args.json
        or REPO_ROOT / "bench" / "results" / f"{time.strftime('%Y%m%d-%H%M%S')}-{mode}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "mode": mode,
        "machine": machine_info(),
        "seconds": round(time.monotonic() - started, 1),
        "scenarios": [r.to_json() for r in results],
    }
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    print(f"JSON: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
