"""Crustdata batch enrichment (`POST /batch/person/enrich`, up to 10,000 URLs per job,
docs.crustdata.com/person-docs/enrichment/batch-enrich), the base class of `CrustdataClient`.

A submit answers at once with a `batch_id`; `GET /batch/{id}` moves pending → processing →
completed | failed, and a completed job names a pre-signed, gzipped JSONL results file of
`{original_identifier, internal_id, data}` records (`data` has the shape of `person_data`).
Unresolvable identifiers are dropped from the file: they become `not_found`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from services.core.settings import tuning
from services.providers import http
from services.providers.base import Metered, Operation, ProviderClient
from services.providers.crustdata_models import (
    DEFAULT_FIELDS,
    BatchStatus,
    ProfileOutcome,
    credits_per_profile,
)
from services.providers.crustdata_parsing import parse_batch_results, refine_error
from services.providers.errors import MalformedResponse, PermanentError
from services.providers.metering import CallContext

API_VERSION = "2025-11-01"
BATCH_JOB_MAX = 10_000  # identifiers one batch job takes (docs: larger submissions answer 400)
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class BatchesBusy(PermanentError):
    """A batch submit answered 429: the account already has 5 active (pending or processing)
    batch jobs. Retrying within seconds cannot help, so the caller re-queues its job instead of
    the client retrying; `retry_after` is the provider's stated wait, when it states one."""

    usage_status = "batch_busy"

    def __init__(
        self, provider: str, message: str, *, http_status: int | None, retry_after: float | None
    ) -> None:
        super().__init__(provider, message, http_status=http_status)
        self.retry_after = retry_after


class CrustdataBatchApi(ProviderClient):
    """The batch endpoints; `CrustdataClient` adds the per-request ones."""

    provider = "crustdata"

    def _headers(self) -> dict[str, str]:
        return {
            "authorization": f"Bearer {self.config.api_key}",
            "x-api-version": API_VERSION,
            "content-type": "application/json",
            "accept": "application/json",
        }

    def submit_batch(
        self, ctx: CallContext, urls: Sequence[str], fields: Sequence[str] = DEFAULT_FIELDS
    ) -> str:
        """Submit one batch enrichment job for ≤10,000 normalised URLs; returns its batch id.

        Nothing is charged at submit (records are charged when delivered), but the budget is
        checked against the most the job can cost, so a job our budget cannot pay is not started.
        A 429 (five active batch jobs) raises BatchesBusy without retrying here."""
        if not 0 < len(urls) <= BATCH_JOB_MAX:
            raise ValueError(f"a batch job holds 1..{BATCH_JOB_MAX} URLs, got {len(urls)}")
        op = Operation(
            "person_batch_submit",
            subject=f"{len(urls)} profiles",
            estimate=credits_per_profile(fields) * len(urls),
        )
        payload = {"professional_network_profile_urls": list(urls), "fields": list(fields)}

        def call() -> Metered[str]:
            response = http.send(
                self.config,
                "POST",
                f"{self.base_url}/batch/person/enrich",
                headers=self._headers(),
                json_payload=payload,
            )
            return self._submitted(response)

        return self.execute(ctx, op, call)

    def _submitted(self, response: Any) -> Metered[str]:
        """The batch id of a submit answer; a 429 means five jobs are active already."""
        if response.status_code == 429:
            raise BatchesBusy(
                self.provider,
                f"HTTP 429: {http.error_text(response)} (at most 5 active batch jobs)",
                http_status=429,
                retry_after=http.retry_after_from(response.headers, response.text[:1000]),
            )
        if (error := http.classify(self.config, response)) is not None:
            raise refine_error(error, response)
        body = http.json_body(self.config, response)
        batch_id = body.get("batch_id") if isinstance(body, dict) else None
        if not isinstance(batch_id, str) or not _BATCH_ID.fullmatch(batch_id):
            raise MalformedResponse(
                self.provider, "batch submit answer has no batch_id", http_status=200
            )
        return Metered(batch_id, http_status=response.status_code)

    def batch_status(self, ctx: CallContext, batch_id: str) -> BatchStatus:
        """`GET /batch/{batch_id}` (free; x-api-version is not required there)."""
        if not _BATCH_ID.fullmatch(batch_id):
            raise ValueError(f"not a batch id: {batch_id!r}")

        def call() -> Metered[BatchStatus]:
            response = http.send(
                self.config,
                "GET",
                f"{self.base_url}/batch/{batch_id}",
                headers={
                    "authorization": f"Bearer {self.config.api_key}",
                    "accept": "application/json",
                },
            )
            if (error := http.classify(self.config, response)) is not None:
                raise refine_error(error, response)
            body = http.json_body(self.config, response)
            try:
                status = BatchStatus.model_validate(body)
            except ValidationError as exc:
                raise MalformedResponse(
                    self.provider,
                    f"batch status has a wrong shape ({exc.error_count()} error(s))",
                    http_status=response.status_code,
                ) from None
            return Metered(status, http_status=response.status_code)

        return self.execute(ctx, Operation("person_batch_status", subject=batch_id), call)

    def batch_results(
        self,
        ctx: CallContext,
        download_url: str,
        urls: Sequence[str],
        fields: Sequence[str] = DEFAULT_FIELDS,
        *,
        subject: str | None = None,
        bill: bool = True,
    ) -> list[ProfileOutcome]:
        """Download a completed job's results file and map it onto `urls` (normalised, as
        submitted): one outcome per URL, in order; a URL missing from the file is `not_found`.

        Every record in the file was charged (like a match of /person/enrich), so the usage row
        bills them all; `bill=False` re-reads a file already billed (a resumed job), at 0 units.
        The URL is pre-signed storage, not the API: it gets no key and must be an allowed host."""
        if not self._trusted_result_url(download_url):
            raise MalformedResponse(
                self.provider, f"results file host not allowed: {urlsplit(download_url).netloc}"
            )
        per = credits_per_profile(fields)
        # Estimate 0: the records are already paid for, so the budget must not refuse to read them.
        op = Operation("person_batch_results", subject=subject)

        def call() -> Metered[list[ProfileOutcome]]:
            response = http.send(
                self.config, "GET", download_url, headers={"accept": "application/gzip"}
            )
            if (error := http.classify(self.config, response)) is not None:
                raise error
            return self._results(response, urls, per, bill)

        return self.execute(ctx, op, call)

    def _results(
        self, response: Any, urls: Sequence[str], per: int, bill: bool
    ) -> Metered[list[ProfileOutcome]]:
        """The outcomes of a downloaded results file, billed per record it holds (or not)."""
        outcomes, records = parse_batch_results(self.provider, urls, response.content)
        sandbox = response.headers.get("x-sandbox") == "true"
        outcomes = [o.model_copy(update={"sandbox": sandbox}) for o in outcomes]
        failed = sum(1 for o in outcomes if o.status == "failed")
        units = float(per * records) if bill else 0.0
        notes = [f"{failed} of {len(urls)} profiles failed"] if failed else []
        if not bill:
            notes.append(f"re-read of a billed file ({records} records)")
        return Metered(
            outcomes,
            units=units,
            cost_usd=units * self.config.prices.usd_per_unit,
            http_status=response.status_code,
            status="ok" if failed == 0 else "partial",
            note="; ".join(notes) or None,
        )

    def _trusted_result_url(self, url: str) -> bool:
        parts, own = urlsplit(url), urlsplit(self.base_url).netloc
        if parts.scheme == "https":
            return parts.netloc in {own, *result_hosts()}
        # Plain HTTP only from the local sandbox itself, never from storage hosts.
        return self.config.sandbox and parts.scheme == "http" and parts.netloc == own


def result_hosts() -> set[str]:
    """Hosts a batch results file may be read from (Crustdata's S3 bucket by default)."""
    return set(tuning().crustdata_result_hosts)
