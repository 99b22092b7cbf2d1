"""Properties of make_plan over random (local, remote, base) worlds.

* replica mode (and safe mode without conflicts or remote news): applying the plan to the remote
  yields the local selection;
* planning again after applying (the base updated to what was synced) plans nothing;
* safe mode never plans to overwrite or delete a remote change;
* every name lands in exactly one bucket, and ``delete: false`` never deletes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mlarena_sync.api.models import RemoteFile
from mlarena_sync.engine.plan import Plan, make_plan
from mlarena_sync.local.scan import LocalFile
from mlarena_sync.store.state import BaseEntry

NAMES = ["a.py", "b.py", "c.bin", "d.txt"]
CONTENTS = [b"", b"x", b"y", b"xy", b"\xff\x00", b"\xfe"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def local_file(name: str, data: bytes) -> LocalFile:
    return LocalFile(f"src/{name}", Path("/nowhere") / name, len(data), 0, sha(data), name)


def served(name: str, data: bytes) -> RemoteFile:
    """What the server lists after storing ``data``: text when it is UTF-8, else binary."""
    try:
        return RemoteFile(name, data.decode("utf-8"), False, len(data), "text")
    except UnicodeDecodeError:
        return RemoteFile(name, None, True, len(data), None)


@dataclass
class World:
    local: dict[str, LocalFile]
    remote: dict[str, RemoteFile]
    base: dict[str, BaseEntry]
    bytes_of: dict[str, bytes]  # the local contents, for checking the outcome


@st.composite
def worlds(draw: st.DrawFn) -> World:
    local: dict[str, LocalFile] = {}
    remote: dict[str, RemoteFile] = {}
    base: dict[str, BaseEntry] = {}
    bytes_of: dict[str, bytes] = {}
    for name in NAMES:
        if draw(st.booleans()):
            data = draw(st.sampled_from(CONTENTS))
            local[name] = local_file(name, data)
            bytes_of[name] = data
        if draw(st.booleans()):
            if draw(st.booleans()):
                remote[name] = served(name, draw(st.sampled_from(CONTENTS)))
            else:  # a binary the server describes by size only (maybe not at all)
                size = draw(st.one_of(st.none(), st.integers(0, 3)))
                remote[name] = RemoteFile(name, None, True, size, None)
        if draw(st.booleans()):
            data = draw(st.sampled_from(CONTENTS))
            base[name] = BaseEntry(f"src/{name}", sha(data), len(data))
    return World(local, remote, base, bytes_of)


options = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(["safe", "replica"]),
        "delete": st.booleans(),
        "max_delete": st.integers(0, 3),
        "force": st.booleans(),
    }
)


def apply(world: World, plan: Plan) -> tuple[dict[str, RemoteFile], dict[str, BaseEntry]]:
    """What sync does: upload/delete on the remote; the base records what was synced."""
    remote = dict(world.remote)
    base = dict(world.base)
    for up in plan.uploads:
        remote[up.name] = served(up.name, world.bytes_of[up.name])
        base[up.name] = BaseEntry(up.local.path, up.local.sha256, up.local.size)
    for d in plan.deletes:
        del remote[d.name]
        base.pop(d.name, None)
    for name in plan.unchanged:
        lf = world.local[name]
        base[name] = BaseEntry(lf.path, lf.sha256, lf.size)
    return remote, base


def mirrors(remote: dict[str, RemoteFile], world: World) -> bool:
    """The remote holds the local selection (text by content, binary by size: all it shows)."""
    if set(remote) != set(world.local):
        return False
    for name, rf in remote.items():
        data = world.bytes_of[name]
        if rf.content is not None and rf.content.encode() != data:
            return False
        if rf.content is None and rf.size is not None and rf.size != len(data):
            return False
    return True


def remote_changed(rf: RemoteFile, b: BaseEntry) -> bool:
    if rf.content is not None:
        return sha(rf.content.encode()) != b.sha256
    return rf.size is not None and rf.size != b.size


@settings(max_examples=300, deadline=None)
@given(worlds(), options)
def test_every_name_lands_in_exactly_one_bucket(world: World, opts: dict) -> None:
    plan = make_plan(world.local, world.remote, world.base, **opts)
    buckets = [
        [u.name for u in plan.uploads],
        [d.name for d in plan.deletes],
        plan.unchanged,
        [c.name for c in plan.conflicts],
        plan.remote_changes,
        plan.left_alone,
    ]
    flat = [name for bucket in buckets for name in bucket]
    assert sorted(flat) == sorted(set(world.local) | set(world.remote))
    assert {u.name for u in plan.uploads} <= set(world.local)
    assert {d.name for d in plan.deletes} <= set(world.remote) - set(world.local)
    if not opts["delete"]:
        assert not plan.deletes
    assert plan.delete_cap_hit == (len(plan.deletes) > opts["max_delete"] and not opts["force"])


@settings(max_examples=300, deadline=None)
@given(worlds(), st.booleans())
def test_replica_applied_yields_the_local_selection(world: World, force: bool) -> None:
    plan = make_plan(
        world.local,
        world.remote,
        world.base,
        mode="replica",
        delete=True,
        max_delete=99,
        force=force,
    )
    assert not plan.conflicts and not plan.remote_changes and not plan.left_alone
    remote, _ = apply(world, plan)
    assert mirrors(remote, world)


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_safe_without_conflicts_applied_yields_the_local_selection(world: World) -> None:
    plan = make_plan(
        world.local, world.remote, world.base, mode="safe", delete=True, max_delete=99, force=False
    )
    assume(not plan.conflicts and not plan.remote_changes and not plan.left_alone)
    remote, _ = apply(world, plan)
    assert mirrors(remote, world)


@settings(max_examples=300, deadline=None)
@given(worlds(), options)
def test_planning_again_after_applying_plans_nothing(world: World, opts: dict) -> None:
    plan = make_plan(world.local, world.remote, world.base, **opts)
    assume(not plan.delete_cap_hit)
    remote, base = apply(world, plan)
    again = make_plan(world.local, remote, base, **opts)
    assert again.uploads == [] and again.deletes == []
    assert [c.name for c in again.conflicts] == [c.name for c in plan.conflicts]
    if not plan.conflicts and not plan.remote_changes:
        assert again.is_empty


@settings(max_examples=300, deadline=None)
@given(worlds(), st.booleans(), st.integers(0, 3))
def test_safe_mode_never_overwrites_or_deletes_a_remote_change(
    world: World, delete: bool, max_delete: int
) -> None:
    plan = make_plan(
        world.local,
        world.remote,
        world.base,
        mode="safe",
        delete=delete,
        max_delete=max_delete,
        force=False,
    )
    for up in plan.uploads:
        rf, b = world.remote.get(up.name), world.base.get(up.name)
        if rf is None:
            continue
        if b is None:
            assert rf.content is None  # only a binary it cannot compare is re-sent
        else:
            assert not remote_changed(rf, b)
    for d in plan.deletes:
        b = world.base.get(d.name)
        assert b is not None and not remote_changed(world.remote[d.name], b)
