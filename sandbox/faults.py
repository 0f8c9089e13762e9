"""The gate every provider request passes first, and the faults it injects.

`make_gate` applies the configured latency, asks `SandboxState.decide` for a fault or a rate-limit
refusal, and answers it in the provider's own error shape and headers (OpenAI's `error` object,
Google's `RESOURCE_EXHAUSTED` envelope, Crustdata's `x-ratelimit-*` headers, ...), so a client's
error handling meets the same bodies it would meet in production.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Response, g

from sandbox.replies import JSON, Gate, json_response, openai_error
from sandbox.state import Decision, ProviderSettings, SandboxState, ceil_s


def make_gate(state: SandboxState) -> Gate:
    def gate(provider: str, scope: str = "", daily: bool = True) -> Response | None:
        """Latency, then faults and limits; None when the request may be served."""
        s = state.get(provider)
        if s.latency_ms > 0:
            time.sleep(s.latency_ms / 1000)
        d = state.decide(provider, scope, daily=daily)
        g.decision = d
        if d.fault is None:
            state.count(provider, "ok")
            return None
        state.count(provider, d.fault)
        if d.fault == "timeout":
            time.sleep(s.hang_s)
            return json_response({"error": "sandbox timeout fault"}, 504)
        if d.fault == "malformed":
            return Response('{"sandbox": "malformed answer", "data": [', 200, mimetype=JSON)
        return fault_response(provider, d, s)

    return gate


def fault_response(provider: str, d: Decision, s: ProviderSettings) -> Response:
    """A fault in the provider's own error shape and headers."""
    fault = d.fault or "500"
    headers: dict[str, str] = {}
    wait = s.retry_after_s if s.retry_after_s is not None else d.retry_after
    if fault in ("429", "503") and s.send_retry_after:
        headers["Retry-After"] = str(ceil_s(wait))
    if fault == "429":
        return rate_limited(provider, d, headers, wait)
    if fault in ("500", "503"):
        status = int(fault)
        return json_response(_server_error_body(provider, status), status, headers)
    if fault == "401":
        return json_response(_UNAUTHORIZED.get(provider, _UNAUTHORIZED_DEFAULT), 401)
    if provider == "openai":  # OpenAI answers a spent balance with a 429, not a 402
        return json_response(
            openai_error(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
            ),
            429,
        )
    return json_response(_OUT_OF_CREDIT[provider], 403 if provider == "sheets" else 402)


def _server_error_body(provider: str, status: int) -> Any:
    if provider == "openai":
        return openai_error(
            status, "The server had an error while processing your request.", "server_error", None
        )
    if provider == "sheets":
        return {
            "error": {
                "code": status,
                "message": "Internal error encountered.",
                "status": "INTERNAL" if status == 500 else "UNAVAILABLE",
            }
        }
    if provider == "phantombuster":
        return {"status": "error", "error": "Internal server error"}
    return {
        "error": "Service unavailable" if status == 503 else "Internal server error",
        "message": "sandbox fault",
    }


_UNAUTHORIZED: dict[str, Any] = {
    "openai": openai_error(
        401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
    ),
    "sheets": {
        "error": {
            "code": 401,
            "message": "Request had invalid authentication credentials.",
            "status": "UNAUTHENTICATED",
        }
    },
    "phantombuster": {"status": "error", "error": "Invalid API key"},
}
_UNAUTHORIZED_DEFAULT = {"error": "Unauthorized", "message": "Invalid API key"}

_OUT_OF_CREDIT: dict[str, Any] = {
    "crustdata": {
        "error": "Insufficient credits",
        "message": "Your account has run out of credits.",
    },
    "salesql": {"message": "Not enough credits"},
    "phantombuster": {"status": "error", "error": "Not enough execution time left"},
    "sheets": {"error": {"code": 403, "message": "Quota exhausted", "status": "PERMISSION_DENIED"}},
}


def rate_limited(provider: str, d: Decision, headers: dict[str, str], wait: float) -> Response:
    answer = _RATE_LIMITED.get(provider, _phantombuster_rate_limited)
    return answer(d, headers, wait)


def _openai_rate_limited(d: Decision, headers: dict[str, str], wait: float) -> Response:
    limit = d.limit or 500
    headers.update(
        {
            "x-ratelimit-limit-requests": str(limit),
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{wait:.3f}s",
        }
    )
    message = (
        "Rate limit reached for gpt-4o-mini in organization org-sandbox on requests per min "
        f"(RPM): Limit {limit}, Used {limit}, Requested 1. Please try again in {wait:.3f}s. "
        "Visit https://platform.openai.com/account/rate-limits to learn more."
    )
    return json_response(
        openai_error(429, message, "requests", "rate_limit_exceeded"), 429, headers
    )


def _sheets_rate_limited(d: Decision, headers: dict[str, str], wait: float) -> Response:
    body = {
        "error": {
            "code": 429,
            "message": (
                "Quota exceeded for quota metric 'Read requests' and limit 'Read requests "
                "per minute per user' of service 'sheets.googleapis.com' for consumer "
                "'project_number:123456789'."
            ),
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "RATE_LIMIT_EXCEEDED",
                    "domain": "googleapis.com",
                    "metadata": {
                        "consumer": "projects/123456789",
                        "quota_limit": "ReadRequestsPerMinutePerUser",
                        "quota_metric": "sheets.googleapis.com/read_requests",
                        "service": "sheets.googleapis.com",
                    },
                }
            ],
        }
    }
    return json_response(body, 429, headers)


def _crustdata_rate_limited(d: Decision, headers: dict[str, str], wait: float) -> Response:
    headers.update(
        {
            "x-ratelimit-limit": str(d.limit),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(ceil_s(wait)),
        }
    )
    body = {"error": "Rate limit exceeded", "message": "Too many requests"}
    return json_response(body, 429, headers)


def _salesql_rate_limited(d: Decision, headers: dict[str, str], wait: float) -> Response:
    return json_response({"message": "Rate limit exceeded"}, 429, headers)


def _phantombuster_rate_limited(d: Decision, headers: dict[str, str], wait: float) -> Response:
    return json_response({"status": "error", "error": "Rate limit exceeded"}, 429, headers)


_RATE_LIMITED: dict[str, Callable[[Decision, dict[str, str], float], Response]] = {
    "openai": _openai_rate_limited,
    "sheets": _sheets_rate_limited,
    "crustdata": _crustdata_rate_limited,
    "salesql": _salesql_rate_limited,
}
