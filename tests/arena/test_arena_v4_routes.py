"""v4.6 routes over HTTP: the caller, challenges, submissions and their files (api-v4.md)."""

from __future__ import annotations

import hashlib

from arena_v4_helpers import GOOD_AGENT, STATUS_BLOCK, SUBS, Api4

from mlarena_sync.arena import FakeArena
from mlarena_sync.arena.seed import AGENT_TEMPLATE, BOB_AGENT_ID, TEAM_AGENT_ID


def test_current_user_answers_every_scope_and_401_without_a_key(
    arena_v4: FakeArena, alice4: Api4, anon4: Api4
) -> None:
    me = alice4.request("GET", "/api/auth/current_user").json()
    assert (me["id"], me["username"], me["is_authenticated"]) == (1, "alice", True)
    assert {"email", "avatar_key", "is_admin", "has_creator_access"} <= set(me)
    with Api4(arena_v4.url, arena_v4.creator_token) as carol:
        assert carol.request("GET", "/api/auth/current_user").json()["is_creator"] is True
    resp = anon4.request("GET", "/api/auth/current_user")
    assert resp.status_code == 401 and "error" in resp.json()


def test_code_challenge_detail_carries_limits_runtimes_machine_and_template(anon4: Api4) -> None:
    comp = anon4.request("GET", "/api/challenges/1").json()
    assert comp["kernel_version"] == "flex_v1" and comp["entry_filename"] == "agent.py"
    assert (comp["max_upload_size_bytes"], comp["max_upload_files"]) == (100 * 1024 * 1024, 1000)
    assert comp["agent_template"] == AGENT_TEMPLATE
    assert comp["machine"]["runtime"] == "k8s" and "name" in comp["machine"]
    runtimes = comp["runtime_options"]
    assert [rt["id"] for rt in runtimes] == [1, 2]
    keys = {"id", "language", "language_version", "framework", "framework_version"}
    assert all(keys | {"requirement", "display_name", "packages"} <= set(rt) for rt in runtimes)
    assert runtimes[1]["display_name"] == "PyTorch"
    assert {"name": "torch", "version": "2.3.1"} in runtimes[1]["packages"]


def test_competition_2_is_a_file_challenge_scoring_submission_csv(anon4: Api4) -> None:
    comp = anon4.request("GET", "/api/challenges/2").json()
    assert comp["kernel_version"] == "file_v1" and comp["kind_label"] == "File challenge"
    assert comp["entry_filename"] == "submission.csv"
    assert comp["agent_template"] is None and comp["runtime_options"] == []
    assert comp["submission_layout"]["columns"] == ["id", "prediction"]


def test_hidden_and_unknown_challenges_are_404_and_the_list_pages(
    anon4: Api4, arena_v4: FakeArena
) -> None:
    assert anon4.request("GET", "/api/challenges/3").status_code == 404
    assert anon4.request("GET", "/api/challenges/99").json() == {"error": "Challenge not found"}
    with Api4(arena_v4.url, arena_v4.creator_token) as carol:
        assert carol.request("GET", "/api/challenges/3").status_code == 200
    listing = anon4.request("GET", "/api/challenges/", params={"per_page": 1}).json()
    assert [c["id"] for c in listing["items"]] == [1]
    assert listing["metadata"]["has_next"] is True


def test_create_is_empty_with_the_template_as_text(alice4: Api4) -> None:
    created = alice4.create(1, "first")
    assert set(created) >= STATUS_BLOCK
    assert created["status"] == "created" and created["phase"] == "upload"
    assert created["template_source"] == AGENT_TEMPLATE
    assert created["is_uploadable"] is True and created["is_deployable"] is False
    assert alice4.files(1, created["submission_id"]) == []
    copy = alice4.create(1, "copy", copy_from_submission_id=created["submission_id"])
    assert copy["template_source"] is None


def test_create_refusals(alice4: Api4, arena_v4: FakeArena) -> None:
    bad = alice4.request("POST", f"{SUBS}/challenge/1", json={"submission_name": "x" * 41})
    assert bad.status_code == 400
    assert alice4.request("POST", f"{SUBS}/challenge/1", data="nope").status_code == 400
    body = {"submission_name": "c", "copy_from_submission_id": BOB_AGENT_ID}
    resp = alice4.request("POST", f"{SUBS}/challenge/1", json=body)
    assert resp.status_code == 404 and resp.json()["error"] == "Source submission not found"
    assert alice4.request("POST", f"{SUBS}/challenge/3", json=body).status_code == 404
    with Api4(arena_v4.url, arena_v4.creator_token) as carol:
        resp = carol.request("POST", f"{SUBS}/challenge/1", json={"submission_name": "c"})
    assert resp.status_code == 403
    assert resp.json() == {"error": "Key scope 'creator' cannot access 'user' route"}


def test_submission_before_its_first_deploy(alice4: Api4) -> None:
    sid = alice4.ready(1, "mine")
    sub = alice4.submission(sid)
    assert set(sub) >= STATUS_BLOCK
    assert (sub["status"], sub["is_deployable"], sub["is_settled"]) == (
        "upload_validated",
        True,
        True,
    )
    assert sub["viewer_role"] == "owner" and sub["owner"]["username"] == "alice"
    assert sub["latest_deploy"] is None and sub["team"] is None
    assert sub["queue_info"] == {
        "queue_position": None,
        "queue_total": None,
        "created_at_ts": None,
        "in_queue_for_second": None,
    }
    assert sub["agent_runtime"]["id"] == 1 and sub["number_of_runs"] == 0
    assert sub["status_update_ts"].endswith("Z")
    assert {"score", "metrics", "latest_run_failure", "is_public"} <= set(sub)


def test_my_submissions_lists_mine_without_the_deleted(alice4: Api4) -> None:
    keep = alice4.ready(1, "keep")
    gone = alice4.ready(1, "gone")
    assert alice4.request("DELETE", alice4.one(1, gone)).status_code == 200
    mine = alice4.request("GET", f"{SUBS}/mine").json()
    assert [row["id"] for row in mine["submissions"]] == [keep]
    row = mine["submissions"][0]
    assert row["challenge_name"] == "CartPole Balance" and row["rank"] is None
    assert set(row) >= STATUS_BLOCK
    assert mine["deployment_limits"]["daily_deploy_limit"] == 5
    assert mine["started_submissions_count"] == 1
    assert alice4.request("DELETE", alice4.one(1, gone)).status_code == 404
    assert alice4.submission(gone)["status"] == "deleted"


def test_pin_runtime(alice4: Api4) -> None:
    sid = alice4.ready(1)
    path = f"{SUBS}/agent_runtime/{sid}"
    resp = alice4.request("PUT", path, json={"docker_image_agent_runtime_id": 2})
    assert resp.status_code == 200 and resp.json()["framework"] == "torch"
    assert alice4.submission(sid)["agent_runtime"]["id"] == 2
    wrong = alice4.request("PUT", path, json={"docker_image_agent_runtime_id": 3})
    assert wrong.status_code == 400
    assert alice4.request("PUT", path, json={}).status_code == 400
    other = f"{SUBS}/agent_runtime/{BOB_AGENT_ID}"
    assert (
        alice4.request("PUT", other, json={"docker_image_agent_runtime_id": 1}).status_code == 404
    )


def test_file_list_is_metadata_entry_first_then_reports(alice4: Api4) -> None:
    sid = alice4.ready(1)
    for name, data in (
        ("zz.py", b"x = 1\n"),
        ("README.md", b"# notes\n"),
        ("model.bin", b"\x00\x01\x02"),
        ("paper.pdf", b"%PDF-1.4\n"),
    ):
        assert alice4.upload(1, sid, name, data).status_code == 200
    assert alice4.files(1, sid) == [
        {"name": "agent.py", "size": len(GOOD_AGENT), "role": "entry", "language": "python"},
        {"name": "README.md", "size": 8, "role": "report", "language": "markdown"},
        {"name": "paper.pdf", "size": 9, "role": "report", "language": None},
        {"name": "model.bin", "size": 3, "role": "other", "language": None},
        {"name": "zz.py", "size": 6, "role": "other", "language": "python"},
    ]


def test_text_and_raw_reads(alice4: Api4) -> None:
    sid = alice4.ready(1)
    blob = bytes(range(256)) * 10
    assert alice4.upload(1, sid, "model.bin", blob).status_code == 200
    text = alice4.request("GET", alice4.one(1, sid, "/file/agent.py/content"))
    assert text.json() == {"content": GOOD_AGENT.decode()}
    binary = alice4.request("GET", alice4.one(1, sid, "/file/model.bin/content"))
    assert binary.status_code == 400 and "error" in binary.json()
    raw = alice4.request("GET", alice4.one(1, sid, "/file/model.bin"))
    assert raw.status_code == 200
    assert hashlib.sha256(raw.content).digest() == hashlib.sha256(blob).digest()
    assert alice4.request("GET", alice4.one(1, sid, "/file/nope.bin")).status_code == 404
    assert alice4.request("GET", alice4.one(1, sid, "/file/nope.py/content")).status_code == 404


def test_upload_answers_200_with_the_verdict_and_delete_file(alice4: Api4) -> None:
    sid = int(alice4.create(1)["submission_id"])
    resp = alice4.upload(1, sid, "helper.py", b"x = 1\n")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "upload_failed" and "agent.py is missing" in body["validation_message"]
    assert set(body) >= STATUS_BLOCK
    assert alice4.upload(1, sid, "agent.py", GOOD_AGENT).json()["is_deployable"] is True
    gone = alice4.delete_file(1, sid, "helper.py")
    assert gone.status_code == 200 and gone.json()["status"] == "upload_validated"
    assert alice4.delete_file(1, sid, "helper.py").status_code == 404
    assert alice4.upload(1, sid, "../evil.py", b"x").status_code == 400


def test_upload_limits_of_the_file_challenge(alice4: Api4, arena_v4: FakeArena) -> None:
    sid = int(alice4.create(2, "csv")["submission_id"])
    ok = alice4.upload(2, sid, "submission.csv", b"id,prediction\n1,1\n2,0\n")
    assert ok.json()["status"] == "upload_validated"
    for i in range(4):
        assert alice4.upload(2, sid, f"extra{i}.txt", b"x").status_code == 200
    full = alice4.upload(2, sid, "one-too-many.txt", b"x")
    assert full.status_code == 400 and "at most 5 files" in full.json()["error"]
    big = alice4.upload(2, sid, "submission.csv", b"0" * (10 * 1024 * 1024 + 1))
    assert big.status_code == 413


def test_update_submission_is_owner_only(alice4: Api4) -> None:
    sid = alice4.ready(1)
    path = f"{SUBS}/submission/{sid}"
    resp = alice4.request("PATCH", path, json={"submission_name": "renamed", "is_public": True})
    assert resp.status_code == 200
    assert (resp.json()["submission_name"], resp.json()["is_public"]) == ("renamed", True)
    assert alice4.request("PATCH", path, json={}).status_code == 400
    other = f"{SUBS}/submission/{BOB_AGENT_ID}"
    assert alice4.request("PATCH", other, json={"is_public": True}).status_code == 404


def test_a_teammates_submission_is_readable_never_writable(alice4: Api4, bob4: Api4) -> None:
    sub = alice4.submission(TEAM_AGENT_ID)
    assert sub["viewer_role"] == "teammate" and sub["owner"]["username"] == "bob"
    assert [m["username"] for m in sub["team"]["members"]] == ["bob", "alice"]
    assert bob4.submission(TEAM_AGENT_ID)["viewer_role"] == "owner"
    assert [f["name"] for f in alice4.files(2, TEAM_AGENT_ID)] == ["submission.csv"]
    content = alice4.request("GET", alice4.one(2, TEAM_AGENT_ID, "/file/submission.csv/content"))
    assert content.status_code == 200
    assert alice4.upload(2, TEAM_AGENT_ID, "submission.csv", b"id,prediction\n").status_code == 404
    assert alice4.deploy(2, TEAM_AGENT_ID).status_code == 404
    assert alice4.request("DELETE", alice4.one(2, TEAM_AGENT_ID)).status_code == 404
    # bob's code submission is not shared: it is 404 as if it did not exist
    assert alice4.request("GET", f"{SUBS}/submission/{BOB_AGENT_ID}").status_code == 404
    assert alice4.request("GET", f"{SUBS}/submission/9999").status_code == 404


def test_wrong_challenge_in_the_path_is_404(alice4: Api4) -> None:
    sid = alice4.ready(1)
    assert alice4.request("GET", alice4.one(2, sid, "/file")).status_code == 404
