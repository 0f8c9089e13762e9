"""Crustdata person enrichment (current API, `POST /person/enrich`, x-api-version 2025-11-01).

Up to 25 LinkedIn URLs per request. The answer is a 200 array with one entry per requested
profile; an entry can be a match, no match, or an error of its own, and each becomes a
`ProfileOutcome`, so one bad profile never fails its 24 neighbours. A failed *request* turns
every profile of that batch into a failed outcome with the typed error's reason.

Batch enrichment (up to 10,000 URLs per job) lives in `crustdata_batch`, the client's base class;
the answer models in `crustdata_models` and their parsing in `crustdata_parsing`. The names other
modules use are all importable from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.providers import http
from services.providers.base import Metered, Operation
from services.providers.crustdata_batch import (
    API_VERSION,
    BATCH_JOB_MAX,
    BatchesBusy,
    CrustdataBatchApi,
    result_hosts,
)
from services.providers.crustdata_models import (
    DEFAULT_FIELDS,
    BatchStatus,
    PersonData,
    ProfileOutcome,
    credits_per_profile,
)
from services.providers.crustdata_parsing import (
    failed_outcomes,
    parse_batch_results,
    parse_enrich_answer,
    refine_error,
)
from services.providers.errors import (
    BudgetExceeded,
    MalformedResponse,
    NotConfigured,
    ProviderAuthError,
    ProviderError,
    QuotaExhausted,
)
from services.providers.linkedin import normalize_profile_url
from services.providers.metering import CallContext

BATCH_SIZE = 25
# Errors that hold for the whole account: later batches would fail the same way, so stop.
_ACCOUNT_WIDE = (ProviderAuthError, QuotaExhausted, BudgetExceeded, NotConfigured)
_refine = refine_error  # the name the contract tests import


class CrustdataClient(CrustdataBatchApi):
    provider = "crustdata"

    def enrich_people(
        self, ctx: CallContext, urls: Sequence[str], fields: Sequence[str] = DEFAULT_FIELDS
    ) -> list[ProfileOutcome]:
        """Enrich any number of profiles in batches of 25; one outcome per input URL, in order."""
        outcomes: dict[str, ProfileOutcome] = {}
        valid: list[str] = []
        for url in urls:
            norm = normalize_profile_url(url)
            if norm is None:
                outcomes[url] = ProfileOutcome(
                    url=url, status="failed", error="not a LinkedIn profile URL"
                )
            elif norm not in valid:
                valid.append(norm)
        by_norm: dict[str, ProfileOutcome] = {}
        stop: ProviderError | None = None
        for i in range(0, len(valid), BATCH_SIZE):
            batch = valid[i : i + BATCH_SIZE]
            if stop is not None:
                by_norm.update(failed_outcomes(batch, stop))
                continue
            try:
                by_norm.update({o.url: o for o in self.enrich_batch(ctx, batch, fields)})
            except ProviderError as exc:
                by_norm.update(failed_outcomes(batch, exc))
                if isinstance(exc, _ACCOUNT_WIDE):
                    stop = exc
        result = []
        for url in urls:
            if url in outcomes:
                result.append(outcomes[url])
            else:
                norm_out = by_norm[normalize_profile_url(url) or url]
                result.append(norm_out.model_copy(update={"url": url}))
        return result

    def enrich_batch(
        self, ctx: CallContext, urls: Sequence[str], fields: Sequence[str] = DEFAULT_FIELDS
    ) -> list[ProfileOutcome]:
        """One request for ≤25 normalised URLs. Raises typed errors for a failed request."""
        if not 0 < len(urls) <= BATCH_SIZE:
            raise ValueError(f"a batch holds 1..{BATCH_SIZE} URLs, got {len(urls)}")
        per = credits_per_profile(fields)
        op = Operation(
            "person_enrich",
            subject=urls[0] if len(urls) == 1 else f"{len(urls)} profiles",
            estimate=per * len(urls),
        )
        payload = {"professional_network_profile_urls": list(urls), "fields": list(fields)}

        def call() -> Metered[list[ProfileOutcome]]:
            response = http.send(
                self.config,
                "POST",
                f"{self.base_url}/person/enrich",
                headers=self._headers(),
                json_payload=payload,
            )
            if (error := http.classify(self.config, response)) is not None:
                raise refine_error(error, response)
            return self._enriched(response, urls, per)

        return self.execute(ctx, op, call)

    def _enriched(
        self, response: Any, urls: Sequence[str], per: int
    ) -> Metered[list[ProfileOutcome]]:
        """The outcomes of an enrich answer, billed per matched profile."""
        sandbox = response.headers.get("x-sandbox") == "true"
        outcomes = parse_enrich_answer(self.provider, urls, http.json_body(self.config, response))
        outcomes = [o.model_copy(update={"sandbox": sandbox}) for o in outcomes]
        # Crustdata charges every matched profile, also one our parser then refuses.
        billed = sum(1 for o in outcomes if o.billed)
        failed = sum(1 for o in outcomes if o.status == "failed")
        units = float(per * billed)
        return Metered(
            outcomes,
            units=units,
            cost_usd=units * self.config.prices.usd_per_unit,
            http_status=response.status_code,
            status="ok" if failed == 0 else "partial",
            note=f"{failed} of {len(urls)} profiles failed" if failed else None,
        )

    def credits(self, ctx: CallContext) -> int:
        """Remaining credit balance of the account (`GET /user/credits`)."""

        def call() -> Metered[int]:
            response = http.send(
                self.config, "GET", f"{self.base_url}/user/credits", headers=self._headers()
            )
            if (error := http.classify(self.config, response)) is not None:
                raise refine_error(error, response)
            body = http.json_body(self.config, response)
            value = body.get("credits") if isinstance(body, dict) else None
            if not isinstance(value, (int, float)):
                raise MalformedResponse(self.provider, "credits answer has no numeric 'credits'")
            return Metered(int(value), http_status=response.status_code)

        return self.execute(ctx, Operation("credits"), call)


__all__ = [
    "API_VERSION",
    "BATCH_JOB_MAX",
    "BATCH_SIZE",
    "DEFAULT_FIELDS",
    "BatchStatus",
    "BatchesBusy",
    "CrustdataClient",
    "PersonData",
    "ProfileOutcome",
    "credits_per_profile",
    "parse_batch_results",
    "parse_enrich_answer",
    "result_hosts",
]
