"""Helpers for the fake arena's route-level tests: a token-bound ``requests`` session."""

from __future__ import annotations

import time
from typing import Any

import requests
from helpers.arena import API

SETTLED = {"created", "upload_failed", "upload_validated", "deploy_failed", "active", "deleted"}
GOOD_AGENT = b"class Agent:\n    def predict(self, observation):\n        return 0\n"


class Api:
    def __init__(self, base: str, token: str | None) -> None:
        self.base = base
        self.session = requests.Session()
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 15)
        return self.session.request(method, self.base + path, **kwargs)

    def agent_path(self, cid: int, aid: int, tail: str = "") -> str:
        return f"{API}/competition/{cid}/{aid}{tail}"

    def create(self, cid: int = 1, name: str = "agent") -> int:
        resp = self.request("POST", f"{API}/competition/{cid}", json={"agent_name": name})
        assert resp.status_code == 201, resp.text
        return int(resp.json()["attache_agent_id"])

    def upload(self, cid: int, aid: int, name: str, data: bytes) -> requests.Response:
        return self.request("PUT", self.agent_path(cid, aid, "/file"), files={"file": (name, data)})

    def delete_file(self, cid: int, aid: int, name: str) -> requests.Response:
        return self.request("PUT", self.agent_path(cid, aid, "/file"), data={"delete_file": name})

    def files(self, cid: int, aid: int) -> dict[str, Any]:
        resp = self.request("GET", self.agent_path(cid, aid, "/file"))
        assert resp.status_code == 200, resp.text
        return dict(resp.json()["files"])

    def deploy(self, cid: int, aid: int) -> requests.Response:
        return self.request("PUT", self.agent_path(cid, aid, "/deploy"))

    def deploy_status(self, cid: int, aid: int) -> dict[str, Any]:
        resp = self.request("GET", self.agent_path(cid, aid, "/deploy"))
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def status(self, cid: int, aid: int) -> dict[str, Any]:
        resp = self.request("GET", self.agent_path(cid, aid, "/status"))
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def wait_settled(self, cid: int, aid: int, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(cid, aid)
            if status["status"] in SETTLED or time.monotonic() > deadline:
                return status
            time.sleep(0.05)

    def ready_agent(self, cid: int = 1, name: str = "agent", source: bytes = GOOD_AGENT) -> int:
        aid = self.create(cid, name)
        assert self.upload(cid, aid, "agent.py", source).status_code == 200
        return aid

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
