"""``mlarena.yaml`` → frozen dataclasses (:mod:`.targets`): the loader.

The file format is the one ``docs/product.md`` shows (``version: 1``). Every problem is reported
as ``<file>:<line>: <dotted.key>: <what is wrong>`` so the user can jump straight to it; line
numbers come from the YAML node marks (``yaml.compose``), not from re-parsing text.

Precedence, written once: CLI flag > ``MLARENA_*`` environment > mlarena.yaml > defaults. The
file gives a :class:`Target`; :func:`~.overrides.apply_overrides` layers flags and environment on
top. The names of :mod:`.targets` and :mod:`.overrides` are importable from here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from mlarena_sync.config import yamlnodes as yn
from mlarena_sync.config.overrides import (
    apply_overrides,
    check_token_shape,
    resolve_token,
    validate_server,
)
from mlarena_sync.config.targets import (
    API_CHOICES,
    CONFIG_NAME,
    DEFAULT_API_KEY_ENV,
    DEFAULT_ENTRY,
    DEFAULT_SERVER,
    DEFAULT_TARGET_NAME,
    LIVE_CHOICES,
    SYNC_MODES,
    AgentSpec,
    Config,
    DeploySpec,
    FilesSpec,
    HistorySpec,
    RuntimeSpec,
    SyncSpec,
    Target,
    WatchSpec,
)
from mlarena_sync.config.template import render_init_yaml
from mlarena_sync.errors import ConfigError
from mlarena_sync.tokens import mask_token_like

__all__ = [
    "API_CHOICES",
    "CONFIG_NAME",
    "DEFAULT_API_KEY_ENV",
    "DEFAULT_ENTRY",
    "DEFAULT_SERVER",
    "DEFAULT_TARGET_NAME",
    "KNOWN_KEYS",
    "SYNC_MODES",
    "AgentSpec",
    "Config",
    "DeploySpec",
    "FilesSpec",
    "HistorySpec",
    "RuntimeSpec",
    "SyncSpec",
    "Target",
    "WatchSpec",
    "apply_overrides",
    "check_token_shape",
    "find_config",
    "load_config",
    "render_init_yaml",
    "resolve_token",
    "validate_server",
]


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SAFE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9-])?\Z")


# ---------------------------------------------------------------- schema
# section -> {key: kind}; kinds are read by _read_value below.
_SECTIONS: dict[str, dict[str, str]] = {
    "agent": {"name": "name", "id": "id"},
    "runtime": {"id": "id", "language": "str", "framework": "str", "framework_version": "str"},
    "files": {
        "root": "str",
        "include": "patterns",
        "exclude": "patterns",
        "gitignore": "bool",
        "allow": "patterns",
    },
    "sync": {
        "mode": "mode",
        "delete": "bool",
        "max_delete": "count",
        "request_deadline": "positive",
        "live": "live",
    },
    "watch": {
        "quiet": "seconds",
        "max_wait": "seconds",
        "rescan": "seconds",
        "remote_every": "seconds",
    },
    "deploy": {
        "auto": "bool",
        "settle": "seconds",
        "min_interval": "seconds",
        "reserve": "count",
        "check": "command",
        "check_timeout": "positive",
    },
    "history": {"keep_bytes": "count"},
}
_SCALARS: dict[str, str] = {
    "name": "name",
    "server": "server",
    "competition": "id",
    "api_key_env": "env",
    "entry": "entry",
    "api": "api",
}
#: Today's platform words, read as the words the file format started with (api-v4.md, "Words").
ALIASES: dict[str, str] = {"challenge": "competition", "submission": "agent"}
_TOP_ONLY = ("version", "targets")

KNOWN_KEYS: frozenset[str] = frozenset(
    [*_TOP_ONLY, *_SCALARS, *ALIASES]
    + list(_SECTIONS)
    + [f"{s}.{k}" for s, keys in _SECTIONS.items() for k in keys]
    + [f"{a}.{k}" for a, s in ALIASES.items() if s in _SECTIONS for k in _SECTIONS[s]]
)

_Values = dict[str, object]


def _check_env_name(r: yn.Reader, node: yn.Node, key: str, text: str) -> None:
    """``api_key_env`` names a variable; a token pasted there is refused without quoting it."""
    if mask_token_like(text) != text:
        raise r.error(
            node,
            key,
            "holds what looks like an API token itself, not the name of a variable: remove "
            f"it from mlarena.yaml (and revoke it if the file was shared), put it in "
            f"{DEFAULT_API_KEY_ENV} and write `api_key_env: {DEFAULT_API_KEY_ENV}` or leave it out",
        )
    if not _ENV_NAME.match(text):
        raise r.error(node, key, f"{mask_token_like(text)!r} is not an environment variable name")


def _read_value(r: yn.Reader, kind: str, node: yn.Node, key: str) -> object:
    if kind == "bool":
        return r.boolean(node, key)
    if kind == "id":
        return r.integer(node, key, minimum=1)
    if kind == "count":
        return r.integer(node, key, minimum=0)
    if kind == "seconds":
        return r.number(node, key, minimum=0.0)
    if kind == "positive":
        value = r.number(node, key, minimum=0.0)
        if value == 0:
            raise r.error(node, key, "must be more than 0")
        return value
    if kind == "patterns":
        return tuple(r.str_list(node, key))
    if kind == "command":
        text = r.optional_str(node, key)
        return text if text and text.strip() else None
    text = r.string(node, key)
    if kind == "name" and not text.strip():
        raise r.error(node, key, "must not be empty")
    if kind == "api" and text not in API_CHOICES:
        raise r.error(node, key, f"must be one of {', '.join(API_CHOICES)} (got {text!r})")
    if kind == "mode" and text not in SYNC_MODES:
        raise r.error(node, key, f"must be one of {', '.join(SYNC_MODES)} (got {text!r})")
    if kind == "live" and text not in LIVE_CHOICES:
        raise r.error(node, key, f"must be one of {', '.join(LIVE_CHOICES)} (got {text!r})")
    if kind == "env":
        _check_env_name(r, node, key, text)
    if kind == "entry" and not _SAFE_NAME.match(text):
        raise r.error(node, key, f"{text!r} is not a file name the server can store")
    if kind == "server":
        try:
            return validate_server(text)
        except ConfigError as exc:
            raise r.error(node, key, exc.message) from None
    return text


def _parse_block(r: yn.Reader, node: yn.Node, prefix: str, *, top: bool) -> _Values:
    """One target block (or the top level): only the keys present, validated."""
    out: _Values = {}
    for given, (knode, vnode) in r.mapping(node, prefix).items():
        name = ALIASES.get(given, given)
        key = f"{prefix}.{given}" if prefix else given
        if name != given and name in out:
            raise r.error(knode, key, f"give {given}: or {name}: (the same thing), not both")
        if name in ("api_key", "token", "api_token"):
            raise r.error(
                knode,
                key,
                "the API token never goes in mlarena.yaml (it would end up in git); "
                f"set {DEFAULT_API_KEY_ENV}, name another variable with api_key_env:, "
                "or pass --api-key-file FILE",
            )
        if top and name in _TOP_ONLY:
            continue
        if name in _SCALARS:
            out[name] = _read_value(r, _SCALARS[name], vnode, key)
        elif name in _SECTIONS:
            if name == "runtime" and r.is_null(vnode):
                out[name] = None
                continue
            section: _Values = {}
            # A section with every key commented out reads as null: all defaults.
            fields = {} if r.is_null(vnode) else r.mapping(vnode, key)
            for sub, (sknode, svnode) in fields.items():
                skey = f"{key}.{sub}"
                kind = _SECTIONS[name].get(sub)
                if kind is None:
                    raise r.unknown(sknode, skey, _SECTIONS[name])
                section[sub] = _read_value(r, kind, svnode, skey)
                section[f"_line_{sub}"] = r.line(svnode)
            section["_line"] = r.line(vnode)
            out[name] = section
        else:
            allowed = [*_SCALARS, *_SECTIONS, *ALIASES] + (list(_TOP_ONLY) if top else [])
            raise r.unknown(knode, key, allowed)
    out["_line"] = r.line(node)
    return out


def _merge(base: _Values, over: _Values) -> _Values:
    merged = dict(base)
    for key, value in over.items():
        old = merged.get(key)
        if key != "runtime" and isinstance(old, dict) and isinstance(value, dict):
            merged[key] = {**old, **value}
        else:
            merged[key] = value
    return merged


def _section(values: _Values, name: str) -> _Values:
    got = values.get(name)
    return got if isinstance(got, dict) else {}


_Error = Callable[[str, "_Values | None", str], ConfigError]


def _error_at(r: yn.Reader, v: _Values, prefix: str) -> _Error:
    """``err(key, section, problem)``: a :class:`ConfigError` at the line of ``key``."""

    def err(key: str, section: _Values | None, problem: str) -> ConfigError:
        where = section if section and "_line" in section else v
        line = where.get(f"_line_{key.rsplit('.', 1)[-1]}") or where["_line"]
        return ConfigError(f"{r.path}:{line}: {prefix}{key}: {problem}")

    return err


def _plain(values: _Values) -> _Values:
    return {k: x for k, x in values.items() if not k.startswith("_")}


def _agent(v: _Values, err: _Error) -> AgentSpec:
    a = _section(v, "agent")
    agent = AgentSpec(name=a.get("name"), id=a.get("id"))  # type: ignore[arg-type]
    if agent.name is None and agent.id is None:
        raise err(
            "agent",
            a,
            "give `name:` (the agent created on first push) or `id:` (an existing one) under "
            "`submission:` (or `agent:`, the same section)",
        )
    return agent


def _runtime(v: _Values, err: _Error) -> RuntimeSpec | None:
    if v.get("runtime") is None:
        return None
    rt = _section(v, "runtime")
    runtime = RuntimeSpec(**_plain(rt))  # type: ignore[arg-type]
    others = (runtime.language, runtime.framework, runtime.framework_version)
    if runtime.id is not None and any(x is not None for x in others):
        raise err("runtime.id", rt, "give either runtime.id or language/framework, not both")
    return None if runtime == RuntimeSpec() else runtime


def _files(r: yn.Reader, v: _Values, err: _Error) -> FilesSpec:
    f = _section(v, "files")
    root = (r.path.parent / str(f.get("root", "."))).resolve()
    if not root.is_dir():
        raise err("files.root", f, f"{root} is not a folder")
    return FilesSpec(root=root, **{k: x for k, x in _plain(f).items() if k != "root"})  # type: ignore[arg-type]


def _build(r: yn.Reader, v: _Values, prefix: str, name: str) -> Target:
    err = _error_at(r, v, prefix)
    if "competition" not in v:
        raise err(
            "challenge",
            None,
            "missing: the challenge id (the number in its URL; `competition:` is the same key)",
        )
    agent, runtime, files = _agent(v, err), _runtime(v, err), _files(r, v, err)
    sync = SyncSpec(**_plain(_section(v, "sync")))  # type: ignore[arg-type]
    w = _section(v, "watch")
    watch = WatchSpec(**_plain(w))  # type: ignore[arg-type]
    if watch.max_wait < watch.quiet:
        raise err("watch.max_wait", w, f"must be at least watch.quiet ({watch.quiet})")
    entry = str(v.get("entry", DEFAULT_ENTRY))
    d = _plain(_section(v, "deploy"))
    d.setdefault("check", f"python -m py_compile {entry}")
    return Target(
        name=name,
        server=str(v.get("server", DEFAULT_SERVER)),
        competition=int(v["competition"]),  # type: ignore[call-overload]
        agent=agent,
        runtime=runtime,
        files=files,
        sync=sync,
        watch=watch,
        deploy=DeploySpec(**d),  # type: ignore[arg-type]
        history=HistorySpec(**_plain(_section(v, "history"))),  # type: ignore[arg-type]
        api_key_env=str(v.get("api_key_env", DEFAULT_API_KEY_ENV)),
        entry=entry,
        api=str(v.get("api", "auto")),
        config_path=r.path,
    )


def load_config(path: Path) -> Config:
    """Read and validate ``path``; every problem is a :class:`ConfigError` with file:line: key."""
    path = Path(path).absolute()
    r = yn.Reader(path)
    root = r.compose()
    if root is None:
        raise ConfigError(f"{path}: the file is empty", hint="run `mlarena-sync init`")
    top = r.mapping(root, "")
    version = 1
    if "version" in top:
        vnode = top["version"][1]
        version = r.integer(vnode, "version", minimum=0)
        if version != 1:
            raise r.error(vnode, "version", f"this mlarena-sync reads version 1, not {version}")
    shared = _parse_block(r, root, "", top=True)
    if "targets" not in top:
        name = str(shared.get("name", DEFAULT_TARGET_NAME))
        return Config(path, version, (_build(r, shared, "", name),))

    tnode = top["targets"][1]
    if "name" in shared:
        raise r.error(top["name"][0], "name", "with targets:, put name: inside each entry")
    targets: list[Target] = []
    seen: set[str] = set()
    items = r.sequence(tnode, "targets")
    if not items:
        raise r.error(tnode, "targets", "must list at least one target")
    for i, item in enumerate(items):
        prefix = f"targets[{i}]"
        block = _parse_block(r, item, prefix, top=False)
        if "name" not in block:
            raise r.error(item, f"{prefix}.name", "missing: each target needs a name")
        tname = str(block["name"])
        if tname in seen:
            raise r.error(item, f"{prefix}.name", f"duplicate target name {tname!r}")
        seen.add(tname)
        targets.append(_build(r, _merge(shared, block), f"{prefix}.", tname))
    return Config(path, version, tuple(targets))


def find_config(start: Path) -> Path:
    """``start/mlarena.yaml``, else the nearest parent's (like git finds ``.git``)."""
    start = Path(start).absolute()
    if start.is_file():
        return start
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {CONFIG_NAME} in {start} or any parent folder",
        hint="run `mlarena-sync init` to create one, or pass --config FILE",
    )
