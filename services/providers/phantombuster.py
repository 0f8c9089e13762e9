"""PhantomBuster API v2: launch an agent for one search, poll *its* container, read the result.

A launch passes the search as this launch's `bonusArgument`: PhantomBuster merges it into the
agent's saved argument, which holds the LinkedIn identity set up in PhantomBuster (a plain
`argument` would replace it and the run would have no login). It is never saved, so a running
search's stored argument is never overwritten; `maxInstanceCount=1` makes PhantomBuster itself
refuse a second concurrent run. The input key names come from the agent's manifest. Polling uses
`/containers/fetch?id=<containerId>`, not the agent's latest container, which may belong to
someone else's launch. A large result is an object pointing at the result file (`jsonUrl`),
which is downloaded through the same metered pipeline. PhantomBuster bills execution time, so a
finished run is metered by its duration. `start_search` puts the agent lease in front.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import redis
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.core.db import unit_of_work
from services.providers import http
from services.providers.base import Metered, Operation, ProviderClient
from services.providers.errors import AgentBusy, BudgetExceeded, MalformedResponse, ProviderError
from services.providers.lease import AgentLeases, Granted, Lease, Queued, Refused
from services.providers.metering import CallContext, Reservation, UsageRow, record_usage

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


class PhantomBusterClient(ProviderClient):
    provider = "phantombuster"

    def _headers(self) -> dict[str, str]:
        return {"X-Phantombuster-Key": self.config.api_key, "accept": "application/json"}

    def _json(self, method: str, path: str, **kwargs: Any) -> tuple[Any, int]:
        response = http.send(
            self.config, method, f"{self.base_url}{path}", headers=self._headers(), **kwargs
        )
        if (error := http.classify(self.config, response)) is not None:
            text = http.error_text(response).lower()
            if (
                error.http_status
                and 400 <= error.http_status < 500
                and "maxinstancecount" in text.replace(" ", "")
            ):
                raise AgentBusy(self.provider, error.message, http_status=error.http_status)
            raise error
        return http.json_body(self.config, response), response.status_code

    def fetch_agent(self, ctx: CallContext, agent_id: str) -> Agent:
        """The agent with its manifest (`withManifest=true`)."""

        def call() -> Metered[Agent]:
            body, status = self._json(
                "GET", "/agents/fetch", params={"id": agent_id, "withManifest": "true"}
            )
            return Metered(_validate(self.provider, Agent, body), http_status=status)

        return self.execute(ctx, Operation("agent_fetch", subject=agent_id), call)

    def launch(
        self,
        ctx: CallContext,
        agent_id: str,
        bonus_argument: Mapping[str, Any],
        *,
        max_instance_count: int = 1,
    ) -> str:
        """Launch one run with `bonus_argument` merged into the agent's saved argument (which
        keeps its LinkedIn identity); nothing is saved. Returns the container id."""
        payload = launch_payload(agent_id, bonus_argument, max_instance_count)

        def call() -> Metered[str]:
            body, status = self._json("POST", "/agents/launch", json_payload=payload)
            container = body.get("containerId") if isinstance(body, dict) else None
            if container is None and isinstance(body, dict) and isinstance(body.get("data"), dict):
                container = body["data"].get("containerId")  # v1-style envelope
            if container in (None, ""):
                raise MalformedResponse(
                    self.provider, "launch answer has no containerId", http_status=status
                )
            # A launch is free; the run's execution time is metered when it ends (meter_run).
            return Metered(str(container), http_status=status)

        return self.execute(ctx, Operation("agent_launch", subject=agent_id), call)

    def save_webhook(self, ctx: CallContext, agent_id: str, url: str) -> None:
        """Point the agent's run webhook at us (`/agents/save` with `notifications.webhook`,
        documented in the v2 spec). PhantomBuster posts a summary there when a run ends."""

        def call() -> Metered[None]:
            payload = {"id": agent_id, "notifications": {"webhook": url}}
            _, status = self._json("POST", "/agents/save", json_payload=payload)
            return Metered(None, http_status=status)

        self.execute(ctx, Operation("agent_save_webhook", subject=agent_id), call)

    def meter_run(self, ctx: CallContext, container: Container) -> float:
        """Record a finished run's execution time (what PhantomBuster bills); returns seconds.

        Call once per container (the search job keeps the seconds on its row)."""
        start = container.launchedAt or container.createdAt
        seconds = (
            max(0.0, (container.endedAt - start) / 1000) if container.endedAt and start else 0.0
        )
        try:
            reservation = self._budget.reserve(0.0)
        except (BudgetExceeded, redis.RedisError):
            # Already over (or the counter is away): the time is spent all the same, so count it.
            reservation = Reservation(self._budget.key() if self._budget.enabled else "", 0)
        with contextlib.suppress(redis.RedisError):
            self._budget.settle(reservation, seconds)
        record_usage(
            ctx,
            UsageRow(
                provider=self.provider,
                operation="execution_time",
                status="ok",
                units=seconds,
                cost_usd=seconds * self.config.prices.usd_per_unit,
                subject=container.id,
            ),
        )
        return seconds

    def fetch_container(self, ctx: CallContext, container_id: str) -> Container:
        """Status of one container, by its own id."""

        def call() -> Metered[Container]:
            body, status = self._json("GET", "/containers/fetch", params={"id": container_id})
            return Metered(_validate(self.provider, Container, body), http_status=status)

        return self.execute(ctx, Operation("container_fetch", subject=container_id), call)

    def fetch_result_rows(self, ctx: CallContext, container_id: str) -> list[ResultRow] | None:
        """The container's exported rows; None while it has produced no result object yet. A
        large result's file (`jsonUrl`) is downloaded and read."""

        def call() -> Metered[list[ResultRow] | ResultFile | None]:
            body, status = self._json(
                "GET", "/containers/fetch-result-object", params={"id": container_id}
            )
            if not isinstance(body, dict) or "resultObject" not in body:
                raise MalformedResponse(
                    self.provider, "answer has no resultObject field", http_status=status
                )
            if body["resultObject"] is None:
                return Metered(None, http_status=status, status="no_result")
            return Metered(
                parse_result_object(self.provider, body["resultObject"]), http_status=status
            )

        found = self.execute(ctx, Operation("container_result", subject=container_id), call)
        if isinstance(found, ResultFile):
            return self.download_result(ctx, container_id, found)
        return found

    def download_result(
        self, ctx: CallContext, container_id: str, result: ResultFile
    ) -> list[ResultRow]:
        """Read a result file (JSON array of rows) from PhantomBuster's storage, metered."""
        url = result.json_url
        if not url:
            raise MalformedResponse(
                self.provider, "large result names only a CSV file; JSON expected", http_status=200
            )
        if not self._trusted_result_url(url):
            raise MalformedResponse(
                self.provider, f"result file host not allowed: {urlsplit(url).netloc}"
            )

        def call() -> Metered[list[ResultRow]]:
            # No API key: the file URL is PhantomBuster's storage, not the API.
            response = http.send(self.config, "GET", url, headers={"accept": "application/json"})
            if (error := http.classify(self.config, response)) is not None:
                raise error
            rows = parse_rows(self.provider, http.json_body(self.config, response))
            return Metered(rows, http_status=response.status_code)

        return self.execute(ctx, Operation("result_download", subject=container_id), call)

    def _trusted_result_url(self, url: str) -> bool:
        parts = urlsplit(url)
        hosts = {urlsplit(self.base_url).netloc, *result_hosts()}
        sandbox_http = self.config.sandbox and parts.scheme == "http"
        return parts.netloc in hosts and (parts.scheme == "https" or sandbox_http)

    def running_containers(self, ctx: CallContext) -> list[RunningContainer]:
        """Every running container of the organisation (`/orgs/fetch-running-containers`)."""

        def call() -> Metered[list[RunningContainer]]:
            body, status = self._json("GET", "/orgs/fetch-running-containers")
            items = body.get("containers") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise MalformedResponse(
                    self.provider, "answer has no containers list", http_status=status
                )
            return Metered(
                [_validate(self.provider, RunningContainer, c) for c in items], http_status=status
            )

        return self.execute(ctx, Operation("running_containers"), call)

    def stop_agent(self, ctx: CallContext, agent_id: str) -> None:
        def call() -> Metered[None]:
            _, status = self._json("POST", "/agents/stop", json_payload={"id": agent_id})
            return Metered(None, http_status=status)

        self.execute(ctx, Operation("agent_stop", subject=agent_id), call)


def _validate(provider: str, model: type[Any], body: Any) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise MalformedResponse(
            provider,
            f"{model.__name__} has a wrong shape ({exc.error_count()} error(s))",
            http_status=200,
        ) from None


def webhook_token(secret_key: str) -> str:
    """The secret path segment that authenticates PhantomBuster's webhook calls (they carry no
    session and no signature of their own)."""
    return hmac.new(secret_key.encode(), b"phantombuster-webhook", hashlib.sha256).hexdigest()[:40]


def webhook_url(public_url: str | None, secret_key: str) -> str | None:
    """Where PhantomBuster should post run ends, or None without a public URL (poll only)."""
    if not public_url:
        return None
    return f"{public_url}/webhooks/phantombuster/{webhook_token(secret_key)}"


def launch_payload(
    agent_id: str, bonus_argument: Mapping[str, Any], max_instance_count: int = 1
) -> dict[str, Any]:
    """The `/agents/launch` body: this run's input as `bonusArgument`, never saved."""
    return {
        "id": agent_id,
        "bonusArgument": {**identity_argument(), **dict(bonus_argument)},
        "saveArgument": False,
        "maxInstanceCount": max_instance_count,
    }


def identity_argument() -> dict[str, Any]:
    """`identities` for the launch when `PHANTOMBUSTER_IDENTITY_ID` is set; otherwise nothing,
    and the identity saved on the agent in PhantomBuster is used (bonusArgument keeps it)."""
    identity = os.environ.get("PHANTOMBUSTER_IDENTITY_ID", "").strip()
    return {"identities": [{"identityId": identity}]} if identity else {}


def result_hosts() -> set[str]:
    """Hosts a result file may be read from (PhantomBuster's S3 bucket by default)."""
    raw = os.environ.get("PHANTOMBUSTER_RESULT_HOSTS", "phantombuster.s3.amazonaws.com")
    return {h.strip() for h in raw.split(",") if h.strip()}


@dataclass(frozen=True)
class Started:
    lease: Lease
    container_id: str
    reclaimed_search_id: int | None = None


SearchStart = Started | Queued | Refused


def start_search(
    ctx: CallContext,
    agent_id: str,
    search_id: int,
    argument: Mapping[str, Any],
    *,
    client: PhantomBusterClient | None = None,
    leases: AgentLeases | None = None,
    queue: bool = True,
) -> SearchStart:
    """Lease the agent for a `queued` search and launch it; or queue/refuse it with a message.

    A provider failure marks the search failed (with the reason), frees the agent and re-raises.
    """
    leases = leases or AgentLeases()
    claim = leases.claim(agent_id, search_id, queue=queue)
    if not isinstance(claim, Granted):
        return claim
    client = client or PhantomBusterClient()
    try:
        container_id = client.launch(ctx, agent_id, argument, max_instance_count=1)
    except AgentBusy as exc:
        # The agent runs a container started outside this app: wait for our turn at the front.
        leases.release(claim.lease, final_status="queued")
        if not queue:
            return Refused(agent_id, search_id, exc.reason)
        return Queued(agent_id, search_id, leases.enqueue(agent_id, search_id, front=True), None)
    except ProviderError as exc:
        leases.release(claim.lease, final_status="failed", error=exc.reason)
        raise
    with unit_of_work() as conn:
        conn.execute(
            "UPDATE searches SET container_id = %s WHERE id = %s", (container_id, search_id)
        )
    return Started(claim.lease, container_id, claim.reclaimed_search_id)


__all__ = [
    "Agent",
    "Container",
    "PhantomBusterClient",
    "ResultRow",
    "RunningContainer",
    "SearchInput",
    "SearchStart",
    "Started",
    "search_input",
    "start_search",
]
