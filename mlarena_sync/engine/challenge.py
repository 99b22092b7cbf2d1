"""What a challenge expects, read before a folder is set up for it (``mlarena-sync init``).

A wrong challenge id is found at once (not at the first push: exit 2, with the challenges the
server lists), and what the challenge expects is said while the user is still setting up: the
file it runs or scores (``entry_filename``: ``agent.py`` for a code challenge, e.g.
``submission.csv`` for a file challenge, which goes into the new ``mlarena.yaml``), its kind,
the agent class its template declares, and the runtimes it offers (for ``runtime:``).
Both API generations: v4.6 says it all in the challenge detail; v0 lists its runtimes on a
route of their own and names no entry file (the template's ``agent.py`` stays).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from mlarena_sync.api.generation import open_arena
from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import Competition, Runtime
from mlarena_sync.engine.runtime import runtime_text
from mlarena_sync.errors import ConfigError, MlarenaSyncError, NotFoundError

__all__ = ["ChallengeFacts", "agent_contract", "look_up"]

#: ``kernel_version`` of a challenge scored on one submitted file.
FILE_KIND = "file_v1"
#: How many challenges a "not found" error names at most.
_LISTED = 10


@dataclass(frozen=True, kw_only=True)
class ChallengeFacts:
    id: int
    name: str | None
    entry: str | None  # None: the server does not say (v0): the template's default stays
    kind: str | None  # flex_v1 (code), file_v1 (one scored file), chat_v1; None on v0
    #: For a person: "code challenge on gymnasium-cpu" (v4.6 ``kind_label`` and machine; v0
    #: ``submission_type`` and engine).
    kind_label: str | None = None
    #: v0 says a challenge scores one file (``submission_type: file``) but not which file.
    scores_a_file: bool = False
    #: The agent class the template declares and its methods (``Agent`` with ``predict``).
    contract: str | None = None
    #: The runtimes offered (``runtime:`` in mlarena.yaml picks one), and the default's id.
    runtimes: tuple[Runtime, ...] = ()
    default_runtime: int | None = None

    @property
    def is_file_challenge(self) -> bool:
        return self.kind == FILE_KIND or self.scores_a_file

    def runtime_lines(self) -> list[str]:
        """One line per runtime offered (``id 1: python 3.11 / gymnasium 1.0.0 (default)``)."""
        return [
            runtime_text(r) + (" (default)" if r.id == self.default_runtime else "")
            for r in self.runtimes
        ]


def agent_contract(template: str | None) -> str | None:
    """``class Agent with predict(observation)``: the first class the challenge's template
    declares and its public methods, or None when there is no template (or it does not parse)."""
    if not template:
        return None
    try:
        tree = ast.parse(template)
    except (SyntaxError, ValueError):
        return None
    cls = next((node for node in tree.body if isinstance(node, ast.ClassDef)), None)
    if cls is None:
        return None
    methods = [
        f"{fn.name}({', '.join(a.arg for a in fn.args.args[1:])})"
        for fn in cls.body
        if isinstance(fn, ast.FunctionDef) and not fn.name.startswith("_")
    ]
    return f"class {cls.name}" + (f" with {', '.join(methods)}" if methods else "")


def _kind_label(detail: Competition) -> str | None:
    raw = detail.raw
    label = raw.get("kind_label")
    if not isinstance(label, str):
        kind = raw.get("submission_type")  # v0: "code" | "file"
        label = f"{kind} challenge" if isinstance(kind, str) else None
    if label and detail.engine:
        return f"{label.lower()} on {detail.engine}"
    return label.lower() if label else detail.engine


def _runtimes(arena: Arena, cid: int, detail: Competition) -> tuple[Runtime, ...]:
    """The detail's own list (v4.6), else the runtimes route (v0); none when it cannot say."""
    if detail.runtime_options or arena.capabilities.generation != "v0":
        return detail.runtime_options
    try:
        return tuple(arena.runtime_options(cid))
    except MlarenaSyncError:  # v0 answers 500 for a challenge without runtimes: say nothing
        return ()


def _facts(arena: Arena, cid: int, detail: Competition) -> ChallengeFacts:
    default = detail.raw.get("default_runtime_id")
    return ChallengeFacts(
        id=cid,
        name=detail.name,
        entry=detail.entry_filename,
        kind=detail.kernel_version if arena.capabilities.generation != "v0" else None,
        kind_label=_kind_label(detail),
        scores_a_file=detail.raw.get("submission_type") == "file",
        contract=agent_contract(detail.agent_template),
        runtimes=_runtimes(arena, cid, detail),
        default_runtime=default if isinstance(default, int) else None,
    )


def _not_found(arena: Arena, server: str, cid: int) -> ConfigError:
    """Exit 2 for challenge ``cid``, naming the challenges the server lists (when it can)."""
    try:
        listed = arena.competitions()
    except MlarenaSyncError:
        listed = []
    hint = "the challenge id is the number in the challenge's URL"
    if listed:
        names = ", ".join(f"{i} ({name})" if name else str(i) for i, name in listed[:_LISTED])
        more = f" and {len(listed) - _LISTED} more" if len(listed) > _LISTED else ""
        hint = f"challenges on {server}: {names}{more}; {hint}"
    return ConfigError(
        f"challenge {cid} was not found on {server} (or is not visible to you)", hint=hint
    )


def look_up(server: str, token: str | None, cid: int, *, api: str = "auto") -> ChallengeFacts:
    """What challenge ``cid`` expects; :class:`ConfigError` (exit 2) when no such challenge is
    visible to this token (its hint lists the challenges the server shows)."""
    with open_arena(server, token, api, cid=cid) as arena:
        try:
            detail = arena.competition(cid)
        except NotFoundError:
            raise _not_found(arena, server, cid) from None
        return _facts(arena, cid, detail)
