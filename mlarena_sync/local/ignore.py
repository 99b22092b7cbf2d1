"""Which local files are synced: include/exclude patterns, ignore files, built-in ignores.

Everything uses git's ignore semantics through ``pathspec.GitIgnoreSpec``. A path is judged by
layers, the last layer with a matching pattern deciding (so a later ``!pattern`` re-includes):

1. built-in hard ignores (VCS folders, caches, virtualenvs, editor swap files, our own state and
   ``mlarena.yaml``): final, nothing re-includes them;
2. built-in soft ignore ``.*``: dotfiles, whose names the server cannot store; a ``!name`` line in
   ``.mlarenaignore`` (or ``files.exclude``) brings one back;
3. with ``gitignore: true``: each folder's ``.gitignore`` then ``.mlarenaignore``, from the root
   down (deeper files win, patterns relative to their folder), like git;
4. ``files.exclude``;
5. finally a file must match ``files.include``.

A folder that is ignored is never entered (the scanner and the watcher ask
:meth:`Selector.is_dir_ignored`), so a file under it cannot be re-included, as in git.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

from pathspec import GitIgnoreSpec

from mlarena_sync.config.model import CONFIG_NAME, FilesSpec

__all__ = ["HARD_IGNORES", "IGNORE_FILES", "SOFT_IGNORES", "Selector"]

HARD_IGNORES: tuple[str, ...] = (
    # version control and our own state
    ".git/",
    ".hg/",
    ".svn/",
    ".mlarena-sync/",
    # Python and tool caches, virtualenvs, node
    "__pycache__/",
    "*.pyc",
    "*.pyo",
    ".venv/",
    "venv/",
    "node_modules/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".ipynb_checkpoints/",
    # editor swap / backup / probe files (vim, emacs, kate, macOS)
    "*.swp",
    "*.swo",
    "*.swx",
    "*~",
    ".#*",
    "\\#*#",  # emacs autosave ("\\#": a leading # starts a comment)
    ".DS_Store",
    "4913",
    "*.tmp",
    ".*.kate-swp",
    # the config file itself, and our crash logs (written where the state folder is missing)
    f"/{CONFIG_NAME}",
    "mlarena-sync-crash-*.log",
)
SOFT_IGNORES: tuple[str, ...] = (".*",)
IGNORE_FILES: tuple[str, ...] = (".gitignore", ".mlarenaignore")
# A folder holding one of these is a Python environment, whatever its name (env/, .conda/, ...).
_ENV_MARKERS = ("pyvenv.cfg", "conda-meta")


def _spec(lines: Iterable[str]) -> GitIgnoreSpec:
    return GitIgnoreSpec.from_lines(list(lines))


def _parent(rel: str) -> str:
    return rel.rpartition("/")[0]


class Selector:
    """Decides, for paths relative to ``files.root`` (posix, no leading ``./``), what is synced."""

    def __init__(self, files: FilesSpec, *, config_path: Path | None = None) -> None:
        self.root = files.root
        self.use_ignore_files = files.gitignore
        self._hard = _spec(HARD_IGNORES)
        self._extra_hard: set[str] = set()
        if config_path is not None:
            with contextlib.suppress(ValueError):  # ValueError: it lives outside the root
                self._extra_hard.add(config_path.resolve().relative_to(self.root).as_posix())
        self._soft = _spec(SOFT_IGNORES)
        self._exclude = _spec(files.exclude)
        self._include = _spec(files.include)
        self._ignore_specs: dict[str, list[GitIgnoreSpec]] = {}
        self._dir_cache: dict[str, bool] = {}

    # ---------------------------------------------------------------- cache
    def refresh(self) -> None:
        """Forget cached ignore files and folder verdicts (call when an ignore file may have
        changed; :func:`mlarena_sync.local.scan.scan` calls it at the start of every scan)."""
        self._ignore_specs.clear()
        self._dir_cache.clear()

    @staticmethod
    def is_ignore_file(rel_path: str) -> bool:
        """True for ``.gitignore`` / ``.mlarenaignore``: a change to one needs :meth:`refresh`."""
        return rel_path.rpartition("/")[2] in IGNORE_FILES

    def _specs_in(self, rel_dir: str) -> list[GitIgnoreSpec]:
        """The parsed ignore files of one folder (``""`` = root), ``.gitignore`` first."""
        cached = self._ignore_specs.get(rel_dir)
        if cached is not None:
            return cached
        specs: list[GitIgnoreSpec] = []
        folder = self.root / rel_dir if rel_dir else self.root
        for name in IGNORE_FILES:
            try:
                text = (folder / name).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            specs.append(_spec(text.splitlines()))
        self._ignore_specs[rel_dir] = specs
        return specs

    # ---------------------------------------------------------------- verdicts
    def _ignored(self, rel: str, *, is_dir: bool) -> bool:
        """Layers 1-4 for one path (not its ancestors); ``rel`` has no trailing slash."""
        probe = rel + "/" if is_dir else rel
        if rel in self._extra_hard or self._hard.match_file(probe):
            return True
        ignored = bool(self._soft.match_file(probe))
        if self.use_ignore_files:
            parts = rel.split("/")
            for depth in range(len(parts)):
                base = "/".join(parts[:depth])
                sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
                for spec in self._specs_in(base):
                    verdict = spec.check_file(sub).include
                    if verdict is not None:
                        ignored = verdict
        verdict = self._exclude.check_file(probe).include
        if verdict is not None:
            ignored = verdict
        return ignored

    def is_dir_ignored(self, rel_dir: str) -> bool:
        """True when the folder (or one of its parents) is ignored: never descend into it."""
        rel_dir = rel_dir.strip("/")
        if not rel_dir or rel_dir == ".":
            return False
        cached = self._dir_cache.get(rel_dir)
        if cached is not None:
            return cached
        parent = _parent(rel_dir)
        result = (
            (bool(parent) and self.is_dir_ignored(parent))
            or self._ignored(rel_dir, is_dir=True)
            or any((self.root / rel_dir / marker).exists() for marker in _ENV_MARKERS)
        )
        self._dir_cache[rel_dir] = result
        return result

    def is_file_selected(self, rel_path: str) -> bool:
        """The file's own verdict, its folders being known not ignored (the scanner's case)."""
        return not self._ignored(rel_path, is_dir=False) and bool(
            self._include.match_file(rel_path)
        )

    def is_selected(self, rel_path: str) -> bool:
        """Whether the file at ``rel_path`` is synced, its folders included (the watcher's case)."""
        rel_path = rel_path.strip("/")
        if not rel_path or rel_path == ".":
            return False
        parent = _parent(rel_path)
        if parent and self.is_dir_ignored(parent):
            return False
        return self.is_file_selected(rel_path)
