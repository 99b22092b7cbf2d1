"""The deploy ledger and its object store, without a server: records appended and completed
(never rewritten), a torn last line (a kill mid-write) ignored and cut by the next append, the
object store's budget pruning the oldest deploys' unique bytes first."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mlarena_sync.api.models import LatestDeploy
from mlarena_sync.engine.history import _live, _matches, git_info, trigger_for
from mlarena_sync.store.ledger import DeployRecord, FileRecord, Ledger
from mlarena_sync.store.objects import ObjectStore

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _record(target: str = "t", deployment_id: int | None = 7, **files: str) -> DeployRecord:
    return DeployRecord(
        id=0,
        target=target,
        at=T0,
        agent_id=101,
        deployment_id=deployment_id,
        trigger="push",
        files={n: FileRecord(n, sha, 3) for n, sha in files.items()},
        git={"commit": "abc1234", "dirty": True},
        check="passed",
    )


def test_records_are_numbered_per_target_and_round_trip(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    first = ledger.append(_record(**{"agent.py": "a" * 64}))
    second = ledger.append(_record(deployment_id=8))
    other = ledger.append(_record(target="u"))
    assert (first.id, second.id, other.id) == (1, 2, 1)
    assert ledger.records("t") == [first, second]
    assert ledger.records("t")[0].files["agent.py"].sha256 == "a" * 64
    assert ledger.records("t")[0].git == {"commit": "abc1234", "dirty": True}


def test_facts_complete_a_record_once(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    rec = ledger.append(_record())
    assert not rec.settled
    ledger.complete("t", rec.id, status="succeeded", score=9.5, settled_at=T0)
    ledger.complete("t", rec.id, status="failed", score=1.0)  # later values do not rewrite it
    done = ledger.records("t")[0]
    assert (done.status, done.score, done.settled_at) == ("succeeded", 9.5, T0)
    with pytest.raises(ValueError):
        ledger.complete("t", rec.id, files={})


def test_a_torn_last_line_is_ignored_then_cut_by_the_next_append(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.append(_record())
    whole = ledger.path.read_bytes()
    ledger.path.write_bytes(whole + b'{"v": 1, "op": "deploy", "rec')  # killed mid-write
    assert [r.id for r in ledger.records("t")] == [1]
    assert ledger.torn == 1
    ledger.append(_record(deployment_id=9))
    lines = ledger.path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])
    assert [(r.id, r.deployment_id) for r in ledger.records("t")] == [(1, 7), (2, 9)]


def test_a_garbled_middle_line_is_skipped(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.append(_record())
    with ledger.path.open("ab") as fh:
        fh.write(b"not json\n")
    ledger.append(_record(deployment_id=8))
    assert [r.id for r in ledger.records("t")] == [1, 2]


def _put(store: ObjectStore, tmp: Path, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    src = tmp / f"src-{sha[:8]}"
    src.write_bytes(data)
    assert store.put_file(src, sha)
    return sha


def test_objects_are_stored_once_and_checked(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "state")
    sha = _put(store, tmp_path, b"hello")
    assert _put(store, tmp_path, b"hello") == sha
    assert store.read(sha) == b"hello" and len(store.sizes()) == 1
    src = tmp_path / "changed"
    src.write_bytes(b"edited since the sync")
    assert not store.put_file(src, "0" * 64), "bytes that do not hash to the name are not kept"


def test_pruning_drops_the_oldest_deploys_unique_bytes_first(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "state")
    shared = _put(store, tmp_path, b"s" * 100)
    old = _put(store, tmp_path, b"o" * 100)
    mid = _put(store, tmp_path, b"m" * 100)
    new = _put(store, tmp_path, b"n" * 100)
    orphan = _put(store, tmp_path, b"x" * 100)
    manifests = [{shared, old}, {shared, mid}, {shared, new}]
    assert store.prune(10_000, manifests) == set(), "under budget: nothing goes"
    assert store.prune(300, manifests) == {orphan, old}
    assert store.has(shared) and store.has(mid) and store.has(new)
    assert store.prune(0, manifests) == {mid}, "the newest deploy's bytes are always kept"
    assert store.has(shared) and store.has(new)


def test_trigger_is_ci_when_ci_is_set() -> None:
    assert trigger_for("push", {"CI": "true"}) == "ci"
    assert trigger_for("watch", {}) == "watch"
    assert trigger_for("push", {"CI": "false"}) == "push"


def _git(folder: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(folder),
        "PATH": os.environ.get("PATH", ""),
    }
    done = subprocess.run(
        ["git", "-C", str(folder), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="no git on PATH")
def test_git_info_names_the_commit_and_whether_the_tree_is_dirty(tmp_path: Path) -> None:
    assert git_info(tmp_path) is None, "not a repository"
    _git(tmp_path, "init", "-q")
    (tmp_path / "agent.py").write_text("A = 1\n")
    _git(tmp_path, "add", "agent.py")
    _git(tmp_path, "commit", "-q", "-m", "first")
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert git_info(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "agent.py").write_text("A = 2\n")
    assert git_info(tmp_path) == {"commit": head, "dirty": True}


def test_a_server_version_and_a_later_deployment_id_round_trip(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    rec = replace(
        _record(deployment_id=None),
        files={
            "p.py": FileRecord("lib/p.py", "b" * 64, 5, server=True),
            "q.py": FileRecord("q.py", "", 0, server=True),
        },
        after_deployment=6,
    )
    first = ledger.append(rec)
    ledger.complete("t", first.id, deployment_id=7)
    ledger.complete("t", first.id, deployment_id=9)  # the first value wins
    [back] = ledger.records("t")
    assert back.deployment_id == 7 and back.after_deployment == 6
    assert back.files["p.py"].server and back.files["p.py"].known
    assert not back.files["q.py"].known
    plain = ledger.append(_record(**{"a.py": "c" * 64}))
    assert "server" not in json.dumps(plain.to_json()["files"]), "the old shape for the folder's"


def _attempt(did: int, status: str = "succeeded") -> LatestDeploy:
    found = LatestDeploy.from_json({"id": did, "status": status})
    assert found is not None
    return found


def test_an_unanswered_request_is_matched_to_the_first_newer_deployment() -> None:
    answered = replace(_record(deployment_id=5), id=1)
    open_ = replace(_record(deployment_id=None), id=2, after_deployment=5)
    attempts = [_attempt(8), _attempt(6), _attempt(5)]
    assert _matches([answered, open_], attempts, 101) == {2: 6}
    assert _matches([answered, open_], [_attempt(5)], 101) == {}, "not sent, or not yet listed"


def test_live_is_the_newest_deploy_that_succeeded() -> None:
    ok = replace(_record(deployment_id=5), id=1, status="active")
    flying = replace(_record(deployment_id=6), id=2)
    assert _live([ok, flying], []) == 1, "never one in flight"
    assert _live([ok, replace(flying, status="deploy_failed")], []) == 1
    assert _live([ok], [_attempt(9)]) is None, "a browser deploy went live after it"
