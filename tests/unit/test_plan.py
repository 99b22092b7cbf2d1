"""make_plan: one row per rule of docs/product.md "Sync semantics" (pure, no I/O)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mlarena_sync.api.models import RemoteFile
from mlarena_sync.engine.plan import Plan, make_plan
from mlarena_sync.local.scan import LocalFile
from mlarena_sync.store.state import BaseEntry

SAFE = {"mode": "safe", "delete": True, "max_delete": 10, "force": False}
REPLICA = {**SAFE, "mode": "replica"}
FORCE = {**SAFE, "force": True}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def L(data: bytes, path: str = "f") -> LocalFile:
    return LocalFile(path, Path("/nowhere") / path, len(data), 0, sha(data), path)


def T(text: str) -> RemoteFile:
    return RemoteFile("f", text, False, len(text.encode()), "python")


def Bin(size: int | None) -> RemoteFile:
    return RemoteFile("f", None, True, size, None)


def B(data: bytes) -> BaseEntry:
    return BaseEntry("f", sha(data), len(data))


def verdict(plan: Plan, name: str = "f") -> str:
    found = [
        kind
        for kind, names in [
            ("upload", [u.name for u in plan.uploads]),
            ("delete", [d.name for d in plan.deletes]),
            ("unchanged", plan.unchanged),
            ("conflict", [c.name for c in plan.conflicts]),
            ("remote_change", plan.remote_changes),
            ("left_alone", plan.left_alone),
        ]
        if name in names
    ]
    assert len(found) == 1, found
    return found[0]


def plan_one(
    local: LocalFile | None, remote: RemoteFile | None, base: BaseEntry | None, opts: dict
) -> Plan:
    return make_plan(
        {"f": local} if local else {},
        {"f": remote} if remote else {},
        {"f": base} if base else {},
        **opts,
    )


ROWS = [
    # L & R equal
    ("text equal, no base", L(b"x"), T("x"), None, SAFE, "unchanged"),
    ("text equal, stale base", L(b"x"), T("x"), B(b"old"), SAFE, "unchanged"),
    ("binary, base proves equal", L(b"\0\1"), Bin(2), B(b"\0\1"), SAFE, "unchanged"),
    ("binary same size, no base", L(b"\0\1"), Bin(2), None, SAFE, "upload"),
    ("binary same size, local changed", L(b"\0\2"), Bin(2), B(b"\0\1"), SAFE, "upload"),
    # L & R differ, base known
    ("text, local changed", L(b"new"), T("old"), B(b"old"), SAFE, "upload"),
    ("text, remote changed: safe", L(b"old"), T("web"), B(b"old"), SAFE, "remote_change"),
    ("text, remote changed: replica", L(b"old"), T("web"), B(b"old"), REPLICA, "upload"),
    ("text, remote changed: force", L(b"old"), T("web"), B(b"old"), FORCE, "upload"),
    ("text, both changed: safe", L(b"new"), T("web"), B(b"old"), SAFE, "conflict"),
    ("text, both changed: replica", L(b"new"), T("web"), B(b"old"), REPLICA, "upload"),
    ("text, both changed: force", L(b"new"), T("web"), B(b"old"), FORCE, "upload"),
    ("binary, local changed", L(b"\0\0\0"), Bin(2), B(b"\0\1"), SAFE, "upload"),
    ("binary, remote changed", L(b"\0\1"), Bin(5), B(b"\0\1"), SAFE, "remote_change"),
    ("binary, both changed: safe", L(b"\0"), Bin(5), B(b"\0\1"), SAFE, "conflict"),
    ("binary, both changed: force", L(b"\0"), Bin(5), B(b"\0\1"), FORCE, "upload"),
    ("binary, unknown size, base", L(b"\0\1"), Bin(None), B(b"\0\1"), SAFE, "upload"),
    # L & R differ, no base
    ("text, no base: safe", L(b"mine"), T("theirs"), None, SAFE, "conflict"),
    ("text, no base: replica", L(b"mine"), T("theirs"), None, REPLICA, "upload"),
    ("text, no base: force", L(b"mine"), T("theirs"), None, FORCE, "upload"),
    ("binary, no base", L(b"\0"), Bin(9), None, SAFE, "upload"),
    # local only
    ("local only", L(b"x"), None, None, SAFE, "upload"),
    ("local only, in base", L(b"x"), None, B(b"x"), SAFE, "upload"),
    # remote only, base known
    ("deleted here", None, T("x"), B(b"x"), SAFE, "delete"),
    ("deleted here, delete off", None, T("x"), B(b"x"), {**SAFE, "delete": False}, "left_alone"),
    ("deleted here, binary", None, Bin(2), B(b"\0\1"), SAFE, "delete"),
    ("deleted here, edited there: safe", None, T("web"), B(b"x"), SAFE, "conflict"),
    ("deleted here, edited there: replica", None, T("web"), B(b"x"), REPLICA, "delete"),
    ("deleted here, edited there: force", None, T("web"), B(b"x"), FORCE, "delete"),
    (
        "deleted here, edited there: replica, delete off",
        None,
        T("web"),
        B(b"x"),
        {**REPLICA, "delete": False},
        "left_alone",
    ),
    # remote only, no base
    ("remote only: safe", None, T("x"), None, SAFE, "left_alone"),
    ("remote only: safe + force", None, T("x"), None, FORCE, "left_alone"),
    ("remote only: replica", None, T("x"), None, REPLICA, "delete"),
    (
        "remote only: replica, delete off",
        None,
        T("x"),
        None,
        {**REPLICA, "delete": False},
        "left_alone",
    ),
]


@pytest.mark.parametrize(
    ("local", "remote", "base", "opts", "expected"),
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
def test_rules(
    local: LocalFile | None,
    remote: RemoteFile | None,
    base: BaseEntry | None,
    opts: dict,
    expected: str,
) -> None:
    assert verdict(plan_one(local, remote, base, opts)) == expected


def test_base_remembers_a_re_encoded_text() -> None:
    local = L(b"a\r\nb\r\n")
    remote = T("a\nb\n")
    base = BaseEntry("f", local.sha256, local.size, remote_sha256=remote.sha256)
    assert verdict(plan_one(local, remote, base, SAFE)) == "unchanged"
    edited = T("a\nb\nc\n")  # then edited in the browser
    assert verdict(plan_one(local, edited, base, SAFE)) == "remote_change"


def test_conflicts_show_both_sides() -> None:
    plan = plan_one(L(b"new", "src/f"), T("web"), B(b"old"), SAFE)
    (conflict,) = plan.conflicts
    assert conflict.local_path == "src/f"
    assert conflict.local_sha256 == sha(b"new")
    assert conflict.remote_sha256 == sha(b"web")
    assert conflict.remote_size == 3
    deleted = plan_one(None, T("web"), B(b"x"), SAFE).conflicts[0]
    assert deleted.local_path is None and "deleted here" in deleted.reason


def remote_only(n: int) -> tuple[dict[str, RemoteFile], dict[str, BaseEntry]]:
    names = [f"r{i}.py" for i in range(n)]
    return (
        {name: RemoteFile(name, "x", False, 1, None) for name in names},
        {name: BaseEntry(name, sha(b"x"), 1) for name in names},
    )


@pytest.mark.parametrize(
    ("count", "max_delete", "force", "hit"),
    [(3, 2, False, True), (3, 2, True, False), (2, 2, False, False), (1, 0, False, True)],
)
def test_delete_cap(count: int, max_delete: int, force: bool, hit: bool) -> None:
    remote, base = remote_only(count)
    plan = make_plan({}, remote, base, mode="safe", delete=True, max_delete=max_delete, force=force)
    assert len(plan.deletes) == count
    assert plan.delete_cap_hit is hit


def test_uploads_put_the_entry_file_last() -> None:
    local = {n: L(b"x", n) for n in ["agent.py", "b_helper.py", "a_helper.py", "z.bin"]}
    plan = make_plan(local, {}, {}, entry="agent.py", **SAFE)
    assert [u.name for u in plan.uploads] == ["a_helper.py", "b_helper.py", "z.bin", "agent.py"]


def test_empty_changes_and_json() -> None:
    empty = make_plan({"f": L(b"x")}, {"f": T("x")}, {}, **SAFE)
    assert empty.is_empty and empty.changes == 0
    assert empty.summary() == "0 to upload, 0 to delete, 1 unchanged"
    remote, base = remote_only(1)
    local = {"new.py": L(b"hello", "src/new.py"), "c.py": L(b"mine", "c.py")}
    remote["c.py"] = RemoteFile("c.py", "theirs", False, 6, None)
    plan = make_plan(local, remote, base, **SAFE)
    assert not plan.is_empty and plan.changes == 2
    data = plan.to_json()
    assert data["uploads"] == [
        {"name": "new.py", "file": "src/new.py", "bytes": 5, "reason": "new"}
    ]
    assert data["deletes"] == [{"name": "r0.py", "reason": "deleted locally"}]
    assert data["conflicts"] == [
        {
            "name": "c.py",
            "reason": "no sync record; remote differs",
            "file": "c.py",
            "local_sha256": sha(b"mine"),
            "remote_sha256": sha(b"theirs"),
            "remote_bytes": 6,
        }
    ]
    assert (data["changes"], data["is_empty"], data["delete_cap_hit"]) == (2, False, False)
    assert "1 in conflict" in plan.summary()
    remote_news = plan_one(L(b"old"), T("web"), B(b"old"), SAFE)
    assert remote_news.is_empty and remote_news.remote_changes == ["f"]


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mirror"):
        make_plan({}, {}, {}, mode="mirror", delete=True, max_delete=1, force=False)


def Read(data: bytes) -> RemoteFile:
    """A v4.6 listing row (no content) whose bytes were read back (engine/evidence.py)."""
    return RemoteFile("f", None, True, len(data), None, digest=sha(data))


def test_a_file_proven_equal_without_a_record_is_learned_by_the_base() -> None:
    plan = make_plan({"f": L(b"x = 1\n")}, {"f": T("x = 1\n")}, {}, **SAFE)
    assert plan.unchanged == ["f"]
    assert plan.base_updates == {"f": BaseEntry("f", sha(b"x = 1\n"), 6, None)}


def test_a_recorded_equal_file_changes_nothing_and_a_name_gone_on_both_sides_is_forgotten() -> None:
    base = {"f": B(b"x = 1\n"), "gone": BaseEntry("gone", sha(b"g"), 1)}
    plan = make_plan({"f": L(b"x = 1\n")}, {"f": T("x = 1\n")}, base, **SAFE)
    assert plan.base_updates == {"gone": None}


def test_a_read_back_binary_changed_remotely_is_a_conflict_not_an_upload() -> None:
    # The same size as the record, so only the read-back hash shows the browser edit.
    base = {"f": B(b"AAAA")}
    plan = make_plan({"f": L(b"BBBB")}, {"f": Read(b"CCCC")}, base, **SAFE)
    assert verdict(plan) == "conflict"
    plan = make_plan({"f": L(b"BBBB")}, {"f": Read(b"AAAA")}, base, **SAFE)
    assert verdict(plan) == "upload"
