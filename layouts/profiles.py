"""Profiles page: the server-side AG Grid (infinite row model) with search, external filters,
an export link and a detail panel. The URL query string is the whole view state."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import profile_detail, saved_views
from services.core.errors import UserError
from services.grid.filters import DATE_OPTIONS, NUMBER_OPTIONS, TEXT_OPTIONS

GRID = "profiles-grid"
SEARCH = "profiles-search"
LOCATION = "profiles-location"
SENIORITY = "profiles-seniority"
ENRICHED = "profiles-enriched"
PROJECT = "profiles-project"
COUNT = "profiles-count"
ERROR = "profiles-error"
LINK_WARNING = "profiles-link-warning"
VIEW = "profiles-view"
LOCATION_EXACT = "profiles-location-exact"
EXPORT = "profiles-export"
DETAIL = "profiles-detail"
DETAIL_BODY = "profiles-detail-body"
PURGE_SINK = "profiles-purge-sink"
COUNT_REQUEST = "profiles-count-request"
COUNT_TOTAL = "profiles-count-total"
COUNT_POLL = "profiles-count-poll"
ROW_COUNT_SINK = "profiles-row-count-sink"
TAGS = "profiles-tags"

SENIORITY_LEVELS = (
    "Intern",
    "Junior",
    "Mid",
    "Senior",
    "Lead",
    "Principal",
    "Director",
    "VP",
    "C-level",
)
BLOCK_SIZE = 100
# While the label shows an estimate, the page asks again for the exact count this often, at most
# this many times (a minute: a worker counts 10M profiles in seconds, or has not got to it).
COUNT_POLL_MS = 2000
COUNT_POLL_TRIES = 30


def _column_filter(kind: str, options: tuple[str, ...], **params: Any) -> dict[str, Any]:
    """An AG Grid column filter offering exactly what the server's filter compiler accepts."""
    return {
        "filter": kind,
        "filterParams": {
            "filterOptions": list(options),
            "maxNumConditions": 2,
            "buttons": ["reset"],
            **params,
        },
    }


TEXT_FILTER = _column_filter("agTextColumnFilter", TEXT_OPTIONS)
NUMBER_FILTER = _column_filter("agNumberColumnFilter", NUMBER_OPTIONS, inRangeInclusive=True)
DATE_FILTER = _column_filter("agDateColumnFilter", DATE_OPTIONS, inRangeInclusive=True)


_FLAG = {
    "valueFormatter": {"function": "params.value == null ? '' : (params.value ? 'yes' : 'no')"}
}
# What the PhantomBuster exports add; text filters on the flags take "yes" / "no".
EXPORT_COLUMNS: list[dict[str, Any]] = [
    {"field": "connection_degree", "headerName": "Degree", "width": 110, **TEXT_FILTER},
    {"field": "industry", "headerName": "Industry", "width": 170, **TEXT_FILTER},
    {"field": "school", "headerName": "School", "width": 190, "sortable": False, **TEXT_FILTER},
    {
        "field": "school_degree",
        "headerName": "Degree (school)",
        "width": 170,
        "sortable": False,
        **TEXT_FILTER,
    },
    {
        "field": "months_in_role",
        "headerName": "Months in role",
        "width": 130,
        "sortable": False,
        **NUMBER_FILTER,
    },
    {
        "field": "months_in_company",
        "headerName": "Months at company",
        "width": 150,
        "sortable": False,
        **NUMBER_FILTER,
    },
    {
        "field": "shared_connections",
        "headerName": "Shared connections",
        "width": 150,
        "sortable": False,
        **NUMBER_FILTER,
    },
    {
        "field": "is_open_profile",
        "headerName": "Open profile",
        "width": 120,
        "sortable": False,
        **_FLAG,
        **TEXT_FILTER,
    },
    {
        "field": "is_premium",
        "headerName": "Premium",
        "width": 110,
        "sortable": False,
        **_FLAG,
        **TEXT_FILTER,
    },
]


def _core_columns() -> list[dict[str, Any]]:
    return [
        {"field": "id", "headerName": "ID", "width": 95, **NUMBER_FILTER},
        {"field": "full_name", "headerName": "Name", "width": 190, **TEXT_FILTER},
        {"field": "current_title", "headerName": "Title", "width": 210, **TEXT_FILTER},
        {"field": "current_company", "headerName": "Company", "width": 180, **TEXT_FILTER},
        {"field": "location", "headerName": "Location", "width": 170, **TEXT_FILTER},
        {"field": "seniority", "headerName": "Seniority", "width": 120, **TEXT_FILTER},
        {"field": "years_experience", "headerName": "Years", "width": 100, **NUMBER_FILTER},
        {"field": "headline", "headerName": "Headline", "width": 260, **TEXT_FILTER},
        {
            "field": "skills",
            "headerName": "Skills",
            "width": 240,
            "sortable": False,
            "valueFormatter": {"function": "params.value ? params.value.join(', ') : ''"},
            **TEXT_FILTER,
        },
        {"field": "enrichment_status", "headerName": "Enriched", "width": 120, **TEXT_FILTER},
        {
            "field": "enriched_at",
            "headerName": "Data age",
            "width": 140,
            "valueFormatter": {"function": "SX.dataAge(params.value)"},
            **DATE_FILTER,
        },
        {
            "field": "created_at",
            "headerName": "Added",
            "width": 130,
            "valueFormatter": {"function": "params.value ? params.value.slice(0, 10) : ''"},
            **DATE_FILTER,
        },
    ]


def column_defs(sort_model: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Columns with their initial sort taken from the URL's sort model."""
    sort_of = {s["colId"]: (s["sort"], i) for i, s in enumerate(sort_model)}
    # Copies: a sort set here must not stick to the shared EXPORT_COLUMNS for the next view.
    cols = [dict(col) for col in (*_core_columns(), *EXPORT_COLUMNS)]
    for col in cols:
        if col["field"] in sort_of:
            col["sort"], col["sortIndex"] = sort_of[col["field"]]
    return cols


def grid(filter_model: dict[str, Any], sort_model: list[dict[str, Any]]) -> dag.AgGrid:
    return dag.AgGrid(
        id=GRID,
        rowModelType="infinite",
        columnDefs=column_defs(sort_model),
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "floatingFilter": True,
            "suppressHeaderMenuButton": False,
        },
        filterModel=filter_model,
        # The string is evaluated by dash-ag-grid's expression parser, whose scope has no JS
        # globals such as String (it then returns undefined: AG Grid warning #25); SX is ours.
        getRowId="SX.rowId(params)",
        dashGridOptions={
            "cacheBlockSize": BLOCK_SIZE,
            "maxBlocksInCache": 50,
            "infiniteInitialRowCount": BLOCK_SIZE,
            # Two concurrent block requests orphan blocks when the user jumps fast: one at a time.
            "maxConcurrentDatasourceRequests": 1,
            "blockLoadDebounceMillis": 150,
            "multiSortKey": "ctrl",
            "rowSelection": {"mode": "singleRow", "checkboxes": False},
            "theme": "themeAlpine",
            "tooltipShowDelay": 300,
        },
        style={"height": "70vh", "width": "100%"},
        className="shadow-sm",
    )


def _search_inputs(search: str, location: str) -> list[dbc.Col]:
    return [
        dbc.Col(
            dbc.Input(
                id=SEARCH,
                value=search,
                type="search",
                debounce=0.4,
                placeholder="Search name, headline, title, company, skills",
            ),
            md=4,
        ),
        dbc.Col(dbc.Input(id=LOCATION, value=location, debounce=0.4, placeholder="Location"), md=2),
    ]


def _enriched_select(enriched: str) -> dbc.Select:
    return dbc.Select(
        id=ENRICHED,
        value=enriched,
        options=[
            {"label": "Enriched or not", "value": "any"},
            {"label": "Enriched", "value": "yes"},
            {"label": "Not enriched", "value": "no"},
        ],
    )


def controls(
    search: str, location: str, seniority: list[str], enriched: str, project: str
) -> dbc.Row:
    seniority_choice = dcc.Dropdown(
        id=SENIORITY,
        options=list(SENIORITY_LEVELS),
        value=seniority,
        multi=True,
        placeholder="Seniority",
    )
    project_choice = dcc.Dropdown(
        id=PROJECT, value=project or None, placeholder="Any project", options=[]
    )
    return dbc.Row(
        [
            *_search_inputs(search, location),
            dbc.Col(seniority_choice, md=2),
            dbc.Col(_enriched_select(enriched), md=2),
            dbc.Col(project_choice, md=2),
        ],
        className="g-2 mb-2",
    )


def tag_filter(tag_ids: list[int]) -> dcc.Dropdown:
    """Profiles carrying any of the chosen tags; names arrive with the options (a callback),
    until then a tag from the URL shows as its id."""
    return dcc.Dropdown(
        id=TAGS,
        options=[{"label": f"tag #{t}", "value": t} for t in tag_ids],
        value=tag_ids,
        multi=True,
        placeholder="Tags",
    )


def view_search(query: Any) -> str:
    """The canonical `?...` query string of a view ("" for the default view)."""
    from services.grid import query_to_url_params

    qs = urlencode(query_to_url_params(query))
    return f"?{qs}" if qs else ""


def _header(search: str) -> html.Div:
    return html.Div(
        [
            html.H1("Profiles", className="h4 mb-0 me-3"),
            html.Span(id=COUNT, className="text-muted me-auto"),
            html.A(
                "Export CSV",
                id=EXPORT,
                href=f"/download/profiles.csv{search}",
                className="btn btn-sm btn-outline-secondary",
            ),
        ],
        className="d-flex align-items-center mb-2",
    )


def _alerts(problem: str) -> list[dbc.Alert]:
    # Link problems get their own alert: the grid callback opens and closes ERROR.
    return [
        dbc.Alert(
            problem,
            id=LINK_WARNING,
            color="warning",
            is_open=bool(problem),
            dismissable=True,
            className="py-2",
        ),
        dbc.Alert("", id=ERROR, color="warning", is_open=False, dismissable=True, className="py-2"),
    ]


def _view_state(search: str, location: str, location_exact: bool) -> list[Any]:
    return [
        # The view this page shows, as its canonical query string: when the URL changes to
        # something else (browser back/forward), the page is rendered again from the URL.
        dcc.Store(id=VIEW, data=search),
        # An exact location match comes only from a link; it holds while the text is unchanged.
        dcc.Store(id=LOCATION_EXACT, data={"location": location, "exact": location_exact}),
        html.Div(id=PURGE_SINK, style={"display": "none"}),
        # A view whose count is not cached yet: its first block does not wait for the count,
        # which a second callback computes (and caches) while the rows are already shown.
        dcc.Store(id=COUNT_REQUEST),
        dcc.Store(id=COUNT_TOTAL),  # {"view", "total"}: gives the grid its length
        # Enabled while the label shows an estimate ("about N profiles"): each tick asks the
        # count callback again for the view on screen, until the exact number is there.
        dcc.Interval(
            id=COUNT_POLL, interval=COUNT_POLL_MS, disabled=True, max_intervals=COUNT_POLL_TRIES
        ),
        html.Div(id=ROW_COUNT_SINK, style={"display": "none"}),
    ]


def _detail() -> list[Any]:
    return [
        dcc.Store(id=profile_detail.PROFILE_ID),
        dbc.Offcanvas(
            html.Div(
                [
                    html.Div(id=DETAIL_BODY),
                    profile_detail.annotations_section(),
                    html.Div(id=profile_detail.DETAIL_MORE),
                ]
            ),
            id=DETAIL,
            title="Profile",
            is_open=False,
            placement="end",
            style={"width": "560px"},
        ),
    ]


def layout(**query: Any) -> html.Div:
    from services.grid import url_params_to_query

    try:
        state = url_params_to_query(query)
        problem = ""
    except UserError as exc:  # a hand-edited or stale link: show why, start from a clean view
        state = url_params_to_query({})
        problem = f"The link's view could not be applied: {exc.user_message}"
    enriched = "any" if state.enriched is None else ("yes" if state.enriched else "no")
    project = "" if state.project_id is None else str(state.project_id)
    search = view_search(state)
    return html.Div(
        [
            _header(search),
            controls(state.search, state.location, list(state.seniority), enriched, project),
            dbc.Row(
                [
                    dbc.Col(tag_filter(list(state.tag_ids)), md=4),
                    dbc.Col(saved_views.toolbar(), md=8),
                ],
                className="g-2 mb-2",
            ),
            saved_views.panel(),
            *_alerts(problem),
            grid(state.filter_model, list(state.sort_model)),
            *_view_state(search, state.location, state.location_exact),
            *_detail(),
        ]
    )
