"""The secrets guard: never upload ``.env`` files, private keys, or an API token.

Files are judged by name (``.env*``, ``id_rsa*``, ``*.pem``, ...) and by content (a PEM private
key block, the user's token, its secret part alone, or anything shaped like a token of any
user: ``mlk_<scope>_<lookup>_<secret>``). Content is read in chunks with an overlap, so a big
file is never held in memory and a secret straddling two chunks is still found. Verdicts on
content are cached in memory by the file's SHA-256, so ``watch`` re-reads only files that
changed. ``files.allow`` patterns (gitignore style) let a file past the guard. Messages never
contain the token.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from pathspec import GitIgnoreSpec

from mlarena_sync.local.scan import printable
from mlarena_sync.tokens import TOKEN_LIKE_BYTES, secret_part

__all__ = ["CHUNK_SIZE", "SECRET_NAMES", "SecretsGuard", "find_secrets"]

CHUNK_SIZE = 1 << 20
SECRET_NAMES: tuple[str, ...] = (
    ".env*",
    "*.env",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "!id_*.pub",
)
_PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_MARKER_OVERLAP = 256  # longer than any BEGIN ... PRIVATE KEY line or token-shaped string
_MIN_SECRET = 8  # a shorter secret part would match by chance
_CACHE_LIMIT = 8192
_verdicts: dict[tuple[str, str], str | None] = {}


class _FileLike(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def abs_path(self) -> Path: ...
    @property
    def sha256(self) -> str: ...


class SecretsGuard:
    """Judges files for one token and one ``files.allow`` list."""

    def __init__(self, token: str | None, allow: Sequence[str] = ()) -> None:
        self._token = token.encode() if token and len(token) >= 8 else b""
        secret = secret_part(token)
        # The secret alone is the credential too (the lookup is shown openly): refused on sight.
        self._secret = secret.encode() if secret and len(secret) >= _MIN_SECRET else b""
        # Cache key part: identifies the token in memory only (never written anywhere).
        self._token_id = hashlib.sha256(self._token).hexdigest()
        self._names = GitIgnoreSpec.from_lines(list(SECRET_NAMES))
        self._allow = GitIgnoreSpec.from_lines(list(allow))

    def is_allowed(self, rel_path: str) -> bool:
        return bool(self._allow.match_file(rel_path))

    def name_reason(self, rel_path: str) -> str | None:
        if not self._names.match_file(rel_path):
            return None
        base = rel_path.rpartition("/")[2]
        return "a .env file" if ".env" in base else "a private key or certificate file name"

    def content_reason(self, abs_path: Path, sha256: str | None = None) -> str | None:
        """Why the content looks secret, else None. ``OSError`` propagates."""
        key = (sha256, self._token_id) if sha256 else None
        if key is not None and key in _verdicts:
            return _verdicts[key]
        reason = self._scan(abs_path)
        if key is not None:
            if len(_verdicts) >= _CACHE_LIMIT:
                _verdicts.clear()
            _verdicts[key] = reason
        return reason

    def _scan(self, abs_path: Path) -> str | None:
        overlap = max(len(self._token), _MARKER_OVERLAP) - 1
        tail = b""
        with abs_path.open("rb") as fh:
            while chunk := fh.read(CHUNK_SIZE):
                window = tail + chunk
                reason = self._window_reason(window)
                if reason is not None:
                    return reason
                tail = window[-overlap:]
        return None

    def _window_reason(self, window: bytes) -> str | None:
        if self._token and self._token in window:
            return "it contains your API token"
        if self._secret and self._secret in window:
            return "it contains the secret part of your API token"
        if TOKEN_LIKE_BYTES.search(window):
            return "it contains an ML Arena API token (mlk_<scope>_<lookup>_<secret>)"
        if _PRIVATE_KEY.search(window):
            return "it contains a private key"
        return None

    def problem(self, file: _FileLike) -> str | None:
        """One line for a file that must not be uploaded, else None."""
        if self.is_allowed(file.path):
            return None
        try:
            reason = self.name_reason(file.path) or self.content_reason(file.abs_path, file.sha256)
        except OSError as exc:
            return f"{printable(file.path)}: cannot read it to check for secrets ({exc.strerror})"
        if reason is None:
            return None
        return (
            f"{printable(file.path)}: looks like a secret ({reason}); remove or exclude it, "
            "or list it under files.allow in mlarena.yaml to sync it anyway"
        )


def find_secrets(
    files: Iterable[_FileLike], token: str | None, allow: Sequence[str] = ()
) -> list[str]:
    """Problem lines for every file the guard refuses, in the given order."""
    guard = SecretsGuard(token, allow)
    return [p for p in (guard.problem(f) for f in files) if p is not None]
