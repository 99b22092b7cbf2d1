"""Bearer tokens ``mlk_<scope>_<lookup>_<secret>``: parse, look up, check the scope."""

from __future__ import annotations

import hmac

from werkzeug.wrappers import Request

from mlarena_sync.arena import seed
from mlarena_sync.arena.model import User
from mlarena_sync.arena.store import refuse

SCOPES = frozenset({"user", "creator", "teacher"})


def parse_token(token: str) -> tuple[str, str, str] | None:
    """``(scope, lookup, secret)``; the secret may itself contain ``_``."""
    parts = token.split("_", 3)
    if len(parts) != 4 or parts[0] != "mlk" or not all(parts):
        return None
    return parts[1], parts[2], parts[3]


def user_for_token(token: str) -> User | None:
    parsed = parse_token(token)
    if parsed is None:
        return None
    scope, lookup, secret = parsed
    user = seed.user_by_lookup(lookup)
    if user is None or scope not in SCOPES or scope != user.scope:
        return None
    if not hmac.compare_digest(secret.encode(), user.secret.encode()):
        return None
    return user


def bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return header[len("Bearer ") :].strip() or None


def viewer(request: Request) -> User | None:
    """Public routes: the caller when a valid token was sent, else anonymous."""
    token = bearer(request)
    return user_for_token(token) if token else None


def require(request: Request, scope: str = "user") -> User:
    """The caller; 401 for a missing or invalid token, 403 for the wrong scope."""
    token = bearer(request)
    if token is None:
        refuse(401, "Missing API key: send 'Authorization: Bearer mlk_<scope>_<lookup>_<secret>'")
    user = user_for_token(token)
    if user is None:
        refuse(401, "Invalid API key")
    if user.scope != scope:
        refuse(403, f"This endpoint requires a '{scope}' scope token, not '{user.scope}'")
    return user
