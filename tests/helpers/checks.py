"""Assertions of the fault and bad-input matrices: nothing lost, nothing left half-done, errors
said in one clear line.

The remote side is read over real HTTP on 127.0.0.1 through the arena's generation (v4.6 serves
a binary's bytes; v0 cannot, so they are read from the fake arena's storage folder).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .arena import mutations, remote_bytes, remote_files
from .cli import Cli, Result, in_project, push
from .project import Project, local_selection, make_project, small_tree, write_file

CODE_COMPETITION = 1
FILE_COMPETITION = 2


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bound_agent_id(project: Project) -> int:
    """The agent id the state folder binds (it must bind one)."""
    aid = project.agent_id()
    assert aid is not None, f"no agent_id in {project.state_dir}"
    return aid


def assert_converged(
    arena: Any, project: Project, aid: int, *, token: str, extra_remote: Iterable[str] = ()
) -> int:
    """Remote files == the local selection (+ ``extra_remote``), byte for byte; the number
    of files checked. Binary files are compared through ``remote_bytes``."""
    local = local_selection(project.root)
    remote = remote_files(arena, token, aid)
    extra = set(extra_remote)
    missing = sorted(set(local) - set(remote))
    unexpected = sorted(set(remote) - set(local) - extra)
    assert not missing, f"files lost (local, not remote): {missing}"
    assert not unexpected, f"remote files the local selection does not hold: {unexpected}"
    for name, data in local.items():
        entry = remote[name]
        assert entry["size"] == len(data), f"{name}: remote size {entry['size']} != {len(data)}"
        if entry["content"] is not None:
            assert entry["content"].encode() == data, f"{name}: remote text differs from local"
        else:
            stored = remote_bytes(arena, aid, name, token)
            if stored is not None:
                assert stored == data, f"{name}: remote bytes differ from local"
    base = assert_base_consistent(project, remote, aid)
    unrecorded = sorted(set(local) - set(base))
    assert not unrecorded, f"synced files missing from the base manifest: {unrecorded}"
    return len(local)


def assert_base_consistent(project: Project, remote: Mapping[str, Any], aid: int) -> dict[str, Any]:
    """The base manifest in ``.mlarena-sync/`` describes exactly what the remote holds."""
    from mlarena_sync.config.model import load_config
    from mlarena_sync.store.state import StateStore, target_key

    target = load_config(project.config).target(None)
    state = StateStore(project.state_dir).load(target_key(target))
    assert state.agent_id == aid, f"state binds agent {state.agent_id}, not {aid}"
    base = state.files
    stale = sorted(set(base) - set(remote))
    assert not stale, f"base lists files the remote does not hold: {stale}"
    for name, entry in base.items():
        got = remote[name]
        assert entry.size == got["size"], f"{name}: base size {entry.size} != {got['size']}"
        if got["content"] is not None:
            served = sha256(got["content"].encode())
            assert served in (entry.sha256, entry.remote_sha256), f"{name}: base hash != remote"
    return dict(base)


def pushed_project(
    cli: Cli, tmp: Path, server: str, files: Mapping[str, bytes]
) -> tuple[Project, int]:
    """A fault-matrix project holding ``files``, pushed once without faults; it and its agent."""
    project = make_project(tmp, server, "faults", files=files)
    assert push(cli, project).code == 0
    return project, bound_agent_id(project)


def rewrite_tree(project: Project, version: int, helpers: int = 6) -> None:
    """Write ``small_tree(helpers, version=version, binaries=1)`` over the project's files."""
    for rel, data in small_tree(helpers, version=version, binaries=1).items():
        write_file(project.root / rel, data)


def assert_stable(cli: Cli, project: Project, arena: Any) -> None:
    """The base manifest agrees with the remote: a second push sends nothing that changes."""
    arena.faults.clear()
    arena.reset_counters()
    res = push(cli, project)
    assert res.code == 0, res.text
    assert not mutations(arena.counters), f"second push changed things: {arena.counters}"
    plan = cli(*in_project(project, "plan"))
    assert plan.code == 0, plan.text


def assert_recovered(
    res: Result,
    cli: Cli,
    arena: Any,
    project: Project,
    aid: int,
    *,
    token: str,
    extra_remote: Iterable[str] = (),
) -> None:
    """The push ``res`` succeeded, the remote equals the local selection, and it is stable."""
    assert res.code == 0, res.text
    assert_converged(arena, project, aid, token=token, extra_remote=extra_remote)
    assert_stable(cli, project, arena)


def assert_clear_error(res: Result, code: int, *needles: str, lines: int = 1) -> None:
    """Exit ``code``; no traceback; stderr holds the error in ``lines`` line(s) (one, or a
    head line + one line per file problem), plus at most one ``hint:`` line under it (what to
    do), containing every needle (case-insensitive)."""
    assert res.code == code, (
        f"exit {res.code}, expected {code}\n--- out\n{res.out}\n--- err\n{res.err}"
    )
    assert "Traceback" not in res.text, res.text
    err_lines = [line for line in res.err.splitlines() if line.strip()]
    hints = [line for line in err_lines if line.startswith("  hint: ")]
    assert hints in ([], err_lines[-1:]), f"a hint: line is the last line, once:\n{res.err}"
    text_of_hint = "\n".join(hints)
    err_lines = err_lines[: len(err_lines) - len(hints)]
    assert 1 <= len(err_lines) <= lines, (
        f"expected the error in {lines} line(s) on stderr, got {len(err_lines)}:\n{res.err}"
    )
    text = "\n".join([*err_lines, text_of_hint]).lower()
    for needle in needles:
        assert needle.lower() in text, f"{needle!r} not in the error:\n{res.err}"


def can_drop_read_override() -> bool:
    """Running as root: can ``setpriv`` drop CAP_DAC_OVERRIDE so chmod 000 bites?"""
    return os.geteuid() == 0 and Path("/usr/bin/setpriv").exists()


UNPRIVILEGED = [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
    "--",
]
