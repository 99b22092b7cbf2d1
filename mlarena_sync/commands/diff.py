"""``mlarena-sync diff [A] [B]``: what changed between two deploys, or a deploy and the folder.

``A`` and ``B`` are ledger numbers (``5``: ``history``'s ``#5``), server deployment ids
(``d6``: ``status``'s ``deployment 6``), ``live`` or ``previous``; ``A`` defaults to ``live`` and
``B`` to the folder. Text files get a unified diff; binary files (or files whose bytes were
pruned) are named with their sizes. Exit 0 when equal, 1 when different (like ``diff``).
"""

from __future__ import annotations

import argparse
import difflib
from typing import Any

from mlarena_sync.commands.common import open_workspace
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.engine.restore import (
    Side,
    changed_paths,
    deploy_side,
    folder_side,
    records_of,
    resolve,
)
from mlarena_sync.humanize import size

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This command's own flags (the common ones are the CLI's)."""
    parser.add_argument(
        "a",
        nargs="?",
        default="live",
        help="a deploy: ledger number (5), deployment id (d6), live, previous (default: live)",
    )
    parser.add_argument("b", nargs="?", default=None, help="another deploy (default: the folder)")


def _text(data: bytes | None) -> list[str] | None:
    if data is None or b"\0" in data:
        return None
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def _size(n: int | None) -> str:
    """``57.2 MB``; ``absent`` for a side without the file."""
    return "absent" if n is None else size(n)


def _name(side: Side, path: str) -> str:
    server = " (the server's version)" if path in side.server else ""
    return f"{side.label}/{path}{server}"


def _one(a: Side, b: Side, path: str) -> tuple[str, dict[str, Any]]:
    old = _text(a.read(path)) if path in a.files else []
    new = _text(b.read(path)) if path in b.files else []
    change = "added" if path not in a.files else "removed" if path not in b.files else "modified"
    fields: dict[str, Any] = {"path": path, "change": change}
    fields.update(size_a=a.sizes.get(path), size_b=b.sizes.get(path))
    for side in (a, b):
        if path in side.server and not side.files.get(path):
            fields.update(binary=None, unknown=side.label)
            return (
                f"{path}: {side.label} ran the server's version (changed there, left in place), "
                "whose bytes were not read\n",
                fields,
            )
    if old is None or new is None:
        fields["binary"] = True
        text = (
            f"Binary file {path} differs ({_size(a.sizes.get(path))} in {a.label} → "
            f"{_size(b.sizes.get(path))} in {b.label})\n"
        )
        return text, fields
    fields["binary"] = False
    fields["server"] = sorted(side.label for side in (a, b) if path in side.server)
    lines = difflib.unified_diff(
        old,
        new,
        _name(a, path) if old else "/dev/null",
        _name(b, path) if new else "/dev/null",
    )
    patch = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return patch, fields


def run(inv: Invocation, args: argparse.Namespace) -> int:
    ws = open_workspace(inv, args)
    records = records_of(ws)
    a = deploy_side(ws, resolve(records, args.a))
    b = deploy_side(ws, resolve(records, args.b)) if args.b else folder_side(ws)
    paths = changed_paths(a, b)
    if not paths:
        inv.out.result(
            "diff", f"{a.label} and {b.label} are equal", a=a.label, b=b.label, equal=True, files=[]
        )
        return 0
    texts, files = [], []
    for path in paths:
        text, fields = _one(a, b, path)
        texts.append(text)
        files.append(fields)
    patch = "".join(texts).rstrip("\n")
    inv.out.result("diff", patch, a=a.label, b=b.label, equal=False, files=files, patch=patch)
    return 1
