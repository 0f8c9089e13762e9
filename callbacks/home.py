"""Home page callbacks: headline numbers, recent jobs, starting the recount job."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html, no_update

from callbacks.kit import acting_user, guarded
from layouts import ids
from layouts.components import empty_state, stat_card
from layouts.home import SCOPE
from services import jobs
from services.overview import overview


@callback(Output(ids.HOME_STATS, "children"), Input(ids.HOME_STATS, "id"))
@guarded(role="recruiter")
def show_stats(_id: str) -> list[dbc.Col]:
    o = overview()
    cards = [
        stat_card("Profiles", f"{o.profiles:,}", "stat-profiles"),
        stat_card("Enriched", f"{o.enriched:,}", "stat-enriched"),
        stat_card("Active projects", f"{o.projects:,}", "stat-projects"),
        stat_card("Jobs running", f"{o.active_jobs:,}", "stat-jobs"),
    ]
    return [dbc.Col(c, md=3) for c in cards]


@callback(
    Output(ids.job_store(SCOPE), "data"),
    Output(ids.job_interval(SCOPE), "disabled", allow_duplicate=True),
    Input(ids.HOME_RECOUNT_BUTTON, "n_clicks"),
    prevent_initial_call=True,
)
@guarded(role="recruiter")
def start_recount(n_clicks: int | None) -> tuple[Any, Any]:
    if not n_clicks:
        return no_update, no_update
    user = acting_user()
    return {"job_id": jobs.start_job("recount_profiles", {}, user.id)}, False


@callback(Output(ids.HOME_JOBS_TABLE, "children"), Input(ids.job_progress(SCOPE), "label"))
@guarded(role="recruiter")
def show_recent_jobs(_label: str | None) -> html.Div | dbc.Table:
    recent = jobs.list_jobs(limit=10)
    if not recent:
        return empty_state(
            "No jobs yet", "Jobs you start (imports, enrichment, screening) show here."
        )
    header = html.Thead(
        html.Tr([html.Th(h) for h in ("#", "Kind", "Status", "Progress", "Started")])
    )
    rows = [
        html.Tr(
            [
                html.Td(j.id),
                html.Td(j.kind),
                html.Td(j.status),
                html.Td(f"{j.done + j.failed + j.skipped}/{j.total}"),
                html.Td(j.created_at.strftime("%Y-%m-%d %H:%M")),
            ]
        )
        for j in recent
    ]
    return dbc.Table([header, html.Tbody(rows)], size="sm", striped=True, hover=True)
