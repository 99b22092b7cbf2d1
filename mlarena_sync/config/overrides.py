"""Flags and ``MLARENA_*`` variables over the file's values, and the API token lookup.

Precedence, written once: CLI flag > ``MLARENA_*`` environment > mlarena.yaml > defaults
(:func:`apply_overrides`); the token comes from ``--api-key-file`` or the variable
``api_key_env`` names (:func:`resolve_token`), its grammar and the server URL's
https-or-loopback rule from :mod:`mlarena_sync.tokens`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from mlarena_sync.config.targets import API_CHOICES, DEFAULT_API_KEY_ENV, Target
from mlarena_sync.errors import AuthError, ConfigError
from mlarena_sync.tokens import check_url, mask_token_like, parse_token

__all__ = [
    "Token",
    "apply_overrides",
    "check_token_shape",
    "read_api_key_file",
    "resolve_token",
    "validate_server",
]


class Token(str):
    """The API token, knowing where it came from: ``origin`` is the variable's name
    (``MLARENA_API_KEY``) or the key file as typed from here, so that a refused token (401/403)
    is told with a hint naming it (:mod:`mlarena_sync.api.responses`). Never shown by repr."""

    origin: str

    def __new__(cls, value: str, origin: str = DEFAULT_API_KEY_ENV) -> Token:
        self = super().__new__(cls, value)
        self.origin = origin
        return self

    def __repr__(self) -> str:
        return f"Token(***, origin={self.origin!r})"


def validate_server(url: str, *, source: str = "server") -> str:
    """Normalise a server URL: the https-or-loopback rule (:func:`~mlarena_sync.tokens.check_url`),
    no query or fragment, no trailing slash."""
    url = check_url(url, what=source)
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ConfigError(f"{source}: {url!r} must not carry a query or fragment")
    return url.rstrip("/")


def apply_overrides(
    target: Target,
    server: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    competition: int | None = None,
    agent_id: int | None = None,
    api: str | None = None,
) -> Target:
    """Layer CLI flags (arguments) and ``MLARENA_*`` variables (``env``) over the file's values."""
    env = env or {}
    changes: dict[str, object] = {}
    chosen_api, api_source = (
        (api, "--api") if api else (env.get("MLARENA_API", "").strip(), "MLARENA_API")
    )
    if chosen_api:
        if chosen_api not in API_CHOICES:
            raise ConfigError(
                f"{api_source}: must be one of {', '.join(API_CHOICES)} (got {chosen_api!r})"
            )
        changes["api"] = chosen_api
        changes["api_source"] = api_source
    if server is not None:
        changes["server"] = validate_server(server, source="--server")
    elif env.get("MLARENA_SERVER", "").strip():
        changes["server"] = validate_server(env["MLARENA_SERVER"], source="MLARENA_SERVER")
    if competition is not None:
        changes["competition"] = competition
    if agent_id is not None:
        changes["agent"] = dataclasses.replace(target.agent, id=agent_id)
    return dataclasses.replace(target, **changes)  # type: ignore[arg-type]


def check_token_shape(token: str, source: str, *, fix: str | None = None) -> None:
    """Raise :class:`AuthError` for a token that is not ``mlk_<scope>_<lookup>_<secret>``, its
    hint saying what to fix where the token came from: ``fix`` (the key file), else the
    variable ``source``."""
    try:
        parse_token(token, source=source)
    except AuthError as exc:
        where = fix if fix is not None else f"set {source} to"
        raise AuthError(
            exc.message, hint=f"{where} the full `mlk_user_...` key from your ML Arena profile"
        ) from None


def _shown(path: Path) -> str:
    """``path`` as the user would type it: relative to the current folder when under it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (OSError, ValueError):
        return str(path)


def resolve_token(target: Target, env: Mapping[str, str], api_key_file: Path | None) -> str:
    """The API token: ``--api-key-file`` > the variable ``api_key_env`` names. Never logged."""
    if api_key_file is not None:
        return read_api_key_file(api_key_file)
    var = target.api_key_env
    raw = env.get(var, "")
    if not raw.strip():
        named = "" if var == DEFAULT_API_KEY_ENV else " (named by api_key_env in mlarena.yaml)"
        raise ConfigError(
            f"no API token: set {var}{named} to your ML Arena API key",
            hint="the key is on your ML Arena profile page; --api-key-file FILE reads a file",
        )
    token = raw.strip()
    check_token_shape(token, var)
    return Token(token, var)


def read_api_key_file(api_key_file: Path) -> str:
    """The token in the file ``--api-key-file`` names, its shape checked; a token given in
    place of the path is refused without being echoed."""
    if mask_token_like(str(api_key_file)) != str(api_key_file):
        raise ConfigError(
            "--api-key-file was given what looks like an API token, not the path of a file "
            "holding one",
            hint=f"put the key in a file and pass its path, or set {DEFAULT_API_KEY_ENV}",
        )
    source = f"--api-key-file {api_key_file}"
    try:
        raw = Path(api_key_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read {source}: {reason}") from None
    if not raw.strip():
        raise ConfigError(f"{source} is empty", hint="put your ML Arena API key in it")
    token, shown = raw.strip(), _shown(api_key_file)
    check_token_shape(token, source, fix=f"fix {shown}: it must hold only")
    return Token(token, shown)
