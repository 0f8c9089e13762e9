"""Crustdata person enrichment (current API, `POST /person/enrich`, x-api-version 2025-11-01).

Up to 25 LinkedIn URLs per request. The answer is a 200 array with one entry per requested
profile; an entry can be a match, no match, or an error of its own, and each becomes a
`ProfileOutcome`, so one bad profile never fails its 24 neighbours. A failed *request* turns
every profile of that batch into a failed outcome with the typed error's reason.

Batch enrichment (`POST /batch/person/enrich`, up to 10,000 URLs per job, docs.crustdata.com
/person-docs/enrichment/batch-enrich) answers at once with a `batch_id`; `GET /batch/{id}` moves
pending → processing → completed | failed, and a completed job names a pre-signed, gzipped JSONL
results file of `{original_identifier, internal_id, data}` records (`data` has the shape of
`person_data`). Unresolvable identifiers are dropped from the file: they become `not_found`.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from services.providers import http
from services.providers.base import Metered, Operation, ProviderClient
from services.providers.errors import (
    BudgetExceeded,
    MalformedResponse,
    NotConfigured,
    PermanentError,
    ProviderAuthError,
    ProviderError,
    QuotaExhausted,
    RetriesExhausted,
    RetryLater,
)
from services.providers.linkedin import normalize_profile_url
from services.providers.metering import CallContext

API_VERSION = "2025-11-01"
BATCH_SIZE = 25
BATCH_JOB_MAX = 10_000  # identifiers one batch job takes (docs: larger submissions answer 400)
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEFAULT_FIELDS = ("basic_profile", "experience", "education", "skills", "social_handles")
# Credits per matched profile (docs.crustdata.com pricing): the base profile is 1, and each contact
# field asked for adds its price, at most 7. Field names are the documented plural ones.
_FIELD_CREDITS = {
    "contact.business_emails": 1,
    "contact.personal_emails": 2,
    "contact.phone_numbers": 2,
}
T = TypeVar("T")
# Errors that hold for the whole account: later batches would fail the same way, so stop.
_ACCOUNT_WIDE = (ProviderAuthError, QuotaExhausted, BudgetExceeded, NotConfigured)


def _none_as_empty(value: Any) -> Any:
    """Crustdata sends `null` for a list it has nothing for (documented lists can be null)."""
    return [] if value is None else value


def _none_as_model(value: Any) -> Any:
    return {} if value is None else value


NullableList = Annotated[list[T], BeforeValidator(_none_as_empty)]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class Location(_Loose):
    """`basic_profile.location`: an object (`raw`, sometimes `city`/`state`/`country`); older
    answers and other endpoints send a plain string, which becomes `raw`."""

    raw: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"raw": value} if isinstance(value, str) else value

    @property
    def text(self) -> str | None:
        """What a list shows: the raw text, else the parts that are there."""
        if self.raw and self.raw.strip():
            return self.raw.strip()
        parts = [p.strip() for p in (self.city, self.state, self.country) if p and p.strip()]
        return ", ".join(parts) or None


class BasicProfile(_Loose):
    name: str | None = None
    headline: str | None = None
    current_title: str | None = None
    summary: str | None = None
    location: Location | None = None
    languages: NullableList[str] = Field(default_factory=list)


class Employment(_Loose):
    name: str | None = None
    title: str | None = None
    professional_network_id: str | int | None = None
    start_date: str | None = None
    end_date: str | None = None


class EmploymentDetails(_Loose):
    current: NullableList[Employment] = Field(default_factory=list)
    past: NullableList[Employment] = Field(default_factory=list)


class Experience(_Loose):
    employment_details: Annotated[EmploymentDetails, BeforeValidator(_none_as_model)] = Field(
        default_factory=EmploymentDetails
    )


class School(_Loose):
    school: str | None = None
    degree: str | None = None
    field_of_study: str | None = None
    start_date: str | None = None
    end_date: str | None = None


class Education(_Loose):
    schools: NullableList[School] = Field(default_factory=list)


class Skills(_Loose):
    professional_network_skills: NullableList[str] = Field(default_factory=list)


def _contact_values(value: Any) -> Any:
    """Contact lists hold strings or objects with the value under `email`/`phone`/`number`."""
    items = _none_as_empty(value)
    if not isinstance(items, list):
        return items
    out = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("email") or item.get("phone") or item.get("number") or item.get("value")
        if isinstance(item, str) and item.strip():
            out.append(item.strip())
    return out


ContactList = Annotated[list[str], BeforeValidator(_contact_values)]


class Contact(_Loose):
    """`person_data.contact`: plural lists, each only present when its field was asked for."""

    business_emails: ContactList = Field(default_factory=list)
    personal_emails: ContactList = Field(default_factory=list)
    phone_numbers: ContactList = Field(default_factory=list)


# A section Crustdata answers with `null` reads as an empty one.
_NullAsEmpty = BeforeValidator(_none_as_model)


class PersonData(_Loose):
    basic_profile: Annotated[BasicProfile, _NullAsEmpty] = Field(default_factory=BasicProfile)
    experience: Annotated[Experience, _NullAsEmpty] = Field(default_factory=Experience)
    education: Annotated[Education, _NullAsEmpty] = Field(default_factory=Education)
    skills: Annotated[Skills, _NullAsEmpty] = Field(default_factory=Skills)
    social_handles: Annotated[dict[str, Any], BeforeValidator(_none_as_model)] = Field(
        default_factory=dict
    )
    contact: Annotated[Contact, _NullAsEmpty] = Field(default_factory=Contact)

    @property
    def current_company(self) -> str | None:
        current = self.experience.employment_details.current
        return current[0].name if current else None

    @property
    def location_text(self) -> str | None:
        location = self.basic_profile.location
        return location.text if location is not None else None


class ProfileOutcome(BaseModel):
    """The result for one requested URL."""

    url: str  # as requested by the caller
    status: Literal["enriched", "not_found", "failed"]
    person: PersonData | None = None
    confidence: float | None = None
    error: str | None = None
    retryable: bool = False  # True when the failure was transient (try again later)
    billed: bool = False  # Crustdata returned a match, so it charged for it (parsed or not)
    sandbox: bool = False  # the answer came from the local sandbox, not Crustdata


class BatchStatus(_Loose):
    """`GET /batch/{batch_id}`: the links appear only when completed, `error_message` only when
    failed. A completed job with `result_count` 0 may name a file that was never written."""

    batch_id: str
    status: Literal["pending", "processing", "completed", "failed"]
    identifier_count: int | None = None
    result_count: int | None = None
    entities_requested: int | None = None
    entities_fulfilled: int | None = None
    download_url: str | None = None
    download_urls: NullableList[str] = Field(default_factory=list)
    error_message: str | None = None


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


def credits_per_profile(fields: Sequence[str]) -> int:
    return min(7, 1 + sum(_FIELD_CREDITS.get(f, 0) for f in fields))


class CrustdataClient(ProviderClient):
    provider = "crustdata"

    def _headers(self) -> dict[str, str]:
        return {
            "authorization": f"Bearer {self.config.api_key}",
            "x-api-version": API_VERSION,
            "content-type": "application/json",
            "accept": "application/json",
        }

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
                by_norm.update(_failed(batch, stop))
                continue
            try:
                by_norm.update({o.url: o for o in self.enrich_batch(ctx, batch, fields)})
            except ProviderError as exc:
                by_norm.update(_failed(batch, exc))
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
                raise _refine(error, response)
            sandbox = response.headers.get("x-sandbox") == "true"
            outcomes = parse_enrich_answer(
                self.provider, urls, http.json_body(self.config, response)
            )
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

        return self.execute(ctx, op, call)

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
            if response.status_code == 429:
                raise BatchesBusy(
                    self.provider,
                    f"HTTP 429: {http.error_text(response)} (at most 5 active batch jobs)",
                    http_status=429,
                    retry_after=http.retry_after_from(response.headers, response.text[:1000]),
                )
            if (error := http.classify(self.config, response)) is not None:
                raise _refine(error, response)
            body = http.json_body(self.config, response)
            batch_id = body.get("batch_id") if isinstance(body, dict) else None
            if not isinstance(batch_id, str) or not _BATCH_ID.fullmatch(batch_id):
                raise MalformedResponse(
                    self.provider, "batch submit answer has no batch_id", http_status=200
                )
            return Metered(batch_id, http_status=response.status_code)

        return self.execute(ctx, op, call)

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
                raise _refine(error, response)
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

        return self.execute(ctx, op, call)

    def _trusted_result_url(self, url: str) -> bool:
        parts, own = urlsplit(url), urlsplit(self.base_url).netloc
        if parts.scheme == "https":
            return parts.netloc in {own, *result_hosts()}
        # Plain HTTP only from the local sandbox itself, never from storage hosts.
        return self.config.sandbox and parts.scheme == "http" and parts.netloc == own

    def credits(self, ctx: CallContext) -> int:
        """Remaining credit balance of the account (`GET /user/credits`)."""

        def call() -> Metered[int]:
            response = http.send(
                self.config, "GET", f"{self.base_url}/user/credits", headers=self._headers()
            )
            if (error := http.classify(self.config, response)) is not None:
                raise _refine(error, response)
            body = http.json_body(self.config, response)
            value = body.get("credits") if isinstance(body, dict) else None
            if not isinstance(value, (int, float)):
                raise MalformedResponse(self.provider, "credits answer has no numeric 'credits'")
            return Metered(int(value), http_status=response.status_code)

        return self.execute(ctx, Operation("credits"), call)


def _refine(error: ProviderError, response: Any) -> ProviderError:
    """Crustdata says 'credits' in its out-of-credit answers, whatever the status code."""
    text = http.error_text(response).lower()
    if (
        not isinstance(error, RetryLater)
        and "credit" in text
        and response.status_code in (402, 403)
    ):
        return QuotaExhausted(error.provider, error.message, http_status=error.http_status)
    return error


def _failed(urls: Sequence[str], error: ProviderError) -> dict[str, ProfileOutcome]:
    retryable = isinstance(error, (RetryLater, RetriesExhausted))
    return {
        u: ProfileOutcome(url=u, status="failed", error=error.reason, retryable=retryable)
        for u in urls
    }


def parse_enrich_answer(provider: str, urls: Sequence[str], body: Any) -> list[ProfileOutcome]:
    """Map the 200 answer onto the requested URLs; raises MalformedResponse for a wrong shape."""
    if not isinstance(body, list):
        raise MalformedResponse(provider, "enrich answer is not a JSON array", http_status=200)
    found: dict[str, ProfileOutcome] = {}
    for entry in body:
        if not isinstance(entry, dict):
            raise MalformedResponse(
                provider, "enrich answer holds a non-object entry", http_status=200
            )
        key = normalize_profile_url(
            str(entry.get("matched_on") or entry.get("linkedin_profile_url") or "")
        )
        if key is None or key in found:
            continue
        found[key] = _entry_outcome(key, entry)
    return [
        found.get(u)
        or ProfileOutcome(url=u, status="failed", error="no entry for this profile in the answer")
        for u in urls
    ]


def _entry_outcome(url: str, entry: dict[str, Any]) -> ProfileOutcome:
    if entry.get("error"):
        err = entry["error"]
        message = err.get("message", str(err)) if isinstance(err, dict) else str(err)
        return ProfileOutcome(url=url, status="failed", error=f"provider: {message}"[:300])
    matches = entry.get("matches")
    if not isinstance(matches, list):
        return ProfileOutcome(url=url, status="failed", error="malformed entry: no 'matches' list")
    if not matches:
        return ProfileOutcome(url=url, status="not_found")
    best = max(
        (m for m in matches if isinstance(m, dict)),
        key=lambda m: float(m.get("confidence_score") or 0),
        default=None,
    )
    if best is None:
        return ProfileOutcome(
            url=url, status="failed", error="malformed entry: no person_data", billed=True
        )
    return _person_outcome(url, best.get("person_data"), float(best.get("confidence_score") or 0))


def _person_outcome(url: str, data: Any, confidence: float | None) -> ProfileOutcome:
    """A matched (so billed) person record, parsed with PersonData, or a billed failure."""
    if not isinstance(data, dict):
        return ProfileOutcome(
            url=url, status="failed", error="malformed entry: no person_data", billed=True
        )
    try:
        person = PersonData.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(sorted({".".join(map(str, e["loc"])) for e in exc.errors()}))[:200]
        return ProfileOutcome(
            url=url,
            status="failed",
            error=f"malformed person_data (billed by Crustdata): {fields}",
            billed=True,
        )
    return ProfileOutcome(
        url=url, status="enriched", person=person, confidence=confidence, billed=True
    )


def parse_batch_results(
    provider: str, urls: Sequence[str], raw: bytes
) -> tuple[list[ProfileOutcome], int]:
    """Map a results file (gzipped JSONL of `{original_identifier, internal_id, data}`) onto the
    submitted URLs; returns (one outcome per URL, how many records the file holds, i.e. billed).

    A line that is not a JSON object makes the whole file MalformedResponse (it cannot be told
    which profile it was); a record whose `data` our parser refuses fails that profile, billed."""
    if raw[:2] == b"\x1f\x8b":  # stored gzipped; a Content-Encoding: gzip answer arrives plain
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise MalformedResponse(provider, f"results file is not valid gzip: {exc}") from None
    found: dict[str, ProfileOutcome] = {}
    records = 0
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            record = None
        if not isinstance(record, dict):
            raise MalformedResponse(
                provider, f"results file line {number} is not a JSON object", http_status=200
            )
        records += 1
        key = normalize_profile_url(str(record.get("original_identifier") or ""))
        if key is None or key in found:
            continue
        found[key] = _person_outcome(key, record.get("data"), None)
    return [found.get(u) or ProfileOutcome(url=u, status="not_found") for u in urls], records


def result_hosts() -> set[str]:
    """Hosts a batch results file may be read from (Crustdata's S3 bucket by default)."""
    raw = os.environ.get("CRUSTDATA_RESULT_HOSTS", "crustdata-batch-api-data.s3.amazonaws.com")
    return {h.strip() for h in raw.split(",") if h.strip()}
