"""The search job: lease the agent, launch our own run, wait for it, import its rows, release.

The run's argument is this launch's own (never saved on the agent, so nobody's search overwrites
another's), and its container is polled by id. A search that finds the agent busy waits in the
agent's queue without holding a worker: the job is re-queued and tells the user their place. A
redelivered job resumes polling the container it already launched instead of paying for a second
run.
"""

from __future__ import annotations

import threading

from services import jobs
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
from services.core.settings import tuning
from services.csv_source import ImportRefused, candidates_from_dicts
from services.imports import import_candidates, record_import
from services.insights import funnel_rollup
from services.jobs import Job, Requeue
from services.jobs.kinds import job_kind
from services.providers.config import load_config
from services.providers.errors import ProviderError
from services.providers.lease import Granted, Queued, Refused
from services.providers.metering import CallContext
from services.providers.phantombuster import (
    Container,
    PhantomBusterClient,
    ResultRow,
    search_input,
)
from services.searches import store
from services.searches.agent import SearchLeases
from services.searches.launching import SearchError, launch_argument
from services.searches.polling import ensure_webhook, progress_message, wait_for_end
from services.searches.store import Search


@job_kind("search_run")
def run_search_job(job: Job) -> None:
    """Run a search job; the funnel counts its imported rows once it ends."""
    run_search(job)
    funnel_rollup.request_refresh()


def run_search(job: Job) -> None:
    search = store.get_search(int(job.params["search_id"]))
    if search is None or search.status in ("done", "failed", "cancelled"):
        return
    leases = SearchLeases()
    if search.status in ("running", "importing") and leases.holder(search.agent_id) != search.id:
        # A previous attempt crashed and its lease expired: take our turn again, keeping the
        # container it launched so we poll it instead of paying for a second run.
        store.set_fields(search.id, status="queued")
    claim = leases.claim(search.agent_id, search.id)
    if isinstance(claim, Queued):
        raise Requeue(tuning().search_queue_recheck_s, claim.message)
    if isinstance(claim, Refused):
        if leases.holder(search.agent_id) == search.id:
            raise Requeue(
                tuning().search_queue_recheck_s,
                "waiting for the previous attempt's agent lease to expire",
            )
        store.set_fields(search.id, status="failed", error=claim.reason)
        raise SearchError(claim.reason)
    assert isinstance(claim, Granted)
    _run_leased(job, search, leases, claim)


def _run_leased(job: Job, search: Search, leases: SearchLeases, claim: Granted) -> None:
    """Run the search while renewing its lease; release it with the outcome whatever happens."""
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


def _meter_once(
    client: PhantomBusterClient, ctx: CallContext, search: Search, container: Container
) -> None:
    """Bill the run's execution time once, however often the job is redelivered."""
    if store.claim_metering(search.id):
        store.set_fields(search.id, run_seconds=client.meter_run(ctx, container))


def _launch(job: Job, search: Search, client: PhantomBusterClient, ctx: CallContext) -> str:
    """Launch our run with its own argument; returns the container id, kept on the search."""
    progress_message(job.id, f"launching agent {search.agent_id}")
    agent = client.fetch_agent(ctx, search.agent_id)
    keys = search_input(agent.manifest, search.kind)
    container_id = client.launch(ctx, search.agent_id, launch_argument(search, keys))
    store.set_fields(search.id, container_id=container_id)
    return container_id


def _launch_poll_import(job: Job, search: Search, lost: threading.Event) -> tuple[str, str | None]:
    client = PhantomBusterClient(load_config("phantombuster"))
    ctx = CallContext(user_id=search.launched_by, project_id=search.project_id, job_id=job.id)
    container_id = search.container_id
    # Before the launch: the webhook PhantomBuster posts to is read when the run starts.
    webhook_on = ensure_webhook(client, ctx, search.agent_id)
    if container_id is None:
        container_id = _launch(job, search, client, ctx)
    container = wait_for_end(job, search, client, ctx, container_id, lost, webhook_on)
    if isinstance(container, str):
        return ("cancelled" if container.startswith("cancelled") else "failed"), container
    _meter_once(client, ctx, search, container)
    if not container.succeeded:
        return "failed", f"PhantomBuster run ended: {container.status} ({container.endType})"
    rows = client.fetch_result_rows(ctx, container_id) or []
    store.set_fields(search.id, status="importing")
    try:
        _import_rows(job, search, rows)
    except ImportRefused as exc:
        return "failed", f"result could not be imported: {exc}"
    bump_data_version("profiles", "projects")
    return "done", None


def _import_rows(job: Job, search: Search, rows: list[ResultRow]) -> None:
    """Import the result with dedup, and record its counts on the search and the job, at once."""
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
        store.set_counts(conn, search.id, report.new, report.linked + report.already_in_project)
        jobs.set_total(conn, job.id, report.rows)
        jobs.set_progress(  # skipped rows are neither done nor failed: Job.skipped
            conn,
            job.id,
            report.done,
            report.failed,
            message=f"{report.new:,} new, {report.linked:,} already known",
        )
