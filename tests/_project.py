"""A project folder on disk for the end-to-end suites (``tests/cli``, ``tests/watch``):
``mlarena.yaml`` beside the synced folder ``agent/``.

Importable as ``_project`` (``tests/`` is on ``sys.path`` through its rootdir ``conftest.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class ProjectDir:
    dir: Path

    @property
    def root(self) -> Path:
        return self.dir / "agent"

    @property
    def config(self) -> Path:
        return self.dir / "mlarena.yaml"

    def write(self, rel: str, text: str) -> Path:
        """Write ``agent/<rel>`` (folders made as needed); its path."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path
