"""Saved views on the Profiles page: name the view on screen and save it (private or shared),
and a list of the user's views and the team's shared ones. Opening one is a plain link to its
URL (the URL is the view); the owner renames, shares or deletes it. Pure layout: no I/O."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

NAME = "profiles-view-name"
SHARED = "profiles-view-shared"
SAVE = "profiles-view-save"
TOGGLE = "profiles-views-toggle"
COLLAPSE = "profiles-views-collapse"
LIST = "profiles-views-list"
FEEDBACK = "profiles-views-feedback"
CHANGED = "profiles-views-changed"  # a nonce: a view was written, list them again
RENAME_INPUT_TYPE = "saved-view-name"
RENAME_TYPE = "saved-view-rename"
SHARE_TYPE = "saved-view-share"
DELETE_TYPE = "saved-view-delete"
MAX_NAME = 100


def action_id(kind: str, view_id: int) -> dict[str, Any]:
    return {"type": kind, "view": view_id}


def toolbar() -> dbc.InputGroup:
    return dbc.InputGroup(
        [
            dbc.Input(id=NAME, placeholder="Name this view", maxLength=MAX_NAME),
            dbc.InputGroupText(dbc.Checkbox(id=SHARED, label="shared", value=False)),
            dbc.Button("Save view", id=SAVE, color="primary", outline=True),
            dbc.Button("Saved views", id=TOGGLE, color="secondary", outline=True),
        ],
        size="sm",
    )


def panel() -> html.Div:
    return html.Div(
        [
            html.Div(id=FEEDBACK),
            dbc.Collapse(
                dbc.Card(dbc.CardBody(html.Div(id=LIST)), className="mb-2"),
                id=COLLAPSE,
                is_open=False,
            ),
            dcc.Store(id=CHANGED),
        ]
    )


def _owner_actions(view: Any) -> html.Div:
    return html.Div(
        [
            dbc.Input(
                id=action_id(RENAME_INPUT_TYPE, view.id),
                value=view.name,
                size="sm",
                maxLength=MAX_NAME,
                style={"maxWidth": "180px"},
                className="d-inline-block me-1",
            ),
            dbc.Button(
                "Rename",
                id=action_id(RENAME_TYPE, view.id),
                size="sm",
                color="link",
                className="p-0 me-2",
                n_clicks=0,
            ),
            dbc.Button(
                "Unshare" if view.shared else "Share",
                id=action_id(SHARE_TYPE, view.id),
                size="sm",
                color="link",
                className="p-0 me-2",
                n_clicks=0,
            ),
            dbc.Button(
                "Delete",
                id=action_id(DELETE_TYPE, view.id),
                size="sm",
                color="link",
                className="p-0 text-danger",
                n_clicks=0,
            ),
        ],
        className="d-flex align-items-center",
    )


def views_table(views: list[Any], user_id: int) -> Any:
    if not views:
        return html.Div(
            "No saved views yet: filter the grid, name the view and save it.",
            className="text-muted small",
        )
    rows = [
        html.Tr(
            [
                html.Td(dcc.Link(view.name, href=view.url, className="saved-view-link")),
                html.Td("you" if view.owner_id == user_id else view.owner_name),
                html.Td(dbc.Badge("shared", color="success") if view.shared else "private"),
                html.Td(_owner_actions(view) if view.owner_id == user_id else ""),
            ]
        )
        for view in views
    ]
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in ("View", "Owner", "Visible to", "")])),
            html.Tbody(rows),
        ],
        size="sm",
        className="small mb-0",
    )
