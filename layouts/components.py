"""Small reusable pieces: stat cards, empty states, tables and badges (the job panel is
`layouts/job_panel.py`)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html


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


STATUS_COLOR = {
    "done": "success",
    "failed": "danger",
    "cancelled": "secondary",
    "running": "primary",
    "importing": "primary",
    "queued": "warning",
    "pending": "warning",
}


def status_badge(status: str) -> dbc.Badge:
    return dbc.Badge(status, color=STATUS_COLOR.get(status, "secondary"))


def table(header: tuple[str, ...], rows: list[list[Any]], striped: bool = True) -> dbc.Table:
    """A small striped table of cells (strings or components)."""
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in header])),
            html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows]),
        ],
        size="sm",
        striped=striped,
        hover=striped,
        className="small",
    )
