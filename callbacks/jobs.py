"""Job panels anywhere in the app: poll the job row by id, show progress, cancel on request."""

from __future__ import annotations

from typing import Any

from dash import MATCH, Input, Output, State, callback, no_update

from layouts import ids
from services import jobs
from web.security import require_role


def counts_text(job: jobs.Job) -> str:
    """ "10 done · 13 skipped of 23": skips (duplicates...) are not failures, so failures are
    named only when there are some."""
    parts = [f"{job.done:,} done"]
    if job.skipped:
        parts.append(f"{job.skipped:,} skipped")
    if job.failed:
        parts.append(f"{job.failed:,} failed")
    return " · ".join(parts) + f" of {job.total:,}"


def _describe(job: jobs.Job) -> str:
    parts = [f"Job #{job.id} {job.kind}: {job.status}"]
    if job.total:
        parts.append(counts_text(job))
    if job.message and not job.finished:
        parts.append(job.message)
    if job.error:
        parts.append(f"error: {job.error}")
    return " · ".join(parts)


@callback(
    Output(ids.job_progress(MATCH), "value"),
    Output(ids.job_progress(MATCH), "label"),
    Output(ids.job_progress(MATCH), "color"),
    Output(ids.job_status(MATCH), "children"),
    Output(ids.job_interval(MATCH), "disabled", allow_duplicate=True),
    Output(ids.job_cancel(MATCH), "disabled"),
    Input(ids.job_interval(MATCH), "n_intervals"),
    State(ids.job_store(MATCH), "data"),
    prevent_initial_call=True,
)
def poll_job(_n: int, store: dict[str, Any] | None) -> tuple[Any, ...]:
    require_role("recruiter")
    job_id = (store or {}).get("job_id")
    if not job_id:
        return no_update, no_update, no_update, "", True, True
    job = jobs.get_job(int(job_id))
    if job is None:
        return 0, "", "secondary", "This job no longer exists.", True, True
    color = {"done": "success", "failed": "danger", "cancelled": "secondary"}.get(
        job.status, "primary"
    )
    return job.percent, f"{job.percent}%", color, _describe(job), job.finished, job.finished


@callback(
    Output(ids.job_interval(MATCH), "disabled", allow_duplicate=True),
    Input(ids.job_cancel(MATCH), "n_clicks"),
    State(ids.job_store(MATCH), "data"),
    prevent_initial_call=True,
)
def cancel_job(n_clicks: int | None, store: dict[str, Any] | None) -> bool:
    user = require_role("recruiter")
    job_id = (store or {}).get("job_id")
    if n_clicks and job_id:
        jobs.cancel(int(job_id), user.id)
    return False  # keep polling once more so the panel shows the cancelled state
