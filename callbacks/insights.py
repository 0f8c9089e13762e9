"""Insights callbacks: the filter (mirrored into the URL and the CSV links), the dropdown
options, and one callback per chart, so each chart loads (and is cached) on its own.

Every server callback re-checks the lead role first; a refusal gives the empty-state figure with
the reason, never data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from dash import Input, Output, State, callback, clientside_callback, html, no_update

from callbacks.kit import guarded
from layouts import ids
from layouts import insights as page
from layouts.insights_charts import Figure, empty_figure, figure
from services import insights
from services.core.errors import UserError
from services.insights.options import filter_options

MIN_ROLE = "lead"


@callback(
    Output(page.PROJECT, "options"),
    Output(page.USER, "options"),
    Input(page.FILTER_STORE, "id"),
)
@guarded(role=MIN_ROLE, refused=lambda _error: ([], []))
def load_options(_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    options = filter_options()
    return (
        [{"value": o.value, "label": o.label} for o in options.projects],
        [{"value": o.value, "label": o.label} for o in options.users],
    )


def _filter_refused(error: UserError) -> tuple[Any, ...]:
    """The filter and the CSV links stay as they were; the alert says why."""
    unchanged = [no_update] * len(insights.CHARTS)
    return (no_update, no_update, error.user_message, True, *unchanged)


@callback(
    Output(page.FILTER_STORE, "data"),
    Output(ids.URL, "search", allow_duplicate=True),
    Output(page.ERROR, "children"),
    Output(page.ERROR, "is_open"),
    *[Output(page.csv_id(name), "href") for name in insights.CHARTS],
    Input(page.DATES, "start_date"),
    Input(page.DATES, "end_date"),
    Input(page.PROJECT, "value"),
    Input(page.USER, "value"),
    Input(page.GRAIN, "value"),
    prevent_initial_call=True,
)
@guarded(role=MIN_ROLE, refused=_filter_refused)
def apply_filter(
    start: str | None, end: str | None, project: Any, user: Any, grain: str | None
) -> tuple[Any, ...]:
    raw = {"from": start, "to": end, "project": project, "user": user, "grain": grain}
    # An InsightsFilterError becomes the refusal outputs, via `guarded`.
    f = insights.parse_filter({k: str(v) for k, v in raw.items() if v not in (None, "")})
    params = f.to_params()
    hrefs = [page.csv_href(name, params) for name in insights.CHARTS]
    return (params, "?" + urlencode(params), "", False, *hrefs)


def _chart_refused(error: UserError) -> tuple[Figure, Any]:
    """The empty-state figure with the reason, never data."""
    message = error.user_message
    return empty_figure(message), html.Div(message, className="text-muted small")


def _show(chart: str, params: dict[str, Any] | None) -> tuple[Figure, Any]:
    f = insights.parse_filter(params or {})
    fig, records, total = insights.chart_view(chart, f, lambda rows: _render(chart, rows))
    return fig, page.data_table(records, total)


def _render(chart: str, rows: Sequence[Any]) -> tuple[Figure, list[dict[str, Any]], int]:
    """The figure and the table's first rows (cached together: see insights.chart_view)."""
    records = insights.table_records(chart, rows[: page.TABLE_ROWS])
    return figure(chart, rows), records, len(rows)


def _register_chart(chart: str) -> None:
    # One callback per chart: each is its own request, so a slow chart never holds up the rest.
    def show(params: dict[str, Any] | None) -> tuple[Figure, Any]:
        return _show(chart, params)

    show.__name__ = f"show_{chart}"
    callback(
        Output(page.graph_id(chart), "figure"),
        Output(page.table_id(chart), "children"),
        Input(page.FILTER_STORE, "data"),
    )(guarded(role=MIN_ROLE, refused=_chart_refused)(show))
    # Opening the table is display only (the rows came with the figure): no server round trip.
    clientside_callback(
        "function(n, open) { return n ? !open : open; }",
        Output(page.collapse_id(chart), "is_open"),
        Input(page.toggle_id(chart), "n_clicks"),
        State(page.collapse_id(chart), "is_open"),
        prevent_initial_call=True,
    )


for _chart in insights.CHARTS:
    _register_chart(_chart)
