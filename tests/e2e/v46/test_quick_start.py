"""README's quick start against today's server (v4.6) and the seed's (v0), with no ``api:``
key: the generation is detected on the first run, remembered in ``.mlarena-sync/api.json``,
and never probed again; a push with nothing to do writes nothing and reads only what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import Cli
from helpers.project import Project

from mlarena_sync.arena import FakeArena

from .kit import (
    AGENT_PY,
    CREATE,
    DEPLOY,
    LIST_FILES,
    PIN_RUNTIME,
    PUT_FILE,
    SUBMISSION,
    RequestLog,
    remembered_generations,
    stored,
    writes,
)

FIRST_ID = 101  # the fake arena's first new submission id
FILES_OF_FIRST = f"/api/submissions/challenge/1/{FIRST_ID}/file"
TORCH_RUNTIME = 2  # competition 1 offers it; its default is 1 (gymnasium)
GYMNASIUM_RUNTIME = 1
#: What a no-op push of the bound submission reads (status, listing), and the probes that
#: tell today's generation (by the submission's id when it is known, else the challenge's).
NO_OP_READS = (f"GET /api/submissions/submission/{FIRST_ID}", f"GET {FILES_OF_FIRST}")
PROBES = (f"GET /api/submissions/submission/{FIRST_ID}", "GET /api/challenges/1")


def quick_start(cli: Cli, folder: Path, url: str, *, runtime: bool = True) -> Project:
    """README's step 2: ``init`` in the agent's folder (then the ``api:`` key removed, as in a
    mlarena.yaml written before it existed), and an ``agent.py``; ``runtime``: the torch
    runtime is asked for (not the challenge's default), else none."""
    folder.mkdir()
    pin = ("--runtime-framework", "torch") if runtime else ()
    res = cli(
        *("-C", str(folder), "init", "--server", url, "--competition", "1"),
        *("--agent-name", "my-agent", *pin),
    )
    assert res.code == 0, res.text
    config = folder / "mlarena.yaml"
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    config.write_text("".join(ln for ln in lines if not ln.startswith("api:")), encoding="utf-8")
    assert "api:" not in config.read_text(encoding="utf-8").replace("api_key_env:", "")
    (folder / "agent.py").write_text(AGENT_PY, encoding="utf-8")
    return Project(folder, url, ".")


def test_quick_start_creates_pins_uploads_deploys_and_remembers_v46(
    cli: Cli, alice: str, arena46: FakeArena, requests_seen: RequestLog, tmp_path: Path
) -> None:
    project = quick_start(cli, tmp_path / "my-agent", arena46.url)

    plan = cli("-C", str(project.dir), "plan")
    assert plan.code == 0, plan.text
    assert "agent.py" in plan.out and "deploy: yes" in plan.out, plan.out
    assert writes(arena46.counters) == {}  # plan changes nothing
    assert not (project.state_dir / "api.json").exists()  # and remembers nothing

    arena46.reset_counters()
    requests_seen.clear()
    res = cli("-C", str(project.dir), "push", "--wait")
    assert res.code == 0, res.text
    assert f"pushed to agent {FIRST_ID}" in res.out and "deployed: live" in res.out, res.out
    # the detection probe comes first, before anything else
    assert requests_seen.requests()[0] in PROBES, requests_seen.requests()
    assert writes(arena46.counters) == {
        CREATE: 1,
        PIN_RUNTIME: 1,
        PUT_FILE: 1,
        DEPLOY: 1,
    }
    assert arena46.agent_status(FIRST_ID) == "active"
    assert arena46.store.agents[FIRST_ID].runtime_id == TORCH_RUNTIME
    assert stored(arena46, FIRST_ID, "agent.py") == AGENT_PY.encode()
    assert arena46.deploy_count(FIRST_ID) == 1
    assert project.agent_id() == FIRST_ID
    assert remembered_generations(project) == {arena46.url: "v4.6"}
    assert (project.state_dir / ".gitignore").is_file()

    # an edit: the second run reads, uploads, deploys; it never asks for v0's routes
    (project.dir / "agent.py").write_text(AGENT_PY + "# v2\n", encoding="utf-8")
    arena46.reset_counters()
    requests_seen.clear()
    again = cli("-C", str(project.dir), "push", "--wait")
    assert again.code == 0, again.text
    seen = requests_seen.requests()
    assert not seen[0].startswith(("GET /api/challenges/", "GET /api/competitions/")), seen
    assert not any(r.startswith("GET /api/competitions") for r in seen), seen
    assert writes(arena46.counters) == {PUT_FILE: 1, DEPLOY: 1}
    assert arena46.deploy_count(FIRST_ID) == 2
    assert stored(arena46, FIRST_ID, "agent.py") == (AGENT_PY + "# v2\n").encode()
    assert remembered_generations(project) == {arena46.url: "v4.6"}

    # with the generation remembered, a run sends its own reads and no probe at all...
    requests_seen.clear()
    assert cli("-C", str(project.dir), "push").code == 0
    assert sorted(requests_seen.requests()) == sorted(NO_OP_READS), requests_seen.requests()
    # ...while forgetting it brings one probe back, first (by the submission or challenge id)
    (project.state_dir / "api.json").unlink()
    requests_seen.clear()
    assert cli("-C", str(project.dir), "push").code == 0
    seen = requests_seen.requests()
    assert len(seen) == len(NO_OP_READS) + 1 and seen[0] in PROBES, seen
    assert sorted(seen[1:]) == sorted(NO_OP_READS), seen
    assert remembered_generations(project) == {arena46.url: "v4.6"}


@pytest.mark.parametrize(
    "runtime",
    [
        pytest.param(False, id="default-runtime"),
        pytest.param(True, id="runtime-pinned"),
    ],
)
def test_a_no_op_push_writes_nothing_and_reads_only_what_it_needs(
    runtime: bool, cli: Cli, alice: str, arena46: FakeArena, tmp_path: Path
) -> None:
    project = quick_start(cli, tmp_path / "my-agent", arena46.url, runtime=runtime)
    (project.dir / "weights.bin").write_bytes(b"\x00\x01weights" * 32)
    assert cli("-C", str(project.dir), "push", "--wait").code == 0
    arena46.reset_counters()

    res = cli("-C", str(project.dir), "push")

    assert res.code == 0, res.text
    assert "0 uploaded, 0 deleted, 2 unchanged" in res.out, res.out
    assert "no deploy (nothing changed" in res.out, res.out
    assert writes(arena46.counters) == {}
    assert arena46.deploy_count(FIRST_ID) == 1
    # no probe, no download of the unchanged files (the listing's sizes and the sync record
    # suffice), no read twice: the submission's status and its file listing
    assert arena46.counters == {SUBMISSION: 1, LIST_FILES: 1}


def test_a_runtime_changed_in_the_config_is_pinned_again(
    cli: Cli, alice: str, arena46: FakeArena, tmp_path: Path
) -> None:
    project = quick_start(cli, tmp_path / "my-agent", arena46.url)
    assert cli("-C", str(project.dir), "push", "--wait").code == 0
    assert arena46.store.agents[FIRST_ID].runtime_id == TORCH_RUNTIME
    config = project.config.read_text(encoding="utf-8")
    assert config.count("framework: torch") == 1, config
    project.config.write_text(config.replace("framework: torch", "framework: gymnasium"))
    arena46.reset_counters()

    res = cli("-C", str(project.dir), "push", "--no-deploy")

    assert res.code == 0, res.text
    assert writes(arena46.counters) == {PIN_RUNTIME: 1}
    assert arena46.store.agents[FIRST_ID].runtime_id == GYMNASIUM_RUNTIME
    arena46.reset_counters()
    assert cli("-C", str(project.dir), "push", "--no-deploy").code == 0
    assert arena46.counters == {SUBMISSION: 1, LIST_FILES: 1}  # pinned: not resolved again


def test_the_same_quick_start_against_a_v0_server_detects_v0(
    cli: Cli,
    arena0: FakeArena,
    requests_seen_v0: RequestLog,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("MLARENA_API_KEY", arena0.user_token)
    project = quick_start(cli, tmp_path / "my-agent", arena0.url)

    res = cli("-C", str(project.dir), "push", "--wait")

    assert res.code == 0, res.text
    assert f"pushed to agent {FIRST_ID}" in res.out and "deployed: live" in res.out, res.out
    assert remembered_generations(project) == {arena0.url: "v0"}
    # the probe: today's challenge route first (404 on a v0 server), then v0's competition
    assert requests_seen_v0.requests()[:2] == ["GET /api/challenges/1", "GET /api/competitions/1"]
    assert not any("/api/submissions/" in r for r in requests_seen_v0.requests())
    api0 = "/api/direct_attache_agents"
    assert writes(arena0.counters) == {
        f"POST {api0}/competition/{{cid}}": 1,
        f"PUT {api0}/agent_runtime/{{aid}}": 1,
        f"PUT {api0}/competition/{{cid}}/{{aid}}/file": 1,
        f"PUT {api0}/competition/{{cid}}/{{aid}}/deploy": 1,
    }
    assert arena0.agent_status(FIRST_ID) == "active"
    assert arena0.store.agents[FIRST_ID].runtime_id == TORCH_RUNTIME

    arena0.reset_counters()
    requests_seen_v0.clear()
    again = cli("-C", str(project.dir), "push")
    assert again.code == 0, again.text
    assert "0 uploaded, 0 deleted, 1 unchanged" in again.out, again.out
    assert writes(arena0.counters) == {}
    assert "GET /api/challenges/1" not in requests_seen_v0.requests()  # remembered: no probe
    assert arena0.deploy_count(FIRST_ID) == 1
