"""The runtime ``runtime:`` in mlarena.yaml asks for, among those a challenge offers: by ``id``,
or by language / framework / version (a version prefix matches: ``"1"`` matches ``1.0.0``);
refused with the list of what is offered when none matches.
"""

from __future__ import annotations

import dataclasses
import json

from mlarena_sync.api.models import Runtime
from mlarena_sync.config.model import Target
from mlarena_sync.errors import ConfigError

__all__ = ["resolve_runtime", "runtime_spec_key", "runtime_text"]


def runtime_text(r: Runtime) -> str:
    parts = [f"id {r.id}: {r.language or '?'}"]
    if r.language_version:
        parts.append(r.language_version)
    if r.framework:
        parts.append(f"/ {r.framework}")
    if r.framework_version:
        parts.append(r.framework_version)
    return " ".join(parts)


def _version_matches(wanted: str | None, actual: str | None) -> bool:
    if wanted is None:
        return True
    if actual is None:
        return False
    return actual == wanted or actual.startswith(wanted + ".")


def runtime_spec_key(target: Target) -> str | None:
    """``runtime:`` of ``target`` as one string (None when it asks for none): kept in the state
    beside the runtime it resolved to, so an unchanged ``runtime:`` is not resolved again."""
    spec = target.runtime
    return None if spec is None else json.dumps(dataclasses.asdict(spec), sort_keys=True)


def resolve_runtime(target: Target, options: list[Runtime]) -> Runtime | None:
    """The runtime ``runtime:`` asks for, among the competition's; None when none is asked for.

    :class:`ConfigError` listing what exists when nothing matches."""
    spec = target.runtime
    if spec is None:
        return None
    if spec.id is not None:
        found = [r for r in options if r.id == spec.id]
    else:
        found = [
            r
            for r in options
            if (spec.language is None or (r.language or "").lower() == spec.language.lower())
            and (spec.framework is None or (r.framework or "").lower() == spec.framework.lower())
            and _version_matches(spec.framework_version, r.framework_version)
        ]
    if found:
        return found[-1]
    wanted = (
        f"id {spec.id}"
        if spec.id is not None
        else " / ".join(
            x for x in (spec.language, spec.framework, spec.framework_version) if x is not None
        )
    )
    known = "; ".join(runtime_text(r) for r in options) or "none"
    raise ConfigError(
        f"runtime {wanted} is not offered by challenge {target.competition}; it offers: {known}",
        hint="fix `runtime:` in mlarena.yaml (or remove it for the challenge's default)",
    )
