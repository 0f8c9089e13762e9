"""Home: the team's numbers at a glance, recent jobs, and the recount job."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from layouts import ids
from layouts.job_panel import JobPanel

SCOPE = "home"


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Overview", className="h4 mb-3"),
            dbc.Row(id=ids.HOME_STATS, className="g-3 mb-4"),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.H2("Maintenance", className="h6"),
                        html.P(
                            "Recount every project's profiles (runs as a background job).",
                            className="text-muted small",
                        ),
                        dbc.Button(
                            "Recount project profiles",
                            id=ids.HOME_RECOUNT_BUTTON,
                            color="primary",
                            size="sm",
                            className="mb-3",
                        ),
                        JobPanel(SCOPE),
                    ]
                ),
                className="shadow-sm mb-4",
            ),
            html.H2("Recent jobs", className="h6"),
            html.Div(id=ids.HOME_JOBS_TABLE),
        ]
    )
