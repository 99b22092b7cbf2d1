"""The fake arena's file routes read under its store's lock (issue 15: 19).

Before, the listing took the names under the lock, then ``stat``-ed and read each file without
it: a delete landing in between made the listing answer 500. The tests put a delete exactly
there: when the listing reads its first file, another thread deletes the last one and is given
a bounded time to finish. Under the lock it cannot finish before the listing has answered, so the
listing is one consistent snapshot, and the delete still happens right after."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from helpers.arena import auth, path_of, routes
from helpers.checks import pushed_project
from helpers.cli import Cli
from helpers.project import small_tree

from mlarena_sync.arena import FakeArena, shapes_v4, storage

#: How long the racing delete is given to finish while the listing is paused in its first read.
DELETE_GRACE = 0.5


def _delete_during_first_read(
    monkeypatch: pytest.MonkeyPatch, arena: FakeArena, aid: int, victim: str
) -> list[threading.Thread]:
    """Make the first ``read_text`` of the listing run a delete of ``victim`` in another thread."""
    real: Callable[..., str | None] = storage.read_text
    started: list[threading.Thread] = []

    def racing_read(path: Path, size: int | None = None) -> str | None:
        if not started:
            deleter = threading.Thread(target=arena.store.files.delete, args=(aid, victim))
            started.append(deleter)
            deleter.start()
            deleter.join(DELETE_GRACE)  # done at once without the lock; blocked with it
        return real(path, size)

    monkeypatch.setattr(storage, "read_text", racing_read)
    # (before the fix, the v4.6 listing read each file through shapes_v4's own import)
    monkeypatch.setattr(shapes_v4, "read_text", racing_read, raising=False)
    return started


def test_a_delete_during_the_listing_is_no_500(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, aid = pushed_project(cli, tmp_path, arena.url, small_tree(4))
    url = arena.url + path_of(routes(arena).listing, cid=1, aid=aid, sid=aid)
    names_before = _names(requests.get(url, headers=auth(token), timeout=10).json())
    victim = sorted(names_before)[-1]
    started = _delete_during_first_read(monkeypatch, arena, aid, victim)

    reply = requests.get(url, headers=auth(token), timeout=10)

    assert started, "the listing read no file"
    started[0].join(10)
    assert not started[0].is_alive()
    assert reply.status_code == 200, reply.text
    assert _names(reply.json()) == names_before, "the listing is the snapshot before the delete"
    monkeypatch.undo()
    after = requests.get(url, headers=auth(token), timeout=10)
    assert _names(after.json()) == names_before - {victim}


def test_a_file_removed_behind_the_store_is_left_out(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    """A file gone from the disk without the store knowing (a hand-made change) is not listed."""
    _, aid = pushed_project(cli, tmp_path, arena.url, small_tree(2))
    url = arena.url + path_of(routes(arena).listing, cid=1, aid=aid, sid=aid)
    names = _names(requests.get(url, headers=auth(token), timeout=10).json())
    gone = sorted(names)[0]
    (arena.store.files.folder(aid) / gone).unlink()
    reply = requests.get(url, headers=auth(token), timeout=10)
    assert reply.status_code == 200, reply.text
    assert _names(reply.json()) == names - {gone}


def _names(body: dict[str, object]) -> set[str]:
    files = body["files"]
    if isinstance(files, dict):  # v0: name → entry
        return set(files)
    assert isinstance(files, list)  # v4.6: rows with a name
    return {str(row["name"]) for row in files}
