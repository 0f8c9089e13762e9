"""Projects callbacks: list/create, a project's overview, searches, imports and jobs.

Each callback is guarded (recruiter), calls one service and hands the answer to a layout
function (`layouts/project_tables.py`); user errors come back as short alerts next to the
control that caused them.
"""

from __future__ import annotations

import base64
from typing import Any

import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, no_update

from callbacks.kit import acting_user, alert, guarded
from layouts import ids
from layouts import project_tables as render
from layouts import projects as page
from layouts.job_panel import JobPanel
from services import jobs, projects, searches
from services.core.errors import UserError
from services.core.settings import get_settings
from services.csv_source import ImportRefused
from services.enrichment import start_enrichment
from services.imports import (
    NOT_ADDED,
    PAGE_SIZE,
    import_rows_page,
    list_imports,
    start_import,
    store_upload,
)


def _refused_alert(error: UserError) -> Any:
    return alert(error.user_message)


def _places(items: list[searches.Search]) -> dict[int, int | None]:
    """Each search's place in its agent's queue (kept in Redis, so asked here, not in layouts)."""
    return {s.id: searches.queue_position(s) for s in items}


# --- list page -------------------------------------------------------------------------------


@callback(
    Output(page.LIST, "children"),
    Input(page.SHOW_ARCHIVED, "value"),
    Input(page.NEW_FEEDBACK, "children"),
)
@guarded(role="recruiter", refused=_refused_alert)
def show_projects(show: list[str] | None, _feedback: Any) -> Any:
    return render.projects_table(projects.list_projects(include_archived=bool(show)))


@callback(
    Output(page.NEW_FEEDBACK, "children"),
    Output(page.REDIRECT, "href"),
    Input(page.NEW_SUBMIT, "n_clicks"),
    State(page.NEW_NAME, "value"),
    State(page.NEW_DESCRIPTION, "value"),
    State(page.NEW_LOCATION, "value"),
    prevent_initial_call=True,
)
@guarded(role="recruiter", refused=lambda e: (_refused_alert(e), no_update))
def create_project(
    _n: int, name: str | None, description: str | None, location: str | None
) -> tuple[Any, Any]:
    user = acting_user()
    project_id = projects.create_project(user.id, name or "", description or "", location or "")
    return no_update, f"/projects/{project_id}"


@callback(Output(page.TEAM_SEARCHES, "children"), Input(page.TEAM_SEARCHES, "id"))
@guarded(role="recruiter", refused=_refused_alert)
def show_team_searches(_id: str) -> Any:
    items = searches.list_searches(limit=50)
    return render.searches_table(items, _places(items), with_project=True)


# --- one project -----------------------------------------------------------------------------


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
@guarded(role="recruiter")
def show_project(project_id: int, _feedback: Any) -> tuple[Any, ...]:
    project = projects.get_project(project_id) if project_id else None
    if project is None:
        return render.project_missing(), go.Figure(), "", "", "", "Archive"
    return (
        render.project_header(project),
        render.pipeline_figure(projects.pipeline(project_id)),
        project.name,
        project.description,
        project.location,
        "Reopen" if project.status == "archived" else "Archive",
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
@guarded(role="recruiter", refused=_refused_alert)
def edit_project(
    _save: int | None,
    _archive: int | None,
    project_id: int,
    name: str | None,
    description: str | None,
    location: str | None,
    archive_label: str,
) -> Any:
    user = acting_user()
    if ctx.triggered_id == page.ARCHIVE:
        archive = archive_label == "Archive"
        projects.set_archived(user.id, project_id, archive)
        return alert("Project archived." if archive else "Project reopened.", "success")
    projects.update_project(user.id, project_id, name or "", description or "", location or "")
    return alert("Saved.", "success")


@callback(
    Output(page.ENRICH_FEEDBACK, "children"),
    *JobPanel.start_outputs(page.ENRICH_SCOPE),
    Input(page.ENRICH, "n_clicks"),
    State(page.PROJECT_ID, "data"),
    prevent_initial_call=True,
)
@guarded(role="recruiter", refused=lambda e: (_refused_alert(e), no_update, no_update))
def enrich(_n: int, project_id: int) -> tuple[Any, Any, Any]:
    job_id = start_enrichment(acting_user().id, project_id)
    return "", *JobPanel.started(job_id)


@callback(
    Output(page.SEARCH_FEEDBACK, "children"),
    *JobPanel.start_outputs(page.SEARCH_SCOPE),
    Input(page.SEARCH_LAUNCH, "n_clicks"),
    State(page.PROJECT_ID, "data"),
    State(page.SEARCH_KIND, "value"),
    State(page.SEARCH_QUERY, "value"),
    State(page.SEARCH_COUNT, "value"),
    prevent_initial_call=True,
)
@guarded(role="recruiter", refused=lambda e: (_refused_alert(e), no_update, no_update))
def launch_search(
    _n: int, project_id: int, kind: str, query: str | None, count: Any
) -> tuple[Any, Any, Any]:
    try:
        number = int(count)
    except (TypeError, ValueError):  # the count box sent something that is not a number
        return alert("Number of profiles must be a whole number"), no_update, no_update
    user = acting_user()
    _search_id, job_id = searches.start_search(user.id, project_id, kind, query or "", number)
    return "", *JobPanel.started(job_id)


@callback(
    Output(page.SEARCH_HISTORY, "children"),
    Input(page.PROJECT_ID, "data"),
    Input(JobPanel.ids.progress(page.SEARCH_SCOPE), "label"),
)
@guarded(role="recruiter", refused=_refused_alert)
def show_searches(project_id: int, _label: Any) -> Any:
    items = searches.list_searches(project_id)
    return render.searches_table(items, _places(items), with_project=False)


def _decoded(contents: str) -> bytes:
    """The file's bytes from dcc.Upload's data URL; ValueError/IndexError if it is not one."""
    return base64.b64decode(contents.split(",", 1)[1], validate=True)


@callback(
    Output(page.UPLOAD_FEEDBACK, "children"),
    *JobPanel.start_outputs(page.IMPORT_SCOPE),
    Input(page.UPLOAD, "contents"),
    State(page.UPLOAD, "filename"),
    State(page.UPLOAD_SHEET, "value"),
    State(page.PROJECT_ID, "data"),
    prevent_initial_call=True,
)
@guarded(role="recruiter", refused=lambda e: (_refused_alert(e), no_update, no_update))
def upload_csv(
    contents: str | None, filename: str | None, sheet: str | None, project_id: int
) -> tuple[Any, ...]:
    if not contents or not filename:
        return no_update, no_update, no_update
    user = acting_user()
    try:
        upload_id, fmt, rows = store_upload(
            project_id,
            filename,
            _decoded(contents),
            user.id,
            get_settings().upload_max_bytes,
            sheet,
        )
    # Reading the file is parsing what the browser sent: whatever fails in it refuses the file.
    # Only an ImportRefused says why in its own words; other failures get a fixed sentence.
    except (UserError, ValueError, IndexError) as exc:
        message = str(exc) if isinstance(exc, ImportRefused) else "The upload could not be read"
        return alert(f"{filename} was not imported: {message}"), no_update, no_update
    job_id = start_import(user.id, project_id, upload_id, rows)
    note = alert(f"{filename}: {rows:,} rows ({fmt} format) checked; importing…", "info")
    return note, *JobPanel.started(job_id)


@callback(
    Output(page.IMPORT_HISTORY, "children"),
    Input(page.PROJECT_ID, "data"),
    Input(JobPanel.ids.progress(page.IMPORT_SCOPE), "label"),
)
@guarded(role="recruiter", refused=_refused_alert)
def show_imports(project_id: int, _label: Any) -> Any:
    return render.imports_table(list_imports(project_id))


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
    Input(page.import_reasons_id(ALL), "n_clicks"),
    Input(page.REASONS_OUTCOME, "value"),
    Input(page.REASONS_PREV, "n_clicks"),
    Input(page.REASONS_NEXT, "n_clicks"),
    State(page.REASONS_STORE, "data"),
    State(page.PROJECT_ID, "data"),
    prevent_initial_call=True,
)
@guarded(role="recruiter")
def show_import_reasons(
    _reasons: Any,
    outcome: str | None,
    _prev: Any,
    _next: Any,
    store: dict[str, Any] | None,
    project_id: int,
) -> tuple[Any, ...]:
    """One import's rows not added, a page at a time from SQL, with a CSV of all of them."""
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and not (ctx.triggered and ctx.triggered[0]["value"]):
        return (no_update,) * 8  # the history re-rendered its buttons; nothing was clicked
    state = _reasons_state(trigger, store, outcome)
    if state is None:
        return (no_update,) * 8
    import_id, number = int(state["import_id"]), int(state["page"])
    rows, total = import_rows_page(project_id, import_id, number, state["outcome"])
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return (
        state,
        {"display": "block"},
        render.reasons_title(import_id, total),
        render.reasons_table(rows),
        f"page {min(number + 1, pages):,} of {pages:,}",
        number <= 0,
        number + 1 >= pages,
        page.reasons_download_href(project_id, import_id),
    )


@callback(
    Output(page.JOBS_CHANGED, "data"),
    Input(page.job_action_id(ALL, ALL), "n_clicks"),
    State(page.JOBS_CHANGED, "data"),
    prevent_initial_call=True,
)
@guarded(role="recruiter")
def act_on_job(_clicks: Any, changes: int | None) -> Any:
    """Cancel or retry the job whose button was clicked; the jobs table then shows it."""
    trigger = ctx.triggered_id
    if not (isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0]["value"]):
        return no_update  # the table re-rendered its buttons; nothing was clicked
    act = jobs.cancel if trigger["action"] == "cancel" else jobs.retry
    act(int(trigger["job"]), acting_user().id)
    return (changes or 0) + 1


@callback(
    Output(page.JOBS_TABLE, "children"),
    Input(page.PROJECT_ID, "data"),
    Input(page.JOBS_REFRESH, "n_clicks"),
    Input(page.JOBS_INTERVAL, "n_intervals"),
    Input(page.JOBS_CHANGED, "data"),
)
@guarded(role="recruiter", refused=_refused_alert)
def show_jobs(project_id: int, *_: Any) -> Any:
    return render.jobs_table(jobs.list_jobs(project_id, limit=30))


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(page.TABS, "active_tab"),
    prevent_initial_call=True,
)
@guarded(role="recruiter")
def remember_tab(tab: str | None) -> str:
    """The open tab goes into the URL, so a link or a reload opens the same tab."""
    return f"?tab={tab}" if tab and tab != "overview" else ""
