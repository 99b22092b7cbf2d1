"""The API token and the server URL, written once: the token grammar, redaction, and the
https-or-loopback rule.

A token is ``mlk_<scope>_<lookup>_<secret>`` (``docs/api-v4.md``, "Transport"): it is split on
its first three underscores only, so the secret may itself hold ``_``. The scope is one of
:data:`SCOPES`; the lookup is letters, digits and ``-``; the secret is printable ASCII without
spaces (anything else cannot travel in an HTTP header untouched, and requests would quote the
whole header value, token included, in its exception message).

The secret never leaves this process except in the ``Authorization`` header. :func:`redact`
masks a known token (keeping at most the scope and lookup, which ``docs/product.md`` allows);
:func:`mask_token_like` masks anything *shaped* like a token, of any scope, as a last guard (a
crash log, a value of the environment). Error messages about a malformed token describe the
problem without quoting the token.

Plain ``http://`` is allowed only to loopback (``localhost``, ``127.0.0.0/8``, ``::1``): anywhere
else the token would travel unencrypted (:func:`check_url`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mlarena_sync.errors import AuthError, ConfigError

__all__ = [
    "MASK",
    "SCOPES",
    "TOKEN_LIKE_BYTES",
    "TOKEN_PREFIX",
    "Redactor",
    "TokenParts",
    "check_url",
    "is_loopback_host",
    "looks_like_token",
    "mask_token_like",
    "parse_token",
    "redact",
    "secret_part",
]

TOKEN_PREFIX = "mlk"
SCOPES = ("user", "creator", "teacher")
MASK = "***"

_LOOKUP = r"[A-Za-z0-9-]+"
_SECRET_CHAR = r"[\x21-\x7e]"  # printable ASCII, no space
_SECRET = _SECRET_CHAR + "+"
_LOOKUP_RE = re.compile(_LOOKUP)
_SECRET_RE = re.compile(_SECRET)
#: Anything shaped like a token, whatever its scope: what redaction masks on sight.
_TOKEN_LIKE = re.compile(rf"{TOKEN_PREFIX}_([a-z][a-z0-9]*)_({_LOOKUP})_{_SECRET}")
#: The same shape in bytes, with a secret of 8 characters or more (a real one is far longer):
#: what the secrets guard refuses in a file's content.
TOKEN_LIKE_BYTES = re.compile(
    rf"{TOKEN_PREFIX}_[a-z][a-z0-9]*_{_LOOKUP}_{_SECRET_CHAR}{{8,}}".encode("ascii")
)
_HINT = "set MLARENA_API_KEY to the full `mlk_user_...` key from your ML Arena profile"
_URL_EXAMPLE = "https://ml-arena.com"


@dataclass(frozen=True)
class TokenParts:
    """The public parts of a token: its scope (``user``, ``creator``, ``teacher``) and lookup."""

    scope: str
    lookup: str

    @property
    def masked(self) -> str:
        """The token as it may be shown: ``mlk_<scope>_<lookup>_***``."""
        return f"{TOKEN_PREFIX}_{self.scope}_{self.lookup}_{MASK}"


def _malformed(detail: str, source: str | None) -> AuthError:
    origin = f" from {source}" if source else ""
    return AuthError(f"the API token{origin} is malformed: {detail}", hint=_HINT)


def parse_token(token: str, *, source: str | None = None) -> TokenParts:
    """Check the grammar of ``token``; :class:`AuthError` (never quoting it) when malformed.

    ``source`` (``MLARENA_API_KEY``, ``--api-key-file FILE``) names where it came from."""
    if not isinstance(token, str) or not token:
        raise _malformed("it is empty", source)
    if token != token.strip():
        raise _malformed("it has leading or trailing whitespace", source)
    parts = token.split("_", 3)
    if len(parts) != 4 or parts[0] != TOKEN_PREFIX:
        raise _malformed("expected `mlk_<scope>_<lookup>_<secret>`", source)
    _, scope, lookup, secret = parts
    if scope not in SCOPES:
        raise _malformed(f"the scope part is not one of {', '.join(SCOPES)}", source)
    if not _LOOKUP_RE.fullmatch(lookup):
        raise _malformed("bad lookup part (letters, digits and `-` only)", source)
    if not _SECRET_RE.fullmatch(secret):
        raise _malformed("empty secret or characters not allowed in a header", source)
    return TokenParts(scope=scope, lookup=lookup)


def secret_part(token: str | None) -> str | None:
    """The secret part of a well-formed-looking token (after its third ``_``), else None."""
    parts = (token or "").split("_", 3)
    if len(parts) == 4 and parts[0] == TOKEN_PREFIX and parts[3]:
        return parts[3]
    return None


def looks_like_token(value: str) -> bool:
    """``value`` (stripped) is shaped like a token of any scope: worth registering for redaction."""
    return _TOKEN_LIKE.fullmatch(value.strip()) is not None


def mask_token_like(text: str) -> str:
    """``text`` with everything shaped like a token (any scope) masked to its public parts."""
    return _TOKEN_LIKE.sub(lambda m: f"{TOKEN_PREFIX}_{m[1]}_{m[2]}_{MASK}", text)


def redact(text: str, token: str | None) -> str:
    """``text`` with every occurrence of ``token`` (and of its secret part) masked."""
    if not token or not text:
        return text
    parts = token.split("_", 3)
    if len(parts) == 4 and parts[0] == TOKEN_PREFIX and parts[1] and parts[2]:
        masked = f"{TOKEN_PREFIX}_{parts[1]}_{parts[2]}_{MASK}"
        secret = parts[3]
    else:
        masked, secret = MASK, ""
    text = text.replace(token, masked)
    if len(secret) >= 6:
        text = text.replace(secret, MASK)
    return text


class Redactor:
    """Masks every registered secret (the API token) and anything shaped like a token, in text
    and in nested event values; also a structlog processor (on the event dict or, after a
    renderer, on the rendered line)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def text(self, text: str) -> str:
        for secret in self._secrets:
            text = redact(text, secret)
        return mask_token_like(text)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value

    def __call__(self, logger: Any, method: str, event: Any) -> Any:
        if isinstance(event, MutableMapping):
            return {k: self.value(v) for k, v in event.items()}
        if isinstance(event, str):
            return self.text(event)
        return event


def is_loopback_host(host: str | None) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1`` (brackets and case ignored)."""
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
    """``url`` stripped of spaces; :class:`ConfigError` unless ``https://`` (or ``http://`` to
    loopback), with a host and without credentials. Messages say "the <what> URL"."""
    bare = url.strip()
    if bare and "://" not in bare and "@" not in bare and " " not in bare:
        # `ml-arena.com` or `ml-arena.com:443` (which urlsplit reads as a scheme): say what to write
        raise ConfigError(
            f"the {what} URL {bare!r} has no scheme", hint=f"write https://{bare.lstrip('/')}"
        )
    try:
        parts = urlsplit(bare)
        host = parts.hostname
    except ValueError as exc:
        raise ConfigError(f"the {what} URL is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not host:
        raise ConfigError(
            f"the {what} URL must look like {_URL_EXAMPLE} (got scheme {scheme or 'none'!r})",
            hint="set `server:` in mlarena.yaml, MLARENA_SERVER or --server",
        )
    if parts.username or parts.password:
        raise ConfigError(
            f"the {what} URL must not contain credentials",
            hint="remove user:password@ from it; the token comes from MLARENA_API_KEY",
        )
    if scheme == "http" and not is_loopback_host(host):
        raise ConfigError(
            f"the {what} URL must use https:// (plain http:// to {host} would send the API "
            "token unencrypted)",
            hint=f"use https://{parts.netloc}; plain http is allowed only to localhost, "
            "127.0.0.0/8 or ::1",
        )
    return url.strip()
