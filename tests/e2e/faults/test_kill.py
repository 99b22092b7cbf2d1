"""kill -9 of `python -m mlarena_sync push` at seeded random points; the next push converges.

A ~20-file tree (text helpers + binary weights), per-request latency on the fake arena so the
kills land mid-batch, a seeded RNG for the edits and for the delay from the push's first upload
to the SIGKILL. After each kill a normal push must finish the work: remote files == the local
selection byte for byte, a second push changes nothing (the base manifest agrees with the
remote), no deploy at all (every push is --no-deploy), and no second agent. The figures are
printed (run with -s) and, when FAULTS_FIGURES names a file, written there as JSON. The matrix
has its own arena, whose request log tells when the server has answered what a killed push had
sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.arena import AnsweredRequests, api_requests, count, hits, mutations, routes
from helpers.checks import assert_clear_error, assert_converged, bound_agent_id
from helpers.cli import Cli, push_args
from helpers.processes import children_running, cli_env, spawn_cli
from helpers.project import Project, make_project, small_tree
from helpers.wait import wait_until

from mlarena_sync.api.interface import Generation
from mlarena_sync.arena import FakeArena

SEED = 7
RUNS = 50
LATENCY = 0.03  # seconds per request: a batch of uploads takes a few tenths of a second
HELPERS = 15
BINARIES = 4
#: Kills that must land mid-batch (after an upload landed, before the push ended).
MIN_MID_BATCH = RUNS // 5


def _mutate(project: Project, rng: random.Random, run: int) -> int:
    """Edit, add and delete a few files (deletes stay under max_delete); the changes made."""
    files = sorted(p for p in project.root.rglob("*") if p.is_file())
    helpers = [
        p for p in files if p.name.startswith(("helper_", "new_")) and p.name != "helper_00.py"
    ]
    binaries = [p for p in files if p.suffix == ".bin"]
    changes = 0
    for path in rng.sample(helpers, k=min(len(helpers), rng.randint(1, 5))):
        path.write_text(f"VALUE = {run}  # edited in run {run}\n")
        changes += 1
    if binaries and rng.random() < 0.5:
        path = rng.choice(binaries)
        path.write_bytes(bytes(rng.getrandbits(8) for _ in range(rng.randint(64, 4096))))
        changes += 1
    if rng.random() < 0.5:
        (project.root / f"pkg{run % 3}" / f"new_{run:03d}.py").write_text(f"NEW = {run}\n")
        changes += 1
    if len(helpers) > HELPERS - 3 and rng.random() < 0.5:
        for path in rng.sample(helpers, k=rng.randint(1, 2)):
            if path.exists():
                path.unlink()
                changes += 1
    return changes


def _wait_first_request(
    arena: FakeArena, proc: subprocess.Popen[bytes], limit: float, *, upload: bool = False
) -> float:
    """Seconds until the push's first request (``upload``: first file PUT) reaches the arena,
    or the push ends."""
    started = time.monotonic()
    wait_until(
        lambda: (
            (count(arena.counters, "PUT", "/file") if upload else arena.counters)
            or proc.poll() is not None
        ),
        limit,
        "the push's first upload" if upload else "the push's first request",
        interval=0.005,
    )
    return time.monotonic() - started


@pytest.fixture
def logged_arena(
    api_generation: Generation, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeArena, AnsweredRequests]]:
    """A fake arena of this test's generation with its answered requests; Alice logged in."""
    answered = AnsweredRequests()
    with FakeArena(api=api_generation, request_log=answered) as server:
        monkeypatch.setenv("MLARENA_API_KEY", server.user_token)
        yield server, answered


def test_kill9_push_at_random_points_loses_nothing(
    logged_arena: tuple[FakeArena, AnsweredRequests], cli: Cli, tmp_path: Path
) -> None:
    arena, answered = logged_arena
    token = arena.user_token
    rng = random.Random(SEED)
    project = make_project(
        tmp_path, arena.url, "faults", files=small_tree(HELPERS, binaries=BINARIES), max_delete=5
    )
    first = cli(*push_args(project))
    assert first.code == 0, first.text
    aid = bound_agent_id(project)
    env = cli_env(token)

    # Calibrate: when does a push start talking to the arena, when does it start uploading
    # (after its reads: the listing, the status, on v4.6 the read-backs), and when is it done?
    _mutate(project, rng, 0)
    arena.faults.latency = LATENCY
    arena.reset_counters()
    started = time.monotonic()
    proc = spawn_cli(*push_args(project), env=env, stdout=None, stderr=None)
    startup = _wait_first_request(arena, proc, 30)
    uploading = startup + _wait_first_request(arena, proc, 30, upload=True)
    assert proc.wait(60) == 0
    total = time.monotonic() - started
    assert total > uploading

    figures = {
        "seed": SEED,
        "runs": 0,
        "killed": 0,
        "killed_mid_batch": 0,
        "files_checked": 0,
        "files_lost": 0,
        "startup_s": round(startup, 3),
        "first_upload_s": round(uploading, 3),
        "push_s": round(total, 3),
    }
    lost: list[str] = []

    def one_run(run: int, delay: float) -> float | None:
        """Edit, push, SIGKILL ``delay`` s after its first upload, then push twice and check;
        the seconds from the first upload to the end of a push that outran its kill."""
        _mutate(project, rng, run)
        arena.faults.latency = LATENCY
        arena.reset_counters()
        answered.reset()
        err = tmp_path / f"push-{run}.err"
        with err.open("wb") as sink:
            proc = spawn_cli(*push_args(project), env=env, stderr=sink)
        # The kill is timed from the push's first upload, not from the spawn: under load the
        # interpreter's start-up alone can outlast a delay calibrated on an idle machine, and
        # a kill during the reads before it (longer on v4.6) has nothing to interrupt.
        _wait_first_request(arena, proc, 30, upload=True)
        since_upload = time.monotonic()
        outran: float | None = None
        try:
            code = proc.wait(delay)
            assert code == 0, f"run {run}: unkilled push exited {code}: {err.read_text()}"
            outran = time.monotonic() - since_upload
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            figures["killed"] += 1
            if count(arena.counters, "PUT", "/file"):
                figures["killed_mid_batch"] += 1
        arena.faults.latency = 0.0
        # What the killed push had sent still lands (each request waits LATENCY first): the
        # next push starts once the server has answered it, as a person's next command would.
        sent = api_requests(arena.counters)
        wait_until(lambda n=sent: answered.count >= n, 10, "the killed push's requests to land")

        res = cli(*push_args(project))
        assert res.code == 0, f"run {run}: the push after the kill failed\n{res.text}"
        try:
            figures["files_checked"] += assert_converged(arena, project, aid, token=token)
        except AssertionError as exc:
            lost.append(f"run {run}: {exc}")
            figures["files_lost"] += 1
        arena.reset_counters()
        again = cli(*push_args(project))
        assert again.code == 0, again.text
        assert not mutations(arena.counters), f"run {run}: base disagrees: {arena.counters}"
        assert arena.deploy_count(aid) == 0
        assert bound_agent_id(project) == aid
        figures["runs"] += 1
        return outran

    outran: list[float] = []
    for run in range(1, RUNS + 1):
        took = one_run(run, rng.uniform(0.0, 1.05 * (total - uploading)))
        if took is not None:
            outran.append(took)
    # The window was measured once: a calibration slowed by other work on the machine makes
    # most delays outlast the pushes that follow (each then finishes unkilled). Then more
    # seeded runs follow, each delay within the shortest upload phase measured meanwhile, until
    # MIN_MID_BATCH kills landed mid-batch, RUNS more at most. Every run is checked alike.
    extra = 0
    while figures["killed_mid_batch"] < MIN_MID_BATCH and extra < RUNS:
        extra += 1
        window = min([*outran, total - uploading])
        took = one_run(RUNS + extra, rng.uniform(0.0, 0.9 * window))
        if took is not None:
            outran.append(took)
    figures["extra_runs"] = extra

    line = "kill -9 matrix: " + " ".join(f"{k}={v}" for k, v in figures.items())
    print("\n" + line)
    out = os.environ.get("FAULTS_FIGURES")
    if out:
        Path(out).write_text(json.dumps(figures, indent=1) + "\n")
    assert not lost, "\n".join(lost)
    assert figures["killed_mid_batch"] >= MIN_MID_BATCH, f"too few kills landed mid-batch: {line}"
    assert len([a for a in arena.store.agents.values() if a.owner_id == 1]) == 1, "extra agents"


def test_kill9_between_uploads_and_deploy_next_push_deploys_once(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    """The push is killed while its deploy check runs: files synced, deploy not sent yet.
    The next push finishes the interrupted push, so it deploys, once."""
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(3))
    assert cli(*push_args(project)).code == 0
    aid = bound_agent_id(project)
    (project.root / "pkg0" / "helper_00.py").write_text("VALUE = 3\n")
    slow_check = "deploy:\n  check: \"python -c 'import time; time.sleep(30)'\"\n"
    text = project.config.read_text().replace("  check: null\n", "")
    project.config.write_text(text.replace("deploy:\n", slow_check, 1))
    marker = project.root / "pkg0" / "helper_00.py"
    arena.reset_counters()
    err = tmp_path / "push.err"
    with err.open("wb") as sink:
        proc = spawn_cli("-C", str(project.dir), "push", env=cli_env(token), stderr=sink)
    checks: list[int] = []
    try:
        try:
            wait_until(
                lambda: count(arena.counters, "PUT", "/file") >= 1 or proc.poll() is not None,
                30,
                "the upload",
            )
            assert proc.poll() is None, f"the push ended ({proc.returncode})"
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {arena.counters}; stderr:\n{err.read_text()}") from exc
        # The check (sleep 30) is running now: no deploy can be in flight.
        checks = wait_until(lambda: children_running(proc.pid, "sleep(30)"), 30, "the check")
    finally:
        proc.kill()
        proc.wait(10)
        for pid in checks:  # the killed push's check, orphaned
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert count(arena.counters, "PUT", "/file") == 1, arena.counters
    assert arena.deploy_count(aid) == 0
    project.config.write_text(text)  # check: null again
    assert marker.read_text() == "VALUE = 3\n"
    res = cli("-C", str(project.dir), "push", "--wait")
    assert res.code == 0, res.text
    assert arena.deploy_count(aid) == 1, "the interrupted push's deploy was lost"


def test_kill9_during_agent_creation_binds_one_agent(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    """Killed after the create-agent POST reached the arena, before the reply: the next push
    must not silently create a second agent of the same name (it may refuse, saying how to
    bind the existing one)."""
    project = make_project(tmp_path, arena.url, "faults", files=small_tree(3))
    seeded = len(arena.store.agents)
    arena.faults.latency = 1.0  # the POST is handled, then the client dies waiting
    proc = spawn_cli(*push_args(project), env=cli_env(token))
    try:
        # The POST is in: the arena holds it for the latency (1 s) before creating the agent.
        wait_until(lambda: hits(arena.counters, routes(arena).create), 30, "the POST")
    finally:
        proc.kill()
        proc.wait(10)
    arena.faults.latency = 0.0
    # The arena finishes handling the orphaned POST.
    wait_until(lambda: len(arena.store.agents) > seeded, 5, "the orphaned POST's agent")
    assert len(arena.store.agents) == seeded + 1, "the killed push's POST did not create one"
    res = cli(*push_args(project))
    mine = [a for a in arena.store.agents.values() if a.name == "faults-agent"]
    if res.code == 0:
        assert len(mine) == 1, f"a second agent named faults-agent was created: {mine}"
    else:
        assert_clear_error(res, 2, "`id:` under `submission:`")
        assert len(mine) == 1
