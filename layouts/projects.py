"""Projects: the list with a create form and the team's search history, and one project's page
with tabs for its pipeline, profiles, searches, imports and jobs."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import project_pipeline
from layouts.job_panel import JobPanel

LIST = "projects-list"
SHOW_ARCHIVED = "projects-show-archived"
NEW_NAME = "project-new-name"
NEW_DESCRIPTION = "project-new-description"
NEW_LOCATION = "project-new-location"
NEW_SUBMIT = "project-new-submit"
NEW_FEEDBACK = "project-new-feedback"
REDIRECT = "projects-redirect"
TEAM_SEARCHES = "projects-team-searches"

PROJECT_ID = "project-id"
TABS = "project-tabs"
HEADER = "project-header"
PIPELINE = "project-pipeline"
EDIT_NAME = "project-edit-name"
EDIT_DESCRIPTION = "project-edit-description"
EDIT_LOCATION = "project-edit-location"
EDIT_SAVE = "project-edit-save"
ARCHIVE = "project-archive"
EDIT_FEEDBACK = "project-edit-feedback"
ENRICH = "project-enrich"
ENRICH_FEEDBACK = "project-enrich-feedback"
SEARCH_KIND = "project-search-kind"
SEARCH_QUERY = "project-search-query"
SEARCH_COUNT = "project-search-count"
SEARCH_LAUNCH = "project-search-launch"
SEARCH_FEEDBACK = "project-search-feedback"
SEARCH_HISTORY = "project-search-history"
UPLOAD = "project-upload"
UPLOAD_SHEET = "project-upload-sheet"
UPLOAD_FEEDBACK = "project-upload-feedback"
IMPORT_HISTORY = "project-import-history"
REASONS_STORE = "project-import-reasons-store"
REASONS_PANEL = "project-import-reasons"
REASONS_TITLE = "project-import-reasons-title"
REASONS_OUTCOME = "project-import-reasons-outcome"
REASONS_PREV = "project-import-reasons-prev"
REASONS_NEXT = "project-import-reasons-next"
REASONS_PAGE = "project-import-reasons-page"
REASONS_TABLE = "project-import-reasons-table"
REASONS_DOWNLOAD = "project-import-reasons-download"
UPLOAD_ACCEPT = (
    ".csv,.txt,.tsv,.xlsx,text/csv,text/plain,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)


def import_reasons_button(import_id: int, label: str) -> Any:
    """The history's link to one import's rows not added (pattern id: one callback for all)."""
    return dbc.Button(
        label,
        id=import_reasons_id(import_id),
        size="sm",
        color="link",
        className="p-0",
    )


def reasons_download_href(project_id: int, import_id: int) -> str:
    return f"/download/projects/{project_id}/imports/{import_id}/rows.csv"


JOBS_TABLE = "project-jobs"
JOBS_REFRESH = "project-jobs-refresh"
JOBS_INTERVAL = "project-jobs-interval"
JOBS_CHANGED = "project-jobs-changed"  # a cancel or retry happened: the table shows it
# Scopes of this page's job panels (layouts/job_panel.py).
ENRICH_SCOPE = "project-enrich"
SEARCH_SCOPE = "project-search"
IMPORT_SCOPE = "project-import"


def job_action_id(job_id: Any, action: Any) -> dict[str, Any]:
    """A jobs-table button (pattern id: one callback for all rows)."""
    return {"type": "job-action", "job": job_id, "action": action}


def import_reasons_id(import_id: Any) -> dict[str, Any]:
    return {"type": "import-reasons", "import": import_id}


TAB_NAMES = (
    "overview",
    "profiles",
    "filters",
    "screening",
    "shortlist",
    "searches",
    "imports",
    "jobs",
)


def _create_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("New hiring project", className="h6"),
                dbc.Input(
                    id=NEW_NAME,
                    placeholder="Name, e.g. Senior Data Engineer, Berlin",
                    className="mb-2",
                    maxLength=200,
                ),
                dbc.Input(id=NEW_LOCATION, placeholder="Location", className="mb-2"),
                dbc.Textarea(
                    id=NEW_DESCRIPTION, placeholder="What the role is about", className="mb-2"
                ),
                dbc.Button("Create project", id=NEW_SUBMIT, color="primary", size="sm"),
                html.Div(id=NEW_FEEDBACK, className="mt-2"),
            ]
        ),
        className="shadow-sm",
    )


def list_layout(**_query: Any) -> html.Div:
    archived = dbc.Checklist(
        id=SHOW_ARCHIVED,
        options=[{"label": "Show archived", "value": "archived"}],
        value=[],
        switch=True,
        className="mb-2",
    )
    return html.Div(
        [
            dcc.Location(id=REDIRECT, refresh="callback-nav"),
            html.H1("Projects", className="h4 mb-3"),
            dbc.Row(
                [dbc.Col([archived, html.Div(id=LIST)], md=8), dbc.Col(_create_card(), md=4)],
                className="g-3 mb-4",
            ),
            html.H2("Team search history", className="h6"),
            html.Div(id=TEAM_SEARCHES),
        ]
    )


def _details_editor() -> list[Any]:
    return [
        html.H3("Details", className="h6"),
        dbc.Input(id=EDIT_NAME, className="mb-2", maxLength=200),
        dbc.Input(id=EDIT_LOCATION, placeholder="Location", className="mb-2"),
        dbc.Textarea(id=EDIT_DESCRIPTION, className="mb-2"),
        dbc.Button("Save", id=EDIT_SAVE, size="sm", color="primary", className="me-2"),
        dbc.Button("Archive", id=ARCHIVE, size="sm", color="secondary", outline=True),
        html.Div(id=EDIT_FEEDBACK, className="mt-2"),
    ]


def _overview_tab() -> html.Div:
    funnel = dcc.Graph(id=PIPELINE, config={"displayModeBar": False}, style={"height": "320px"})
    return html.Div(
        [
            dbc.Row([dbc.Col(funnel, md=7), dbc.Col(_details_editor(), md=5)]),
            html.Hr(),
            html.H3("Enrichment", className="h6"),
            html.P(
                "Fetch full profiles from Crustdata for members that were never enriched or "
                "whose data is older than the freshness window.",
                className="small text-muted",
            ),
            dbc.Button("Enrich profiles", id=ENRICH, size="sm", color="primary", className="mb-2"),
            html.Div(id=ENRICH_FEEDBACK),
            JobPanel(ENRICH_SCOPE),
        ],
        className="pt-3",
    )


def _searches_tab() -> html.Div:
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Select(
                            id=SEARCH_KIND,
                            value="linkedin",
                            options=[
                                {"label": "LinkedIn search (keywords)", "value": "linkedin"},
                                {"label": "Sales Navigator (search URL)", "value": "salesnav"},
                            ],
                        ),
                        md=3,
                    ),
                    dbc.Col(dbc.Input(id=SEARCH_QUERY, placeholder="Keywords or search URL"), md=5),
                    dbc.Col(
                        dbc.Input(id=SEARCH_COUNT, type="number", min=1, max=2500, value=100), md=2
                    ),
                    dbc.Col(dbc.Button("Launch search", id=SEARCH_LAUNCH, color="primary"), md=2),
                ],
                className="g-2 mb-2",
            ),
            html.Div(id=SEARCH_FEEDBACK),
            JobPanel(SEARCH_SCOPE),
            html.H3("Search history", className="h6 mt-3"),
            html.Div(id=SEARCH_HISTORY),
        ],
        className="pt-3",
    )


def _reasons_controls() -> dbc.Row:
    outcome = dbc.Select(
        id=REASONS_OUTCOME,
        value="",
        options=[
            {"label": "All rows not added", "value": ""},
            {"label": "Skipped", "value": "skipped"},
            {"label": "Already in project", "value": "already"},
            {"label": "Failed", "value": "failed"},
        ],
        size="sm",
    )
    pager = [
        dbc.Button("← Previous", id=REASONS_PREV, size="sm", color="link"),
        html.Span(id=REASONS_PAGE, className="small text-muted mx-2"),
        dbc.Button("Next →", id=REASONS_NEXT, size="sm", color="link"),
    ]
    download = html.A("Download CSV", id=REASONS_DOWNLOAD, href="", className="small")
    return dbc.Row(
        [
            dbc.Col(outcome, md=3),
            dbc.Col(pager, md=5),
            dbc.Col(download, md=4, className="text-end"),
        ],
        className="g-2 align-items-center mb-2",
    )


def _reasons_panel() -> html.Div:
    """One import's rows that were not added, with their reasons, a page at a time."""
    return html.Div(
        [
            dcc.Store(id=REASONS_STORE, data={"import_id": None, "page": 0, "outcome": None}),
            html.H3(id=REASONS_TITLE, className="h6 mt-3"),
            _reasons_controls(),
            html.Div(id=REASONS_TABLE),
        ],
        id=REASONS_PANEL,
        style={"display": "none"},
    )


def _imports_tab() -> html.Div:
    return html.Div(
        [
            dcc.Upload(
                id=UPLOAD,
                children=html.Div(["Drop a CSV or Excel file here or ", html.A("choose a file")]),
                accept=UPLOAD_ACCEPT,
                max_size=20 * 1024 * 1024,
                className="border border-2 rounded p-4 text-center bg-light mb-2",
                style={"borderStyle": "dashed"},
            ),
            dbc.Input(
                id=UPLOAD_SHEET,
                placeholder="Excel sheet name (optional: the first sheet is read)",
                size="sm",
                maxLength=100,
                className="mb-2",
                style={"maxWidth": "24rem"},
            ),
            html.P(
                "PhantomBuster Sales Navigator or LinkedIn search exports, or any CSV (UTF-8, "
                "UTF-16 or Windows-1252; comma, semicolon or tab) or .xlsx workbook with a "
                "LinkedIn URL column. A file with problems is refused whole.",
                className="small text-muted",
            ),
            html.Div(id=UPLOAD_FEEDBACK),
            JobPanel(IMPORT_SCOPE),
            html.H3("Imports", className="h6 mt-3"),
            html.Div(id=IMPORT_HISTORY),
            _reasons_panel(),
        ],
        className="pt-3",
    )


def _profiles_tab(project_id: int) -> html.Div:
    # The project grid: members with filter outcome, verdict, shortlist and contact columns.
    return project_pipeline.profiles_tab(project_id)


def _jobs_tab() -> html.Div:
    return html.Div(
        [
            dbc.Button("Refresh", id=JOBS_REFRESH, size="sm", color="link", className="px-0"),
            html.Div(id=JOBS_TABLE),
            dcc.Interval(id=JOBS_INTERVAL, interval=3000),
            dcc.Store(id=JOBS_CHANGED, data=0),
        ],
        className="pt-3",
    )


def project_layout(project_id: str = "", tab: str = "overview", **_query: Any) -> html.Div:
    try:
        pid = int(project_id)
    except ValueError:
        pid = 0
    active = tab if tab in TAB_NAMES else "overview"
    return html.Div(
        [
            dcc.Store(id=PROJECT_ID, data=pid),
            html.Div(id=HEADER, className="mb-2"),
            dbc.Tabs(
                [
                    dbc.Tab(_overview_tab(), label="Overview", tab_id="overview"),
                    dbc.Tab(_profiles_tab(pid), label="Profiles", tab_id="profiles"),
                    dbc.Tab(project_pipeline.filters_tab(), label="Filters", tab_id="filters"),
                    dbc.Tab(
                        project_pipeline.screening_tab(), label="Screening", tab_id="screening"
                    ),
                    dbc.Tab(
                        project_pipeline.shortlist_tab(pid), label="Shortlist", tab_id="shortlist"
                    ),
                    dbc.Tab(_searches_tab(), label="Searches", tab_id="searches"),
                    dbc.Tab(_imports_tab(), label="Imports", tab_id="imports"),
                    dbc.Tab(_jobs_tab(), label="Jobs", tab_id="jobs"),
                ],
                id=TABS,
                active_tab=active,
            ),
        ]
    )
