"""Files: flat storage, safe names, limits, text vs binary, validation after every PUT."""

from __future__ import annotations

import pytest
from arena_helpers import GOOD_AGENT, Api

from mlarena_sync.arena import FakeArena
from mlarena_sync.arena.storage import unsafe_name_reason


def test_new_agent_holds_the_template_and_is_not_deployable(alice: Api) -> None:
    aid = alice.create(1, "fresh")
    files = alice.files(1, aid)
    assert list(files) == ["agent.py"]
    assert "class Agent" in files["agent.py"]["content"]
    assert alice.status(1, aid)["status"] == "created"
    resp = alice.deploy(1, aid)
    assert resp.status_code == 409
    assert resp.json() == {"error": "Cannot deploy agent in 'created' state"}


def test_every_put_revalidates_and_answers_200_even_when_rejected(alice: Api) -> None:
    aid = alice.create(1)
    resp = alice.upload(1, aid, "agent.py", b"def predict(obs):\n    return 0\n")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "upload_failed"
    assert "class Agent" in body["validation_message"]
    assert alice.files(1, aid)["agent.py"]["content"].startswith("def predict")  # saved anyway

    resp = alice.upload(1, aid, "agent.py", b"class Agent(:\n")
    assert resp.json()["status"] == "upload_failed"
    assert "line 1: SyntaxError" in resp.json()["validation_message"]

    resp = alice.upload(1, aid, "agent.py", GOOD_AGENT)
    assert resp.json()["status"] == "upload_validated"

    resp = alice.delete_file(1, aid, "agent.py")
    assert resp.status_code == 200
    assert resp.json()["status"] == "upload_failed"
    assert resp.json()["validation_message"].startswith("agent.py is missing")
    assert alice.deploy(1, aid).json() == {"error": "Cannot deploy agent in 'upload_failed' state"}


def test_any_class_with_predict_validates(alice: Api) -> None:
    aid = alice.create(1)
    resp = alice.upload(
        1, aid, "agent.py", b"class MyAgent:\n    def predict(self, o):\n        return 1\n"
    )
    assert resp.json()["status"] == "upload_validated"
    assert "MyAgent" in resp.json()["validation_message"]


def test_delete_of_a_missing_file_is_404(alice: Api) -> None:
    aid = alice.create(1)
    assert alice.delete_file(1, aid, "nope.py").status_code == 404


@pytest.mark.parametrize(
    "name", ["sub/x.py", ".env", "../x.py", "a..b", "é.py", "with space.py", "x" * 129, "-x"]
)
def test_unsafe_names_are_refused_with_400(alice: Api, name: str) -> None:
    aid = alice.create(1)
    resp = alice.upload(1, aid, name, b"data")
    assert resp.status_code == 400
    assert "Refused file name" in resp.json()["error"]
    assert sorted(alice.files(1, aid)) == ["agent.py"]


def test_safe_name_rule() -> None:
    assert unsafe_name_reason("policy_v2.pt") is None
    assert unsafe_name_reason("a" * 128) is None
    assert unsafe_name_reason("a" * 129) is not None
    assert unsafe_name_reason("") is not None


def test_storage_is_flat_and_overwrites_by_name(alice: Api, arena: FakeArena) -> None:
    aid = alice.create(1)
    alice.upload(1, aid, "helper.py", b"X = 1\n")
    alice.upload(1, aid, "helper.py", b"X = 2\n")
    files = alice.files(1, aid)
    assert files["helper.py"]["content"] == "X = 2\n"
    assert sorted(p.name for p in (arena.data_dir / "agents" / str(aid)).iterdir()) == [
        "agent.py",
        "helper.py",
    ]


def test_text_vs_binary(alice: Api) -> None:
    aid = alice.create(1)
    alice.upload(1, aid, "model.pkl", b"\x80\x04\x95\x00\xff")
    alice.upload(1, aid, "latin1.txt", "café".encode("latin-1"))
    alice.upload(1, aid, "big.txt", b"a" * (1024 * 1024 + 1))
    alice.upload(1, aid, "notes.md", "# héllo\n".encode())
    files = alice.files(1, aid)
    for name in ("model.pkl", "latin1.txt", "big.txt"):
        assert files[name]["is_binary"] is True
        assert files[name]["content"] is None
    assert files["big.txt"]["size"] == 1024 * 1024 + 1
    assert files["notes.md"] == {
        "content": "# héllo\n",
        "language": "markdown",
        "is_binary": False,
        "size": 9,
    }
    assert files["agent.py"]["language"] == "python"
    content = alice.request("GET", alice.agent_path(1, aid, "/file/model.pkl/content"))
    assert content.status_code == 400
    assert "binary" in content.json()["error"]
    text = alice.request("GET", alice.agent_path(1, aid, "/file/notes.md/content"))
    assert text.json() == {"content": "# héllo\n"}
    missing = alice.request("GET", alice.agent_path(1, aid, "/file/none.py/content"))
    assert missing.status_code == 404


def test_file_count_limit(alice: Api) -> None:
    aid = alice.create(2)  # competition 2 allows 5 files
    for i in range(5):
        assert alice.upload(2, aid, f"f{i}.txt", b"x").status_code == 200
    resp = alice.upload(2, aid, "f5.txt", b"x")
    assert resp.status_code == 400
    assert "at most 5 files" in resp.json()["error"]
    assert alice.upload(2, aid, "f0.txt", b"overwrite is fine").status_code == 200


def test_file_size_limit_is_per_file(alice: Api) -> None:
    aid = alice.create(2)  # 10 MiB per file
    resp = alice.upload(2, aid, "huge.bin", b"\0" * (10 * 1024 * 1024 + 1))
    assert resp.status_code == 413
    assert "at most 10485760 bytes" in resp.json()["error"]
    assert "huge.bin" not in alice.files(2, aid)


def test_competition_detail_advertises_limits(anon: Api) -> None:
    detail = anon.request("GET", "/api/competitions/1").json()
    assert detail["max_upload_size_bytes"] == 100 * 1024 * 1024
    assert detail["max_upload_files"] == 1000
    assert "class Agent" in detail["agent_template"]
    assert detail["engine"]["name"] == "gymnasium"


def test_file_competition_validation(alice: Api) -> None:
    aid = alice.create(2)
    assert alice.files(2, aid) == {}
    bad = alice.upload(2, aid, "submission.csv", b"id,guess\n1,1\n").json()
    assert bad["status"] == "upload_failed"
    assert "missing column(s) prediction" in bad["validation_message"]
    good = alice.upload(2, aid, "submission.csv", b"id,prediction\n1,1\n2,0\n3,0\n4,0\n").json()
    assert good["status"] == "upload_validated"
    assert alice.deploy(2, aid).status_code == 202
    status = alice.wait_settled(2, aid)
    assert status["status"] == "active"
    assert status["mean_reward"] == 0.75


def test_copy_from_agent(alice: Api, bob: Api) -> None:
    src = alice.ready_agent(1, "src")
    alice.upload(1, src, "helper.py", b"X = 1\n")
    resp = alice.request(
        "POST",
        "/api/direct_attache_agents/competition/1",
        json={"agent_name": "copy", "copy_from_agent_id": src},
    )
    assert resp.status_code == 201
    copy = resp.json()["attache_agent_id"]
    assert sorted(alice.files(1, copy)) == ["agent.py", "helper.py"]
    assert alice.status(1, copy)["status"] == "upload_validated"
    stolen = bob.request(
        "POST",
        "/api/direct_attache_agents/competition/1",
        json={"agent_name": "x", "copy_from_agent_id": src},
    )
    assert stolen.status_code == 404


def test_browser_edit_changes_the_file_and_revalidates(alice: Api, arena: FakeArena) -> None:
    aid = alice.ready_agent()
    arena.browser_edit(aid, "agent.py", "print('no agent')\n")
    assert alice.files(1, aid)["agent.py"]["content"] == "print('no agent')\n"
    assert alice.status(1, aid)["status"] == "upload_failed"
