"""PhantomBuster API v2 answers: the agent, container and export-row models and their parsing.

Everything here is pure (no I/O), so the contract tests check it against the spec's examples. An
export row is normalised over the Sales Navigator and LinkedIn search exports, and a result too
large to inline is an object naming the export file instead of the rows themselves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.providers.errors import MalformedResponse

ContainerStatus = Literal["starting", "running", "finished", "unknown", "launch error"]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Container(_Loose):
    id: str
    status: ContainerStatus
    createdAt: int | None = None  # noqa: N815 - API field names; v2 times are in milliseconds
    launchedAt: int | None = None  # noqa: N815
    endedAt: int | None = None  # noqa: N815
    endType: str | None = None  # noqa: N815
    exitCode: int | None = None  # noqa: N815

    @property
    def done(self) -> bool:
        return self.status in ("finished", "launch error")

    @property
    def succeeded(self) -> bool:
        return (
            self.status == "finished" and self.endType in (None, "finished") and not self.exitCode
        )


class RunningContainer(_Loose):
    id: str
    agentId: str  # noqa: N815
    agentName: str | None = None  # noqa: N815
    createdAt: int | None = None  # noqa: N815


class Agent(_Loose):
    """`/agents/fetch`: `argument` is the saved input as a JSON string; `manifest` (with
    `withManifest=true`) describes the Phantom's input, its `argumentSchema` naming the keys."""

    id: str
    name: str | None = None
    argument: str | None = None
    manifest: dict[str, Any] | None = None
    executionTimeLimit: int | None = None  # noqa: N815 - seconds, per the spec


# Input keys of the LinkedIn Phantoms, in order of preference, when the manifest lists several.
URL_KEYS = ("linkedInSearchUrl", "salesNavigatorSearchUrl", "searches", "search")
COUNT_KEYS = ("numberOfResultsPerSearch", "numberOfProfiles", "numberOfResultsPerLaunch")


@dataclass(frozen=True)
class SearchInput:
    """Where a search's URL and wanted count go in this agent's input."""

    url_key: str
    count_key: str


def search_input(manifest: Mapping[str, Any] | None, kind: str) -> SearchInput:
    """The input keys the manifest's argument schema declares; the export Phantoms' documented
    names when the manifest says nothing usable."""
    schema = (manifest or {}).get("argumentSchema") or {}
    props = schema.get("properties") if isinstance(schema, dict) else None
    names = set(props) if isinstance(props, dict) else set()
    fallback = (
        SearchInput("searches", "numberOfProfiles")
        if kind == "salesnav"
        else SearchInput("linkedInSearchUrl", "numberOfResultsPerSearch")
    )
    url_key = next((k for k in URL_KEYS if k in names), fallback.url_key)
    count_key = next((k for k in COUNT_KEYS if k in names), fallback.count_key)
    return SearchInput(url_key, count_key)


@dataclass(frozen=True)
class ResultFile:
    """A result too large to inline: `resultObject` holds the export file's URLs instead."""

    json_url: str | None
    csv_url: str | None


class ResultRow(BaseModel):
    """One exported profile, normalised over the Sales Navigator and LinkedIn search exports."""

    profile_url: str
    full_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    headline: str | None = None
    title: str | None = None
    company: str | None = None
    location: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


def _str(row: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = row.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def to_result_row(row: Mapping[str, Any]) -> ResultRow | None:
    """Sales Navigator: `companyName`/`title`; LinkedIn search: `company`/`jobTitle`/`headline`."""
    url = _str(row, "defaultProfileUrl", "profileUrl", "linkedInProfileUrl")
    if url is None:
        return None
    return ResultRow(
        profile_url=url,
        full_name=_str(row, "fullName", "name"),
        first_name=_str(row, "firstName"),
        last_name=_str(row, "lastName"),
        headline=_str(row, "headline", "titleDescription"),
        title=_str(row, "title", "jobTitle"),
        company=_str(row, "companyName", "company"),
        location=_str(row, "location"),
        raw=dict(row),
    )


def parse_result_object(provider: str, result_object: Any) -> list[ResultRow] | ResultFile:
    """`resultObject` is a JSON *string*: an array of rows, or (for a large result) an object
    with the export file's `jsonUrl` / `csvURL`."""
    try:
        rows = json.loads(result_object) if isinstance(result_object, str) else result_object
    except json.JSONDecodeError:
        raise MalformedResponse(
            provider, "resultObject is not valid JSON", http_status=200
        ) from None
    if isinstance(rows, dict) and (rows.get("jsonUrl") or rows.get("csvURL")):
        json_url, csv_url = rows.get("jsonUrl"), rows.get("csvURL")
        return ResultFile(
            json_url if isinstance(json_url, str) else None,
            csv_url if isinstance(csv_url, str) else None,
        )
    return parse_rows(provider, rows)


def parse_rows(provider: str, rows: Any) -> list[ResultRow]:
    """Export rows (an array of objects) → ResultRows; rows without a profile URL are dropped."""
    if not isinstance(rows, list):
        raise MalformedResponse(provider, "resultObject is not an array of rows", http_status=200)
    out = []
    for row in rows:
        if isinstance(row, dict) and (parsed := to_result_row(row)) is not None:
            out.append(parsed)
    return out


def validate_answer(provider: str, model: type[Any], body: Any) -> Any:
    """`body` as `model`; a wrong shape is the provider's fault (MalformedResponse), not ours."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise MalformedResponse(
            provider,
            f"{model.__name__} has a wrong shape ({exc.error_count()} error(s))",
            http_status=200,
        ) from None
