"""Admin page: the team's users (admins only). User management and the audit log come later."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

USERS = "admin-users"


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Admin", className="h4 mb-3"),
            html.H2("Users", className="h6"),
            html.Div(id=USERS),
            dbc.Alert(
                [
                    html.Strong("Coming. "),
                    "Inviting users, role changes, provider status and the audit log.",
                ],
                color="secondary",
                className="mt-3",
            ),
        ]
    )
