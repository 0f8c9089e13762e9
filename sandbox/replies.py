"""Answer-building helpers shared by every provider's routes: JSON responses, the providers'
error envelopes that appear in more than one place, and how credentials are read from a request.

Kept apart from the routes so the fault module and each provider module build their answers the
same way (same mimetype, same header handling) without importing each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Response, request

JSON = "application/json"

# `gate(provider, scope="", daily=True)`: latency, faults and limits; None when it may be served.
Gate = Callable[..., "Response | None"]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, mimetype=JSON, headers=headers or {})


def s3_not_found() -> Response:
    """What a storage bucket answers for an object that does not exist (yet)."""
    return Response("<Error><Code>NoSuchKey</Code></Error>", 404, mimetype="application/xml")


def openai_error(status: int, message: str, etype: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": etype, "param": None, "code": code}}


def openai_bad_key() -> Response:
    return json_response(
        openai_error(
            401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        ),
        401,
    )


def google_error(code: int, message: str, status: str) -> Response:
    """Google's error envelope, with its HTTP status."""
    return json_response({"error": {"code": code, "message": message, "status": status}}, code)


def key_from_request(*headers: str) -> str:
    for name in headers:
        value = request.headers.get(name, "")
        if value:
            return (
                value.split(" ", 1)[1] if value.lower().startswith(("bearer ", "token ")) else value
            )
    return ""


def bad_key(key: str) -> bool:
    """Any non-empty key is accepted except ones starting with 'invalid' (to test auth errors)."""
    return not key or key.lower().startswith("invalid")
