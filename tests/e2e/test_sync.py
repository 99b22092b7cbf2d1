"""apply_plan: helpers in parallel (bounded), deletes, then the entry file alone; one journal
write before any send; batched state saves; the first error stops the scheduling."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.arena import open_client

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import FileOpResult, RemoteFile
from mlarena_sync.arena import FakeArena
from mlarena_sync.engine.apply import MAX_IN_FLIGHT, SAVE_EVERY, SAVE_INTERVAL, apply_plan
from mlarena_sync.engine.plan import Delete, Plan, Upload
from mlarena_sync.errors import ServerError
from mlarena_sync.local.scan import LocalFile
from mlarena_sync.store.journal import Journal, recover_pending
from mlarena_sync.store.state import BaseEntry, StateStore, TargetState

CID = 1
KEY = "t"
AGENT_PY = "class Agent:\n    def predict(self, observation):\n        return 0\n"


class Recorder:
    """Wraps the client's file calls: the order of starts/ends and the uploads in flight."""

    def __init__(self, client: Arena, journal: Journal) -> None:
        self.client = client
        self.journal = journal
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.log: list[tuple[str, str]] = []
        self.journal_at_send: list[set[str]] = []

    def upload_file(self, cid: int, aid: int, name: str, source: Any, **kw: Any) -> FileOpResult:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.log.append(("start", name))
            self.journal_at_send.append(set(self.journal.load()))
        try:
            return self.client.upload_file(cid, aid, name, source, **kw)
        finally:
            with self.lock:
                self.in_flight -= 1
                self.log.append(("end", name))

    def delete_file(self, cid: int, aid: int, name: str) -> FileOpResult:
        with self.lock:
            self.log.append(("delete", name))
        return self.client.delete_file(cid, aid, name)


@pytest.fixture
def client(arena: FakeArena) -> Iterator[Arena]:
    with open_client(arena) as c:
        yield c


def _local(root: Path, rel: str, data: bytes) -> LocalFile:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    st = path.stat()
    return LocalFile(rel, path, len(data), st.st_mtime_ns, hashlib.sha256(data).hexdigest(), rel)


def _plan(root: Path, helpers: int, deletes: tuple[str, ...] = ()) -> Plan:
    ups = [
        Upload(f"h{i:02d}.py", _local(root, f"h{i:02d}.py", b"X = %d\n" % i), "new")
        for i in range(helpers)
    ]
    ups.insert(helpers // 2, Upload("agent.py", _local(root, "agent.py", AGENT_PY.encode()), "new"))
    return Plan(uploads=ups, deletes=[Delete(n, "deleted locally") for n in deletes])


def _apply(
    rec: Recorder, aid: int, plan: Plan, state: TargetState, store: StateStore, saves: list[int]
) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []

    def save(s: TargetState) -> None:
        saves.append(len(s.files))
        store.save(KEY, s)

    try:
        apply_plan(
            rec,  # type: ignore[arg-type]
            CID,
            aid,
            plan,
            state,
            save,
            entry="agent.py",
            on_event=lambda e, **f: events.append((e, f)),
            journal=rec.journal,
        )
    finally:
        rec.events = events  # type: ignore[attr-defined]
    return events


def test_helpers_in_parallel_then_deletes_then_the_entry_alone(
    arena: FakeArena, client: Arena, tmp_path: Path
) -> None:
    aid = client.create_agent(CID, "sync-test")
    client.upload_file(CID, aid, "old.py", b"OLD = 1\n")
    store = StateStore(tmp_path / ".mlarena-sync")
    journal = Journal(store.state_dir, KEY)
    rec = Recorder(client, journal)
    state = TargetState(agent_id=aid, files={"old.py": BaseEntry("old.py", "x", 8)})
    plan = _plan(tmp_path / "root", 20, deletes=("old.py",))
    arena.faults.latency = 0.02
    saves: list[int] = []
    started = time.monotonic()
    events = _apply(rec, aid, plan, state, store, saves)
    elapsed = time.monotonic() - started

    assert 1 < rec.most <= MAX_IN_FLIGHT
    names = {u.name for u in plan.uploads}
    # One journal write before the first send named every upload of the batch.
    assert rec.journal_at_send[0] == names
    # Deletes after every helper ended; the entry file after the delete, alone.
    helper_ends = [i for i, (what, n) in enumerate(rec.log) if what == "end" and n != "agent.py"]
    (delete_at,) = [i for i, (what, _) in enumerate(rec.log) if what == "delete"]
    assert max(helper_ends) < delete_at
    assert rec.log[-2:] == [("start", "agent.py"), ("end", "agent.py")]
    # One event per file; the base and the remote agree; the journal is cleared.
    uploads = [f["name"] for e, f in events if e == "upload"]
    assert sorted(uploads) == sorted(names) and uploads[-1] == "agent.py"
    assert [f["name"] for e, f in events if e == "delete"] == ["old.py"]
    saved = store.load(KEY)
    assert set(saved.files) == names
    assert saved.files["h03.py"].sha256 == hashlib.sha256(b"X = 3\n").hexdigest()
    assert journal.load() == {} and journal.deletes() == set()
    # Batched saves: not one per file.
    assert 1 <= len(saves) <= 2 + elapsed / SAVE_INTERVAL + 22 / SAVE_EVERY
    assert saves[-1] == len(names)


def test_first_failure_stops_scheduling_records_what_landed_and_raises(
    arena: FakeArena, client: Arena, tmp_path: Path
) -> None:
    aid = client.create_agent(CID, "sync-fail")
    client.upload_file(CID, aid, "old.py", b"OLD = 1\n")
    store = StateStore(tmp_path / ".mlarena-sync")
    journal = Journal(store.state_dir, KEY)
    rec = Recorder(client, journal)
    state = TargetState(agent_id=aid, files={"old.py": BaseEntry("old.py", "x", 8)})
    plan = _plan(tmp_path / "root", 30, deletes=("old.py",))
    arena.faults.latency = 0.01
    arena.faults.fail_next(1, status=500, route="put_file")
    saves: list[int] = []
    with pytest.raises(ServerError):
        _apply(rec, aid, plan, state, store, saves)
    events = rec.events  # type: ignore[attr-defined]

    started = [n for what, n in rec.log if what == "start"]
    assert "agent.py" not in started, "the entry file is sent only after every helper"
    assert not [n for what, n in rec.log if what == "delete"]
    assert len(started) < 30, "no new upload is scheduled after the failure"
    uploaded = {f["name"] for e, f in events if e == "upload"}
    remote = set(client.list_files(CID, aid))
    assert uploaded == remote - {"old.py"} - {"agent.py"}
    assert set(store.load(KEY).files) == uploaded | {"old.py"}, "the base says what landed"
    assert len(uploaded) == len(started) - 1
    # What the journal holds lets the next run settle it against the listing.
    listing = client.list_files(CID, aid)
    again = store.load(KEY)
    assert not recover_pending(journal, again, listing)  # all recorded already


def test_recover_settles_journaled_uploads_and_deletes(tmp_path: Path) -> None:
    journal = Journal(tmp_path, KEY)
    sent = BaseEntry("a.py", hashlib.sha256(b"A\n").hexdigest(), 2)
    never = BaseEntry("b.py", hashlib.sha256(b"B2\n").hexdigest(), 3)
    old_b = BaseEntry("b.py", hashlib.sha256(b"B\n").hexdigest(), 2)
    journal.add_many({"a.py": (None, sent), "b.py": (old_b, never)}, deletes=["gone.py", "kept.py"])
    state = TargetState(
        agent_id=1,
        files={
            "b.py": old_b,
            "gone.py": BaseEntry("gone.py", "g", 1),
            "kept.py": BaseEntry("kept.py", "k", 1),
        },
    )
    remote = {
        "a.py": RemoteFile("a.py", "A\n", False, 2, "python"),
        "b.py": RemoteFile("b.py", "B\n", False, 2, "python"),
        "kept.py": RemoteFile("kept.py", "K\n", False, 2, "python"),
    }
    assert recover_pending(journal, state, remote)
    assert state.files["a.py"] == sent  # landed: recorded
    assert state.files["b.py"] == old_b  # never sent: the old entry stays
    assert "gone.py" not in state.files  # the delete landed
    assert "kept.py" in state.files  # the delete was never sent
    assert journal.load() == {} and journal.deletes() == set()
