"""Search runs: a LinkedIn or Sales Navigator search through a leased PhantomBuster agent,
imported into a project with dedup, and kept as the team's search history.

The run is a job. It leases the agent (one search per agent at a time), launches with its own
argument (never saved on the agent, so nobody's search overwrites another's), polls its own
container by id, imports the result rows, and releases the agent. A search that finds the agent
busy waits in the agent's queue without holding a worker: the job is re-queued and tells the
user their place. A redelivered job resumes polling the container it already launched.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import redis
from psycopg.rows import class_row

from services import audit, jobs
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
from services.core.errors import UserError
from services.core.redis_client import get_redis
from services.core.settings import get_settings
from services.csv_source import ImportRefused, candidates_from_dicts
from services.imports import import_candidates, record_import
from services.insights import funnel_rollup
from services.jobs import Job, Requeue
from services.jobs.kinds import job_kind
from services.providers.config import load_config
from services.providers.errors import ProviderError, RetryLater
from services.providers.lease import AgentLeases, Granted, Queued, Refused
from services.providers.metering import CallContext
from services.providers.phantombuster import (
    Container,
    PhantomBusterClient,
    SearchInput,
    search_input,
    webhook_url,
)

log = logging.getLogger(__name__)
KINDS = ("linkedin", "salesnav")
# LinkedIn serves at most 1,000 results per search, Sales Navigator 2,500: more cannot be had.
MAX_PROFILES = {"linkedin": 1000, "salesnav": 2500}
POLL_INTERVAL_S = float(os.environ.get("SEARCH_POLL_INTERVAL_S", "2.0"))
QUEUE_RECHECK_S = float(os.environ.get("SEARCH_QUEUE_RECHECK_S", "5.0"))
# A container PhantomBuster reports as `unknown` this long is given up on, with its reason; no run
# is polled longer than SEARCH_MAX_RUN_S at all.
UNKNOWN_DEADLINE_S = float(os.environ.get("SEARCH_UNKNOWN_DEADLINE_S", "600"))
MAX_RUN_S = float(os.environ.get("SEARCH_MAX_RUN_S", str(3 * 3600)))
LINKEDIN_PEOPLE_SEARCH = "https://www.linkedin.com/search/results/people/"
# With PhantomBuster's run webhook set up (PUBLIC_BASE_URL), the container is asked for its state
# this rarely; the webhook's "run ended" mark, checked every POLL_INTERVAL_S in Redis, asks at once.
WEBHOOK_POLL_S = float(os.environ.get("SEARCH_WEBHOOK_POLL_S", "60"))
_ENDED_KEY = "sx:pb:ended:{}"
_WEBHOOK_KEY = "sx:pb:webhook:{}"
DEFAULT_AGENT = {"linkedin": "linkedin-search-export", "salesnav": "salesnav-search-export"}


class SearchError(UserError):
    """A search request that cannot be launched (message is safe to show)."""


@dataclass(frozen=True)
class Search:
    id: int
    project_id: int
    project_name: str
    agent_id: str
    kind: str
    query: str
    requested_count: int
    launched_by: int | None
    launched_by_email: str | None
    status: str
    container_id: str | None
    job_id: int | None
    new_count: int
    known_count: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None


SEARCH_SQL = (
    "SELECT s.id, s.project_id, p.name AS project_name, s.agent_id, s.kind, s.query,"
    " s.requested_count, s.launched_by, u.email AS launched_by_email, s.status, s.container_id, s.job_id,"
    " s.new_count, s.known_count, s.error, s.created_at, s.finished_at FROM searches s"
    " JOIN projects p ON p.id = s.project_id LEFT JOIN users u ON u.id = s.launched_by"
)


def _validate(kind: str, query: str, count: int) -> str:
    if kind not in KINDS:
        raise SearchError("Choose a LinkedIn or a Sales Navigator search")
    query = (query or "").strip()
    if not query:
        raise SearchError("Enter a search URL or keywords")
    if kind == "salesnav" and not query.startswith("https://www.linkedin.com/sales/"):
        raise SearchError("A Sales Navigator search needs its search URL (linkedin.com/sales/...)")
    cap = MAX_PROFILES[kind]
    if not 1 <= count <= cap:
        source = "Sales Navigator" if kind == "salesnav" else "LinkedIn"
        raise SearchError(
            f"Number of profiles must be between 1 and {cap:,}: {source} shows at most {cap:,}"
            " results per search, so split a larger search into narrower ones"
        )
    return query[:2000]


def linkedin_search_url(query: str) -> str:
    """A LinkedIn people-search URL for keywords; a search URL as given."""
    if query.startswith("https://www.linkedin.com/"):
        return query
    params = urlencode({"keywords": query, "origin": "GLOBAL_SEARCH_HEADER"})
    return f"{LINKEDIN_PEOPLE_SEARCH}?{params}"


def agent_for(kind: str) -> str:
    """The configured agent of a search kind (env PHANTOMBUSTER_AGENT_LINKEDIN / _SALESNAV)."""
    return os.environ.get(f"PHANTOMBUSTER_AGENT_{kind.upper()}", DEFAULT_AGENT[kind])


def start_search(
    user_id: int, project_id: int, kind: str, query: str, count: int
) -> tuple[int, int]:
    """Record a queued search and its job; returns (search id, job id)."""
    query = _validate(kind, query, count)
    agent_id = agent_for(kind)
    with unit_of_work() as conn:
        status = conn.execute("SELECT status FROM projects WHERE id = %s", (project_id,)).fetchone()
        if status is None or status[0] != "active":
            raise SearchError("Searches can only run for an active project")
        row = conn.execute(
            "INSERT INTO searches (project_id, agent_id, kind, query, requested_count, launched_by)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (project_id, agent_id, kind, query, count, user_id),
        ).fetchone()
        assert row is not None
        search_id = int(row[0])
        job_id = jobs.insert_job(conn, "search_run", {"search_id": search_id}, user_id, project_id)
        conn.execute("UPDATE searches SET job_id = %s WHERE id = %s", (job_id, search_id))
        conn.execute("UPDATE jobs SET total = %s WHERE id = %s", (count, job_id))
        audit.record(
            conn,
            user_id,
            "search.launch",
            "search",
            search_id,
            {"project_id": project_id, "kind": kind, "count": count},
        )
        jobs.enqueue_after_commit(job_id)
    return search_id, job_id


def list_searches(project_id: int | None = None, limit: int = 50) -> list[Search]:
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(Search)) as cur:
        if project_id is None:
            cur.execute(SEARCH_SQL + " ORDER BY s.id DESC LIMIT %s", (limit,))
        else:
            cur.execute(
                SEARCH_SQL + " WHERE s.project_id = %s ORDER BY s.id DESC LIMIT %s",
                (project_id, limit),
            )
        return cur.fetchall()


def get_search(search_id: int) -> Search | None:
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(Search)) as cur:
        cur.execute(SEARCH_SQL + " WHERE s.id = %s", (search_id,))
        return cur.fetchone()


def queue_position(search: Search) -> int | None:
    return AgentLeases().position(search.agent_id, search.id) if search.status == "queued" else None


# --- the job -------------------------------------------------------------------------------


def _set(search_id: int, **fields: object) -> None:
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    with unit_of_work() as conn:
        conn.execute(
            f"UPDATE searches SET {assignments} WHERE id = %(id)s", {**fields, "id": search_id}
        )


def _message(job_id: int, message: str) -> None:
    with unit_of_work() as conn:
        jobs.set_progress(conn, job_id, 0, 0, message=message)


def launch_argument(search: Search, keys: SearchInput) -> dict[str, object]:
    """This run's input, under the key names the agent's manifest declares. It is merged into
    the agent's saved argument, which keeps the LinkedIn identity set up in PhantomBuster."""
    url = search.query if search.kind == "salesnav" else linkedin_search_url(search.query)
    return {
        keys.url_key: url,
        keys.count_key: search.requested_count,
        "csvName": f"sourcingx-search-{search.id}",
    }


@job_kind("search_run")
def run_search_job(job: Job) -> None:
    """Run a search job; the funnel counts its imported rows once it ends."""
    run_search(job)
    funnel_rollup.request_refresh()


def run_search(job: Job) -> None:
    search = get_search(int(job.params["search_id"]))
    if search is None or search.status in ("done", "failed", "cancelled"):
        return
    leases = AgentLeases()
    if search.status in ("running", "importing") and leases.holder(search.agent_id) != search.id:
        # A previous attempt crashed and its lease expired: take our turn again, keeping the
        # container it launched so we poll it instead of paying for a second run.
        _set(search.id, status="queued")
    claim = leases.claim(search.agent_id, search.id)
    if isinstance(claim, Queued):
        raise Requeue(QUEUE_RECHECK_S, claim.message)
    if isinstance(claim, Refused):
        if leases.holder(search.agent_id) == search.id:
            raise Requeue(
                QUEUE_RECHECK_S, "waiting for the previous attempt's agent lease to expire"
            )
        _set(search.id, status="failed", error=claim.reason)
        raise SearchError(claim.reason)
    assert isinstance(claim, Granted)
    lease = claim.lease
    final: str = "failed"
    error: str | None = "stopped unexpectedly"
    try:
        with leases.kept(lease) as lost:
            final, error = _launch_poll_import(job, search, lost)
    except Requeue:
        final, error = "queued", None
        leases.release(lease, final_status="queued")
        leases.enqueue(search.agent_id, search.id, front=True)
        raise
    except ProviderError as exc:
        final, error = "failed", exc.message
        raise
    finally:
        if final != "queued":
            leases.release(lease, final_status=final, error=error)
            bump_data_version("insights")


def mark_container_ended(container_id: str) -> None:
    """PhantomBuster's webhook said this run ended: the polling job asks for it now."""
    get_redis().set(_ENDED_KEY.format(container_id), "1", ex=3600)


def _take_ended_mark(container_id: str) -> bool:
    """Consume the webhook's mark: one early look per webhook call."""
    try:
        return bool(get_redis().delete(_ENDED_KEY.format(container_id)))
    except redis.RedisError:
        return False  # polling still finds the end


def _ensure_webhook(client: PhantomBusterClient, ctx: CallContext, agent_id: str) -> bool:
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


def _wait_for_end(
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
    started = time.monotonic()
    unknown_since: float | None = None
    interval = WEBHOOK_POLL_S if webhook_on else POLL_INTERVAL_S
    next_poll = started
    container: Container | None = None
    while True:
        if jobs.is_cancelled(job.id):
            client.stop_agent(ctx, search.agent_id)
            return "cancelled by a user"
        if getattr(lost, "is_set", lambda: False)():
            raise Requeue(QUEUE_RECHECK_S, "agent lease lost; waiting to resume")
        if time.monotonic() < next_poll and not _take_ended_mark(container_id):
            time.sleep(POLL_INTERVAL_S)
            continue
        next_poll = time.monotonic() + interval
        try:
            container = client.fetch_container(ctx, container_id)
        except RetryLater:
            container = None
        if container is not None and container.done:
            return container
        now = time.monotonic()
        if container is not None and container.status == "unknown":
            unknown_since = now if unknown_since is None else unknown_since
            if now - unknown_since > UNKNOWN_DEADLINE_S:
                return (
                    f"PhantomBuster reported container {container_id} as 'unknown' for"
                    f" over {UNKNOWN_DEADLINE_S:.0f} s; stopped waiting for it"
                )
        else:
            unknown_since = None
        if now - started > MAX_RUN_S:
            return f"container {container_id} still not finished after {MAX_RUN_S:.0f} s"
        status = container.status if container is not None else "unreachable"
        _message(job.id, f"container {container_id} {status}")


def _meter_once(
    client: PhantomBusterClient, ctx: CallContext, search: Search, container: Container
) -> None:
    """Bill the run's execution time once, however often the job is redelivered."""
    with unit_of_work() as conn:
        claimed = conn.execute(
            "UPDATE searches SET run_seconds = 0 WHERE id = %s AND run_seconds IS NULL"
            " RETURNING id",
            (search.id,),
        ).fetchone()
    if claimed is not None:
        _set(search.id, run_seconds=client.meter_run(ctx, container))


def _launch_poll_import(job: Job, search: Search, lost: object) -> tuple[str, str | None]:
    client = PhantomBusterClient(load_config("phantombuster"))
    ctx = CallContext(user_id=search.launched_by, project_id=search.project_id, job_id=job.id)
    container_id = search.container_id
    # Before the launch: the webhook PhantomBuster posts to is read when the run starts.
    webhook_on = _ensure_webhook(client, ctx, search.agent_id)
    if container_id is None:
        _message(job.id, f"launching agent {search.agent_id}")
        agent = client.fetch_agent(ctx, search.agent_id)
        keys = search_input(agent.manifest, search.kind)
        container_id = client.launch(ctx, search.agent_id, launch_argument(search, keys))
        _set(search.id, container_id=container_id)
    container = _wait_for_end(job, search, client, ctx, container_id, lost, webhook_on)
    if isinstance(container, str):
        return ("cancelled" if container.startswith("cancelled") else "failed"), container
    _meter_once(client, ctx, search, container)
    if not container.succeeded:
        return "failed", f"PhantomBuster run ended: {container.status} ({container.endType})"
    rows = client.fetch_result_rows(ctx, container_id) or []
    _set(search.id, status="importing")
    try:
        with unit_of_work() as conn:
            report = import_candidates(
                conn,
                search.project_id,
                candidates_from_dicts([r.raw for r in rows]),
                search.launched_by,
                "search",
                search.id,
            )
            record_import(
                conn,
                search.project_id,
                f"search #{search.id}",
                search.kind,
                report,
                search.launched_by,
                job.id,
                search.id,
            )
            conn.execute(
                "UPDATE searches SET new_count = %s, known_count = %s WHERE id = %s",
                (report.new, report.linked + report.already_in_project, search.id),
            )
            jobs.set_total(conn, job.id, report.rows)
            jobs.set_progress(  # skipped rows are neither done nor failed: Job.skipped
                conn,
                job.id,
                report.done,
                report.failed,
                message=f"{report.new:,} new, {report.linked:,} already known",
            )
    except ImportRefused as exc:
        return "failed", f"result could not be imported: {exc}"
    bump_data_version("profiles", "projects")
    return "done", None
