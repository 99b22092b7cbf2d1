"""What a challenge expects, read before a folder is set up for it (``mlarena-sync init``).

A wrong challenge id is found at once (not at the first push), and the file the challenge runs
or scores (``entry_filename``: ``agent.py`` for a code challenge, e.g. ``submission.csv`` for a
file challenge) goes into the new ``mlarena.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlarena_sync.api.generation import open_arena
from mlarena_sync.errors import ConfigError, NotFoundError

__all__ = ["ChallengeFacts", "look_up"]

#: ``kernel_version`` of a challenge scored on one submitted file.
FILE_KIND = "file_v1"


@dataclass(frozen=True, kw_only=True)
class ChallengeFacts:
    id: int
    name: str | None
    entry: str | None  # None: the server does not say (v0): the template's default stays
    kind: str | None  # flex_v1 (code), file_v1 (one scored file), chat_v1; None on v0

    @property
    def is_file_challenge(self) -> bool:
        return self.kind == FILE_KIND


def look_up(server: str, token: str | None, cid: int, *, api: str = "auto") -> ChallengeFacts:
    """The challenge's name, entry file and kind; :class:`ConfigError` (exit 2) when no such
    challenge is visible to this token."""
    with open_arena(server, token, api, cid=cid) as arena:
        try:
            detail = arena.competition(cid)
        except NotFoundError:
            raise ConfigError(
                f"challenge {cid} was not found on {server} (or is not visible to you)",
                hint="the challenge id is the number in the challenge's URL",
            ) from None
    return ChallengeFacts(
        id=cid, name=detail.name, entry=detail.entry_filename, kind=detail.kernel_version
    )
