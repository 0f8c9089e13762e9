"""PhantomBuster API v2: launch an agent for one search, poll *its* container, read the result.

A launch passes the search as this launch's `bonusArgument`: PhantomBuster merges it into the
agent's saved argument, which holds the LinkedIn identity set up in PhantomBuster (a plain
`argument` would replace it and the run would have no login). It is never saved, so a running
search's stored argument is never overwritten; `maxInstanceCount=1` makes PhantomBuster itself
refuse a second concurrent run. The input key names come from the agent's manifest. Polling uses
`/containers/fetch?id=<containerId>`, not the agent's latest container, which may belong to
someone else's launch. A large result is an object pointing at the result file (`jsonUrl`),
which is downloaded through the same metered pipeline. PhantomBuster bills execution time, so a
finished run is metered by its duration. The answers' models live in `phantombuster_models`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import redis

from services.core.settings import tuning
from services.providers import http
from services.providers.base import Metered, Operation, ProviderClient
from services.providers.errors import AgentBusy, BudgetExceeded, MalformedResponse
from services.providers.metering import CallContext, Reservation, UsageRow, record_usage
from services.providers.phantombuster_models import (
    Agent,
    Container,
    ResultFile,
    ResultRow,
    RunningContainer,
    SearchInput,
    parse_result_object,
    parse_rows,
    search_input,
    to_result_row,
    validate_answer,
)


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
            return Metered(validate_answer(self.provider, Agent, body), http_status=status)

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
            return Metered(validate_answer(self.provider, Container, body), http_status=status)

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
                [validate_answer(self.provider, RunningContainer, c) for c in items],
                http_status=status,
            )

        return self.execute(ctx, Operation("running_containers"), call)

    def stop_agent(self, ctx: CallContext, agent_id: str) -> None:
        def call() -> Metered[None]:
            _, status = self._json("POST", "/agents/stop", json_payload={"id": agent_id})
            return Metered(None, http_status=status)

        self.execute(ctx, Operation("agent_stop", subject=agent_id), call)


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
    identity = tuning().phantombuster_identity_id
    return {"identities": [{"identityId": identity}]} if identity else {}


def result_hosts() -> set[str]:
    """Hosts a result file may be read from (PhantomBuster's S3 bucket by default)."""
    return set(tuning().phantombuster_result_hosts)


__all__ = [
    "Agent",
    "Container",
    "PhantomBusterClient",
    "ResultFile",
    "ResultRow",
    "RunningContainer",
    "SearchInput",
    "launch_payload",
    "parse_result_object",
    "parse_rows",
    "search_input",
    "to_result_row",
    "webhook_token",
    "webhook_url",
]
