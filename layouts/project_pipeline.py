"""The project page's pipeline tabs: the project grid (Profiles), Filters, Screening and
Shortlist. Pure layout; callbacks/project_pipeline.py fills and drives them."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts.job_panel import JobPanel
from layouts.profiles import DATE_FILTER, NUMBER_FILTER, TEXT_FILTER
from services.stages import LABELS as STAGE_LABELS
from services.stages import STAGES

GRID = "project-grid"
GRID_FEEDBACK = "project-grid-feedback"
GRID_SINK = "project-grid-sink"
SHORTLIST_SELECTED = "project-shortlist-selected"
UNSHORTLIST_SELECTED = "project-unshortlist-selected"
SHORTLIST_STRONG = "project-shortlist-strong"
SCREEN_SELECTED = "project-screen-selected"
STAGE_PICK = "project-stage-pick"
STAGE_APPLY = "project-stage-apply"

FILTER_LISTS = "project-filter-lists"
FILTER_SAVE = "project-filter-save"
FILTER_RUN = "project-filter-run"
FILTER_FEEDBACK = "project-filter-feedback"
FILTER_SUMMARY = "project-filter-summary"

MUST_HAVES = "project-crit-must"
NICE_TO_HAVES = "project-crit-nice"
DEALBREAKERS = "project-crit-deal"
NOTES = "project-crit-notes"
MODEL = "project-crit-model"
CRITERIA_SAVE = "project-crit-save"
VERSION = "project-screen-version"
SCOPE = "project-screen-scope"
SCREEN_RUN = "project-screen-run"
SCREEN_RETRY = "project-screen-retry"
SCREEN_FEEDBACK = "project-screen-feedback"
SCREEN_COUNTS = "project-screen-counts"
SCREEN_RESULTS = "project-screen-results"
SCREEN_STATUS = "project-screen-status"
OVERRIDE_FEEDBACK = "project-override-feedback"
OVERRIDES_CHANGED = "project-overrides-changed"  # a review was saved: the results show it

LOOKUP = "project-lookup"
LOOKUP_FEEDBACK = "project-lookup-feedback"
SHORTLIST_TABLE = "project-shortlist-table"
EXPORT = "project-shortlist-export"

FILTER_SCOPE = "project-filters"
SCREEN_SCOPE = "project-screening"
LOOKUP_SCOPE = "project-contacts"
MODES = (
    ("", "not applied"),
    ("must_match", "must match"),
    ("must_not_match", "must not match"),
)


def mode_id(list_id: Any) -> dict[str, Any]:
    return {"type": "project-filter-mode", "list": list_id}


def override_id(screening_id: Any, verdict: Any) -> dict[str, Any]:
    return {"type": "project-override", "sid": screening_id, "verdict": verdict}


def note_id(screening_id: Any) -> dict[str, Any]:
    return {"type": "project-override-note", "sid": screening_id}


def grid_columns() -> list[dict[str, Any]]:
    return [
        {
            "field": "id",
            "headerName": "ID",
            "width": 110,
            **NUMBER_FILTER,
        },
        {"field": "full_name", "headerName": "Name", "width": 180, **TEXT_FILTER},
        {"field": "current_title", "headerName": "Title", "width": 190, **TEXT_FILTER},
        {"field": "current_company", "headerName": "Company", "width": 160, **TEXT_FILTER},
        {"field": "location", "headerName": "Location", "width": 140, **TEXT_FILTER},
        {"field": "stage", "headerName": "Stage", "width": 120, **TEXT_FILTER},
        {
            "field": "stage_changed_at",
            "headerName": "Stage since",
            "width": 130,
            "valueFormatter": {"function": "params.value ? params.value.slice(0, 10) : ''"},
            **DATE_FILTER,
        },
        {"field": "filter_outcome", "headerName": "Filters", "width": 110, **TEXT_FILTER},
        {
            "field": "filter_reasons",
            "headerName": "Filter reasons",
            "width": 260,
            "sortable": False,
            "tooltipField": "filter_reasons",
            **TEXT_FILTER,
        },
        {"field": "screening_status", "headerName": "Screening", "width": 120, **TEXT_FILTER},
        {"field": "screening_fit", "headerName": "Fit", "width": 100, **TEXT_FILTER},
        {"field": "screening_score", "headerName": "Score", "width": 100, **NUMBER_FILTER},
        {"field": "shortlisted", "headerName": "Shortlisted", "width": 120, **TEXT_FILTER},
        {"field": "has_contacts", "headerName": "Contacts", "width": 110, **TEXT_FILTER},
        {"field": "seniority", "headerName": "Seniority", "width": 110, **TEXT_FILTER},
        {"field": "years_experience", "headerName": "Years", "width": 90, **NUMBER_FILTER},
        {"field": "enrichment_status", "headerName": "Enriched", "width": 110, **TEXT_FILTER},
    ]


def stage_picker() -> html.Div:
    """Pick a pipeline stage and move the selected rows there (one bulk, audited change)."""
    return html.Div(
        dbc.InputGroup(
            [
                dbc.Select(
                    id=STAGE_PICK,
                    value="contacted",
                    options=[{"label": STAGE_LABELS[s], "value": s} for s in STAGES],
                    style={"maxWidth": "150px"},
                ),
                dbc.Button("Move selected to stage", id=STAGE_APPLY, color="dark", outline=True),
            ],
            size="sm",
        ),
        className="d-inline-block align-middle me-2",
    )


def _grid_actions(project_id: int) -> html.Div:
    """What a recruiter does with the rows ticked in the project grid."""

    def button(label: str, element_id: str, color: str, outline: bool = True) -> dbc.Button:
        return dbc.Button(
            label, id=element_id, size="sm", color=color, outline=outline, className="me-2"
        )

    return html.Div(
        [
            button("Shortlist selected", SHORTLIST_SELECTED, "primary", outline=False),
            button("Remove selected from shortlist", UNSHORTLIST_SELECTED, "secondary"),
            button("Shortlist all strong fits", SHORTLIST_STRONG, "success"),
            button("Screen selected", SCREEN_SELECTED, "info"),
            stage_picker(),
            dcc.Link(
                "Open in the full profile grid",
                href=f"/profiles?proj={project_id}",
                className="small ms-2",
            ),
        ],
        className="my-2",
    )


def _project_grid() -> dag.AgGrid:
    """The project's members, paged from Postgres by the infinite row model."""
    return dag.AgGrid(
        id=GRID,
        rowModelType="infinite",
        columnDefs=grid_columns(),
        defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True},
        getRowId="SX.rowId(params)",
        dashGridOptions={
            "cacheBlockSize": 100,
            "maxBlocksInCache": 20,
            "maxConcurrentDatasourceRequests": 1,
            "blockLoadDebounceMillis": 150,
            "rowSelection": {"mode": "multiRow", "checkboxes": True},
            "theme": "themeAlpine",
            "tooltipShowDelay": 300,
        },
        style={"height": "65vh", "width": "100%"},
        className="shadow-sm",
    )


def profiles_tab(project_id: int) -> html.Div:
    return html.Div(
        [
            _grid_actions(project_id),
            html.Div(id=GRID_FEEDBACK),
            _project_grid(),
            html.Div(id=GRID_SINK, style={"display": "none"}),
        ],
        className="pt-2",
    )


def filters_tab() -> html.Div:
    return html.Div(
        [
            html.P(
                [
                    "Choose which of the team's ",
                    dcc.Link("filter lists", href="/filters"),
                    " apply to this project and how, then run them over every member.",
                ],
                className="small text-muted",
            ),
            html.Div(id=FILTER_LISTS),
            html.Div(
                [
                    dbc.Button(
                        "Save choices", id=FILTER_SAVE, size="sm", color="primary", className="me-2"
                    ),
                    dbc.Button("Apply filters", id=FILTER_RUN, size="sm", color="success"),
                ],
                className="my-2",
            ),
            html.Div(id=FILTER_FEEDBACK),
            JobPanel(FILTER_SCOPE),
            html.Div(id=FILTER_SUMMARY, className="mt-2"),
        ],
        className="pt-3",
    )


def _criteria_area(element_id: str, label: str, hint: str) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, className="small mb-1"),
            dbc.Textarea(id=element_id, placeholder=hint, style={"height": "110px"}),
        ],
        md=3,
    )


def _criteria_editor() -> list[Any]:
    """The criteria a screening prompt is built from; saving makes a new prompt version."""
    return [
        dbc.Row(
            [
                _criteria_area(MUST_HAVES, "Must-haves", "One per line"),
                _criteria_area(NICE_TO_HAVES, "Nice-to-haves", "One per line"),
                _criteria_area(DEALBREAKERS, "Dealbreakers", "One per line"),
                _criteria_area(NOTES, "Notes", "Anything else the screener should know"),
            ],
            className="g-2",
        ),
        dbc.Row(
            [
                dbc.Col(dbc.Input(id=MODEL, placeholder="Model (default gpt-4o-mini)"), md=3),
                dbc.Col(
                    dbc.Button(
                        "Save criteria (new prompt version)",
                        id=CRITERIA_SAVE,
                        size="sm",
                        color="primary",
                    ),
                    md=4,
                ),
            ],
            className="g-2 my-2",
        ),
    ]


def _screening_controls() -> dbc.Row:
    """Which prompt version screens whom, and the buttons that start or retry the job."""
    scope = dbc.Select(
        id=SCOPE,
        value="passed",
        options=[
            {"label": "Profiles that passed the filters", "value": "passed"},
            {"label": "All project members", "value": "all"},
        ],
    )
    buttons = [
        dbc.Button("Run screening", id=SCREEN_RUN, size="sm", color="success", className="me-2"),
        dbc.Button("Retry failed", id=SCREEN_RETRY, size="sm", color="warning", outline=True),
    ]
    return dbc.Row(
        [
            dbc.Col(dcc.Dropdown(id=VERSION, placeholder="Prompt version"), md=3),
            dbc.Col(scope, md=3),
            dbc.Col(buttons, md=4),
        ],
        className="g-2 mb-2",
    )


def _screening_results() -> list[Any]:
    status = dbc.Select(
        id=SCREEN_STATUS,
        value="",
        options=[
            {"label": "All results", "value": ""},
            {"label": "Done", "value": "done"},
            {"label": "Failed", "value": "failed"},
            {"label": "Pending", "value": "pending"},
        ],
        size="sm",
        style={"maxWidth": "200px"},
        className="mb-2",
    )
    return [
        html.Div(id=OVERRIDE_FEEDBACK),
        dcc.Store(id=OVERRIDES_CHANGED, data=0),
        html.Div(id=SCREEN_COUNTS, className="small my-2"),
        status,
        html.Div(id=SCREEN_RESULTS),
    ]


def screening_tab() -> html.Div:
    return html.Div(
        [
            *_criteria_editor(),
            html.Hr(),
            _screening_controls(),
            html.Div(id=SCREEN_FEEDBACK),
            JobPanel(SCREEN_SCOPE),
            *_screening_results(),
        ],
        className="pt-3",
    )


def shortlist_tab(project_id: int) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    dbc.Button(
                        "Look up contacts", id=LOOKUP, size="sm", color="primary", className="me-2"
                    ),
                    html.A(
                        "Export shortlist CSV",
                        id=EXPORT,
                        href=f"/download/projects/{project_id}/shortlist.csv",
                        className="btn btn-sm btn-outline-secondary",
                    ),
                ],
                className="mb-2",
            ),
            html.P(
                "Looks up emails and phones in SalesQL for shortlisted profiles without known "
                "contacts, within SalesQL's per-minute and daily limits and the team's credit "
                "budget.",
                className="small text-muted",
            ),
            html.Div(id=LOOKUP_FEEDBACK),
            JobPanel(LOOKUP_SCOPE),
            html.Div(id=SHORTLIST_TABLE, className="mt-2"),
        ],
        className="pt-3",
    )
