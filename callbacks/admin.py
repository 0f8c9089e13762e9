"""Admin callbacks: every one re-checks the admin role before touching data."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from layouts import admin as page
from services.users import list_users
from web.security import require_role


@callback(Output(page.USERS, "children"), Input(page.USERS, "id"))
def show_users(_id: str) -> dbc.Table | dbc.Alert:
    try:
        require_role("admin")
    except PermissionError as exc:
        return dbc.Alert(str(exc), color="danger")
    header = html.Thead(
        html.Tr([html.Th(h) for h in ("Email", "Name", "Role", "Active", "Last login")])
    )
    rows = [
        html.Tr(
            [
                html.Td(u.email),
                html.Td(u.name),
                html.Td(u.role),
                html.Td("yes" if u.active else "no"),
                html.Td(u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"),
            ]
        )
        for u in list_users()
    ]
    return dbc.Table([header, html.Tbody(rows)], size="sm", striped=True)
