"""The job panel: one reusable component that shows a job's progress and can cancel it.

Built on Dash's All-in-One pattern: `JobPanel(scope)` lays out a store, an interval, a progress
bar, a status line and a cancel button whose ids (`JobPanel.ids`) carry the panel's scope; the
two MATCH callbacks in `callbacks/jobs.py` serve every panel on every page, polling the job row
by id, so any web worker can answer. A callback that starts a job writes
`JobPanel.started(job_id)` into `JobPanel.start_outputs(scope)`.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Output, dcc, html

from layouts import ids
from services.jobs import Job

POLL_INTERVAL_MS = 1000


class JobPanel(html.Div):  # type: ignore[misc]
    """A progress bar that polls one job row by id."""

    class ids:  # noqa: N801 - the All-in-One convention: `JobPanel.ids.store(scope)`
        store = staticmethod(ids.job_store)
        interval = staticmethod(ids.job_interval)
        progress = staticmethod(ids.job_progress)
        status = staticmethod(ids.job_status)
        cancel = staticmethod(ids.job_cancel)

    def __init__(self, scope: str, job_id: int | None = None) -> None:
        idle = job_id is None
        super().__init__(
            [
                dcc.Store(id=self.ids.store(scope), data={"job_id": job_id}),
                dcc.Interval(id=self.ids.interval(scope), interval=POLL_INTERVAL_MS, disabled=idle),
                dbc.Progress(
                    id=self.ids.progress(scope),
                    value=0,
                    label="",
                    striped=True,
                    className="mb-2",
                    style={"height": "1.25rem"},
                ),
                html.Div(
                    [
                        html.Span(id=self.ids.status(scope), className="text-muted small me-3"),
                        dbc.Button(
                            "Cancel",
                            id=self.ids.cancel(scope),
                            size="sm",
                            color="link",
                            className="p-0",
                            disabled=idle,
                        ),
                    ]
                ),
            ],
            className="job-panel",
        )

    @staticmethod
    def start_outputs(scope: str) -> tuple[Output, Output]:
        """The outputs a job-starting callback writes to make this panel follow its job."""
        return (
            Output(ids.job_store(scope), "data"),
            Output(ids.job_interval(scope), "disabled", allow_duplicate=True),
        )

    @staticmethod
    def started(job_id: int) -> tuple[dict[str, Any], bool]:
        """Values for `start_outputs`: the job to poll, and polling switched on."""
        return {"job_id": job_id}, False


def counts_text(job: Job) -> str:
    """ "10 done · 13 skipped of 23": skips (duplicates...) are not failures, so failures are
    named only when there are some."""
    parts = [f"{job.done:,} done"]
    if job.skipped:
        parts.append(f"{job.skipped:,} skipped")
    if job.failed:
        parts.append(f"{job.failed:,} failed")
    return " · ".join(parts) + f" of {job.total:,}"


def describe(job: Job) -> str:
    """The panel's status line: kind, status, counts, the latest message or the error."""
    parts = [f"Job #{job.id} {job.kind}: {job.status}"]
    if job.total:
        parts.append(counts_text(job))
    if job.message and not job.finished:
        parts.append(job.message)
    if job.error:
        parts.append(f"error: {job.error}")
    return " · ".join(parts)


PROGRESS_COLOR = {"done": "success", "failed": "danger", "cancelled": "secondary"}


def progress_props(job: Job | None) -> tuple[Any, ...]:
    """value, label, color and status text of the panel, then whether polling and the cancel
    button stop (both once the job has finished, or is gone)."""
    if job is None:
        return 0, "", "secondary", "This job no longer exists.", True, True
    color = PROGRESS_COLOR.get(job.status, "primary")
    return job.percent, f"{job.percent}%", color, describe(job), job.finished, job.finished
