"""``mlarena.yaml`` → frozen dataclasses, and the API token lookup.

The file format is the one ``docs/product.md`` shows (``version: 1``). Every problem is reported
as ``<file>:<line>: <dotted.key>: <what is wrong>`` so the user can jump straight to it; line
numbers come from the YAML node marks (``yaml.compose``), not from re-parsing text.

Precedence, written once: CLI flag > ``MLARENA_*`` environment > mlarena.yaml > defaults. The
file gives a :class:`Target`; :func:`apply_overrides` layers flags and environment on top.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from mlarena_sync.config import yamlnodes as yn
from mlarena_sync.config.template import render_init_yaml
from mlarena_sync.errors import ConfigError
from mlarena_sync.tokens import check_url, parse_token

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_API_KEY_ENV",
    "DEFAULT_SERVER",
    "KNOWN_KEYS",
    "AgentSpec",
    "Config",
    "DeploySpec",
    "FilesSpec",
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

CONFIG_NAME = "mlarena.yaml"
DEFAULT_SERVER = "https://ml-arena.com"
DEFAULT_API_KEY_ENV = "MLARENA_API_KEY"
DEFAULT_ENTRY = "agent.py"
DEFAULT_TARGET_NAME = "default"
SYNC_MODES = ("safe", "replica")

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SAFE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9-])?\Z")


@dataclass(frozen=True)
class AgentSpec:
    name: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class RuntimeSpec:
    id: int | None = None
    language: str | None = None
    framework: str | None = None
    framework_version: str | None = None


@dataclass(frozen=True)
class FilesSpec:
    root: Path
    include: tuple[str, ...] = ("**",)
    exclude: tuple[str, ...] = (".venv/", "tests/", "*.ipynb")
    gitignore: bool = True
    allow: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncSpec:
    mode: str = "safe"
    delete: bool = True
    max_delete: int = 5


@dataclass(frozen=True)
class WatchSpec:
    quiet: float = 0.3
    max_wait: float = 5.0
    rescan: float = 30.0


@dataclass(frozen=True)
class DeploySpec:
    auto: bool = True
    settle: float = 10.0
    min_interval: float = 60.0
    reserve: int = 1
    check: str | None = "python -m py_compile agent.py"
    check_timeout: float = 120.0


@dataclass(frozen=True)
class Target:
    name: str
    server: str
    competition: int
    agent: AgentSpec
    runtime: RuntimeSpec | None
    files: FilesSpec
    sync: SyncSpec = field(default_factory=SyncSpec)
    watch: WatchSpec = field(default_factory=WatchSpec)
    deploy: DeploySpec = field(default_factory=DeploySpec)
    api_key_env: str = DEFAULT_API_KEY_ENV
    entry: str = DEFAULT_ENTRY
    api: str = "auto"  # the API generation: auto (detected once per server), v0 or v4.6
    config_path: Path | None = None  # the mlarena.yaml it came from (state lives beside it)


@dataclass(frozen=True)
class Config:
    path: Path
    version: int
    targets: tuple[Target, ...]

    @property
    def target_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.targets)

    def target(self, name: str | None = None) -> Target:
        """The target called ``name``; ``None`` picks the only one (error if there are several)."""
        if name is None:
            if len(self.targets) == 1:
                return self.targets[0]
            raise ConfigError(
                f"{self.path}: several targets ({', '.join(self.target_names)}); "
                "choose one with --target NAME"
            )
        for t in self.targets:
            if t.name == name:
                return t
        raise ConfigError(
            f"{self.path}: no target named {name!r}; known: {', '.join(self.target_names)}"
        )


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
    "sync": {"mode": "mode", "delete": "bool", "max_delete": "count"},
    "watch": {"quiet": "seconds", "max_wait": "seconds", "rescan": "seconds"},
    "deploy": {
        "auto": "bool",
        "settle": "seconds",
        "min_interval": "seconds",
        "reserve": "count",
        "check": "command",
        "check_timeout": "positive",
    },
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
#: ``api:`` values: ``auto`` detects the server's generation once and remembers it.
API_CHOICES = ("auto", "v0", "v4.6")
_TOP_ONLY = ("version", "targets")

KNOWN_KEYS: frozenset[str] = frozenset(
    [*_TOP_ONLY, *_SCALARS, *ALIASES]
    + list(_SECTIONS)
    + [f"{s}.{k}" for s, keys in _SECTIONS.items() for k in keys]
    + [f"{a}.{k}" for a, s in ALIASES.items() if s in _SECTIONS for k in _SECTIONS[s]]
)

_Values = dict[str, object]


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
    if kind == "env" and not _ENV_NAME.match(text):
        raise r.error(node, key, f"{text!r} is not an environment variable name")
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


def _build(r: yn.Reader, v: _Values, prefix: str, name: str) -> Target:
    def err(key: str, section: _Values | None, problem: str) -> ConfigError:
        where = section if section and "_line" in section else v
        line = where.get(f"_line_{key.rsplit('.', 1)[-1]}") or where["_line"]
        return ConfigError(f"{r.path}:{line}: {prefix}{key}: {problem}")

    if "competition" not in v:
        raise err(
            "challenge",
            None,
            "missing: the challenge id (the number in its URL; `competition:` is the same key)",
        )
    a = _section(v, "agent")
    agent = AgentSpec(name=a.get("name"), id=a.get("id"))  # type: ignore[arg-type]
    if agent.name is None and agent.id is None:
        raise err(
            "agent",
            a,
            "give agent.name (created on first push) or agent.id (`submission:` is "
            "the same section)",
        )

    runtime: RuntimeSpec | None = None
    if v.get("runtime") is not None:
        rt = _section(v, "runtime")
        runtime = RuntimeSpec(**{k: x for k, x in rt.items() if not k.startswith("_")})  # type: ignore[arg-type]
        others = (runtime.language, runtime.framework, runtime.framework_version)
        if runtime.id is not None and any(x is not None for x in others):
            raise err("runtime.id", rt, "give either runtime.id or language/framework, not both")
        if runtime == RuntimeSpec():
            runtime = None

    f = _section(v, "files")
    base_dir = r.path.parent
    root = (base_dir / str(f.get("root", "."))).resolve()
    if not root.is_dir():
        raise err("files.root", f, f"{root} is not a folder")
    files = FilesSpec(
        root=root,
        **{k: x for k, x in f.items() if not k.startswith("_") and k != "root"},  # type: ignore[arg-type]
    )

    def plain(values: _Values) -> _Values:
        return {k: x for k, x in values.items() if not k.startswith("_")}

    sync = SyncSpec(**plain(_section(v, "sync")))  # type: ignore[arg-type]
    w = _section(v, "watch")
    watch = WatchSpec(**plain(w))  # type: ignore[arg-type]
    if watch.max_wait < watch.quiet:
        raise err("watch.max_wait", w, f"must be at least watch.quiet ({watch.quiet})")
    entry = str(v.get("entry", DEFAULT_ENTRY))
    d = plain(_section(v, "deploy"))
    d.setdefault("check", f"python -m py_compile {entry}")
    deploy = DeploySpec(**d)  # type: ignore[arg-type]
    return Target(
        name=name,
        server=str(v.get("server", DEFAULT_SERVER)),
        competition=int(v["competition"]),  # type: ignore[call-overload]
        agent=agent,
        runtime=runtime,
        files=files,
        sync=sync,
        watch=watch,
        deploy=deploy,
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
    if server is not None:
        changes["server"] = validate_server(server, source="--server")
    elif env.get("MLARENA_SERVER", "").strip():
        changes["server"] = validate_server(env["MLARENA_SERVER"], source="MLARENA_SERVER")
    if competition is not None:
        changes["competition"] = competition
    if agent_id is not None:
        changes["agent"] = dataclasses.replace(target.agent, id=agent_id)
    return dataclasses.replace(target, **changes)  # type: ignore[arg-type]


def check_token_shape(token: str, source: str) -> None:
    """Raise :class:`AuthError` for a token that is not ``mlk_<scope>_<lookup>_<secret>``."""
    parse_token(token, source=source)


def resolve_token(target: Target, env: Mapping[str, str], api_key_file: Path | None) -> str:
    """The API token: ``--api-key-file`` > the variable ``api_key_env`` names. Never logged."""
    if api_key_file is not None:
        source = f"--api-key-file {api_key_file}"
        try:
            raw = Path(api_key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(f"cannot read {source}: {reason}") from None
        if not raw.strip():
            raise ConfigError(f"{source} is empty", hint="put your ML Arena API key in it")
    else:
        var = target.api_key_env
        source = var
        raw = env.get(var, "")
        if not raw.strip():
            named = "" if var == DEFAULT_API_KEY_ENV else " (named by api_key_env in mlarena.yaml)"
            raise ConfigError(
                f"no API token: set {var}{named} to your ML Arena API key",
                hint="or pass --api-key-file FILE; the key is on your ML Arena profile page",
            )
    token = raw.strip()
    check_token_shape(token, source)
    return token
