"""The ``watch`` banner: what is watched, for which agent, on which server, under which rules.

Built from the ``watching`` event's fields (``root``, ``agent_id``, ``agent_name``,
``competition``, ``challenge``, ``server``, ``api``, ``deploys_left``, ``deploys_limit``,
``deploy_auto``, ``settle``, ``min_interval``, ``reserve``, ``check``, ``live``, ``quiet``,
``max_wait``); any of them may be missing (an older emitter, a server that did not answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mlarena_sync.cli.human import fmt
from mlarena_sync.cli.human.line import Line

__all__ = ["watching"]


def _seconds(value: object) -> str:
    return fmt.duration(float(value)) if isinstance(value, (int, float)) else "?"


def _agent(f: Mapping[str, Any]) -> str:
    aid, name = f.get("agent_id"), f.get("agent_name")
    if aid is None:
        return f"a new agent on first save{f' ({name})' if name else ''}"
    return f"{aid} {name}" if name else str(aid)


def _challenge(f: Mapping[str, Any]) -> str | None:
    cid, name = f.get("competition"), f.get("challenge")
    if cid is None:
        return None
    return f"{cid} {name}" if name else str(cid)


def _server(f: Mapping[str, Any]) -> str | None:
    server, api = f.get("server"), f.get("api")
    if not server:
        return None
    return f"{server} (API {api})" if api else str(server)


def _quota(f: Mapping[str, Any]) -> str | None:
    left, limit, reserve = f.get("deploys_left"), f.get("deploys_limit"), f.get("reserve")
    if left is None:
        return None
    text = f"{left} of {limit} left today" if limit is not None else f"{left} left today"
    if isinstance(reserve, int) and reserve > 0 and f.get("deploy_auto"):
        text += f", {reserve} kept in reserve (deploy.reserve)"
    return text


def _rules(f: Mapping[str, Any]) -> str | None:
    if "deploy_auto" not in f:
        return None
    if not f.get("deploy_auto"):
        return "never: every save is synced, not deployed (deploy.auto: false)"
    text = f"{_seconds(f.get('settle'))} after the last save"
    if f.get("min_interval"):
        text += f", at most one per {_seconds(f.get('min_interval'))}"
    return text


def _check(f: Mapping[str, Any]) -> str | None:
    if not f.get("check") or not f.get("deploy_auto"):
        return None
    return f"`{f['check']}` must pass before a deploy"


def _sync(f: Mapping[str, Any]) -> str | None:
    if "quiet" not in f:
        return None
    text = f"synced after {_seconds(f.get('quiet'))} of quiet"
    if f.get("max_wait"):
        text += f" (at most {_seconds(f.get('max_wait'))})"
    if f.get("live") == "keep":
        text += "; edits to the live agent held until a deploy can follow (sync.live: keep)"
    return text


def watching(f: Mapping[str, Any], now: datetime) -> Line:
    """``watching <root> (Ctrl-C stops)`` and one dim line per known fact."""
    rows = [
        ("agent", _agent(f) if "agent_id" in f else None),
        ("challenge", _challenge(f)),
        ("server", _server(f)),
        ("deploys", _quota(f)),
        ("deploy", _rules(f)),
        ("check", _check(f)),
        ("saves", _sync(f)),
    ]
    more = tuple(f"  {label:<10} {value}" for label, value in rows if value)
    return Line("start", f"watching {f.get('root')}", "Ctrl-C stops", more)
