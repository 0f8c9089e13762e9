"""Small reusable pieces: job progress panel, stat cards, empty states."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids

POLL_INTERVAL_MS = 1000


def job_panel(scope: str, job_id: int | None = None) -> html.Div:
    """A progress bar that polls one job row by id; any web worker can answer the poll."""
    return html.Div(
        [
            dcc.Store(id=ids.job_store(scope), data={"job_id": job_id}),
            dcc.Interval(
                id=ids.job_interval(scope), interval=POLL_INTERVAL_MS, disabled=job_id is None
            ),
            dbc.Progress(
                id=ids.job_progress(scope),
                value=0,
                label="",
                striped=True,
                className="mb-2",
                style={"height": "1.25rem"},
            ),
            html.Div(
                [
                    html.Span(id=ids.job_status(scope), className="text-muted small me-3"),
                    dbc.Button(
                        "Cancel",
                        id=ids.job_cancel(scope),
                        size="sm",
                        color="link",
                        className="p-0",
                        disabled=job_id is None,
                    ),
                ]
            ),
        ],
        className="job-panel",
    )


def stat_card(title: str, value: str, element_id: str | None = None, hint: str = "") -> dbc.Card:
    number = (
        html.Div(value, className="fs-3 fw-semibold", id=element_id)
        if element_id
        else html.Div(value, className="fs-3 fw-semibold")
    )
    body: list[html.Div] = [html.Div(title, className="text-muted small"), number]
    if hint:
        body.append(html.Div(hint, className="text-muted small"))
    return dbc.Card(dbc.CardBody(body), className="shadow-sm h-100")


def empty_state(title: str, detail: str) -> html.Div:
    return html.Div(
        [html.Div(title, className="fw-semibold"), html.Div(detail, className="text-muted small")],
        className="text-center p-4 border rounded bg-light",
    )


def coming_soon(title: str, what: str) -> html.Div:
    """An honest placeholder for a page whose issue is not built yet."""
    return html.Div(
        [
            html.H2(title, className="h4"),
            dbc.Alert([html.Strong("Coming. "), what], color="secondary"),
        ]
    )
