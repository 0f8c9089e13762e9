"""The app shell: navbar (pages, signed-in user, sandbox badge), page container, logout form."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids

NAV_ITEMS = (
    ("Profiles", "/profiles"),
    ("Projects", "/projects"),
    ("Filters", "/filters"),
    ("Insights", "/insights"),
    ("Admin", "/admin"),
)


def _sandbox_badge() -> dbc.Badge:
    return dbc.Badge(
        "sandbox providers",
        color="warning",
        text_color="dark",
        className="me-3",
        id="sandbox-badge",
        title="No real API keys configured: provider data is synthetic",
    )


def _logout_form(csrf: str) -> html.Form:
    return html.Form(
        [
            dcc.Input(type="hidden", name="csrf_token", value=csrf),
            html.Button(
                "Sign out",
                className="btn btn-sm btn-outline-light",
                type="submit",
                id="logout-button",
            ),
        ],
        action="/logout",
        method="POST",
        className="d-inline",
    )


def navbar(user_name: str, role: str, sandbox: bool, csrf: str) -> dbc.Navbar:
    links = [
        dbc.NavItem(dbc.NavLink(label, href=href, active="partial")) for label, href in NAV_ITEMS
    ]
    right = [
        *([_sandbox_badge()] if sandbox else []),
        html.Span(id=ids.NAV_PROFILE_COUNT, className="text-light small me-3"),
        html.Span(f"{user_name} · {role}", className="text-light small me-2", id="nav-user"),
        _logout_form(csrf),
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("SourcingX", href="/"),
                dbc.Nav(links, navbar=True, className="me-auto"),
                html.Div(right, className="d-flex align-items-center"),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )


def shell(user_name: str, role: str, sandbox: bool, csrf: str) -> html.Div:
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            navbar(user_name, role, sandbox, csrf),
            dbc.Container(
                [
                    dbc.Alert(id=ids.APP_ALERT, is_open=False, dismissable=True, className="py-2"),
                    dash.page_container,
                ],
                fluid=True,
                className="pb-5",
            ),
        ]
    )
