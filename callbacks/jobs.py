"""The job panel's callbacks (layouts/job_panel.py): one MATCH pair serves every panel on every
page — poll the job row by id and show its progress; cancel on request."""

from __future__ import annotations

from typing import Any

from dash import MATCH, Input, Output, State, callback, no_update

from callbacks.kit import acting_user, guarded
from layouts.job_panel import JobPanel, counts_text, progress_props
from services import jobs

__all__ = ["cancel_job", "counts_text", "poll_job"]


def _job_id(store: dict[str, Any] | None) -> int | None:
    job_id = (store or {}).get("job_id")
    return int(job_id) if job_id else None


@callback(
    Output(JobPanel.ids.progress(MATCH), "value"),
    Output(JobPanel.ids.progress(MATCH), "label"),
    Output(JobPanel.ids.progress(MATCH), "color"),
    Output(JobPanel.ids.status(MATCH), "children"),
    Output(JobPanel.ids.interval(MATCH), "disabled", allow_duplicate=True),
    Output(JobPanel.ids.cancel(MATCH), "disabled"),
    Input(JobPanel.ids.interval(MATCH), "n_intervals"),
    State(JobPanel.ids.store(MATCH), "data"),
    prevent_initial_call=True,
)
@guarded(role="recruiter")
def poll_job(_n: int, store: dict[str, Any] | None) -> tuple[Any, ...]:
    job_id = _job_id(store)
    if job_id is None:
        return no_update, no_update, no_update, "", True, True
    return progress_props(jobs.get_job(job_id))


@callback(
    Output(JobPanel.ids.interval(MATCH), "disabled", allow_duplicate=True),
    Input(JobPanel.ids.cancel(MATCH), "n_clicks"),
    State(JobPanel.ids.store(MATCH), "data"),
    prevent_initial_call=True,
)
@guarded(role="recruiter")
def cancel_job(n_clicks: int | None, store: dict[str, Any] | None) -> bool:
    job_id = _job_id(store)
    if n_clicks and job_id:
        jobs.cancel(job_id, acting_user().id)
    return False  # keep polling once more so the panel shows the cancelled state
