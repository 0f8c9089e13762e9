"""OpenAI chat completions with structured outputs, through the official SDK.

The SDK's own retries are switched off (`max_retries=0`) so the shared pipeline's retries, rate
limits (requests *and* tokens per minute) and metering are the only ones. Each call returns the
parsed pydantic object with its token usage and dollar cost; refusals, truncation and content
filtering are typed permanent errors that still record what the tokens cost.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx2
import openai
import pydantic
from openai import OpenAI
from openai.types.chat import ParsedChatCompletion

from services.providers import http
from services.providers.base import Metered, Operation, ProviderClient
from services.providers.config import Prices
from services.providers.errors import (
    BadRequest,
    MalformedResponse,
    ModelRefusal,
    NotRetryable,
    ProviderAuthError,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    QuotaExhausted,
    RateLimited,
)
from services.providers.metering import CallContext

log = logging.getLogger(__name__)

M = TypeVar("M", bound=pydantic.BaseModel)

DEFAULT_MODEL = "gpt-4o-mini"
# USD per million tokens (input, cached input, output); third-party tables, see external-apis.md.
# The configured prices (OPENAI_PRICE_*) apply to the default model and to any model not listed.
MODEL_PRICES: dict[str, Prices] = {
    "gpt-4o-mini": Prices(input_per_m=0.15, cached_input_per_m=0.075, output_per_m=0.60),
    "gpt-4o": Prices(input_per_m=2.50, cached_input_per_m=1.25, output_per_m=10.0),
    "gpt-4.1-mini": Prices(input_per_m=0.40, cached_input_per_m=0.10, output_per_m=1.60),
}


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class StructuredAnswer(Generic[M]):
    parsed: M
    usage: TokenUsage
    cost_usd: float
    model: str
    sandbox: bool  # the answer came from the local sandbox, not OpenAI


def cost_of(usage: TokenUsage, prices: Prices) -> float:
    fresh = max(0, usage.prompt_tokens - usage.cached_tokens)
    return (
        fresh * prices.input_per_m
        + usage.cached_tokens * prices.cached_input_per_m
        + usage.completion_tokens * prices.output_per_m
    ) / 1_000_000


def estimate_prompt_tokens(messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> int:
    """~4 characters per token; enough for budgets and the TPM limiter, which only need bounds."""
    chars = sum(len(m.get("content", "")) + 8 for m in messages) + len(json.dumps(schema))
    return chars // 4 + 1


class OpenAIClient(ProviderClient):
    provider = "openai"

    _sdk_lock = threading.Lock()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sdk: OpenAI | None = None
        self._sdk_http: object | None = None

    def sdk(self) -> OpenAI:
        """The SDK client on this process's shared httpx client; rebuilt after a fork."""
        shared = http.get_sdk_http_client()
        with self._sdk_lock:
            if self._sdk is None or self._sdk_http is not shared:
                self._sdk = OpenAI(
                    api_key=self.config.api_key,
                    base_url=self.base_url,
                    max_retries=0,  # ours are the only retries
                    timeout=httpx2.Timeout(
                        self.config.read_timeout_s, connect=self.config.connect_timeout_s
                    ),
                    http_client=shared,
                )
                self._sdk_http = shared
            return self._sdk

    def prices(self, model: str) -> Prices:
        if model == DEFAULT_MODEL:
            return self.config.prices
        for name in sorted(MODEL_PRICES, key=len, reverse=True):
            if model.startswith(name):
                return MODEL_PRICES[name]
        log.warning("no price known for model %s; using the configured default prices", model)
        return self.config.prices

    def structured(
        self,
        ctx: CallContext,
        *,
        messages: Sequence[dict[str, str]],
        response_model: type[M],
        model: str = DEFAULT_MODEL,
        max_completion_tokens: int = 800,
        temperature: float | None = 0.0,
        subject: str | None = None,
    ) -> StructuredAnswer[M]:
        """One chat completion parsed into `response_model` (strict JSON schema)."""
        schema = response_model.model_json_schema()
        prompt_tokens = estimate_prompt_tokens(messages, schema)
        prices = self.prices(model)
        estimate = cost_of(TokenUsage(prompt_tokens, max_completion_tokens), prices)
        op = Operation(
            "chat_structured",
            subject=subject or response_model.__name__,
            estimate=estimate,
            tokens=prompt_tokens + max_completion_tokens,
        )
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": list(messages),
            "response_format": response_model,
            "max_completion_tokens": max_completion_tokens,
        }
        if temperature is not None:
            kwargs["temperature"] = temperature

        def call() -> Metered[StructuredAnswer[M]]:
            return self._call(kwargs, response_model, prices)

        return self.execute(ctx, op, call)

    def _send(
        self, kwargs: dict[str, Any], response_model: type[M], prices: Prices
    ) -> tuple[Any, ParsedChatCompletion[M]]:
        """The raw answer and its parsed completion; SDK failures become typed errors (a cut-off
        or filtered answer still costs its tokens)."""
        try:
            raw = self.sdk().chat.completions.with_raw_response.parse(**kwargs)
            completion = raw.parse()
        except openai.LengthFinishReasonError as exc:
            raise _costed(
                ModelRefusal(self.provider, "answer cut off at max tokens"), exc, prices
            ) from None
        except openai.ContentFilterFinishReasonError as exc:
            raise _costed(
                ModelRefusal(self.provider, "answer blocked by content filter"), exc, prices
            ) from None
        except openai.APIError as exc:
            raise map_sdk_error(self.provider, exc) from None
        except (pydantic.ValidationError, json.JSONDecodeError, ValueError) as exc:
            raise MalformedResponse(
                self.provider,
                f"answer does not match {response_model.__name__}: {type(exc).__name__}",
            ) from None
        return raw, completion

    def _call(
        self, kwargs: dict[str, Any], response_model: type[M], prices: Prices
    ) -> Metered[StructuredAnswer[M]]:
        raw, completion = self._send(kwargs, response_model, prices)
        usage = _usage(completion)
        cost = cost_of(usage, prices)
        message = completion.choices[0].message if completion.choices else None
        if message is None or message.refusal:
            err = ModelRefusal(
                self.provider, f"model refused: {(message and message.refusal) or 'no choice'}"
            )
            err.units, err.cost_usd, err.http_status = usage.total_tokens, cost, 200
            raise err
        if message.parsed is None:
            err2 = MalformedResponse(
                self.provider, "no parsed content in the answer", http_status=200
            )
            err2.units, err2.cost_usd = usage.total_tokens, cost
            raise err2
        answer = StructuredAnswer(
            parsed=message.parsed,
            usage=usage,
            cost_usd=cost,
            model=completion.model,
            sandbox=raw.headers.get("x-sandbox") == "true",
        )
        return Metered(
            answer, units=float(usage.total_tokens), cost_usd=cost, http_status=raw.status_code
        )


def _usage(completion: Any) -> TokenUsage:
    u = completion.usage
    if u is None:
        return TokenUsage(0, 0)
    details = getattr(u, "prompt_tokens_details", None)
    cached = int(getattr(details, "cached_tokens", 0) or 0) if details else 0
    return TokenUsage(int(u.prompt_tokens), int(u.completion_tokens), cached)


def _costed(err: ProviderError, exc: Any, prices: Prices) -> ProviderError:
    completion = getattr(exc, "completion", None)
    if completion is not None:
        usage = _usage(completion)
        err.units, err.cost_usd = float(usage.total_tokens), cost_of(usage, prices)
    err.http_status = 200
    return err


def map_sdk_error(provider: str, exc: openai.APIError) -> ProviderError:
    """SDK exception → our typed error (insufficient_quota is a 429 that must not be retried)."""
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeout(provider, "no answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderUnavailable(provider, f"connection failed: {type(exc).__name__}")
    if isinstance(exc, openai.APIResponseValidationError):
        return MalformedResponse(
            provider, "answer does not match the API's schema", http_status=200
        )
    if not isinstance(exc, openai.APIStatusError):
        return MalformedResponse(provider, f"unexpected SDK error {type(exc).__name__}")
    status = exc.status_code
    body = exc.body if isinstance(exc.body, dict) else {}
    err = body.get("error", body) if isinstance(body, dict) else {}
    code = str(err.get("code") or err.get("type") or "") if isinstance(err, dict) else ""
    message = f"HTTP {status}: {exc.message}"
    if code == "insufficient_quota":
        return QuotaExhausted(provider, message, http_status=status)
    # The API's own verdict wins over the status code, as in the SDK's retry logic.
    should_retry = exc.response.headers.get("x-should-retry", "").strip().lower()
    if should_retry == "false":
        return NotRetryable(provider, f"{message} (x-should-retry: false)", http_status=status)
    if should_retry == "true" and status not in (429,) and status < 500:
        retry_after = http.retry_after_from(exc.response.headers)
        return ProviderUnavailable(provider, message, http_status=status, retry_after=retry_after)
    if status == 429:
        retry_after = http.retry_after_from(exc.response.headers, exc.message)
        return RateLimited(provider, message, http_status=status, retry_after=retry_after)
    if status in (408, 409) or status >= 500:
        retry_after = http.retry_after_from(exc.response.headers)
        return ProviderUnavailable(provider, message, http_status=status, retry_after=retry_after)
    if status in (401, 403):
        return ProviderAuthError(provider, message, http_status=status)
    return BadRequest(provider, message, http_status=status)
