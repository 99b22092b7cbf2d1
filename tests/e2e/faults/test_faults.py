"""Fault matrix, in-process part: the fake arena's fault knobs against `push`, and the deploy
that hangs past the client timeout. Each case asserts the end state: remote files == the local
selection (or the documented safe outcome), a second push changes nothing (the base agrees
with the remote), and no duplicate deploy."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.arena import count, hits, mutations, open_client, remote_files, routes
from helpers.checks import (
    CODE_COMPETITION,
    assert_clear_error,
    assert_converged,
    assert_recovered,
    assert_stable,
    bound_agent_id,
    pushed_project,
    rewrite_tree,
)
from helpers.cli import Cli, push
from helpers.project import agent_py, make_project, small_tree, state_files, write_config

from mlarena_sync.api.client import Timeouts
from mlarena_sync.arena import FakeArena
from mlarena_sync.errors import UploadsHeldError

FAILED = 1


# ---------------------------------------------------------------- 503 / 429 bursts


def test_503_burst_is_retried(arena: FakeArena, token: str, cli: Cli, tmp_path: Path) -> None:
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(6, binaries=1))
    arena.faults.fail_next(3, 503)
    res = push(cli, project)
    assert_recovered(res, cli, arena, project, bound_agent_id(project), token=token)


def test_503_burst_on_uploads_mid_batch(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project, aid = pushed_project(cli, tmp_path, arena.url, small_tree(6, binaries=1))
    rewrite_tree(project, 1)
    arena.reset_counters()
    arena.faults.fail_next(2, 503, route="put_file")
    arena.faults.fail_next(2, 502, route="put_file")
    res = push(cli, project)
    assert_recovered(res, cli, arena, project, aid, token=token)


def test_429_retry_after_is_honoured(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project, aid = pushed_project(cli, tmp_path, arena.url, small_tree(3))
    rewrite_tree(project, 1, helpers=3)
    arena.faults.fail_next(1, 429, retry_after=1, route="put_file")
    started = time.monotonic()
    res = push(cli, project)
    elapsed = time.monotonic() - started
    assert res.code == 0, res.text
    assert elapsed >= 1.0, f"Retry-After: 1 not honoured (push took {elapsed:.2f}s)"
    assert_converged(arena, project, aid, token=token)
    assert_stable(cli, project, arena)


def test_503_storm_fails_cleanly_then_next_push_finishes(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project, aid = pushed_project(cli, tmp_path, arena.url, small_tree(6, binaries=1))
    rewrite_tree(project, 1)
    (project.root / "pkg0" / "helper_03.py").unlink()
    arena.reset_counters()
    arena.faults.fail_next(2, 503, route="put_file")  # a couple of uploads go through first ...
    arena.faults.fail_next(1000, 503, retry_after=0)  # ... then the server stays down
    res = push(cli, project)
    assert_clear_error(res, FAILED, "503")
    arena.faults.clear()
    res = push(cli, project)
    assert_recovered(res, cli, arena, project, aid, token=token)


# ---------------------------------------------------------------- dropped connections


@pytest.mark.parametrize("route", ["put_file", "list_files", None], ids=["upload", "list", "any"])
def test_dropped_connections(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, route: str | None
) -> None:
    project, aid = pushed_project(cli, tmp_path, arena.url, small_tree(6, binaries=1))
    rewrite_tree(project, 1)
    arena.faults.drop_next(2, route=route)
    res = push(cli, project)
    assert_recovered(res, cli, arena, project, aid, token=token)


def test_dropped_connections_beyond_retries_then_converge(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project, aid = pushed_project(cli, tmp_path, arena.url, small_tree(6, binaries=1))
    rewrite_tree(project, 1)
    arena.faults.drop_next(1000, route="put_file")
    res = push(cli, project)
    assert_clear_error(res, FAILED)
    arena.faults.clear()
    assert_recovered(push(cli, project), cli, arena, project, aid, token=token)


# ---------------------------------------------------------------- deploys are never doubled


def _validated_agent(arena: FakeArena, token: str) -> int:
    """A fresh agent of alice's holding a valid agent.py (made through the client)."""
    with open_client(arena, token) as c:
        aid = c.create_agent(CODE_COMPETITION, "deploy-faults")
        c.upload_file(CODE_COMPETITION, aid, "agent.py", agent_py("helper_00").encode())
    assert arena.agent_status(aid) == "upload_validated"
    return aid


@pytest.fixture
def slow_queue(arena: FakeArena) -> Iterator[FakeArena]:
    """Deploys wait 3 s in the queue (restored after the test)."""
    before = arena.simulator.queue_seconds
    arena.simulator.queue_seconds = 3.0
    yield arena
    arena.wait_deploys_idle(15)
    arena.simulator.queue_seconds = before


def test_an_upload_during_a_deploy_cancels_it_on_v0_and_is_refused_on_v46(
    slow_queue: FakeArena, token: str
) -> None:
    """The generations differ (interface.Capabilities): a file PUT while a deploy is queued
    cancels that deploy on v0 (and lands); v4.6 refuses it (409, nothing written) and the
    deploy goes on."""
    arena = slow_queue
    aid = _validated_agent(arena, token)
    with open_client(arena, token) as c:
        c.deploy(CODE_COMPETITION, aid)
        assert arena.agent_status(aid) == "deploy_queue"
        if arena.api == "v0":
            c.upload_file(CODE_COMPETITION, aid, "late.py", b"LATE = 1\n")
            assert arena.agent_status(aid) == "upload_validated"
            latest = c.deploy_status(CODE_COMPETITION, aid).latest
            assert latest is not None and latest.status == "cancelled"
            assert "late.py" in remote_files(arena, token, aid)
        else:
            with pytest.raises(UploadsHeldError):
                c.upload_file(CODE_COMPETITION, aid, "late.py", b"LATE = 1\n")
            assert "late.py" not in remote_files(arena, token, aid)
            assert arena.wait_deploys_idle(15)
            # it ran to its end (the agent imports a helper it lacks), not cancelled
            assert arena.agent_status(aid) == "deploy_failed"
    assert arena.deploy_count(aid) == 1


def test_deploy_hanging_past_client_timeout_is_sent_once(arena: FakeArena, token: str) -> None:
    aid = _validated_agent(arena, token)
    arena.reset_counters()
    arena.faults.hang_deploy = 2.0
    with open_client(arena, token, timeouts=Timeouts(deploy=0.5)) as c:
        outcome = c.deploy(CODE_COMPETITION, aid)
    assert outcome.timed_out
    assert outcome.accepted, "the status read after the timeout shows the deploy took effect"
    assert count(arena.counters, "PUT", "/deploy") == 1
    assert arena.wait_deploys_idle(15)
    assert count(arena.counters, "PUT", "/deploy") == 1
    assert arena.deploy_count(aid) == 1


def test_deploy_answering_503_is_not_retried(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "faults")
    assert push(cli, project).code == 0
    (project.root / "agent.py").write_text(
        "from helper_00 import VALUE\n\n\nclass Agent:\n"
        "    def predict(self, o):\n        return 1\n"
    )
    arena.reset_counters()
    arena.faults.fail_next(3, 503, route="deploy")
    res = cli("-C", str(project.dir), "push")
    assert_clear_error(res, FAILED, "deploy")
    assert count(arena.counters, "PUT", "/deploy") == 1


def test_deploy_connection_dropped_is_not_retried(arena: FakeArena, token: str) -> None:
    aid = _validated_agent(arena, token)
    arena.reset_counters()
    arena.faults.drop_next(1, route="deploy")
    with open_client(arena, token) as c:
        try:
            c.deploy(CODE_COMPETITION, aid)
        except Exception as exc:  # a clear error is fine; a second deploy is not
            assert type(exc).__module__ == "mlarena_sync.errors", exc
    assert count(arena.counters, "PUT", "/deploy") == 1
    assert arena.deploy_count(aid) == 0  # dropped before the handler: nothing took effect


def test_push_with_deploy_under_faults_deploys_once(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(4))
    arena.faults.fail_next(2, 503, route="put_file")
    arena.faults.drop_next(1, route=routes(arena).status_endpoint)
    res = cli("-C", str(project.dir), "push", "--wait")
    assert res.code == 0, res.text
    aid = bound_agent_id(project)
    assert arena.deploy_count(aid) == 1
    assert count(arena.counters, "PUT", "/deploy") == 1
    assert_converged(arena, project, aid, token=token)


# ---------------------------------------------------------------- the state folder


def test_deleted_state_folder_relearns_and_destroys_nothing(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project, aid = pushed_project(cli, tmp_path, arena.url, small_tree(6, binaries=1))
    arena.browser_edit(aid, "made_in_browser.py", "X = 'keep me'\n")
    shutil.rmtree(project.state_dir)
    write_config(
        project.dir, arena.url, "faults", agent_id=aid
    )  # the binding: now from mlarena.yaml
    arena.reset_counters()
    res = push(cli, project)
    assert res.code == 0, res.text
    assert hits(arena.counters, routes(arena).create) == 0, "no new agent"
    puts = count(arena.counters, "PUT", "/file")
    assert puts <= 1, f"only the binary (size-only proof) may be re-uploaded ({puts} PUTs)"
    assert_converged(arena, project, aid, token=token, extra_remote=["made_in_browser.py"])
    assert_stable(cli, project, arena)
    browser = remote_files(arena, token, aid)["made_in_browser.py"]
    assert browser["content"] == "X = 'keep me'\n"


def test_deleted_state_then_local_edit_is_a_safe_conflict(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    """Without a base, a file that differs on both sides cannot be told apart from a remote
    edit: exit 3, nothing overwritten; --force then takes the local side."""
    project, aid = pushed_project(cli, tmp_path, arena.url, small_tree(6))
    arena.browser_edit(aid, "made_in_browser.py", "X = 'keep me'\n")
    shutil.rmtree(project.state_dir)
    write_config(project.dir, arena.url, "faults", agent_id=aid)
    (project.root / "pkg1" / "helper_01.py").write_text("VALUE = 101\n")
    arena.reset_counters()
    res = push(cli, project)
    assert_clear_error(res, 3, "helper_01.py", "--force", lines=2)
    assert not mutations(arena.counters)
    res = push(cli, project, "--force")
    assert_recovered(
        res, cli, arena, project, aid, token=token, extra_remote=["made_in_browser.py"]
    )


def test_state_of_a_newer_version_is_refused_not_clobbered(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(3))
    assert push(cli, project).code == 0
    for path in state_files(project):
        if path.suffix == ".json":
            path.write_text('{"version": 999}')
    arena.reset_counters()
    res = push(cli, project)
    assert_clear_error(res, 2, "newer", "delete")
    assert not mutations(arena.counters)
    assert all(
        p.read_text() == '{"version": 999}' for p in state_files(project) if p.suffix == ".json"
    )


@pytest.mark.parametrize(
    "garbage",
    [b"", b"{not json", b"\xff\xfe\x00garbage", b"[]", b"null", b'{"version": 1, "x": 1}'],
    ids=["empty", "truncated", "binary", "list", "null", "wrong-shape"],
)
def test_corrupted_state_relearns_and_destroys_nothing(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path, garbage: bytes
) -> None:
    project = make_project(tmp_path, arena.url, "faults", agent_id=None, files=small_tree(6))
    assert push(cli, project).code == 0
    aid = bound_agent_id(project)
    write_config(project.dir, arena.url, "faults", agent_id=aid)
    arena.browser_edit(aid, "made_in_browser.py", "X = 'keep me'\n")
    corrupted = [p for p in state_files(project) if p.suffix == ".json"]
    assert corrupted, f"no JSON state files in {project.state_dir}"
    for path in corrupted:
        path.write_bytes(garbage)
    arena.reset_counters()
    res = push(cli, project)
    assert "Traceback" not in res.text
    assert res.code == 0, res.text
    assert count(arena.counters, "PUT", "/file") == 0
    assert not mutations(arena.counters)
    assert_converged(arena, project, aid, token=token, extra_remote=["made_in_browser.py"])
    assert_stable(cli, project, arena)


def test_deleted_state_with_name_only_binding_destroys_nothing(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    """Without agent.id the binding lives only in the state: losing it may bind a new agent,
    but the old agent's files must stay as they were."""
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(4))
    assert push(cli, project).code == 0
    old = bound_agent_id(project)
    before = remote_files(arena, token, old)
    shutil.rmtree(project.state_dir)
    res = push(cli, project)
    assert "Traceback" not in res.text
    assert res.code in (0, 2), res.text
    assert remote_files(arena, token, old) == before


# ---------------------------------------------------------------- a file that keeps changing


def test_file_changing_while_uploaded_ends_consistent(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    tree = dict(small_tree(4))
    tree["data.txt"] = b"v0\n" * 50_000
    project, aid = pushed_project(cli, tmp_path, arena.url, tree)
    target = project.root / "data.txt"
    arena.faults.latency = 0.02
    for round_ in range(4):
        stop = threading.Event()
        writes = 0

        def writer(round_: int = round_, stop: threading.Event = stop) -> None:
            nonlocal writes
            while not stop.is_set():
                writes += 1
                with target.open("wb") as out:  # in place, like many editors: torn reads happen
                    line = f"r{round_} w{writes}\n".encode()
                    for _ in range(5):
                        out.write(line * 8_000)
                        out.flush()
                time.sleep(0.002)  # the writer's pace: the file keeps changing (under test)

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        try:
            res = push(cli, project)
        finally:
            stop.set()
            thread.join(10)
        assert not thread.is_alive()
        assert "Traceback" not in res.text
        assert res.code in (0, FAILED), res.text
        assert writes > 1, "the writer did not overlap the push"
    arena.faults.latency = 0.0
    res = push(cli, project)
    assert_recovered(res, cli, arena, project, aid, token=token)
