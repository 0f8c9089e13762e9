"""PhantomBuster API v2: launch an agent for one search, poll *its* container, read the result.

A launch passes the search as this launch's `argument` and never saves it, so a running search's
stored argument is never overwritten; `maxInstanceCount=1` makes PhantomBuster itself refuse a
second concurrent run. Polling uses `/containers/fetch?id=<containerId>`, not the agent's latest
container, which may belong to someone else's launch. `start_search` puts the agent lease in front.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.db import transaction
from services.providers import http
from services.providers.base import Metered, Operation, ProviderClient
from services.providers.errors import AgentBusy, MalformedResponse, ProviderError
from services.providers.lease import AgentLeases, Granted, Lease, Queued, Refused
from services.providers.metering import CallContext

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


def parse_result_object(provider: str, result_object: Any) -> list[ResultRow]:
    """`resultObject` is a JSON *string* holding an array of rows."""
    try:
        rows = json.loads(result_object) if isinstance(result_object, str) else result_object
    except json.JSONDecodeError:
        raise MalformedResponse(
            provider, "resultObject is not valid JSON", http_status=200
        ) from None
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

    def launch(
        self,
        ctx: CallContext,
        agent_id: str,
        argument: Mapping[str, Any],
        *,
        max_instance_count: int = 1,
    ) -> str:
        """Launch one run with `argument` (not saved on the agent); returns its container id."""
        payload = {
            "id": agent_id,
            "argument": dict(argument),
            "saveArgument": False,
            "maxInstanceCount": max_instance_count,
        }

        def call() -> Metered[str]:
            body, status = self._json("POST", "/agents/launch", json_payload=payload)
            container = body.get("containerId") if isinstance(body, dict) else None
            if container is None and isinstance(body, dict) and isinstance(body.get("data"), dict):
                container = body["data"].get("containerId")  # v1-style envelope
            if container in (None, ""):
                raise MalformedResponse(
                    self.provider, "launch answer has no containerId", http_status=status
                )
            return Metered(
                str(container),
                units=1.0,
                cost_usd=self.config.prices.usd_per_unit,
                http_status=status,
            )

        return self.execute(ctx, Operation("agent_launch", subject=agent_id, estimate=1.0), call)

    def fetch_container(self, ctx: CallContext, container_id: str) -> Container:
        """Status of one container, by its own id."""

        def call() -> Metered[Container]:
            body, status = self._json("GET", "/containers/fetch", params={"id": container_id})
            return Metered(_validate(self.provider, Container, body), http_status=status)

        return self.execute(ctx, Operation("container_fetch", subject=container_id), call)

    def fetch_result_rows(self, ctx: CallContext, container_id: str) -> list[ResultRow] | None:
        """The container's exported rows; None while it has produced no result object yet."""

        def call() -> Metered[list[ResultRow] | None]:
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

        return self.execute(ctx, Operation("container_result", subject=container_id), call)

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
    with transaction() as conn:
        conn.execute(
            "UPDATE searches SET container_id = %s WHERE id = %s", (container_id, search_id)
        )
    return Started(claim.lease, container_id, claim.reclaimed_search_id)


__all__ = [
    "Container",
    "PhantomBusterClient",
    "ResultRow",
    "RunningContainer",
    "SearchStart",
    "Started",
    "start_search",
]
