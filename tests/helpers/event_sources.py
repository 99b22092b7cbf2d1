"""Every event the source emits, found by reading it (AST): the names and the keyword fields of
each emission with a literal name. Used by ``tests/unit/test_events_doc.py`` against
``docs/events.md``.

An emission is a call with a literal snake_case first argument to one of :data:`EMITTERS`
(``sink.emit("synced", ...)``, ``out.result("status", text, ...)``, ``log.warning(...)``,
``on_event("upload_progress", ...)``...), the second argument of ``warn_once``,
``StatusEvent("queue", text, {fields})``, or a dict literal with a literal ``"event"`` key (the
JSON lines the CLI writes itself, e.g. ``{"event": "error", ...}``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EMITTERS", "Emission", "emissions", "source_root"]

#: Callables whose first positional argument is an event's name.
EMITTERS = frozenset(
    {"emit", "_emit", "event", "warning", "result", "on_event", "info", "debug", "error"}
)
#: Callables whose event name is another positional argument (callable → index).
NAME_AT = {"warn_once": 1}
#: Not fields of the event: the level is the common ``level`` field.
_NOT_FIELDS = frozenset({"level"})
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Emission:
    """One place in the source that emits ``name``; ``open`` when it also passes ``**fields``
    (then :attr:`fields` is a lower bound)."""

    name: str
    fields: frozenset[str]
    path: str
    line: int
    open: bool = False

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def source_root() -> Path:
    """The ``mlarena_sync`` package folder."""
    import mlarena_sync

    return Path(mlarena_sync.__file__).resolve().parent


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _literal_name(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _NAME.match(node.value):
        return node.value
    return None


def _keywords(call: ast.Call) -> tuple[frozenset[str], bool]:
    names = {k.arg for k in call.keywords if k.arg is not None}
    return frozenset(names - _NOT_FIELDS), any(k.arg is None for k in call.keywords)


def _dict_keys(node: ast.Dict) -> tuple[frozenset[str], bool]:
    keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return frozenset(keys - {"event", *_NOT_FIELDS}), any(k is None for k in node.keys)


def _from_call(call: ast.Call, path: str) -> Emission | None:
    callee = _callee(call)
    if callee == "StatusEvent":
        name = _literal_name(call.args[0] if call.args else None)
        payload = call.args[2] if len(call.args) > 2 else None
        if name is None:
            return None
        fields, more = _dict_keys(payload) if isinstance(payload, ast.Dict) else (frozenset(), True)
        return Emission(name, fields | {"text"}, path, call.lineno, more)
    if callee in EMITTERS:
        index = 0
    elif callee in NAME_AT:
        index = NAME_AT[callee]
    else:
        return None
    name = _literal_name(call.args[index] if len(call.args) > index else None)
    if name is None:
        return None
    fields, more = _keywords(call)
    if callee == "result" and len(call.args) > 1:  # Output.result(event, text, **fields)
        fields |= {"text"}
    return Emission(name, fields, path, call.lineno, more)


def _from_dict(node: ast.Dict, path: str) -> Emission | None:
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Constant) and key.value == "event":
            name = _literal_name(value)
            if name is None:
                return None
            fields, more = _dict_keys(node)
            return Emission(name, fields, path, node.lineno, more)
    return None


def _in_file(path: Path, root: Path) -> Iterator[Emission]:
    rel = path.relative_to(root.parent).as_posix()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        found = None
        if isinstance(node, ast.Call):
            found = _from_call(node, rel)
        elif isinstance(node, ast.Dict):
            found = _from_dict(node, rel)
        if found is not None:
            yield found


def emissions(root: Path | None = None) -> list[Emission]:
    """Every emission with a literal name under ``root`` (the package), sorted by place."""
    base = root or source_root()
    found = [e for path in sorted(base.rglob("*.py")) for e in _in_file(path, base)]
    return sorted(found, key=lambda e: (e.path, e.line))
