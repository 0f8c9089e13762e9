"""The 404 page (every page of the app is built now)."""

from __future__ import annotations

from typing import Any

from dash import dcc, html


def not_found(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Page not found", className="h4"),
            html.P("There is nothing at this address."),
            dcc.Link("Back to the overview", href="/"),
        ],
        id="page-404",
    )
