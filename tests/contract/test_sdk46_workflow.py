"""Contract: the official client ``mlarena-sdk==4.6.0`` drives the fake arena's v4.6 routes,
unchanged.

SDK 4.6.0 is the same ``mlarena`` package as the venv's 0.2.0: ``conftest.py`` installs it into a
cached folder and ``sdk46_workflow.py`` runs it in a child process, one scenario per test, against
this module's ``FakeArena(api="v4.6")``. Each scenario prints one JSON line asserted on here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlarena
import pytest

# The first test of a session may install the SDK from PyPI (seconds; at most PIP_TIMEOUT).
pytestmark = pytest.mark.timeout(300)


def test_sdk46_is_installed_beside_the_venv_sdk(sdk46_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(sdk46_path)
    probe = "import json, mlarena; print(json.dumps([mlarena.__version__, mlarena.__file__]))"
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    version, where = json.loads(proc.stdout)
    assert version == "4.6.0"
    assert Path(where) == sdk46_path / "mlarena" / "__init__.py"
    assert mlarena.__version__ == "0.2.0"  # this process keeps the venv's SDK
    complete = json.loads((sdk46_path / ".complete").read_text())
    assert complete["sdk"] == "mlarena-sdk==4.6.0"
    if sys.version_info < (3, 11):
        assert any(req.startswith("tomli") for req in complete["extra"])
    else:
        assert complete["extra"] == []
