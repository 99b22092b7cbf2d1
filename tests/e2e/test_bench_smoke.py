"""Smoke test of the benchmark runner: the tiniest scenario end to end, and the JSON shape.

No timing is asserted: figures on a shared CI machine are noise. What is checked is that the
runner starts and stops its processes, reports every requested scenario with a status on both
API generations, and writes the documented JSON (figures beside baselines, a verdict per target).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO
from helpers.processes import cli_env


def run_bench(tmp_path: Path, *args: str) -> dict[str, object]:
    out = tmp_path / "result.json"
    env = cli_env(None)
    proc = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--json", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"JSON: {out}" in proc.stdout
    doc = json.loads(out.read_text())
    assert isinstance(doc, dict)
    return doc


@pytest.mark.timeout(120)
def test_smallest_scenario_runs_and_writes_the_documented_json(tmp_path: Path) -> None:
    doc = run_bench(tmp_path, "--smoke", "--only", "6")

    assert doc["mode"] == "smoke"
    machine = doc["machine"]
    assert isinstance(machine, dict)
    assert {"cpu", "cores", "python"} <= machine.keys()
    assert doc["apis"] == ["v0", "v4.6"]  # every scenario runs on both generations by default
    scenarios = doc["scenarios"]
    assert isinstance(scenarios, list) and len(scenarios) == 2
    assert [sc["api"] for sc in scenarios] == ["v0", "v4.6"]
    for sc in scenarios:
        assert sc["key"] == "6"
        assert sc["status"] in ("ok", "not run"), sc.get("reason")
        if sc["status"] == "not run":
            assert sc["reason"]
            continue
        rows = {row["metric"]: row for row in sc["rows"]}
        peak = rows["peak RSS pushing 5 MB"]
        assert peak["unit"] == "MB" and peak["value"] > 0 and peak["baseline"] > 0
        assert [t["verdict"] for t in sc["targets"]] in (["PASS"], ["MISS"])


def test_unknown_scenario_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "9", "--json", str(tmp_path / "x.json")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown scenario" in proc.stderr
    assert not (tmp_path / "x.json").exists()
