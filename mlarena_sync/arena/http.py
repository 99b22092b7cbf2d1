"""JSON replies shared by every route table (the store itself never speaks HTTP)."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from werkzeug.exceptions import abort
from werkzeug.wrappers import Response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, mimetype="application/json", headers=headers or {}
    )


def refuse(status: int, error: str, **extra: Any) -> NoReturn:
    """Answer ``status`` with ``{"error": error, ...extra}`` (raises an HTTPException)."""
    abort(json_response({"error": error, **extra}, status))
