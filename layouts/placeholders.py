"""Pages whose issues are not built yet say so honestly, and the 404 page."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from layouts.components import coming_soon


def projects(**_query: Any) -> html.Div:
    return coming_soon("Projects", "Hiring projects, search runs, imports and enrichment jobs.")


def insights(**_query: Any) -> html.Div:
    return coming_soon("Insights", "Pipeline funnel, screening quality, activity and spend charts.")


def not_found(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Page not found", className="h4"),
            html.P("There is nothing at this address."),
            dcc.Link("Back to the overview", href="/"),
        ],
        id="page-404",
    )
