r"""What ``mlarena.yaml`` describes, as frozen dataclasses: a :class:`Config` of :class:`Target`\ s.

Read by :func:`~mlarena_sync.config.model.load_config`; flags and ``MLARENA_*`` variables are
layered on top by :func:`~mlarena_sync.config.overrides.apply_overrides`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlarena_sync.errors import ConfigError

__all__ = [
    "API_CHOICES",
    "CONFIG_NAME",
    "DEFAULT_API_KEY_ENV",
    "DEFAULT_ENTRY",
    "DEFAULT_SERVER",
    "DEFAULT_TARGET_NAME",
    "LIVE_CHOICES",
    "SYNC_MODES",
    "AgentSpec",
    "Config",
    "DeploySpec",
    "FilesSpec",
    "RuntimeSpec",
    "SyncSpec",
    "Target",
    "WatchSpec",
]

CONFIG_NAME = "mlarena.yaml"
DEFAULT_SERVER = "https://ml-arena.com"
DEFAULT_API_KEY_ENV = "MLARENA_API_KEY"
DEFAULT_ENTRY = "agent.py"
DEFAULT_TARGET_NAME = "default"
SYNC_MODES = ("safe", "replica")
#: ``sync.live``: ``follow`` uploads every save; ``keep`` holds edits to a live agent (``watch``)
#: until a deploy can follow them.
LIVE_CHOICES = ("follow", "keep")
#: ``api:`` values: ``auto`` detects the server's generation once and remembers it.
API_CHOICES = ("auto", "v0", "v4.6")


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
    live: str = "follow"  # LIVE_CHOICES
    #: Seconds one API call may take in all, retries included (uploads and downloads: 15 times
    #: as long): a server trickling its reply cannot hold a command for minutes.
    request_deadline: float = 60.0


@dataclass(frozen=True)
class WatchSpec:
    quiet: float = 0.3
    max_wait: float = 5.0
    rescan: float = 30.0
    #: Seconds between reads of the agent's status and file list (browser edits, deletions,
    #: the agent leaving ``active``); 0 = never (the server is then read on local edits only).
    remote_every: float = 30.0


@dataclass(frozen=True)
class DeploySpec:
    auto: bool = True
    settle: float = 10.0
    min_interval: float = 60.0
    reserve: int = 1
    check: str | None = "python -m py_compile agent.py"
    check_timeout: float = 120.0


#: The deploy ledger's object store keeps at most this many bytes (``history.keep_bytes``).
DEFAULT_KEEP_BYTES = 500_000_000


@dataclass(frozen=True)
class HistorySpec:
    keep_bytes: int = DEFAULT_KEEP_BYTES


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
    history: HistorySpec = field(default_factory=HistorySpec)
    api_key_env: str = DEFAULT_API_KEY_ENV
    entry: str = DEFAULT_ENTRY
    api: str = "auto"  # the API generation: auto (detected once per server), v0 or v4.6
    #: What set ``api``: ``api:`` (the file, or its default), ``--api`` or ``MLARENA_API``; a
    #: server that speaks another generation is told with a hint naming it.
    api_source: str = "api:"
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
