"""Header parsing and status classification, on hand-built httpx responses (no network)."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from services.core.settings import load_settings
from services.providers import http
from services.providers.config import load_config
from services.providers.errors import (
    BadRequest,
    MalformedResponse,
    ProviderAuthError,
    ProviderUnavailable,
    QuotaExhausted,
    RateLimited,
)

CFG = load_config(
    "salesql", load_settings({"SANDBOX_URL": "http://127.0.0.1:9", "SECRET_KEY": "k" * 40}), env={}
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("12ms", 0.012), ("20s", 20), ("6m0s", 360), ("1h2m3.5s", 3723.5), ("7", 7), ("1.5", 1.5)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert http.parse_duration(text) == pytest.approx(seconds)


def test_parse_duration_rejects_garbage() -> None:
    assert http.parse_duration("soon") is None
    assert http.parse_duration("5x") is None


def test_retry_after_sources_in_order_of_precision() -> None:
    h = httpx.Headers
    assert http.retry_after_from(h({"retry-after-ms": "1500", "retry-after": "9"})) == 1.5
    assert http.retry_after_from(h({"retry-after": "3"})) == 3
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (http.retry_after_from(h({"retry-after": date})) or 0) <= 31
    resets = {"x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s"}
    # Unknown which limit refused: the sooner reset (a second refusal states its own wait).
    assert http.retry_after_from(h(resets)) == 1
    assert http.retry_after_from(h({**resets, "x-ratelimit-remaining-tokens": "0"})) == 360
    assert http.retry_after_from(h({**resets, "x-ratelimit-remaining-requests": "0"})) == 1
    both = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "0"}
    assert http.retry_after_from(h({**resets, **both})) == 360
    tokens = "Rate limit reached for gpt-4o-mini ... on tokens per min (TPM): Limit 200000"
    assert http.retry_after_from(h(resets), tokens) == 360
    assert http.retry_after_from(h({"x-ratelimit-reset": "12"})) == 12
    epoch = str(int(time.time()) + 20)
    assert 18 <= (http.retry_after_from(h({"x-ratelimit-reset": epoch})) or 0) <= 21
    body = "Rate limit reached ... Please try again in 20s. Visit ..."
    assert http.retry_after_from(h({}), body) == 20
    assert http.retry_after_from(h({})) is None


def _resp(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else {}, headers=headers)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, RateLimited),
        (500, ProviderUnavailable),
        (502, ProviderUnavailable),
        (408, ProviderUnavailable),
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (402, QuotaExhausted),
        (400, BadRequest),
        (422, BadRequest),
    ],
)
def test_classify_status(status: int, kind: type) -> None:
    error = http.classify(CFG, _resp(status, {"message": "nope"}))
    assert isinstance(error, kind) and error.http_status == status
    assert error.retryable == (kind in (RateLimited, ProviderUnavailable))


def test_classify_ok_and_retry_after() -> None:
    assert http.classify(CFG, _resp(200)) is None
    error = http.classify(CFG, _resp(429, {"message": "slow down"}, {"Retry-After": "2"}))
    assert (
        isinstance(error, RateLimited) and error.retry_after == 2 and "slow down" in error.message
    )


def test_json_body_malformed() -> None:
    response = httpx.Response(200, text='{"a": [', headers={"content-type": "application/json"})
    with pytest.raises(MalformedResponse):
        http.json_body(CFG, response)
