"""SalesQL person enrichment by LinkedIn URL (emails, phones) and the account's allowance.

A credit is charged only when data comes back, and not for a profile the account enriched before;
every call counts against the plan's per-minute and per-day limits (`SALESQL_PLAN`), found or
not, so both are enforced before the request leaves.

A spent day is a 429 "Rate limit exceeded" with no `Retry-After` (documented, and nothing else
tells it apart from the per-minute 429). It becomes `DailyLimitReached` when the body speaks of
the day or our own per-day counter shows the day is spent; any other bare 429 waits a minute
(`SALESQL_BARE_429_WAIT_S`), and a caller whose retries run out on bare 429s treats it as the
day (another tool on the same account may have spent it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.core.settings import tuning
from services.providers import http
from services.providers.base import Metered, Operation, ProviderClient
from services.providers.errors import (
    BadRequest,
    DailyLimitReached,
    MalformedResponse,
    ProviderError,
    RateLimited,
    RetriesExhausted,
)
from services.providers.linkedin import normalize_profile_url
from services.providers.metering import CallContext


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class SalesqlEmail(_Loose):
    email: str
    type: str | None = None  # "Work" | "Direct"
    status: str | None = None  # "Valid" | "Unverifiable"


class SalesqlPhone(_Loose):
    phone: str
    type: str | None = None
    country_code: str | None = None
    is_valid: bool | None = None


class SalesqlLocation(_Loose):
    city: str | None = None
    state: str | None = None
    country_code: str | None = None
    country: str | None = None


class SalesqlPerson(_Loose):
    uuid: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    linkedin_url: str | None = None
    headline: str | None = None
    industry: str | None = None
    image: str | None = None
    location: SalesqlLocation | None = None
    emails: list[SalesqlEmail] = Field(default_factory=list)
    phones: list[SalesqlPhone] = Field(default_factory=list)
    organization: dict[str, Any] | None = None
    sandbox: bool = False  # the answer came from the local sandbox, not SalesQL


class SalesqlAllowance(_Loose):
    """`GET /allowance`: the field names seen in clients (`credits`, `reset_date`); the OAS
    gives no schema for it, so anything else it sends is kept as extra fields."""

    credits: int | None = None
    reset_date: str | None = None


class SalesqlClient(ProviderClient):
    provider = "salesql"

    def _headers(self) -> dict[str, str]:
        # Bearer is the only accepted scheme; query-string keys are refused (and would be logged).
        return {"Authorization": f"Bearer {self.config.api_key}", "accept": "application/json"}

    def enrich_person(
        self,
        ctx: CallContext,
        linkedin_url: str,
        *,
        direct_email_only: bool = False,
        direct_phone_only: bool = False,
        enriched_before: bool = False,
    ) -> SalesqlPerson | None:
        """The person behind a profile URL, or None when SalesQL has no such person (404).

        `enriched_before`: this account looked the profile up already, so SalesQL charges
        nothing for it again. Raises BadRequest for a URL that is not a LinkedIn profile
        (nothing is sent), DailyLimitReached when the day's calls are spent.
        """
        url = normalize_profile_url(linkedin_url)
        if url is None:
            raise BadRequest(self.provider, f"not a LinkedIn profile URL: {linkedin_url[:100]!r}")
        params = {"linkedin_url": url}
        if direct_email_only:
            params["match_if_direct_email"] = "true"
        if direct_phone_only:
            params["match_if_direct_phone"] = "true"

        def call() -> Metered[SalesqlPerson | None]:
            response = http.send(
                self.config,
                "GET",
                f"{self.base_url}/persons/enrich/",
                headers=self._headers(),
                params=params,
            )
            return self._person_answer(response, enriched_before)

        estimate = 0.0 if enriched_before else 1.0
        op = Operation("person_enrich", subject=url, estimate=estimate)
        return self.execute(ctx, op, call)

    def _person_answer(self, response: Any, enriched_before: bool) -> Metered[SalesqlPerson | None]:
        """Read an enrich answer: a credit is charged only for data not enriched before."""
        if response.status_code == 404:
            return Metered(None, http_status=404, status="not_found")
        if (error := http.classify(self.config, response)) is not None:
            raise self._refine_429(error, response)
        person = _parse_person(self.provider, http.json_body(self.config, response))
        person.sandbox = response.headers.get("x-sandbox") == "true"
        has_data = bool(person.emails or person.phones)
        units = 1.0 if has_data and not enriched_before else 0.0
        return Metered(
            person,
            units=units,
            cost_usd=units * self.config.prices.usd_per_unit,
            http_status=response.status_code,
            status="ok" if has_data else "no_data",
        )

    def _refine_429(self, error: ProviderError, response: Any) -> ProviderError:
        """A bare 429 is either the spent day or the minute; see the module docstring."""
        if response.status_code != 429 or "retry-after" in response.headers:
            return error
        text = http.error_text(response).lower()
        if "daily" in text or "per day" in text or self._day_spent():
            return daily_limit_reached(self.provider, error.message)
        wait = tuning().salesql_bare_429_wait_s
        return RateLimited(self.provider, error.message, http_status=429, retry_after=wait)

    def _day_spent(self) -> bool:
        day_rule = next(
            (r for r in self.rules(CallContext(), Operation("check")) if r.kind == "window"), None
        )
        if day_rule is None:
            return False
        return self._limiter.used_in_window(day_rule) >= day_rule.limit

    def allowance(self, ctx: CallContext) -> SalesqlAllowance:
        """Remaining credits and daily usage of the account (`GET /allowance`)."""

        def call() -> Metered[SalesqlAllowance]:
            response = http.send(
                self.config, "GET", f"{self.base_url}/allowance", headers=self._headers()
            )
            if (error := http.classify(self.config, response)) is not None:
                raise error
            body = http.json_body(self.config, response)
            try:
                return Metered(SalesqlAllowance.model_validate(body), http_status=200)
            except ValidationError:
                raise MalformedResponse(
                    self.provider, "allowance answer has a wrong shape"
                ) from None

        return self.execute(ctx, Operation("allowance"), call)


def _parse_person(provider: str, body: Any) -> SalesqlPerson:
    if not isinstance(body, dict):
        raise MalformedResponse(provider, "enrich answer is not a JSON object", http_status=200)
    try:
        return SalesqlPerson.model_validate(body)
    except ValidationError as exc:
        raise MalformedResponse(
            provider,
            f"enrich answer has a wrong shape ({exc.error_count()} error(s))",
            http_status=200,
        ) from None


def next_utc_midnight(now: dt.datetime | None = None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    return dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def daily_limit_reached(
    provider: str, detail: str, now: dt.datetime | None = None
) -> DailyLimitReached:
    resumes = next_utc_midnight(now)
    return DailyLimitReached(
        provider,
        f"daily limit reached, resumes at 00:00 UTC ({resumes:%Y-%m-%d %H:%M} UTC); {detail}",
        resumes_at=resumes.isoformat(),
        http_status=429,
    )


def is_bare_429_exhaustion(exc: ProviderError) -> bool:
    """Retries ran out on SalesQL 429s that named no wait: the day is spent all the same."""
    last = exc.last_error if isinstance(exc, RetriesExhausted) else None
    return (
        isinstance(last, RateLimited)
        and not last.local
        and last.http_status == 429
        and last.provider == "salesql"
    )
