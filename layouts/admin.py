"""Admin page (admins only): users, provider status, the audit log and data erasure.

Pure: forms and empty containers; callbacks fill them after re-checking the admin role. The
table builders here turn service rows into components and do no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from services.audit.browse import AuditEntry, details_text
from services.auth import ROLES
from services.provider_status import ProviderStatus
from services.users import UserRow

USERS = "admin-users"
INVITE_EMAIL = "admin-invite-email"
INVITE_NAME = "admin-invite-name"
INVITE_ROLE = "admin-invite-role"
INVITE_BUTTON = "admin-invite"
INVITE_MESSAGE = "admin-invite-message"
MANAGE_USER = "admin-manage-user"
MANAGE_ROLE = "admin-manage-role"
ROLE_BUTTON = "admin-change-role"
DEACTIVATE_BUTTON = "admin-deactivate"
ACTIVATE_BUTTON = "admin-activate"
RESET_BUTTON = "admin-reset-password"
MANAGE_MESSAGE = "admin-manage-message"
PROVIDERS = "admin-providers"
AUDIT_USER = "admin-audit-user"
AUDIT_ACTION = "admin-audit-action"
AUDIT_OBJECT_TYPE = "admin-audit-object-type"
AUDIT_OBJECT_ID = "admin-audit-object-id"
AUDIT_DATES = "admin-audit-dates"
AUDIT_APPLY = "admin-audit-apply"
AUDIT_OLDER = "admin-audit-older"
AUDIT_CURSOR = "admin-audit-cursor"
AUDIT_TABLE = "admin-audit-table"
AUDIT_CSV = "admin-audit-csv"
ERASE_ID = "admin-erase-id"
ERASE_CONFIRM = "admin-erase-confirm"
ERASE_BUTTON = "admin-erase"
ERASE_MESSAGE = "admin-erase-message"
ERASE_WORD = "ERASE"

_ROLE_OPTIONS = [{"label": r, "value": r} for r in ROLES]


def _section(title: str, *children: Any) -> dbc.Card:
    return dbc.Card(
        [dbc.CardHeader(html.Span(title, className="fw-semibold")), dbc.CardBody(list(children))],
        className="shadow-sm mb-3",
    )


def _invite_row() -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(dbc.Input(id=INVITE_EMAIL, type="email", placeholder="email"), md=4),
            dbc.Col(dbc.Input(id=INVITE_NAME, placeholder="name"), md=3),
            dbc.Col(dbc.Select(id=INVITE_ROLE, options=_ROLE_OPTIONS, value="recruiter"), md=2),
            dbc.Col(dbc.Button("Invite", id=INVITE_BUTTON, color="primary"), md="auto"),
        ],
        className="g-2 mb-2",
    )


def _manage_row() -> dbc.Row:
    actions = dbc.ButtonGroup(
        [
            dbc.Button("Change role", id=ROLE_BUTTON, outline=True, color="primary"),
            dbc.Button("Deactivate", id=DEACTIVATE_BUTTON, outline=True, color="danger"),
            dbc.Button("Activate", id=ACTIVATE_BUTTON, outline=True, color="success"),
            dbc.Button("Reset password", id=RESET_BUTTON, outline=True, color="secondary"),
        ],
        size="sm",
    )
    return dbc.Row(
        [
            dbc.Col(dcc.Dropdown(id=MANAGE_USER, placeholder="Choose a user", options=[]), md=4),
            dbc.Col(dbc.Select(id=MANAGE_ROLE, options=_ROLE_OPTIONS, value="recruiter"), md=2),
            dbc.Col(actions, md="auto"),
        ],
        className="g-2 mb-2 align-items-center",
    )


def users_section() -> dbc.Card:
    return _section(
        "Users",
        html.Div(id=USERS),
        html.H3("Invite a user", className="h6 mt-3"),
        _invite_row(),
        html.Div(id=INVITE_MESSAGE),
        html.H3("Manage a user", className="h6 mt-3"),
        _manage_row(),
        html.Div(id=MANAGE_MESSAGE),
    )


def audit_section() -> dbc.Card:
    filters = dbc.Row(
        [
            dbc.Col(dcc.Dropdown(id=AUDIT_USER, placeholder="Anyone", options=[]), md=3),
            dbc.Col(dbc.Input(id=AUDIT_ACTION, placeholder="action, or family like user."), md=2),
            dbc.Col(dbc.Input(id=AUDIT_OBJECT_TYPE, placeholder="object type"), md=2),
            dbc.Col(dbc.Input(id=AUDIT_OBJECT_ID, placeholder="object id"), md=1),
            dbc.Col(
                dcc.DatePickerRange(
                    id=AUDIT_DATES, display_format="YYYY-MM-DD", clearable=True, minimum_nights=0
                ),
                md="auto",
            ),
            dbc.Col(dbc.Button("Show", id=AUDIT_APPLY, color="primary", size="sm"), md="auto"),
        ],
        className="g-2 mb-2 align-items-center",
    )
    return _section(
        "Audit log",
        filters,
        dcc.Store(id=AUDIT_CURSOR, data=None),
        html.Div(id=AUDIT_TABLE),
        html.Div(
            [
                dbc.Button("Older", id=AUDIT_OLDER, size="sm", color="link", disabled=True),
                html.A("Download CSV", id=AUDIT_CSV, href="/download/audit.csv", className="small"),
            ],
            className="d-flex gap-3 align-items-center",
        ),
    )


def erasure_section() -> dbc.Card:
    return _section(
        "Data retention",
        html.P(
            "Erase a profile and everything about it (GDPR request): raw provider data, project"
            " membership, filter results, screenings and reviews, contacts and lookups. The audit"
            " log keeps that it happened, with the profile id only.",
            className="small text-muted",
        ),
        dbc.Row(
            [
                dbc.Col(
                    dbc.Input(id=ERASE_ID, type="number", min=1, placeholder="profile id"), md=2
                ),
                dbc.Col(
                    dbc.Input(id=ERASE_CONFIRM, placeholder=f"type {ERASE_WORD} to confirm"), md=3
                ),
                dbc.Col(dbc.Button("Erase profile", id=ERASE_BUTTON, color="danger"), md="auto"),
            ],
            className="g-2 mb-2",
        ),
        html.Div(id=ERASE_MESSAGE),
    )


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Admin", className="h4 mb-3"),
            users_section(),
            _section("Providers", html.Div(id=PROVIDERS)),
            audit_section(),
            erasure_section(),
        ]
    )


def _table(header: Sequence[str], rows: list[list[Any]]) -> dbc.Table:
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in header])),
            html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows]),
        ],
        size="sm",
        striped=True,
        responsive=True,
        className="small",
    )


def users_table(users: Sequence[UserRow]) -> dbc.Table:
    return _table(
        ("#", "Email", "Name", "Role", "Active", "Last login"),
        [
            [
                u.id,
                u.email,
                u.name,
                u.role,
                "yes" if u.active else "no",
                u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never",
            ]
            for u in users
        ],
    )


def providers_table(rows: Sequence[ProviderStatus]) -> dbc.Table:
    return _table(
        ("Provider", "Mode", "Host", "Rate limits", "Concurrency", "Daily budget", "Used today"),
        [
            [
                r.provider,
                r.mode,
                r.host,
                r.limits,
                r.concurrency,
                f"{r.daily_budget:,g} {r.budget_metric}" if r.daily_budget else "none",
                f"{r.used_today:,.4g}",
            ]
            for r in rows
        ],
    )


def audit_table(entries: Sequence[AuditEntry]) -> html.Div | dbc.Table:
    if not entries:
        return html.Div("No audit entries match.", className="text-muted small")
    return _table(
        ("#", "When (UTC)", "Who", "Action", "Object", "Details"),
        [
            [
                e.id,
                e.ts.strftime("%Y-%m-%d %H:%M:%S"),
                e.user_email or ("system" if e.user_id is None else f"#{e.user_id}"),
                e.action,
                f"{e.object_type} {e.object_id or ''}".strip(),
                details_text(e.details),
            ]
            for e in entries
        ],
    )
