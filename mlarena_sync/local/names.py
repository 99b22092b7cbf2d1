"""Flat remote names and the competition's limits, checked before anything is sent.

The agent's remote folder is flat: a local file is stored under its basename. This module finds,
all at once, every reason the selection cannot be mirrored as it is: two files landing on one name,
names the server would rewrite (Werkzeug's ``secure_filename``), files over the competition's size
limit, too many files, and what the secrets guard refuses. One :class:`SelectionError` lists them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Protocol

from mlarena_sync.errors import SelectionError
from mlarena_sync.humanize import size as human_size
from mlarena_sync.local.scan import LocalFile, printable
from mlarena_sync.local.secrets import find_secrets

__all__ = ["MAX_NAME_LENGTH", "check_names", "is_safe_name", "suggest_name"]

MAX_NAME_LENGTH = 128
# secure_filename keeps [A-Za-z0-9_.-] and strips leading/trailing "." and "_": a name survives
# unchanged only if it starts with a letter/digit and does not end with "." or "_".
_SAFE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9-])?\Z")


class CompetitionLimits(Protocol):
    @property
    def max_upload_size_bytes(self) -> int | None: ...
    @property
    def max_upload_files(self) -> int | None: ...


def is_safe_name(name: str) -> bool:
    """True when the server stores ``name`` unchanged."""
    return len(name) <= MAX_NAME_LENGTH and ".." not in name and bool(_SAFE.match(name))


def suggest_name(name: str) -> str:
    """A safe name close to ``name`` (to tell the user what to rename a file to)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name)
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    cleaned = cleaned.lstrip("._-").rstrip("._")
    if len(cleaned) > MAX_NAME_LENGTH:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and 0 < len(ext) < 16:
            cleaned = stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip("._") + "." + ext
        else:
            cleaned = cleaned[:MAX_NAME_LENGTH].rstrip("._")
    return cleaned if is_safe_name(cleaned) else "file"


def check_names(
    files: Iterable[LocalFile],
    competition: CompetitionLimits | None,
    token: str | None,
    *,
    allow: Sequence[str] = (),
    problems: Iterable[str] = (),
) -> dict[str, LocalFile]:
    """The selection keyed by remote name, or :class:`SelectionError` listing every problem.

    ``allow`` is ``files.allow`` (patterns let past the secrets guard); ``problems`` are earlier
    ones (e.g. from :func:`mlarena_sync.local.scan.scan`) to report together with these.
    """
    files = sorted(files, key=lambda f: f.path)
    found = list(problems)
    found += find_secrets(files, token, allow)

    by_name: dict[str, list[LocalFile]] = {}
    for f in files:
        by_name.setdefault(f.remote_name, []).append(f)
    for name, group in sorted(by_name.items()):
        paths = ", ".join(printable(f.path) for f in group)
        shown = printable(name)
        if not is_safe_name(name):
            found.append(
                f"{paths}: the server would not store the name {shown!r} as it is (names "
                "use letters, digits, '.', '_', '-', start with a letter or digit, do not end "
                f"with '.' or '_', no '..', at most {MAX_NAME_LENGTH} characters); rename it, "
                f"e.g. to {suggest_name(name)!r}, or exclude it"
            )
        if len(group) > 1:
            found.append(
                f"{paths}: all would be stored as {shown!r} (the agent's remote folder is "
                "flat); rename or exclude all but one"
            )

    limit = competition.max_upload_size_bytes if competition is not None else None
    if limit:
        for f in files:
            if f.size > limit:
                found.append(
                    f"{printable(f.path)}: {human_size(f.size)}, over the challenge's limit of "
                    f"{human_size(limit)} per file; make it smaller or exclude it"
                )
    most = competition.max_upload_files if competition is not None else None
    if most and len(by_name) > most:
        found.append(
            f"{len(by_name)} files selected, but the challenge allows at most {most}; "
            "exclude some (files.exclude in mlarena.yaml, or .mlarenaignore)"
        )
    if found:
        raise SelectionError(found)
    return {name: group[0] for name, group in sorted(by_name.items())}
