"""Contract fixtures: a fake arena per API generation, and ``mlarena-sdk==4.6.0`` installed
beside the venv.

``mlarena-sdk`` 0.2.0 and 4.6.0 are one distribution (``import mlarena``), so they cannot share a
site-packages: 0.2.0 comes with the ``test`` extra, 4.6.0 is installed with
``pip install --target`` into a cached folder and runs in a child process whose ``PYTHONPATH``
puts that folder first. Only what the venv lacks of its ``Requires-Dist`` is installed there, so
the child uses the venv's ``requests`` (and ``pandas``, when present) like a notebook would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from mlarena_sync.arena import FakeArena

SDK46 = "mlarena-sdk==4.6.0"
WORKFLOW = Path(__file__).with_name("sdk46_workflow.py")
COMPLETE = ".complete"  # written last, before the rename: its presence means "fully installed"
PIP_TIMEOUT = 240.0
SCRIPT_TIMEOUT = 60.0


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlarena-sync-tests"


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
        check=True,
        timeout=PIP_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


def _missing_requirements(dist_info: Path) -> list[str]:
    """The installed wheel's unconditional ``Requires-Dist`` (markers evaluated for this
    interpreter, extras left out) that the venv does not satisfy."""
    meta = metadata.PathDistribution(dist_info)
    env = {**default_environment(), "extra": ""}
    missing = []
    for line in meta.requires or []:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        try:
            have = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            missing.append(str(req))
            continue
        if not req.specifier.contains(have, prereleases=True):
            missing.append(str(req))
    return missing


def install_sdk46(cache: Path) -> Path:
    """``mlarena-sdk==4.6.0`` (plus what the venv lacks of its requirements) in ``cache``:
    reused when complete, else installed into a temp sibling and renamed into place."""
    if (cache / COMPLETE).is_file():
        return cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{cache.name}-", dir=cache.parent))
    try:
        staging.chmod(0o755)
        _pip("install", "--no-deps", "--no-compile", "--target", str(staging), SDK46)
        (dist_info,) = staging.glob("mlarena_sdk-4.6.0.dist-info")
        extra = _missing_requirements(dist_info)
        if extra:
            _pip("install", "--no-compile", "--target", str(staging), *extra)
        (staging / COMPLETE).write_text(json.dumps({"sdk": SDK46, "extra": extra}) + "\n")
        if cache.exists():  # an incomplete leftover (or a concurrent run that just finished)
            if (cache / COMPLETE).is_file():
                return cache
            shutil.rmtree(cache)
        try:
            os.rename(staging, cache)
        except OSError:  # another run renamed its install into place in between
            if not (cache / COMPLETE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cache


@pytest.fixture(scope="session")
def sdk46_path() -> Path:
    """The folder holding ``mlarena`` 4.6.0, installed on first use and cached across runs."""
    tag = f"py{sys.version_info.major}.{sys.version_info.minor}"
    return install_sdk46(_cache_root() / f"sdk-4.6.0-{tag}")


@pytest.fixture(scope="module")
def arena46_server() -> Iterator[FakeArena]:
    """A fake arena speaking today's routes (``api="v4.6"``), for this module."""
    server = FakeArena(api="v4.6")
    server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def arena46(arena46_server: FakeArena) -> Iterator[FakeArena]:
    """The module's v4.6 arena, reset: fresh seeded store, no faults, counters at zero."""
    arena46_server.reset()
    yield arena46_server
    arena46_server.faults.clear()


SdkRun = Callable[[FakeArena, str, Path], dict[str, Any]]


@pytest.fixture(scope="session")
def sdk46(sdk46_path: Path) -> SdkRun:
    """``sdk46(arena, scenario, cwd)``: run one scenario of ``sdk46_workflow.py`` with SDK 4.6.0
    against ``arena`` in the empty folder ``cwd``; its one JSON line, parsed.

    A deprecated SDK name called by the script is an error (``-W error``, for the warnings
    attributed to the script itself)."""

    def run(arena: FakeArena, scenario: str, cwd: Path) -> dict[str, Any]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MLARENA_", "PYTHON"))
        }
        env["PYTHONPATH"] = str(sdk46_path)
        env["SDK46_URL"] = arena.url
        env["SDK46_TOKEN"] = arena.user_token
        env["SDK46_CREATOR_TOKEN"] = arena.creator_token
        proc = subprocess.run(
            [sys.executable, "-W", "error::DeprecationWarning:__main__", str(WORKFLOW), scenario],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.strip().splitlines()
        assert len(lines) == 1, proc.stdout
        result: dict[str, Any] = json.loads(lines[0])
        assert result["sdk_version"] == "4.6.0"
        assert result["sdk_file"] == str(sdk46_path / "mlarena" / "__init__.py")
        return result

    return run
