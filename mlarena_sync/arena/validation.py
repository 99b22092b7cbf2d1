"""Upload validation: the verdict the arena gives after every file PUT."""

from __future__ import annotations

import ast
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from mlarena_sync.arena.model import Competition
from mlarena_sync.arena.storage import read_text

ENTRY = "agent.py"
SUBMISSION = "submission.csv"
SUBMISSION_COLUMNS = ("id", "prediction")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str


def validate(competition: Competition, folder: Path) -> Verdict:
    if competition.kind == "file":
        return validate_submission(folder)
    return validate_code(folder)


def find_agent_class(source: str) -> str | None:
    """The agent class the runner will use: ``Agent``, else the first class with ``predict``."""
    tree = ast.parse(source)
    with_predict = [
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and any(
            isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "predict"
            for item in node.body
        )
    ]
    if "Agent" in with_predict:
        return "Agent"
    return with_predict[0] if with_predict else None


def _required_text(folder: Path, name: str, needed: str) -> str | Verdict:
    """The text of ``folder/name``, or the failed verdict when it is missing or binary."""
    path = folder / name
    if not path.is_file():
        return Verdict(False, f"{name} is missing: {needed}")
    text = read_text(path)
    if text is None:
        return Verdict(False, f"{name} is not a UTF-8 text file (or is over 1 MB)")
    return text


def validate_code(folder: Path) -> Verdict:
    text = _required_text(
        folder,
        ENTRY,
        f"a code competition needs {ENTRY} defining an agent class "
        "(`class Agent:` with a `predict(self, observation)` method)",
    )
    if isinstance(text, Verdict):
        return text
    try:
        name = find_agent_class(text)
    except SyntaxError as exc:
        return Verdict(False, f"{ENTRY} line {exc.lineno}: SyntaxError: {exc.msg}")
    if name is None:
        return Verdict(
            False,
            f"{ENTRY} defines no agent class: define `class Agent:` with a "
            "`predict(self, observation)` method",
        )
    return Verdict(True, f"Agent validated: {ENTRY} defines {name}.predict")


def validate_submission(folder: Path) -> Verdict:
    text = _required_text(
        folder,
        SUBMISSION,
        f"a file competition needs {SUBMISSION} with the columns {','.join(SUBMISSION_COLUMNS)}",
    )
    if isinstance(text, Verdict):
        return text
    try:
        rows = parse_submission(text)
    except ValueError as exc:
        return Verdict(False, f"{SUBMISSION}: {exc}")
    return Verdict(True, f"Submission validated: {len(rows)} rows")


def parse_submission(text: str) -> dict[int, int]:
    """``id -> prediction``; ValueError with an actionable message when malformed."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [col for col in SUBMISSION_COLUMNS if col not in header]
    if missing:
        raise ValueError(
            f"missing column(s) {', '.join(missing)}; the header must be "
            f"{','.join(SUBMISSION_COLUMNS)}"
        )
    rows: dict[int, int] = {}
    for line, row in enumerate(reader, start=2):
        try:
            rows[int(row["id"] or "")] = int(row["prediction"] or "")
        except ValueError:
            raise ValueError(f"line {line}: id and prediction must be integers") from None
    if not rows:
        raise ValueError("no rows after the header")
    return rows


def score_submission(rows: dict[int, int]) -> float:
    """Deterministic score: the share of rows whose prediction is the parity of the id."""
    good = sum(1 for key, value in rows.items() if value == key % 2)
    return round(good / len(rows), 4)
