"""Insights page (leads and admins): filter controls and one card per chart.

Pure: the initial filter is parsed from the URL query the page was opened with (no I/O); the
charts, the dropdown options and the CSV links are filled by callbacks that re-check the role.
Each card has its graph, a "Table" toggle with the exact numbers, and a CSV download link.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

from services.insights import CHARTS, InsightsFilter, InsightsFilterError, default_filter
from services.insights.filters import parse_filter

DATES = "insights-dates"
PROJECT = "insights-project"
USER = "insights-user"
GRAIN = "insights-grain"
FILTER_STORE = "insights-filter"
ERROR = "insights-error"
# Charts shown two per row, in this order; the funnel and freshness get a full row.
WIDE = frozenset({"funnel", "activity", "spend_daily"})


def graph_id(chart: str) -> str:
    return f"insights-graph-{chart}"


def table_id(chart: str) -> str:
    return f"insights-table-{chart}"


def toggle_id(chart: str) -> str:
    return f"insights-table-toggle-{chart}"


def collapse_id(chart: str) -> str:
    return f"insights-table-collapse-{chart}"


def csv_id(chart: str) -> str:
    return f"insights-csv-{chart}"


def csv_href(chart: str, params: dict[str, str]) -> str:
    return f"/download/insights/{chart}.csv?{urlencode(params)}"


def initial_filter(query: dict[str, Any]) -> tuple[InsightsFilter, str]:
    """The filter the URL describes, or the default one and a message saying why not."""
    try:
        return parse_filter(query), ""
    except InsightsFilterError as exc:
        return default_filter(), f"{exc} Showing the last 30 days instead."


def _chosen(value: int | None, noun: str) -> list[dict[str, Any]]:
    """The URL's choice as the dropdown's only option until the real list arrives (a callback:
    layouts do no I/O). dcc.Dropdown drops a value missing from its options whenever it
    re-checks them, so with no options a shared link's ?project= could be lost on load."""
    return [] if value is None else [{"value": value, "label": f"{noun} #{value}"}]


def _dates(f: InsightsFilter) -> dcc.DatePickerRange:
    return dcc.DatePickerRange(
        id=DATES,
        start_date=f.date_from.isoformat(),
        end_date=f.date_to.isoformat(),
        display_format="YYYY-MM-DD",
        first_day_of_week=1,
        minimum_nights=0,
    )


def _choice(ident: str, value: int | None, placeholder: str, noun: str) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=ident,
        value=value,
        placeholder=placeholder,
        options=_chosen(value, noun),
        clearable=True,
    )


def controls(f: InsightsFilter) -> dbc.Row:
    grain = dbc.RadioItems(
        id=GRAIN,
        value=f.grain,
        options=[{"label": "Daily", "value": "day"}, {"label": "Weekly", "value": "week"}],
        inline=True,
    )
    return dbc.Row(
        [
            dbc.Col(_dates(f), md="auto"),
            dbc.Col(_choice(PROJECT, f.project_id, "All projects", "Project"), md=3),
            dbc.Col(_choice(USER, f.user_id, "All recruiters", "Recruiter"), md=3),
            dbc.Col(grain, md="auto", className="d-flex align-items-center"),
        ],
        className="g-2 mb-3 align-items-center",
    )


def _card_header(chart: str, params: dict[str, str]) -> html.Div:
    spec = CHARTS[chart]
    return html.Div(
        [
            html.Div(
                [
                    html.Span(spec.title, className="fw-semibold"),
                    html.Div(spec.hint, className="text-muted small"),
                ]
            ),
            html.Div(
                [
                    dbc.Button(
                        "Table", id=toggle_id(chart), size="sm", color="link", className="p-0 me-3"
                    ),
                    html.A(
                        "CSV", id=csv_id(chart), href=csv_href(chart, params), className="small"
                    ),
                ],
                className="text-nowrap",
            ),
        ],
        className="d-flex justify-content-between align-items-start",
    )


def chart_card(chart: str, params: dict[str, str]) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(_card_header(chart, params)),
            dbc.CardBody(
                [
                    dcc.Loading(
                        dcc.Graph(id=graph_id(chart), config={"displaylogo": False}),
                        type="dot",
                    ),
                    dbc.Collapse(
                        html.Div(id=table_id(chart)), id=collapse_id(chart), is_open=False
                    ),
                ]
            ),
        ],
        className="shadow-sm h-100",
        id=f"insights-card-{chart}",
    )


def layout(**query: Any) -> html.Div:
    f, problem = initial_filter(query)
    params = f.to_params()
    cols = [
        dbc.Col(chart_card(name, params), md=12 if name in WIDE else 6, className="mb-3")
        for name in CHARTS
    ]
    return html.Div(
        [
            html.H1("Insights", className="h4 mb-3"),
            dcc.Store(id=FILTER_STORE, data=params),
            controls(f),
            dbc.Alert(problem, id=ERROR, color="warning", is_open=bool(problem), dismissable=True),
            dbc.Row(cols),
        ]
    )


TABLE_ROWS = 100


def data_table(records: list[dict[str, Any]], total: int | None = None) -> html.Div | dbc.Table:
    """The exact numbers behind a chart; long ones (a daily series per recruiter) show the first
    TABLE_ROWS rows and point to the CSV, which has them all. `total`: how many rows there are
    when `records` holds only the first ones."""
    if not records:
        return html.Div("No rows.", className="text-muted small")
    keys = list(records[0])
    total = len(records) if total is None else total
    note = (
        html.Div(
            f"First {TABLE_ROWS} of {total:,} rows; the CSV has them all.",
            className="text-muted small",
        )
        if total > TABLE_ROWS
        else None
    )
    records = records[:TABLE_ROWS]
    table = dbc.Table(
        [
            html.Thead(html.Tr([html.Th(k.replace("_", " ")) for k in keys])),
            html.Tbody(
                [html.Tr([html.Td("" if r[k] is None else r[k]) for k in keys]) for r in records]
            ),
        ],
        size="sm",
        striped=True,
        responsive=True,
        className="small mt-2",
    )
    return html.Div([table, note]) if note else table
