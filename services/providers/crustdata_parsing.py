"""Reading Crustdata's person answers: the `/person/enrich` array and a batch job's results file,
each mapped onto the requested URLs, one `ProfileOutcome` per URL.

A matched profile is billed whether or not our parser accepts its record, so a refused record is
a billed failure of that profile alone; only an answer whose shape cannot be mapped at all is a
MalformedResponse for the whole request.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from services.providers import http
from services.providers.crustdata_models import PersonData, ProfileOutcome
from services.providers.errors import (
    MalformedResponse,
    ProviderError,
    QuotaExhausted,
    RetriesExhausted,
    RetryLater,
)
from services.providers.linkedin import normalize_profile_url


def refine_error(error: ProviderError, response: Any) -> ProviderError:
    """Crustdata says 'credits' in its out-of-credit answers, whatever the status code."""
    text = http.error_text(response).lower()
    if (
        not isinstance(error, RetryLater)
        and "credit" in text
        and response.status_code in (402, 403)
    ):
        return QuotaExhausted(error.provider, error.message, http_status=error.http_status)
    return error


def failed_outcomes(urls: Sequence[str], error: ProviderError) -> dict[str, ProfileOutcome]:
    """Every profile of a failed request fails with its reason (retryable when it was transient)."""
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
