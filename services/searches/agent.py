"""A PhantomBuster agent leased for our searches: the lease, bound to the `searches` table.

`SearchLeases` is the provider layer's agent lease told to record each search's start and end in
the `searches` table (through `store.SearchRecords`), so the status changes happen while the lease
is held, exactly where the lease decides. `start_search` leases the agent for one queued search
and launches it: two users launching the same agent never run (or overwrite) each other's search.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis

from services.providers.errors import AgentBusy, ProviderError
from services.providers.lease import (
    DEFAULT_QUEUE_TTL_S,
    DEFAULT_TTL_S,
    AgentLeases,
    Granted,
    Lease,
    Queued,
    Refused,
)
from services.providers.metering import CallContext
from services.providers.phantombuster import PhantomBusterClient
from services.searches import store


class SearchLeases(AgentLeases):
    """Agent leases whose runs are our searches."""

    def __init__(
        self,
        client: redis.Redis | None = None,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        queue_ttl_s: float = DEFAULT_QUEUE_TTL_S,
    ) -> None:
        super().__init__(store.SearchRecords(), client, ttl_s=ttl_s, queue_ttl_s=queue_ttl_s)


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
    leases = leases or SearchLeases()
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
    store.set_fields(search_id, container_id=container_id)
    return Started(claim.lease, container_id, claim.reclaimed_search_id)
