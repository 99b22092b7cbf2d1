"""The API token and the server URL: validation, redaction, and the https-or-loopback rule.

A token is ``mlk_<scope>_<lookup>_<secret>``; the secret may itself contain ``_`` so the token is
split on its first three underscores only. The secret part never leaves this process except in
the ``Authorization`` header: :func:`redact` masks it (keeping at most the scope and lookup,
which ``docs/product.md`` allows) wherever a text might contain it, and error messages about a
malformed token describe the problem without quoting the token.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from mlarena_sync.errors import AuthError, ConfigError

TOKEN_PREFIX = "mlk"
_SCOPE_RE = re.compile(r"^[a-z][a-z0-9]*$")
_LOOKUP_RE = re.compile(r"^[A-Za-z0-9-]+$")
# Printable ASCII without spaces: anything else cannot travel in an HTTP header untouched (and
# requests would quote the whole header value, token included, in its exception message).
_SECRET_RE = re.compile(r"^[\x21-\x7e]+$")
_HINT = "set MLARENA_API_KEY to the full `mlk_user_...` token from your ML Arena profile"


@dataclass(frozen=True)
class TokenParts:
    """The public parts of a token: its scope (``user``, ``creator``, ``teacher``) and lookup."""

    scope: str
    lookup: str

    @property
    def masked(self) -> str:
        """The token as it may be shown: ``mlk_<scope>_<lookup>_***``."""
        return f"{TOKEN_PREFIX}_{self.scope}_{self.lookup}_***"


def parse_token(token: str) -> TokenParts:
    """Check the shape of ``token``; :class:`AuthError` (never quoting it) when malformed."""
    if not isinstance(token, str) or not token:
        raise AuthError("the API token is empty", hint=_HINT)
    if token != token.strip():
        raise AuthError("the API token has leading or trailing whitespace", hint=_HINT)
    parts = token.split("_", 3)
    if len(parts) != 4 or parts[0] != TOKEN_PREFIX:
        raise AuthError(
            "the API token is malformed: expected `mlk_<scope>_<lookup>_<secret>`", hint=_HINT
        )
    _, scope, lookup, secret = parts
    if not _SCOPE_RE.match(scope):
        raise AuthError("the API token is malformed: bad scope part", hint=_HINT)
    if not _LOOKUP_RE.match(lookup):
        raise AuthError("the API token is malformed: bad lookup part", hint=_HINT)
    if not _SECRET_RE.match(secret):
        raise AuthError(
            "the API token is malformed: empty secret or characters not allowed in a header",
            hint=_HINT,
        )
    return TokenParts(scope=scope, lookup=lookup)


def redact(text: str, token: str | None) -> str:
    """``text`` with every occurrence of ``token`` (and of its secret part) masked."""
    if not token or not text:
        return text
    parts = token.split("_", 3)
    if len(parts) == 4 and parts[0] == TOKEN_PREFIX and parts[1] and parts[2]:
        masked = f"{TOKEN_PREFIX}_{parts[1]}_{parts[2]}_***"
        secret = parts[3]
    else:
        masked, secret = "***", ""
    text = text.replace(token, masked)
    if len(secret) >= 6:
        text = text.replace(secret, "***")
    return text


def is_loopback_host(host: str | None) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1``."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, what: str = "server") -> str:
    """``url`` (stripped of spaces); :class:`ConfigError` unless https (or http to loopback)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError as exc:
        raise ConfigError(f"the {what} URL is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not host:
        raise ConfigError(
            f"the {what} URL must look like https://ml-arena.com (got scheme {scheme or 'none'!r})",
            hint="set `server:` in mlarena.yaml or MLARENA_SERVER",
        )
    if parts.username or parts.password:
        raise ConfigError(
            f"the {what} URL must not contain credentials",
            hint="remove user:password@ from it; the token comes from MLARENA_API_KEY",
        )
    if scheme == "http" and not is_loopback_host(host):
        raise ConfigError(
            f"refusing plain http:// to {host}: the API token would travel unencrypted",
            hint="use https:// (plain http is allowed only to localhost, 127.0.0.1 or ::1)",
        )
    return url.strip()
