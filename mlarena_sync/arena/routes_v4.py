"""The v4.6 generation's route table: today's "submissions" API (api-v4.md).

``mlarena-sdk==4.6.0`` runs against it unchanged. Every v0 route is absent (404), as on the
platform since SDK 2.0. Domain errors answer :data:`STATUS` (the shared defaults: 404, 409,
400, 413, 401, 403).
"""

from __future__ import annotations

from mlarena_sync.arena import files_v4 as files
from mlarena_sync.arena import submissions_v4 as subs
from mlarena_sync.arena.errors import DEFAULT_STATUS, DomainError
from mlarena_sync.arena.table import Route, RouteTable

SUBS = "/api/submissions"
ONE = SUBS + "/challenge/<int:cid>/<int:sid>"
PAGE = SUBS + "/submission/<int:sid>"
STATUS: dict[type[DomainError], int] = dict(DEFAULT_STATUS)

ROUTES: list[Route] = [
    ("/api/auth/current_user", "current_user", ("GET",), subs.current_user),
    ("/api/challenges/", "challenges", ("GET",), subs.challenges),
    ("/api/challenges/<int:cid>", "challenge", ("GET",), subs.challenge),
    ("/api/leaderboard/challenge/<int:cid>", "leaderboard", ("GET",), subs.leaderboard),
    (SUBS + "/mine", "my_submissions", ("GET",), subs.my_submissions),
    (SUBS + "/copyable_submissions", "copyable", ("GET",), subs.copyable_submissions),
    (SUBS + "/challenge/<int:cid>", "create_submission", ("POST",), subs.create_submission),
    (SUBS + "/agent_runtime/<int:sid>", "set_agent_runtime", ("PUT",), subs.set_agent_runtime),
    (PAGE, "submission", ("GET",), subs.submission),
    (PAGE, "update_submission", ("PATCH",), subs.update_submission),
    (PAGE + "/deploys", "deploys", ("GET",), files.deploys),
    (PAGE + "/runs", "runs", ("GET",), files.runs),
    (ONE, "delete_submission", ("DELETE",), files.delete_submission),
    (ONE + "/file", "list_files", ("GET",), files.list_files),
    (ONE + "/file", "put_file", ("PUT",), files.put_file),
    (ONE + "/file/<path:name>/content", "file_content", ("GET",), files.file_content),
    (ONE + "/file/<path:name>", "file_raw", ("GET",), files.file_raw),
    (ONE + "/deploy", "deploy", ("PUT",), files.deploy),
    (ONE + "/deploy", "deploy_status", ("GET",), files.deploy_status),
]

TABLE = RouteTable("v4.6", ROUTES, STATUS)
