"""The benchmark runner:
``python -m bench [--quick] [--only 1,3] [--api v0|v4.6|both] [--json PATH] [--keep]``.

Runs each scenario once per API generation (default both: v0, then v4.6) against a fake arena
speaking it, on 127.0.0.1 in its own process; the same mlarena-sync commands (``api: auto``)
and, as scenario 2's baseline, the official SDK of that generation (0.2.0 on v0, 4.6.0 on
v4.6). Prints a table (each figure beside its baseline measured in the same run, then PASS/MISS
per target), then the two generations side by side, and writes the whole result as JSON
(default ``bench/results/<time>-<mode>.json``). A scenario whose pieces are
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
from typing import Any

from bench import (
    s1_watch_latency,
    s2_first_push,
    s3_noop_push,
    s4_checkout_storm,
    s5_idle_watch,
    s6_peak_rss,
)
from bench.common import APIS, NotRun, ScenarioResult, arena_available, machine_info
from bench.procs import REPO_ROOT, child_env, cli
from bench.sdk import sdk_missing


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    needs: tuple[str, ...]  # "arena", "push", "watch", "sdk"
    fn: Callable[[ScenarioResult, Path, str, str], None]  # (result, workdir, mode, api)


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
def missing(piece: str, api: str) -> str | None:
    """Why a piece cannot be used yet on generation ``api``, or None."""
    if piece == "arena":
        return arena_available()
    if piece == "sdk":
        return sdk_missing(api)
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


def run_one(sc: Scenario, mode: str, keep: bool, api: str) -> ScenarioResult:
    res = ScenarioResult(key=sc.key, title=sc.title, api=api)
    reasons = [r for r in (missing(p, api) for p in sc.needs) if r]
    if reasons:
        res.status, res.reason = "not run", "; ".join(reasons)
        return res
    work = Path(tempfile.mkdtemp(prefix=f"mlarena-bench-{sc.key}-{api}-"))
    t0 = time.monotonic()
    try:
        sc.fn(res, work, mode, api)
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
        head = f"[{res.key} · {res.api}] {res.title}"
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


def side_by_side(results: Sequence[ScenarioResult]) -> dict[str, Any]:
    """Every figure of a scenario that ran on both generations, v0 beside v4.6, and the
    issue's criterion on requests: a v4.6 save → upload costs at most one request more."""
    by = {(r.key, r.api): r for r in results if r.status == "ok"}
    rows: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []
    for key in dict.fromkeys(r.key for r in results):
        old, new = by.get((key, "v0")), by.get((key, "v4.6"))
        if old is None or new is None:
            continue
        mine, theirs = {r.metric: r for r in old.rows}, {r.metric: r for r in new.rows}
        order = list(mine)
        for i, metric in enumerate(theirs):  # a v4.6-only figure goes after its v4.6 neighbour
            if metric not in mine:
                before = list(theirs)[i - 1] if i else None
                order.insert(order.index(before) + 1 if before in order else len(order), metric)
        for metric in order:
            a, b = mine.get(metric), theirs.get(metric)
            some = a or b
            assert some is not None
            rows.append(
                {
                    "key": key,
                    "metric": metric,
                    "unit": some.unit,
                    "v0": None if a is None else a.value,
                    "v4.6": None if b is None else b.value,
                    "v0_ratio": None if a is None else a.ratio,
                    "v4.6_ratio": None if b is None else b.ratio,
                    "ratio_note": some.ratio_note,
                }
            )
        if key == "1":
            a = old.details.get("requests_per_save", {}).get("to_upload_median")
            b = new.details.get("requests_per_save", {}).get("to_upload_median")
            if isinstance(a, int) and isinstance(b, int):
                targets.append(
                    {
                        "text": "v4.6 save → upload costs ≤ 1 request more than v0",
                        "verdict": "PASS" if b <= a + 1 else "MISS",
                        "detail": f"v0 {a}, v4.6 {b} request(s) up to the PUT",
                    }
                )
    return {"rows": rows, "targets": targets}


def render_side_by_side(pairs: dict[str, Any]) -> str:
    rows = pairs["rows"]
    w = max([len(f"[{r['key']}] {r['metric']}") for r in rows] + [6])
    out = ["Both generations, same run", f"  {'metric':<{w}}  {'v0':>14}  {'v4.6':>14}  ratios"]
    for r in rows:
        line = f"  {'[' + r['key'] + '] ' + r['metric']:<{w}}  {fmt(r['v0'], r['unit']):>14}  "
        line += f"{fmt(r['v4.6'], r['unit']):>14}"
        if r["v0_ratio"] is not None or r["v4.6_ratio"] is not None:
            note = r["ratio_note"] or "×"
            a = "—" if r["v0_ratio"] is None else f"{r['v0_ratio']:.2f}{note}"
            b = "—" if r["v4.6_ratio"] is None else f"{r['v4.6_ratio']:.2f}{note}"
            line += f"  {a} / {b}"
        out.append(line.rstrip())
    for t in pairs["targets"]:
        out.append(f"  {t['verdict']:4}  {t['text']}  ({t['detail']})")
    out.append("")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: about a minute")
    parser.add_argument("--only", default="", help="comma-separated scenario numbers, e.g. 1,3")
    parser.add_argument(
        "--api",
        choices=(*APIS, "both"),
        default="both",
        help="the API generation the fake arena speaks (default: both, v0 then v4.6)",
    )
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
    apis = APIS if args.api == "both" else (args.api,)
    started = time.monotonic()
    results = []
    for sc in SCENARIOS:
        if wanted and sc.key not in wanted:
            continue
        for api in apis:
            print(f"… [{sc.key} · {api}] {sc.title}", file=sys.stderr, flush=True)
            results.append(run_one(sc, mode, args.keep, api))
    text = render(results, mode)
    print(text)
    pairs = side_by_side(results)
    if pairs["rows"]:
        print(render_side_by_side(pairs))

    path = (
        args.json
        or REPO_ROOT / "bench" / "results" / f"{time.strftime('%Y%m%d-%H%M%S')}-{mode}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "mode": mode,
        "machine": machine_info(),
        "seconds": round(time.monotonic() - started, 1),
        "apis": list(apis),
        "scenarios": [r.to_json() for r in results],
        "side_by_side": pairs,
    }
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    print(f"JSON: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
