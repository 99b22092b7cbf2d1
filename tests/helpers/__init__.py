"""Test helpers, one place for every suite (``tests/unit``, ``tests/e2e`` and the suites still
beside them). Importable as ``helpers`` (``tests/`` is on ``sys.path`` through the rootdir
``conftest.py``).

- :mod:`helpers.cli`: ``Result``, the one in-process ``run_cli`` (the ``cli`` fixture), argv
  builders.
- :mod:`helpers.processes`: ``python -m mlarena_sync`` as a child process; process groups.
- :mod:`helpers.project`: the project builder (``write_config``, ``make_project``, ``AGENT_PY``).
- :mod:`helpers.arena`: the fake arena fixture's server, reads of it over HTTP, request counters.
- :mod:`helpers.events`: ``EventRecorder``: an ``Output`` that records; ``expect(event, timeout)``.
- :mod:`helpers.wait`: ``wait_until(predicate, timeout)`` where no event exists; ``hold``.
- :mod:`helpers.clock`: the fake clock.
- :mod:`helpers.checks`: convergence and error-output assertions of the fault matrices.
- :mod:`helpers.watch`: an in-process ``watch`` in a thread (the ``start_watch`` fixture).
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository checkout (README.md, examples/, pyproject.toml)."""
