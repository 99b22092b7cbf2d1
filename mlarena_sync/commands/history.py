"""``mlarena-sync history``: the deploy ledger, newest first, one line per deploy.

Each line: the ledger number (``#5``: this folder's own count) and the server's deployment id
(``deployment 6``: what ``status`` shows), age, trigger, git commit (short, ``+dirty``), files
changed since the previous deploy, outcome (an open record older than the newest: "outcome
unknown", never "in flight"), score, and a bar of the score so the trend is seen; ``<- live``
marks the newest deploy that succeeded. Open records are completed first from the server
(:func:`mlarena_sync.engine.history.read_history`); server-side attempts the ledger does not
know (the browser, another machine) are listed too, marked.
``--json``: one ``deploy_record`` event per deploy.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from mlarena_sync.api.models import LatestDeploy
from mlarena_sync.commands.common import open_workspace
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.engine.history import read_history
from mlarena_sync.humanize import plural, relative
from mlarena_sync.store.ledger import DeployRecord
from mlarena_sync.store.objects import ObjectStore

__all__ = ["add_arguments", "run"]

#: The widest score bar, and the terminal width the table keeps to (the bar gives way first).
BAR_WIDTH = 10
TABLE_WIDTH = 80


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This command's own flags (the common ones are the CLI's)."""
    parser.add_argument(
        "--limit", type=int, default=20, metavar="N", help="the newest N deploys (default: 20)"
    )
    parser.add_argument(
        "--offline", action="store_true", help="read the ledger only (no request to the server)"
    )


def _changed(rec: DeployRecord, prev: DeployRecord | None) -> int:
    before = {n: e.sha256 for n, e in prev.files.items()} if prev is not None else {}
    after = {n: e.sha256 for n, e in rec.files.items()}
    return sum(1 for n in set(before) | set(after) if before.get(n) != after.get(n))


def _git_text(rec: DeployRecord) -> str:
    if not rec.git or not rec.git.get("commit"):
        return "-"
    return str(rec.git["commit"])[:7] + ("+dirty" if rec.git.get("dirty") else "")


def _bar(score: float | None, top: float, width: int = BAR_WIDTH) -> str:
    if score is None or top <= 0:
        return ""
    return "█" * max(1, round(width * max(score, 0.0) / top))


def _duration(rec: DeployRecord) -> float | None:
    """Seconds from the request to the end of the deploy (queue and run), when known."""
    end = rec.finished_at or rec.settled_at
    return max(0.0, round((end - rec.at).total_seconds(), 1)) if end is not None else None


def _fields(rec: DeployRecord, prev: DeployRecord | None, kept: bool) -> dict[str, Any]:
    data = rec.to_json()
    data.update(
        files={n: e.sha256 for n, e in sorted(rec.files.items())},
        manifest=data["files"],
        changed=_changed(rec, prev),
        duration_s=_duration(rec),
        bytes_kept=kept,
        known=True,
    )
    return data


def outcome_text(rec: DeployRecord, newest: bool) -> str:
    """The record's outcome; an open one is in flight only while it is the newest (older ones
    settled long ago, and the server (v0) no longer says how)."""
    if rec.status is not None:
        return rec.status
    return "in flight" if newest else "outcome unknown"


HEADER = ("#", "server", "when", "via", "commit", "changed", "outcome", "score", "")


def _cells(rec: DeployRecord, prev: DeployRecord | None, now: datetime, newest: bool) -> list[str]:
    """One deploy's row of the table (see :data:`HEADER`)."""
    files = plural(_changed(rec, prev), "file")
    server = sum(1 for e in rec.files.values() if e.server)
    files += f" ({server} the server's)" if server else ""
    score = f"{rec.score:.4g}" if rec.score is not None else "-"
    dep = f"d{rec.deployment_id}" if rec.deployment_id is not None else "-"
    outcome = outcome_text(rec, newest).replace("outcome unknown", "unknown")
    when = relative(rec.at, now)
    return [
        f"#{rec.id}",
        dep,
        when,
        rec.trigger,
        _git_text(rec),
        files,
        outcome,
        score,
        "",  # the bar: drawn once the other columns' widths are known (_fit_bars)
    ]


def _unknown_cells(attempt: LatestDeploy, now: datetime) -> list[str]:
    """A deploy the server made that this folder's history does not hold (the browser,
    another machine)."""
    when = relative(attempt.created_at, now) if attempt.created_at else "?"
    return ["-", f"d{attempt.id}", when, "elsewhere", "-", "-", attempt.status or "?", "-", ""]


def _fit_bars(rows: list[list[str]], scores: list[float | None], top: float) -> None:
    """Draw each row's score bar as wide as the table leaves room for (at most
    :data:`BAR_WIDTH`, at least 3) within :data:`TABLE_WIDTH`, the live marker included."""
    every = [list(HEADER), *rows]
    used = sum(max(len(row[i]) for row in every) + 2 for i in range(len(HEADER) - 1))
    width = max(3, min(BAR_WIDTH, TABLE_WIDTH - used - len("  ← live")))
    for row, score in zip(rows, scores, strict=True):
        row[-1] = _bar(score, top, width) + row[-1]


def _table(rows: list[list[str]]) -> list[str]:
    """``rows`` under :data:`HEADER`, each column as wide as its widest cell."""
    every = [list(HEADER), *rows]
    widths = [max(len(row[i]) for row in every) for i in range(len(HEADER))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in every
    ]


def _unknown_fields(attempt: LatestDeploy) -> dict[str, Any]:
    return {
        "id": None,
        "deployment_id": attempt.id,
        "at": attempt.created_at,
        "status": attempt.status,
        "failure_owner": attempt.failure_owner,
        "known": False,
    }


def run(inv: Invocation, args: argparse.Namespace) -> int:
    ws = open_workspace(inv, args)
    hist = read_history(ws, online=not args.offline)
    now = ws.clock.now()
    if not hist.records and not hist.unknown:
        inv.out.result("history_empty", "no deploys yet: `mlarena-sync push` makes the first")
        return 0
    objects = ObjectStore(ws.store.state_dir)
    scores = [r.score for r in hist.records if r.score is not None]
    top = max(scores, default=0.0)
    rows: list[tuple[list[str], dict[str, Any]]] = [
        (_unknown_cells(a, now), _unknown_fields(a)) for a in hist.unknown
    ]
    for rec in list(reversed(hist.records))[: max(0, args.limit)]:
        prev = next((r for r in reversed(hist.records) if r.id < rec.id), None)
        kept = all(objects.has(e.sha256) for e in rec.files.values() if e.known)
        newest_rec = rec is hist.records[-1]
        cells = _cells(rec, prev, now, newest_rec)
        cells[-1] += "  ← live" if rec.id == hist.live else ""
        cells[-1] += "" if kept else "  (bytes pruned)"
        fields = {
            **_fields(rec, prev, kept),
            "outcome": outcome_text(rec, newest_rec),
            "live": rec.id == hist.live,
        }
        rows.append((cells, fields))
    _fit_bars([cells for cells, _ in rows], [f.get("score") for _, f in rows], top)
    header, *lines = _table([cells for cells, _ in rows])
    inv.out.text(header)
    for line, (_, fields) in zip(lines, rows, strict=True):
        inv.out.result("deploy_record", line, **fields)
    return 0
