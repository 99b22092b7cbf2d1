"""docs/ARCHITECTURE.md names every module of the package and the interfaces others code against."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import mlarena_sync
from mlarena_sync.engine.gate import DeployContext
from mlarena_sync.engine.reconcile import ReconcileOptions, ReconcileResult

PACKAGE = Path(mlarena_sync.__file__).resolve().parent
DOC = (PACKAGE.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")


def test_every_module_is_in_the_layout() -> None:
    layout = DOC.partition("```\nmlarena_sync/\n")[2].partition("```")[0]
    names = {line.split()[0] for line in layout.splitlines() if line.strip()}
    modules = {p.name for p in PACKAGE.glob("*.py") if not p.name.startswith("_")}
    assert modules - names == set(), "modules missing from docs/ARCHITECTURE.md's layout"


def test_the_engine_dataclasses_are_documented_field_by_field() -> None:
    for cls in (ReconcileOptions, ReconcileResult, DeployContext):
        for f in dataclasses.fields(cls):
            assert f"{f.name}" in DOC, f"{cls.__name__}.{f.name} missing from ARCHITECTURE.md"
    for name in ("tracker=", "wait_for_start=", "run(args", "args.cwd", "no lock"):
        assert name in DOC, name
