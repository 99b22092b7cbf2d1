"""The official SDK of each API generation, as the baseline of scenario 2.

``mlarena-sdk`` 0.2.0 (v0) comes with the venv's ``test`` extra; 4.6.0 (v4.6) is the same
``mlarena`` package, so it lives in its own ``pip install --target`` folder and runs in a child
whose ``PYTHONPATH`` puts that folder first. The folder is the contract tests' cache
(``$XDG_CACHE_HOME/mlarena-sync-tests/sdk-4.6.0-py3.X``, see ``tests/contract/conftest.py``):
reused when complete (its ``.complete`` marker), else installed once the same way (into a temp
sibling, renamed into place; only what the venv lacks of its requirements is added).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path

from bench.procs import REPO_ROOT, child_env

#: The official SDK speaking each generation.
SDK_VERSION = {"v0": "0.2.0", "v4.6": "4.6.0"}
COMPLETE = ".complete"
PIP_TIMEOUT = 240.0


def sdk46_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    tag = f"py{sys.version_info.major}.{sys.version_info.minor}"
    return Path(base) / "mlarena-sync-tests" / f"sdk-4.6.0-{tag}"


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
        check=True,
        timeout=PIP_TIMEOUT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )


def _missing_requirements(dist_info: Path) -> list[str]:
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    env = {**default_environment(), "extra": ""}
    out = []
    for line in metadata.PathDistribution(dist_info).requires or []:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        try:
            have = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            out.append(str(req))
            continue
        if not req.specifier.contains(have, prereleases=True):
            out.append(str(req))
    return out


def install_sdk46(folder: Path) -> Path:
    """``mlarena-sdk==4.6.0`` in ``folder`` (the contract tests' cache), installed if missing."""
    if (folder / COMPLETE).is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        staging.chmod(0o755)
        _pip("install", "--no-deps", "--no-compile", "--target", str(staging), "mlarena-sdk==4.6.0")
        (dist_info,) = staging.glob("mlarena_sdk-4.6.0.dist-info")
        extra = _missing_requirements(dist_info)
        if extra:
            _pip("install", "--no-compile", "--target", str(staging), *extra)
        doc = {"sdk": "mlarena-sdk==4.6.0", "extra": extra}
        (staging / COMPLETE).write_text(json.dumps(doc) + "\n")
        if folder.exists():
            if (folder / COMPLETE).is_file():
                return folder
            shutil.rmtree(folder)
        try:
            os.rename(staging, folder)
        except OSError:  # another run renamed its install into place in between
            if not (folder / COMPLETE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


@cache
def sdk_missing(api: str) -> str | None:
    """Why the SDK of ``api`` cannot run here, or None."""
    want = SDK_VERSION[api]
    if api == "v0":
        try:
            have = metadata.version("mlarena-sdk")
        except metadata.PackageNotFoundError:
            return f"the official SDK (mlarena-sdk=={want}) is not installed"
        return None if have == want else f"the venv has mlarena-sdk {have}, not {want}"
    try:
        install_sdk46(sdk46_folder())
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        tail = detail.decode(errors="replace").strip().splitlines()[-1:] if detail else []
        return f"mlarena-sdk=={want} could not be installed ({' '.join(tail) or exc})"[:300]
    return None


def sdk_env(api: str, token: str) -> dict[str, str]:
    """The environment of an SDK child: the generation's ``mlarena`` first on the path."""
    if api == "v0":
        return child_env(token)
    env = child_env(token)
    env["PYTHONPATH"] = os.pathsep.join([str(sdk46_folder()), str(REPO_ROOT)])
    return env
