"""Waiting for a search's PhantomBuster run to end: polling its own container, helped by the
run webhook.

Poll intervals and deadlines are `tuning()` knobs (SEARCH_POLL_INTERVAL_S, SEARCH_QUEUE_RECHECK_S,
SEARCH_UNKNOWN_DEADLINE_S, SEARCH_MAX_RUN_S): a container PhantomBuster reports as `unknown` for
the deadline is given up on, with its reason, and no run is polled longer than the maximum. With
PhantomBuster's run webhook set up (PUBLIC_BASE_URL), the container is asked for its state only
every SEARCH_WEBHOOK_POLL_S; the webhook's "run ended" mark, checked every poll interval in
Redis, asks at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import redis

from services import jobs
from services.core.db import unit_of_work
from services.core.redis_client import get_redis
from services.core.settings import Tuning, get_settings, tuning
from services.jobs import Job, Requeue
from services.providers.errors import ProviderError, RetryLater
from services.providers.metering import CallContext
from services.providers.phantombuster import Container, PhantomBusterClient, webhook_url
from services.searches.store import Search

log = logging.getLogger(__name__)
_ENDED_KEY = "sx:pb:ended:{}"
_WEBHOOK_KEY = "sx:pb:webhook:{}"


def progress_message(job_id: int, message: str) -> None:
    with unit_of_work() as conn:
        jobs.set_progress(conn, job_id, 0, 0, message=message)


def mark_container_ended(container_id: str) -> None:
    """PhantomBuster's webhook said this run ended: the polling job asks for it now."""
    get_redis().set(_ENDED_KEY.format(container_id), "1", ex=3600)


def _take_ended_mark(container_id: str) -> bool:
    """Consume the webhook's mark: one early look per webhook call."""
    try:
        return bool(get_redis().delete(_ENDED_KEY.format(container_id)))
    except redis.RedisError:
        return False  # polling still finds the end


def ensure_webhook(client: PhantomBusterClient, ctx: CallContext, agent_id: str) -> bool:
    """Set the agent's webhook to us once a day when a public URL is configured; False: poll."""
    settings = get_settings()
    url = webhook_url(settings.public_url, settings.secret_key)
    if url is None:
        return False
    key = _WEBHOOK_KEY.format(agent_id)
    try:
        if get_redis().get(key) == url:
            return True
        client.save_webhook(ctx, agent_id, url)
        get_redis().set(key, url, ex=86400)
    except (ProviderError, redis.RedisError) as exc:
        log.warning("webhook not set for agent %s, polling instead: %s", agent_id, exc)
        return False
    return True


@dataclass
class _Deadlines:
    """When to stop waiting for a container: `unknown` too long, or the whole run too long."""

    container_id: str
    knobs: Tuning
    started: float = field(default_factory=time.monotonic)
    unknown_since: float | None = None

    def passed(self, container: Container | None) -> str | None:
        """Why to stop waiting after this look at the container; None to keep waiting."""
        now = time.monotonic()
        if container is not None and container.status == "unknown":
            self.unknown_since = now if self.unknown_since is None else self.unknown_since
            if now - self.unknown_since > self.knobs.search_unknown_deadline_s:
                return (
                    f"PhantomBuster reported container {self.container_id} as 'unknown' for"
                    f" over {self.knobs.search_unknown_deadline_s:.0f} s; stopped waiting for it"
                )
        else:
            self.unknown_since = None
        if now - self.started > self.knobs.search_max_run_s:
            return (
                f"container {self.container_id} still not finished after"
                f" {self.knobs.search_max_run_s:.0f} s"
            )
        return None


def wait_for_end(
    job: Job,
    search: Search,
    client: PhantomBusterClient,
    ctx: CallContext,
    container_id: str,
    lost: object,
    webhook_on: bool,
) -> Container | str:
    """Poll our container until it ends; a string is why we stopped waiting instead. With the
    webhook set up, the container is asked for rarely, and at once when the webhook says so."""
    knobs = tuning()
    deadlines = _Deadlines(container_id, knobs)
    interval = knobs.search_webhook_poll_s if webhook_on else knobs.search_poll_interval_s
    next_poll = deadlines.started
    while True:
        if jobs.is_cancelled(job.id):
            client.stop_agent(ctx, search.agent_id)
            return "cancelled by a user"
        if getattr(lost, "is_set", lambda: False)():
            raise Requeue(knobs.search_queue_recheck_s, "agent lease lost; waiting to resume")
        if time.monotonic() < next_poll and not _take_ended_mark(container_id):
            time.sleep(knobs.search_poll_interval_s)
            continue
        next_poll = time.monotonic() + interval
        container = _look(client, ctx, container_id)
        if container is not None and container.done:
            return container
        if (reason := deadlines.passed(container)) is not None:
            return reason
        status = container.status if container is not None else "unreachable"
        progress_message(job.id, f"container {container_id} {status}")


def _look(client: PhantomBusterClient, ctx: CallContext, container_id: str) -> Container | None:
    """The container now; None when PhantomBuster cannot say at the moment."""
    try:
        return client.fetch_container(ctx, container_id)
    except RetryLater:
        return None
