"""Helpers for the v4.6 route tests: a token-bound ``requests`` session on today's routes."""

from __future__ import annotations

import time
from typing import Any

import requests

SUBS = "/api/submissions"
GOOD_AGENT = b"class Agent:\n    def predict(self, observation):\n        return 0\n"
CHATTY_AGENT = (
    b"class Agent:\n"
    b"    def __init__(self):\n"
    b"        print('hello from the agent')\n\n"
    b"    def predict(self, observation):\n"
    b"        return 0\n"
)
SLOW_AGENT = (
    b"import time\n\n\n"
    b"class Agent:\n"
    b"    def predict(self, observation):\n"
    b"        time.sleep(0.01)\n"
    b"        return 0\n"
)
STATUS_BLOCK = {
    "status",
    "phase",
    "last_status_message",
    "status_update_ts",
    "is_uploadable",
    "is_deployable",
    "is_settled",
}


class Api4:
    """One caller of the v4.6 API (``token`` None: anonymous)."""

    def __init__(self, base: str, token: str | None) -> None:
        self.base = base
        self.session = requests.Session()
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 15)
        kwargs.setdefault("allow_redirects", False)
        return self.session.request(method, self.base + path, **kwargs)

    def one(self, cid: int, sid: int, tail: str = "") -> str:
        return f"{SUBS}/challenge/{cid}/{sid}{tail}"

    def create(self, cid: int = 1, name: str = "sub", **extra: Any) -> dict[str, Any]:
        body = {"submission_name": name, **extra}
        resp = self.request("POST", f"{SUBS}/challenge/{cid}", json=body)
        assert resp.status_code in (200, 201), resp.text
        return dict(resp.json())

    def upload(self, cid: int, sid: int, name: str, data: bytes) -> requests.Response:
        return self.request("PUT", self.one(cid, sid, "/file"), files={"file": (name, data)})

    def delete_file(self, cid: int, sid: int, name: str) -> requests.Response:
        return self.request("PUT", self.one(cid, sid, "/file"), data={"delete_file": name})

    def files(self, cid: int, sid: int) -> list[dict[str, Any]]:
        resp = self.request("GET", self.one(cid, sid, "/file"))
        assert resp.status_code == 200, resp.text
        return list(resp.json()["files"])

    def deploy(self, cid: int, sid: int) -> requests.Response:
        return self.request("PUT", self.one(cid, sid, "/deploy"))

    def submission(self, sid: int) -> dict[str, Any]:
        resp = self.request("GET", f"{SUBS}/submission/{sid}")
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def ready(self, cid: int = 1, name: str = "sub", source: bytes = GOOD_AGENT) -> int:
        """A created submission with a valid agent.py (deployable)."""
        sid = int(self.create(cid, name)["submission_id"])
        assert self.upload(cid, sid, "agent.py", source).status_code == 200
        return sid

    def wait_settled(self, sid: int, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            sub = self.submission(sid)
            if sub["is_settled"] or time.monotonic() > deadline:
                return sub
            time.sleep(0.05)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Api4:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
