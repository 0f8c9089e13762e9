"""One shared httpx.Client per process, created lazily (after any fork), plus response helpers.

A client made before gunicorn/Celery forks would share its sockets between processes, so it is
keyed by PID like the database pool. Timeouts are always explicit per request: httpx's default
(5 s for everything) is wrong both for slow enrichment batches and for fast health calls.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from typing import Any

import httpx
import httpx2

from services.core.per_process import PerProcess
from services.providers.config import ProviderConfig
from services.providers.errors import (
    BadRequest,
    MalformedResponse,
    ProviderAuthError,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    QuotaExhausted,
    RateLimited,
)

_client: PerProcess[httpx.Client] = PerProcess(
    lambda: httpx.Client(
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        timeout=httpx.Timeout(10.0, connect=5.0),
        follow_redirects=False,
        headers={"User-Agent": "SourcingX/1.0"},
    ),
    close=httpx.Client.close,
)
# The OpenAI SDK is built on httpx2 rather than httpx: its own pooled client.
_sdk_client: PerProcess[httpx2.Client] = PerProcess(
    lambda: httpx2.Client(
        limits=httpx2.Limits(max_connections=64, max_keepalive_connections=16),
        timeout=httpx2.Timeout(10.0, connect=5.0),
        follow_redirects=False,
    ),
    close=httpx2.Client.close,
)


def get_http_client() -> httpx.Client:
    """This process's pooled client (keep-alive connections shared by all threads)."""
    return _client.get()


def get_sdk_http_client() -> httpx2.Client:
    """The pooled client for the OpenAI SDK."""
    return _sdk_client.get()


def close_http_client() -> None:
    _client.reset()
    _sdk_client.reset()


def timeout_for(cfg: ProviderConfig) -> httpx.Timeout:
    return httpx.Timeout(cfg.read_timeout_s, connect=cfg.connect_timeout_s, pool=cfg.read_timeout_s)


def send(
    cfg: ProviderConfig,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    json_payload: Any = None,
) -> httpx.Response:
    """Send one request with the provider's timeouts; transport failures become retry-later errors.

    Keys travel in headers only: httpx logs request URLs at INFO, so a key in a query string
    would reach the logs.
    """
    client = get_http_client()
    try:
        return client.request(
            method,
            url,
            headers=headers,
            params=params,
            json=json_payload,
            timeout=timeout_for(cfg),
        )
    except httpx.TimeoutException as exc:
        raise ProviderTimeout(cfg.provider, f"{type(exc).__name__}: no answer in time") from None
    except httpx.TransportError as exc:
        raise ProviderUnavailable(
            cfg.provider, f"connection failed: {type(exc).__name__}"
        ) from None


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float | None:
    """'12ms', '20s', '6m0s', '1h2m3.5s' or a bare number of seconds → seconds."""
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def retry_after_from(headers: Mapping[str, str], body_text: str = "") -> float | None:
    """Seconds to wait as stated by the provider, from the most precise source available."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    if (ra := headers.get("retry-after")) is not None:
        seconds = parse_duration(ra)
        if seconds is not None:
            return seconds
        parsed = email.utils.parsedate_to_datetime(ra) if ra else None
        if parsed is not None:
            return max(0.0, parsed.timestamp() - time.time())
    if (limit_reset := _exhausted_limit_reset(headers, body_text)) is not None:
        return limit_reset
    if (reset := headers.get("x-ratelimit-reset")) is not None:
        seconds = parse_duration(reset)
        if seconds is not None:
            # Some APIs send an epoch instead of a delta; both exist in the wild.
            return max(0.0, seconds - time.time()) if seconds > 1e9 else seconds
    # OpenAI's message says "Please try again in 20s" even when no header is sent.
    if match := re.search(r"try again in (\d+(?:\.\d+)?)(ms|s)", body_text):
        return float(match.group(1)) * _UNIT_S[match.group(2)]
    return None


def _exhausted_limit_reset(headers: Mapping[str, str], body_text: str) -> float | None:
    """OpenAI's reset of the limit that was actually hit: waiting for a long token reset when the
    request limit refused (or the reverse) would idle for nothing. The limit is the one whose
    `x-ratelimit-remaining-*` is 0, else the one the message names, else the sooner reset."""
    resets = {
        kind: d
        for kind in ("requests", "tokens")
        if (v := headers.get(f"x-ratelimit-reset-{kind}")) is not None
        and (d := parse_duration(v)) is not None
    }
    if not resets:
        return None
    spent = [k for k in resets if headers.get(f"x-ratelimit-remaining-{k}", "").strip() == "0"]
    if len(spent) == 1:
        return resets[spent[0]]
    if len(spent) == 2:
        return max(resets.values())  # both are spent: only the later reset admits a call
    named = [k for k in resets if f"on {k} per min" in body_text.lower()]
    if len(named) == 1:
        return resets[named[0]]
    return min(resets.values())


def json_body(cfg: ProviderConfig, response: httpx.Response) -> Any:
    """The decoded JSON body, or MalformedResponse (never a half-parsed default)."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        snippet = response.text[:80].replace("\n", " ")
        raise MalformedResponse(
            cfg.provider,
            f"HTTP {response.status_code} body is not JSON: {snippet!r}",
            http_status=response.status_code,
        ) from None


def error_text(response: httpx.Response) -> str:
    """A short human message from any of the providers' error envelopes."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        err = body.get("error", body.get("message"))
        if isinstance(err, dict):
            return str(err.get("message") or err.get("type") or err)
        if err:
            return str(err)
    return str(body)[:200]


def classify(cfg: ProviderConfig, response: httpx.Response) -> ProviderError | None:
    """Map an HTTP status to a typed error; None for 2xx. Providers refine this for their quirks."""
    status = response.status_code
    if status < 300:
        return None
    message = f"HTTP {status}: {error_text(response)}"
    p = cfg.provider
    if status == 429:
        retry_after = retry_after_from(response.headers, response.text[:1000])
        return RateLimited(p, message, http_status=status, retry_after=retry_after)
    if status in (408, 425) or status >= 500:
        retry_after = retry_after_from(response.headers)
        return ProviderUnavailable(p, message, http_status=status, retry_after=retry_after)
    if status in (401, 403):
        return ProviderAuthError(p, message, http_status=status)
    if status == 402:
        return QuotaExhausted(p, message, http_status=status)
    return BadRequest(p, message, http_status=status)
