"""Projects callbacks: list/create, a project's overview, searches, imports and jobs.

Each callback re-checks the role, calls one service, and turns the answer into props; user
errors come back as short messages next to the control that caused them.
"""

from __future__ import annotations

import base64
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from callbacks.jobs import counts_text
from layouts import ids
from layouts import projects as page
from layouts.components import empty_state
from services import jobs, projects, searches
from services.core.settings import get_settings
from services.csv_source import ImportRefused
from services.enrichment import start_enrichment
from services.imports import (
    DETAIL_ROWS_KEPT,
    NOT_ADDED,
    OUTCOME_LABELS,
    PAGE_SIZE,
    import_rows_page,
    list_imports,
    start_import,
    store_upload,
)
from web.security import require_role

STATUS_COLOR = {
    "done": "success",
    "failed": "danger",
    "cancelled": "secondary",
    "running": "primary",
    "importing": "primary",
    "queued": "warning",
}


def _alert(message: str, color: str = "danger") -> dbc.Alert:
    return dbc.Alert(message, color=color, className="py-2 small", dismissable=True)


def _table(header: tuple[str, ...], rows: list[list[Any]]) -> dbc.Table:
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in header])),
            html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows]),
        ],
        size="sm",
        striped=True,
        hover=True,
        className="small",
    )


def _badge(status: str) -> dbc.Badge:
    return dbc.Badge(status, color=STATUS_COLOR.get(status, "secondary"))


# --- list page -------------------------------------------------------------------------------


@callback(
    Output(page.LIST, "children"),
    Input(page.SHOW_ARCHIVED, "value"),
    Input(page.NEW_FEEDBACK, "children"),
)
def show_projects(show: list[str] | None, _feedback: Any) -> Any:
    require_role("recruiter")
    items = projects.list_projects(include_archived=bool(show))
    if not items:
        return empty_state("No projects yet", "Create the first hiring project on the right.")
    rows = [
        [
            dcc.Link(p.name, href=f"/projects/{p.id}"),
            p.location or "—",
            p.owner_name or "—",
            f"{p.profile_count:,}",
            _badge(p.status),
            p.created_at.strftime("%Y-%m-%d"),
        ]
        for p in items
    ]
    return _table(("Project", "Location", "Owner", "Profiles", "Status", "Created"), rows)


@callback(
    Output(page.NEW_FEEDBACK, "children"),
    Output(page.REDIRECT, "href"),
    Input(page.NEW_SUBMIT, "n_clicks"),
    State(page.NEW_NAME, "value"),
    State(page.NEW_DESCRIPTION, "value"),
    State(page.NEW_LOCATION, "value"),
    prevent_initial_call=True,
)
def create_project(
    _n: int, name: str | None, description: str | None, location: str | None
) -> tuple[Any, Any]:
    user = require_role("recruiter")
    try:
        project_id = projects.create_project(user.id, name or "", description or "", location or "")
    except projects.ProjectError as exc:
        return _alert(str(exc)), no_update
    return no_update, f"/projects/{project_id}"


def _search_rows(items: list[searches.Search], with_project: bool) -> list[list[Any]]:
    rows = []
    for s in items:
        place = searches.queue_position(s)
        status = _badge(s.status if place is None else f"queued · #{place}")
        row = [
            s.created_at.strftime("%Y-%m-%d %H:%M"),
            s.launched_by_email or "—",
            s.kind,
            html.Span(s.query[:80], title=s.query),
            s.requested_count,
            status,
            f"{s.new_count:,} new / {s.known_count:,} known",
            s.error or "",
        ]
        if with_project:
            row.insert(1, dcc.Link(s.project_name, href=f"/projects/{s.project_id}"))
        rows.append(row)
    return rows


@callback(Output(page.TEAM_SEARCHES, "children"), Input(page.TEAM_SEARCHES, "id"))
def show_team_searches(_id: str) -> Any:
    require_role("recruiter")
    items = searches.list_searches(limit=50)
    if not items:
        return empty_state("No searches yet", "Launch one from a project's Searches tab.")
    return _table(
        ("When", "Project", "Who", "Kind", "Query", "Profiles", "Status", "Result", "Error"),
        _search_rows(items, with_project=True),
    )


# --- one project -----------------------------------------------------------------------------


def _pipeline_figure(p: projects.Pipeline) -> go.Figure:
    stages = [
        ("Sourced", p.sourced),
        ("Enriched", p.enriched),
        ("Passed filters", p.passed_filters),
        ("Screened", p.screened),
        ("Strong/good fit", p.strong_or_good),
        ("Shortlisted", p.shortlisted),
        ("Contacts found", p.with_contacts),
    ]
    fig = go.Figure(
        go.Funnel(
            y=[s for s, _ in stages],
            x=[n for _, n in stages],
            textinfo="value+percent initial",
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=300)
    return fig


@callback(
    Output(page.HEADER, "children"),
    Output(page.PIPELINE, "figure"),
    Output(page.EDIT_NAME, "value"),
    Output(page.EDIT_DESCRIPTION, "value"),
    Output(page.EDIT_LOCATION, "value"),
    Output(page.ARCHIVE, "children"),
    Input(page.PROJECT_ID, "data"),
    Input(page.EDIT_FEEDBACK, "children"),
)
def show_project(project_id: int, _feedback: Any) -> tuple[Any, ...]:
    require_role("recruiter")
    project = projects.get_project(project_id) if project_id else None
    if project is None:
        missing = empty_state("Project not found", "It may have been removed; see all projects.")
        return missing, go.Figure(), "", "", "", "Archive"
    header = html.Div(
        [
            dcc.Link("← Projects", href="/projects", className="small"),
            html.H1([project.name, " ", _badge(project.status)], className="h4 mt-1 mb-0"),
            html.Div(
                f"{project.location or 'No location'} · owner {project.owner_name or '—'}",
                className="text-muted small",
            ),
        ]
    )
    archive_label = "Reopen" if project.status == "archived" else "Archive"
    return (
        header,
        _pipeline_figure(projects.pipeline(project_id)),
        project.name,
        project.description,
        project.location,
        archive_label,
    )


@callback(
    Output(page.EDIT_FEEDBACK, "children"),
    Input(page.EDIT_SAVE, "n_clicks"),
    Input(page.ARCHIVE, "n_clicks"),
    State(page.PROJECT_ID, "data"),
    State(page.EDIT_NAME, "value"),
    State(page.EDIT_DESCRIPTION, "value"),
    State(page.EDIT_LOCATION, "value"),
    State(page.ARCHIVE, "children"),
    prevent_initial_call=True,
)
def edit_project(
    _save: int | None,
    _archive: int | None,
    project_id: int,
    name: str | None,
    description: str | None,
    location: str | None,
    archive_label: str,
) -> Any:
    user = require_role("recruiter")
    try:
        if ctx.triggered_id == page.ARCHIVE:
            projects.set_archived(user.id, project_id, archive_label == "Archive")
            return _alert(
                "Project archived." if archive_label == "Archive" else "Project reopened.",
                "success",
            )
        projects.update_project(user.id, project_id, name or "", description or "", location or "")
    except projects.ProjectError as exc:
        return _alert(str(exc))
    return _alert("Saved.", "success")


def _job_started(job_id: int) -> tuple[Any, Any]:
    """Store and interval props that make a job panel start polling this job."""
    return {"job_id": job_id}, False


@callback(
    Output(page.ENRICH_FEEDBACK, "children"),
    Output(ids.job_store("project-enrich"), "data"),
    Output(ids.job_interval("project-enrich"), "disabled", allow_duplicate=True),
    Input(page.ENRICH, "n_clicks"),
    State(page.PROJECT_ID, "data"),
    prevent_initial_call=True,
)
def enrich(_n: int, project_id: int) -> tuple[Any, Any, Any]:
    user = require_role("recruiter")
    job_id = start_enrichment(user.id, project_id)
    return "", *_job_started(job_id)


@callback(
    Output(page.SEARCH_FEEDBACK, "children"),
    Output(ids.job_store("project-search"), "data"),
    Output(ids.job_interval("project-search"), "disabled", allow_duplicate=True),
    Input(page.SEARCH_LAUNCH, "n_clicks"),
    State(page.PROJECT_ID, "data"),
    State(page.SEARCH_KIND, "value"),
    State(page.SEARCH_QUERY, "value"),
    State(page.SEARCH_COUNT, "value"),
    prevent_initial_call=True,
)
def launch_search(
    _n: int, project_id: int, kind: str, query: str | None, count: Any
) -> tuple[Any, Any, Any]:
    user = require_role("recruiter")
    try:
        number = int(count)
    except (TypeError, ValueError):
        return _alert("Number of profiles must be a whole number"), no_update, no_update
    try:
        _search_id, job_id = searches.start_search(user.id, project_id, kind, query or "", number)
    except searches.SearchError as exc:
        return _alert(str(exc)), no_update, no_update
    return "", *_job_started(job_id)


@callback(
    Output(page.SEARCH_HISTORY, "children"),
    Input(page.PROJECT_ID, "data"),
    Input(ids.job_progress("project-search"), "label"),
)
def show_searches(project_id: int, _label: Any) -> Any:
    require_role("recruiter")
    items = searches.list_searches(project_id)
    if not items:
        return empty_state("No searches yet", "Launch a LinkedIn or Sales Navigator search above.")
    return _table(
        ("When", "Who", "Kind", "Query", "Profiles", "Status", "Result", "Error"),
        _search_rows(items, with_project=False),
    )


@callback(
    Output(page.UPLOAD_FEEDBACK, "children"),
    Output(ids.job_store("project-import"), "data"),
    Output(ids.job_interval("project-import"), "disabled", allow_duplicate=True),
    Input(page.UPLOAD, "contents"),
    State(page.UPLOAD, "filename"),
    State(page.UPLOAD_SHEET, "value"),
    State(page.PROJECT_ID, "data"),
    prevent_initial_call=True,
)
def upload_csv(
    contents: str | None, filename: str | None, sheet: str | None, project_id: int
) -> tuple[Any, ...]:
    user = require_role("recruiter")
    if not contents or not filename:
        return no_update, no_update, no_update
    try:
        content = base64.b64decode(contents.split(",", 1)[1], validate=True)
        upload_id, fmt, rows = store_upload(
            project_id, filename, content, user.id, get_settings().upload_max_bytes, sheet
        )
    except (ValueError, IndexError) as exc:
        message = str(exc) if isinstance(exc, ImportRefused) else "The upload could not be read"
        return _alert(f"{filename} was not imported: {message}"), no_update, no_update
    job_id = start_import(user.id, project_id, upload_id, rows)
    note = _alert(f"{filename}: {rows:,} rows ({fmt} format) checked; importing…", "info")
    return note, *_job_started(job_id)


@callback(
    Output(page.IMPORT_HISTORY, "children"),
    Input(page.PROJECT_ID, "data"),
    Input(ids.job_progress("project-import"), "label"),
)
def show_imports(project_id: int, _label: Any) -> Any:
    require_role("recruiter")
    items = list_imports(project_id)
    if not items:
        return empty_state("No imports yet", "Upload a PhantomBuster export, a CSV or a workbook.")
    rows = [
        [
            i.created_at.strftime("%Y-%m-%d %H:%M"),
            i.filename,
            i.format,
            f"{i.rows:,}",
            f"{i.new:,}",
            f"{i.linked:,}",
            f"{i.already_in_project:,}",
            f"{i.skipped:,}",
            f"{i.failed:,}",
            i.by or "—",
            page.import_reasons_button(i.id, "Reasons") if i.detail_rows else "—",
        ]
        for i in items
    ]
    header = ("When", "File", "Format", "Rows", "New", "Linked", "Already in project")
    return _table((*header, "Skipped", "Failed", "By", "Rows not added"), rows)


def _reasons_state(
    trigger: Any, store: dict[str, Any] | None, outcome: str | None
) -> dict[str, Any] | None:
    """The reasons panel's next state from what was clicked; None when nothing changes."""
    state = {"import_id": None, "page": 0, "outcome": None, **(store or {})}
    outcome = outcome if outcome in NOT_ADDED else None  # the filter is an allow-list
    if state["outcome"] not in NOT_ADDED:
        state["outcome"] = None
    if not isinstance(state["page"], int) or not isinstance(state["import_id"], int | None):
        return None  # not a state this page wrote
    if isinstance(trigger, dict) and trigger.get("type") == "import-reasons":
        return {"import_id": int(trigger["import"]), "page": 0, "outcome": outcome}
    if state["import_id"] is None:
        return None
    if trigger == page.REASONS_OUTCOME:
        return {**state, "page": 0, "outcome": outcome}
    if trigger == page.REASONS_NEXT:
        return {**state, "page": int(state["page"]) + 1}
    if trigger == page.REASONS_PREV:
        return {**state, "page": max(int(state["page"]) - 1, 0)}
    return None


@callback(
    Output(page.REASONS_STORE, "data"),
    Output(page.REASONS_PANEL, "style"),
    Output(page.REASONS_TITLE, "children"),
    Output(page.REASONS_TABLE, "children"),
    Output(page.REASONS_PAGE, "children"),
    Output(page.REASONS_PREV, "disabled"),
    Output(page.REASONS_NEXT, "disabled"),
    Output(page.REASONS_DOWNLOAD, "href"),
    Input({"type": "import-reasons", "import": ALL}, "n_clicks"),
    Input(page.REASONS_OUTCOME, "value"),
    Input(page.REASONS_PREV, "n_clicks"),
    Input(page.REASONS_NEXT, "n_clicks"),
    State(page.REASONS_STORE, "data"),
    State(page.PROJECT_ID, "data"),
    prevent_initial_call=True,
)
def show_import_reasons(
    _reasons: Any,
    outcome: str | None,
    _prev: Any,
    _next: Any,
    store: dict[str, Any] | None,
    project_id: int,
) -> tuple[Any, ...]:
    """One import's rows not added, a page at a time from SQL, with a CSV of all of them."""
    require_role("recruiter")
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and not (ctx.triggered and ctx.triggered[0]["value"]):
        return (no_update,) * 8  # the history re-rendered its buttons; nothing was clicked
    state = _reasons_state(trigger, store, outcome)
    if state is None:
        return (no_update,) * 8
    import_id, number = int(state["import_id"]), int(state["page"])
    rows, total = import_rows_page(project_id, import_id, number, state["outcome"])
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if rows:
        table = _table(
            ("Row", "Name", "Outcome", "Reason"),
            [
                [f"{r.row:,}", r.name, OUTCOME_LABELS.get(r.outcome, r.outcome), r.reason]
                for r in rows
            ],
        )
    else:
        table = empty_state("No rows", "No rows of this import have this outcome.")
    return (
        state,
        {"display": "block"},
        f"Import #{import_id}: rows not added ({total:,})"
        + (f"; the first {DETAIL_ROWS_KEPT:,} are kept" if total >= DETAIL_ROWS_KEPT else ""),
        table,
        f"page {min(number + 1, pages):,} of {pages:,}",
        number <= 0,
        number + 1 >= pages,
        page.reasons_download_href(project_id, import_id),
    )


@callback(
    Output(page.JOBS_TABLE, "children"),
    Input(page.PROJECT_ID, "data"),
    Input(page.JOBS_REFRESH, "n_clicks"),
    Input("project-jobs-interval", "n_intervals"),
    Input({"type": "job-action", "job": ALL, "action": ALL}, "n_clicks"),
)
def show_jobs(project_id: int, *_: Any) -> Any:
    user = require_role("recruiter")
    trigger = ctx.triggered_id
    is_action = isinstance(trigger, dict) and trigger.get("type") == "job-action"
    if is_action and ctx.triggered and ctx.triggered[0]["value"]:
        act = jobs.cancel if trigger["action"] == "cancel" else jobs.retry
        act(int(trigger["job"]), user.id)
    items = jobs.list_jobs(project_id, limit=30)
    if not items:
        return empty_state("No jobs yet", "Searches, imports and enrichment run here as jobs.")
    rows = []
    for j in items:
        action = None
        if not j.finished:
            action = ("cancel", "Cancel")
        elif j.status in ("failed", "cancelled"):
            action = ("retry", "Retry")
        button = (
            dbc.Button(
                action[1],
                id={"type": "job-action", "job": j.id, "action": action[0]},
                size="sm",
                color="link",
                className="p-0",
            )
            if action
            else ""
        )
        rows.append(
            [
                j.id,
                j.kind,
                _badge(j.status),
                dbc.Progress(value=j.percent, label=f"{j.percent}%", style={"height": "1rem"}),
                counts_text(j),
                j.error or j.message or "",
                button,
            ]
        )
    return _table(("#", "Kind", "Status", "Progress", "Counts", "Details", ""), rows)


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(page.TABS, "active_tab"),
    prevent_initial_call=True,
)
def remember_tab(tab: str | None) -> str:
    """The open tab goes into the URL, so a link or a reload opens the same tab."""
    return f"?tab={tab}" if tab and tab != "overview" else ""
