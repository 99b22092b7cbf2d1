"""The project builder: ``mlarena.yaml`` beside the synced folder (``agent/``), and its files.

One ``write_config``, one ``make_project``, one ``agent_py``/``AGENT_PY``. The suites differ in
a few config values (the watch suite's debounce, the fault matrices' ``check: null``...): those
live here, as :data:`PRESETS`, not in each suite.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def agent_py(helper: str | None = None, name: str = "VALUE") -> str:
    """An ``agent.py``: one that plays 0, or (with ``helper``) one importing ``name`` from the
    module ``helper`` (the fake arena checks an agent's imports when it deploys)."""
    if helper is None:
        return "class Agent:\n    def predict(self, observation):\n        return 0\n"
    return (
        f"from {helper} import {name}\n\n\n"
        "class Agent:\n"
        "    def predict(self, observation):\n"
        f"        return {name} % 2\n"
    )


AGENT_PY = agent_py()

#: Each option of :func:`write_config`, by the section of ``mlarena.yaml`` it goes to.
SECTIONS: dict[str, tuple[str, ...]] = {
    "sync": ("mode", "delete", "max_delete"),
    "watch": ("quiet", "max_wait", "rescan", "remote_every"),
    "deploy": ("auto", "settle", "min_interval", "reserve", "check"),
}
_QUICK = {"mode": "safe", "delete": True, "max_delete": 5, "settle": 0.5, "min_interval": 0}
#: Config values of each suite's projects (a key left out keeps the product's default).
PRESETS: dict[str, dict[str, Any]] = {
    "cli": {"name": "cli-agent", **_QUICK, "reserve": 0},
    "faults": {
        "name": "faults-agent",
        **_QUICK,
        **{"quiet": 0.1, "max_wait": 1.0, "rescan": 0.0, "auto": False, "reserve": 0},
        "check": None,
    },
    "watch": {
        "name": "watch-agent",
        **_QUICK,
        **{"max_delete": 50, "quiet": 0.1, "max_wait": 2, "rescan": 0, "auto": False},
        **{"settle": 0.3, "reserve": 0, "check": None},
    },
}


def _yaml(value: object) -> str:
    """A scalar as written in mlarena.yaml; a ``str`` goes in as is (it may be quoted YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def write_config(
    folder: Path,
    server: str,
    preset: str = "cli",
    *,
    competition: int = 1,
    agent_id: int | None = None,
    root: str = "agent",
    extra: str = "",
    **options: Any,
) -> Path:
    """Write ``folder/mlarena.yaml``: ``preset``'s values, overridden by ``options`` (``name``
    and the keys of :data:`SECTIONS`); ``name=None`` leaves the agent unnamed; ``extra`` is
    appended as is. Its path."""
    values = {**PRESETS[preset], **options}
    name = values.pop("name", None)
    known = {key for keys in SECTIONS.values() for key in keys}
    unknown = sorted(set(values) - known)
    if unknown:
        raise TypeError(f"write_config: unknown option(s) {unknown}")
    agent = [f"  name: {name}"] if name is not None else []
    agent += [f"  id: {agent_id}"] if agent_id is not None else []
    lines = ["version: 1", f"server: {server}", f"competition: {competition}", "agent:", *agent]
    lines += ["files:", f"  root: {root}"]
    for section, keys in SECTIONS.items():
        present = [key for key in keys if key in values]
        if present:
            lines += [f"{section}:", *(f"  {key}: {_yaml(values[key])}" for key in present)]
    path = folder / "mlarena.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


@dataclass
class Project:
    """A project folder: ``mlarena.yaml``, the synced folder ``root`` and ``.mlarena-sync/``."""

    dir: Path
    url: str = ""
    root_name: str = "agent"

    @property
    def root(self) -> Path:
        return self.dir / self.root_name

    @property
    def config(self) -> Path:
        return self.dir / "mlarena.yaml"

    @property
    def state_dir(self) -> Path:
        return self.dir / ".mlarena-sync"

    def write(self, rel: str, data: str | bytes) -> Path:
        """Write ``<root>/<rel>`` (folders made as needed); its path."""
        path = self.root / rel
        write_file(path, data)
        return path

    def agent_id(self) -> int | None:
        """The agent id the state folder binds (searched in its JSON files); None if unbound."""
        for path in state_files(self):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError, OSError):
                continue
            found = _find_key(data, "agent_id")
            if isinstance(found, int):
                return found
        return None


def write_file(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def state_files(project: Project) -> list[Path]:
    if not project.state_dir.is_dir():
        return []
    files = (p for p in project.state_dir.rglob("*") if p.is_file())
    return sorted(files, key=lambda p: (p.name != "state.json", str(p)))  # the state first


def _find_key(data: object, key: str) -> object:
    if isinstance(data, dict):
        if data.get(key) is not None:
            return data[key]
        data = list(data.values())
    if isinstance(data, list):
        for value in data:
            got = _find_key(value, key)
            if got is not None:
                return got
    return None


def small_tree(helpers: int, *, binaries: int = 0, version: int = 0) -> dict[str, bytes]:
    """``agent.py`` + ``pkgN/helper_NN.py`` text helpers (+ a few binary weights)."""
    tree: dict[str, bytes] = {"agent.py": agent_py("helper_00").encode()}
    for i in range(helpers):
        tree[f"pkg{i % 3}/helper_{i:02d}.py"] = f"VALUE = {i}  # v{version}\n".encode()
    for i in range(binaries):
        tree[f"weights/w{i}.bin"] = bytes([0xFF, 0xFE, i, version % 256]) * 64
    return tree


def default_files(preset: str) -> dict[str, str | bytes]:
    """What a new project of each suite holds."""
    if preset == "faults":
        return dict(small_tree(4))
    if preset == "watch":
        return {"agent.py": AGENT_PY, "helper.py": "VALUE = 0\n"}
    return {
        "agent.py": agent_py("helper", "SIDE"),
        "lib/helper.py": "SIDE = 1\n",
        "notes.txt": "keep calm\n",
    }


def make_project(
    tmp: Path,
    server: str,
    preset: str = "cli",
    *,
    files: Mapping[str, str | bytes] | None = None,
    **config: Any,
) -> Project:
    """``tmp/proj``: ``mlarena.yaml`` (``preset`` + ``config``, see :func:`write_config`) and
    ``files`` (default: the preset's :func:`default_files`; the watch suite's ``files`` come
    beside its ``agent.py``)."""
    project = Project(tmp / "proj", server, str(config.get("root", "agent")))
    project.root.mkdir(parents=True, exist_ok=True)
    write_config(project.dir, server, preset, **config)
    tree = dict(default_files(preset))
    if files is not None:
        tree = {"agent.py": AGENT_PY, **files} if preset == "watch" else dict(files)
    for rel, data in tree.items():
        project.write(rel, data)
    return project


def local_selection(root: Path) -> dict[str, bytes]:
    """What the user expects remotely: every regular file under ``root``, by basename
    (``mlarena.yaml`` and dot-entries are ignored by design)."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or rel.name == "mlarena.yaml":
            continue
        if path.is_file() and not path.is_symlink():
            assert path.name not in out, f"test tree has a name clash: {path.name}"
            out[path.name] = path.read_bytes()
    return out
