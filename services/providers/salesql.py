"""SalesQL person enrichment by LinkedIn URL (emails, phones) and the account's allowance.

A credit is charged only when data comes back; every call counts against the 180/min and
5,000/day limits, found or not, so both are enforced before the request leaves.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.providers import http
from services.providers.base import Metered, Operation, ProviderClient
from services.providers.errors import BadRequest, MalformedResponse
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
    credits_remaining: int | None = None
    daily_limit: int | None = None
    daily_used: int | None = None


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
    ) -> SalesqlPerson | None:
        """The person behind a profile URL, or None when SalesQL has no such person (404).

        Raises BadRequest for a URL that is not a LinkedIn profile (nothing is sent).
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
            if response.status_code == 404:
                return Metered(None, http_status=404, status="not_found")
            if (error := http.classify(self.config, response)) is not None:
                raise error
            person = _parse_person(self.provider, http.json_body(self.config, response))
            person.sandbox = response.headers.get("x-sandbox") == "true"
            units = 1.0 if (person.emails or person.phones) else 0.0
            return Metered(
                person,
                units=units,
                cost_usd=units * self.config.prices.usd_per_unit,
                http_status=response.status_code,
                status="ok" if units else "no_data",
            )

        return self.execute(ctx, Operation("person_enrich", subject=url, estimate=1.0), call)

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
