"""The one exception tree of mlarena-sync.

Every error the core raises is one of these; the CLI (and only the CLI) maps them to the exit
codes of ``docs/product.md``. Messages are written for the user: they say what happened and what
to do next. They never contain the API token.

::

    MlarenaSyncError                      generic failure                          exit 1
     ├── ConfigError                      bad mlarena.yaml, flag, missing token     exit 2
     │    └── SelectionError              local files that cannot be synced as-is  exit 2
     ├── StateError                       .mlarena-sync/ unusable                   exit 2
     │    └── LockedError                 another mlarena-sync holds the lock       exit 2
     ├── AuthError                        401/403, malformed or wrong-scope token   exit 4
     ├── NotFoundError                    404 (missing, or not yours)               exit 1
     ├── ConflictError                    remote changed since last sync, delete cap exit 3
     ├── QuotaError                       deploy refused (quota, server 409)        exit 5
     ├── DeployRefusedError               no deploy: local check / validation failed exit 5
     ├── DeployFailedError                deploy ended deploy_failed/upload_failed  exit 6
     ├── WaitTimeoutError                 --wait ran out of time before it settled  exit 7
     ├── ServerError                      5xx or unexpected reply, after retries    exit 1
     └── TransportError                   network: refused, reset, timeout          exit 1
"""

from __future__ import annotations

from datetime import datetime


class MlarenaSyncError(Exception):
    """Base class: a failure the user can act on. ``str(err)`` is the message to show."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class ConfigError(MlarenaSyncError):
    """Bad configuration, flag or environment: fix the input and run again."""


class SelectionError(ConfigError):
    """Local files that cannot be synced as they are (name clash, unsafe name, too big, secret).

    ``problems`` holds one line per offending file, all reported together.
    """

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        head = f"{len(self.problems)} file problem(s) stop the sync; nothing was changed"
        super().__init__(head + ":\n  " + "\n  ".join(self.problems), hint=hint)


class StateError(MlarenaSyncError):
    """The state folder ``.mlarena-sync/`` cannot be used."""


class LockedError(StateError):
    """Another mlarena-sync process works on this folder."""

    def __init__(self, message: str, *, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


class ApiError(MlarenaSyncError):
    """An error answered by (or on the way to) the ML Arena server."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        hint: str | None = None,
        body: object | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status_code = status_code
        self.body = body


class AuthError(ApiError):
    """401/403: the token is missing, malformed, revoked or of the wrong scope."""


class NotFoundError(ApiError):
    """404: not found, or not yours (the server never says which)."""


class ConflictError(MlarenaSyncError):
    """A remote change would be overwritten, or the delete cap would be exceeded."""

    def __init__(self, message: str, *, hint: str | None = None, files: list[str] | None = None):
        super().__init__(message, hint=hint)
        self.files = list(files or [])


class QuotaError(ApiError):
    """The server (or our own quota rules) refused a deploy. Files were synced."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        hint: str | None = None,
        body: object | None = None,
        next_available_at: datetime | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, hint=hint, body=body)
        self.next_available_at = next_available_at


class DeployRefusedError(MlarenaSyncError):
    """No deploy: the local ``deploy.check`` or the server's upload validation failed.

    The files were synced; the deploy stays pending (the next push deploys once this is fixed).
    """


class DeployFailedError(MlarenaSyncError):
    """A deploy settled in ``deploy_failed`` or ``upload_failed``."""

    def __init__(self, message: str, *, status: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class ServerError(ApiError):
    """5xx or a reply we cannot read, still failing after retries."""


class TransportError(ApiError):
    """The server could not be reached (refused, reset, DNS, timeout)."""


# ---- API generations (added for the v0 / v4.6 adapters; subclasses of the tree above) ----------


class ClientError(ApiError):
    """Any other 4xx the server answered: the request was refused as sent (exit 1).

    A class of its own so that callers can catch "the server said no" without testing
    ``type(exc) is ApiError``.
    """


class RefusedFileError(ConfigError):
    """The server refused one file of an upload (400/413/422: bad name, too large, too many).

    An input problem of that file (exit 2): rename, shrink or exclude it. ``file_name`` is the
    stored name the server refused.
    """

    def __init__(self, message: str, *, file_name: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.file_name = file_name


class UploadsHeldError(ApiError):
    """409 on a file PUT: the server holds uploads while a deploy is queued or running.

    Nothing was written. The engine catches it to hold its edits until the submission is
    settled, then syncs and redeploys once.
    """


class MaintenanceError(ServerError):
    """503 with ``"maintenance_mode": true``: an admin has the platform in maintenance.

    ``admin_message`` is the admin's own text; try again once the maintenance is over.
    """

    def __init__(
        self,
        message: str,
        *,
        admin_message: str | None = None,
        status_code: int | None = 503,
        hint: str | None = None,
        body: object | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, hint=hint, body=body)
        self.admin_message = admin_message


class GenerationChangedError(ApiError):
    """A route that must exist answered 404 while its challenge exists: the server now speaks
    another API generation. Not "agent missing": forgetting the binding would be wrong."""


class GenerationMismatchError(GenerationChangedError, ConfigError):
    """The server does not speak the API generation that was asked for (``--api``,
    ``MLARENA_API``, ``api:`` in mlarena.yaml, or the one remembered in ``.mlarena-sync/``):
    a configuration error (exit 2) whose hint names where that value came from."""


class UnsupportedServerError(ConfigError):
    """The server at ``server:`` speaks no API generation mlarena-sync knows (v0 or v4.6)."""


class UnsupportedOperationError(MlarenaSyncError):
    """The API generation in use has no such operation (check ``Arena.capabilities`` first)."""


class WaitTimeoutError(MlarenaSyncError):
    """``--wait`` ran out of time before the deploy settled (exit 7): the deploy continues on the
    server, so a CI job can tell "not yet" from "failed" (exit 6) and from a server error (1)."""
