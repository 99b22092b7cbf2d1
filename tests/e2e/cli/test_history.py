"""The deploy ledger end to end (issue 14's "Done when", on both API generations): three deploys
of different content → ``--json history`` gives three records with each file's sha256 and an
outcome; ``diff A C`` shows the changed lines (exit 1); ``restore A`` makes the folder
byte-identical to deploy A (a file added in C gone, kept aside, with the undo command); a push
after it leaves the agent byte-identical to deploy A."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.arena import hits, remote_bytes, remote_files, routes
from helpers.checks import sha256
from helpers.cli import Cli, in_project
from helpers.processes import cli_env, spawn_cli
from helpers.project import Project, agent_py
from helpers.wait import wait_until

from mlarena_sync.arena import FakeArena
from mlarena_sync.store.ledger import Ledger


def _folder(project: Project) -> dict[str, bytes]:
    """The synced folder's files (``__pycache__`` of the check left out), path → bytes."""
    root = project.root
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _deploy(cli: Cli, project: Project, *flags: str) -> dict[str, bytes]:
    res = cli(*in_project(project, "push", "--wait", *flags))
    assert res.code == 0, res.text
    return _folder(project)


def _three_deploys(cli: Cli, project: Project) -> list[dict[str, bytes]]:
    a = _deploy(cli, project)
    project.write("notes.txt", "notes of B\n")
    b = _deploy(cli, project)
    project.write("lib/extra.py", "EXTRA = 3\n")
    project.write("notes.txt", "notes of C\nsecond line\n")
    c = _deploy(cli, project)
    return [a, b, c]


def _records(cli: Cli, project: Project) -> list[dict[str, Any]]:
    res = cli(*in_project(project, "--json", "history"))
    assert res.code == 0, res.text
    return [e for e in res.json_lines() if e["event"] == "deploy_record"]


def test_three_deploys_history_diff_restore_push(
    arena: FakeArena, token: str, cli: Cli, project: Project
) -> None:
    snapshots = _three_deploys(cli, project)
    records = _records(cli, project)
    assert [r["id"] for r in records] == [3, 2, 1], "newest first"
    for rec, shot in zip(reversed(records), snapshots, strict=True):
        assert rec["known"] is True and rec["trigger"] in ("push", "ci")
        assert rec["status"] == records[0]["status"] and rec["status"], "an outcome each"
        by_path = {m["path"]: m["sha256"] for m in rec["manifest"].values()}
        assert by_path == {path: sha256(data) for path, data in shot.items()}
        assert set(rec["files"]) == {Path(p).name for p in shot}
        assert rec["deployment_id"] is not None
    assert records[0]["changed"] == 2 and records[1]["changed"] == 1

    diff = cli(*in_project(project, "diff", "1", "3"))
    assert diff.code == 1, diff.text
    assert "-keep calm" in diff.out and "+notes of C" in diff.out, diff.out
    assert "+second line" in diff.out
    assert "+EXTRA = 3" in diff.out
    assert cli(*in_project(project, "diff", "3")).code == 0, "the live deploy is the folder"

    restored = cli(*in_project(project, "--json", "restore", "1"))
    assert restored.code == 0, restored.text
    event = next(e for e in restored.json_lines() if e["event"] == "restored")
    assert _folder(project) == snapshots[0], "byte-identical to deploy A"
    assert "lib/extra.py" in event["removed"]
    kept = Path(event["kept_aside"]) / "files"
    assert (kept / "lib/extra.py").read_bytes() == b"EXTRA = 3\n", "kept aside"
    assert (kept / "notes.txt").read_bytes() == snapshots[2]["notes.txt"]
    assert event["undo"] == "mlarena-sync restore --undo"

    _deploy(cli, project, "--deploy")
    aid = project.agent_id()
    assert aid is not None
    assert set(remote_files(arena, token, aid)) == {Path(p).name for p in snapshots[0]}
    for path, data in snapshots[0].items():
        assert remote_bytes(arena, aid, Path(path).name, token) == data
    assert [r["id"] for r in _records(cli, project)] == [4, 3, 2, 1]


def test_restore_refuses_unsynced_edits_and_undo_puts_them_back(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    first = _deploy(cli, project)
    project.write("notes.txt", "later\n")
    second = _deploy(cli, project)
    project.write("notes.txt", "not pushed\n")
    refused = cli(*in_project(project, "restore", "previous"))
    assert refused.code == 3, refused.text
    assert "not yet synced" in refused.err
    assert cli(*in_project(project, "restore", "previous", "--force")).code == 0
    assert _folder(project) == first
    assert cli(*in_project(project, "restore", "--undo")).code == 0
    assert _folder(project) == {**second, "notes.txt": b"not pushed\n"}
    missing = cli(*in_project(project, "restore", "9"))
    assert missing.code == 2 and "no deploy '9'" in missing.err


def test_ledger_lines_are_whole_json_records(arena: FakeArena, cli: Cli, project: Project) -> None:
    _deploy(cli, project)
    lines = (project.state_dir / "ledger.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"", "every line ends with its newline"
    kinds = [json.loads(line)["op"] for line in lines[:-1]]
    assert kinds[0] == "deploy" and set(kinds) <= {"deploy", "complete"}


def _ledger_ops(project: Project) -> list[str]:
    path = project.state_dir / "ledger.jsonl"
    raw = path.read_bytes() if path.exists() else b""
    assert raw == b"" or raw.endswith(b"\n"), "never a torn record"
    return [json.loads(line)["op"] for line in raw.splitlines()]


def _kill9_when(proc: subprocess.Popen[bytes], ready: Callable[[], object], what: str) -> None:
    try:
        wait_until(lambda: ready() or proc.poll() is not None, 30, what)
        assert proc.poll() is None, f"the push ended before {what}"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_kill9_while_push_waits_leaves_a_record_the_next_run_completes(
    arena: FakeArena, token: str, project: Project, cli: Cli
) -> None:
    arena.faults.latency = 0.2  # the push follows the deploy for a while: the kill lands there
    proc = spawn_cli("-C", str(project.dir), "push", "--wait", env=cli_env(token))
    _kill9_when(proc, lambda: _deployment_known(project), "the deploy's reply in the ledger")
    arena.faults.latency = 0.0
    done = wait_until(
        lambda: [r for r in _records(cli, project) if r["status"]], 30, "the record completed"
    )
    assert [r["id"] for r in done] == [1] and done[0]["deployment_id"] is not None
    assert _ledger_ops(project)[0] == "deploy" and "complete" in _ledger_ops(project)


def _deployment_known(project: Project) -> bool:
    return any(r.deployment_id is not None for r in Ledger(project.state_dir).records())


def test_kill9_before_the_deploy_reply_is_matched_to_its_record(
    arena: FakeArena, token: str, project: Project, cli: Cli
) -> None:
    arena.faults.hang_deploy = 10.0  # the deploy takes effect, its reply never comes in time
    proc = spawn_cli("-C", str(project.dir), "push", "--wait", env=cli_env(token))
    _kill9_when(proc, lambda: hits(arena.counters, routes(arena).deploy), "the deploy request")
    assert _ledger_ops(project) == ["deploy"], "recorded before the request left"
    records = _records(cli, project)
    assert [(r["id"], r["known"]) for r in records] == [(1, True)], records
    assert records[0]["deployment_id"] is not None, "the server's deployment, matched"


def test_diff_names_binary_files_with_their_sizes(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    project.write("weights.bin", bytes(range(256)) * 4)
    _deploy(cli, project)
    project.write("weights.bin", bytes(range(256)) * 8)
    _deploy(cli, project)
    res = cli(*in_project(project, "diff", "1", "2"))
    assert res.code == 1, res.text
    assert "Binary file weights.bin differs (1.0 kB in deploy #1 → 2.0 kB in deploy #2)" in res.out
    data = cli(*in_project(project, "--json", "diff", "previous", "live"))
    event = next(e for e in data.json_lines() if e["event"] == "diff")
    assert event["files"] == [
        {
            "path": "weights.bin",
            "change": "modified",
            "binary": True,
            "size_a": 1024,
            "size_b": 2048,
        }
    ]


def test_status_completes_the_record_of_a_push_that_did_not_wait(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    res = cli(*in_project(project, "push"))
    assert res.code == 0, res.text
    [open_record] = Ledger(project.state_dir).records()
    assert not open_record.settled

    def completed() -> bool:
        assert cli(*in_project(project, "status")).code == 0
        return Ledger(project.state_dir).records()[0].settled

    wait_until(completed, 30, "status to complete the record")
    assert [r["status"] for r in _records(cli, project)] == [
        Ledger(project.state_dir).records()[0].status
    ]


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()


def _git_column(cli: Cli, folder: Path) -> list[str]:
    res = cli("-C", str(folder), "history")
    assert res.code == 0, res.text
    return re.findall(r"\b[0-9a-f]{7}(?:\+dirty)?\b", res.out)


@pytest.mark.skipif(shutil.which("git") is None, reason="no git on PATH")
def test_the_pin_edit_of_the_first_push_does_not_make_the_ledger_dirty(
    arena: FakeArena, cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    assert cli("-C", str(folder), "init", "--server", arena.url, "--challenge", "1").code == 0
    (folder / "agent.py").write_text(agent_py())
    (folder / ".gitignore").write_text("__pycache__/\n")  # the check's compiled files
    _git(folder, "init", "-q")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "my agent")
    head = _git(folder, "rev-parse", "HEAD")[:7]

    first = cli("-C", str(folder), "push", "--wait")
    assert first.code == 0, first.text
    assert "  id: " in (folder / "mlarena.yaml").read_text()  # pinned: the file now differs
    assert _git_column(cli, folder) == [head]  # ... and the record says clean

    (folder / "agent.py").write_text(agent_py().replace("return 0", "return 1"))  # a real edit
    second = cli("-C", str(folder), "push", "--wait")
    assert second.code == 0, second.text
    assert _git_column(cli, folder) == [f"{head}+dirty", head]  # newest first
