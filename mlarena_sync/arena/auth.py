"""Bearer tokens ``mlk_<scope>_<lookup>_<secret>``: parse, look up, check the scope.

Refusals are domain errors (``Unauthorized`` 401, ``Forbidden`` 403 in both generations);
the wrong-scope wording differs per generation, so the caller passes its own.
"""

from __future__ import annotations

import hmac

from werkzeug.wrappers import Request

from mlarena_sync.arena.errors import Forbidden, Unauthorized
from mlarena_sync.arena.model import User
from mlarena_sync.arena.seed import Seed

SCOPES = frozenset({"user", "creator", "teacher"})
V0_SCOPE_ERROR = "This endpoint requires a '{need}' scope token, not '{have}'"
V4_SCOPE_ERROR = "Key scope '{have}' cannot access '{need}' route"


def parse_token(token: str) -> tuple[str, str, str] | None:
    """``(scope, lookup, secret)``; the secret may itself contain ``_``."""
    parts = token.split("_", 3)
    if len(parts) != 4 or parts[0] != "mlk" or not all(parts):
        return None
    return parts[1], parts[2], parts[3]


def user_for_token(token: str, seed: Seed) -> User | None:
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


def viewer(request: Request, seed: Seed) -> User | None:
    """Public routes: the caller when a valid token was sent, else anonymous."""
    token = bearer(request)
    return user_for_token(token, seed) if token else None


def require(
    request: Request,
    seed: Seed,
    scope: str | None = "user",
    *,
    scope_error: str = V0_SCOPE_ERROR,
) -> User:
    """The caller; 401 for a missing or invalid token, 403 for the wrong scope.

    ``scope=None`` accepts every scope (``current_user``).
    """
    token = bearer(request)
    if token is None:
        raise Unauthorized(
            "Missing API key: send 'Authorization: Bearer mlk_<scope>_<lookup>_<secret>'"
        )
    user = user_for_token(token, seed)
    if user is None:
        raise Unauthorized("Invalid API key")
    if scope is not None and user.scope != scope:
        raise Forbidden(scope_error.format(need=scope, have=user.scope))
    return user
