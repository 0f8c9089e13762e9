"""Handlers of the sourcing pipeline's jobs, by kind. Each takes a claimed Job and must be safe
to run again after a crash: it skips what is committed and redoes only the in-flight chunk."""

from __future__ import annotations

from collections.abc import Callable

from services import jobs
from services.cache import bump_data_version
from services.db import transaction
from services.imports import import_upload
from services.insights import funnel_rollup
from services.jobs import Job


def start_import(user_id: int, project_id: int, upload_id: int, rows: int) -> int:
    return jobs.start_job("import_csv", {"upload_id": upload_id, "rows": rows}, user_id, project_id)


def run_import(job: Job) -> None:
    """Import an uploaded CSV (params: upload_id). A redelivered job finds its import recorded."""
    with transaction() as conn:
        done = conn.execute(
            "SELECT row_count, new_count, linked_count FROM imports WHERE job_id = %s", (job.id,)
        ).fetchone()
        if done is None:
            jobs.set_total(conn, job.id, int(job.params.get("rows", 0)))
    if done is not None:
        return
    report = import_upload(int(job.params["upload_id"]), job.created_by, job.id)
    bump_data_version("profiles", "projects", "insights")
    funnel_rollup.request_refresh()
    with transaction() as conn:
        jobs.set_total(conn, job.id, report.rows)
        jobs.set_progress(  # skipped rows are neither done nor failed: Job.skipped
            conn,
            job.id,
            report.done,
            report.failed,
            message=f"{report.new:,} new, {report.linked:,} linked, "
            f"{report.already_in_project:,} already in project, {report.skipped_count:,} skipped"
            + (f", {report.failed:,} failed" if report.failed else ""),
        )


def _search(job: Job) -> None:
    from services.searches import run_search

    run_search(job)
    funnel_rollup.request_refresh()


def _enrich(job: Job) -> None:
    from services.enrichment import run_enrichment

    run_enrichment(job)


def _apply_filters(job: Job) -> None:
    from services.filters.apply import run_apply_filters

    run_apply_filters(job)


def _screening(job: Job) -> None:
    from services.screening.job import run_screening

    run_screening(job)


def _contact_lookup(job: Job) -> None:
    from services.contacts import run_contact_lookup

    run_contact_lookup(job)


HANDLERS: dict[str, Callable[[Job], None]] = {
    "import_csv": run_import,
    "search_run": _search,
    "enrich": _enrich,
    "apply_filters": _apply_filters,
    "screening": _screening,
    "contact_lookup": _contact_lookup,
}
