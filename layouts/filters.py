"""Filters page: the team's filter lists by category, one list's items, and its imports (CSV
upload, Google Sheet range). Pure layout; callbacks/filters.py fills it."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from services.filters.lists import CATEGORIES

LISTS = "filters-lists"
SELECTED = "filters-selected"
REFRESH = "filters-refresh"
FEEDBACK = "filters-feedback"
NEW_NAME = "filters-new-name"
NEW_CATEGORY = "filters-new-category"
NEW_SUBMIT = "filters-new-submit"
ITEMS = "filters-items"
ITEMS_TITLE = "filters-items-title"
ADD_VALUES = "filters-add-values"
ADD_SUBMIT = "filters-add-submit"
REMOVE_SELECTED = "filters-remove-selected"
DELETE_LIST = "filters-delete-list"
UPLOAD = "filters-upload"
REPLACE = "filters-replace"
SHEET_ID = "filters-sheet-id"
SHEET_RANGE = "filters-sheet-range"
SHEET_SUBMIT = "filters-sheet-submit"


def _create_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("New list", className="h6"),
                dbc.Input(id=NEW_NAME, placeholder="Name, e.g. Competitors", maxLength=200),
                dbc.Select(
                    id=NEW_CATEGORY,
                    options=[{"label": v, "value": k} for k, v in CATEGORIES.items()],
                    value="excluded_companies",
                    className="my-2",
                ),
                dbc.Button("Create list", id=NEW_SUBMIT, size="sm", color="primary"),
            ]
        ),
        className="shadow-sm mt-3",
    )


def _items_grid() -> dag.AgGrid:
    return dag.AgGrid(
        id=ITEMS,
        columnDefs=[
            {"field": "value", "headerName": "Value (as written)", "flex": 2},
            {"field": "normalized", "headerName": "Matched as", "flex": 2},
        ],
        rowData=[],
        defaultColDef={"sortable": True, "filter": True, "resizable": True},
        dashGridOptions={
            "rowSelection": {"mode": "multiRow"},
            "theme": "themeAlpine",
        },
        getRowId="params.data.id",
        style={"height": "320px"},
    )


def _item_actions() -> list[Any]:
    return [
        html.Div(
            [
                dbc.Button(
                    "Remove selected",
                    id=REMOVE_SELECTED,
                    size="sm",
                    color="secondary",
                    outline=True,
                    className="me-2",
                ),
                dbc.Button("Delete list", id=DELETE_LIST, size="sm", color="danger", outline=True),
            ],
            className="my-2",
        ),
        dbc.Textarea(
            id=ADD_VALUES,
            placeholder="Add values, one per line (e.g. ACME Inc.)",
            style={"height": "90px"},
        ),
        dbc.Button("Add values", id=ADD_SUBMIT, size="sm", color="primary", className="my-2"),
    ]


def _imports() -> list[Any]:
    return [
        html.H3("Import", className="h6"),
        dbc.Checklist(
            id=REPLACE,
            options=[{"label": "Replace the list's items (otherwise add)", "value": "replace"}],
            value=[],
            switch=True,
            className="mb-2",
        ),
        dcc.Upload(
            id=UPLOAD,
            children=html.Div(["Drop a CSV (one value per line) or ", html.A("choose a file")]),
            accept=".csv,text/csv,text/plain",
            max_size=2 * 1024 * 1024,
            className="border border-2 rounded p-3 text-center bg-light mb-2",
        ),
        dbc.Row(
            [
                dbc.Col(dbc.Input(id=SHEET_ID, placeholder="Google Sheet id"), md=5),
                dbc.Col(dbc.Input(id=SHEET_RANGE, placeholder="Range, e.g. Lists!A:A"), md=4),
                dbc.Col(dbc.Button("Import sheet", id=SHEET_SUBMIT, size="sm"), md=3),
            ],
            className="g-2",
        ),
    ]


def _editor() -> html.Div:
    return html.Div(
        [
            html.H2(id=ITEMS_TITLE, className="h6"),
            _items_grid(),
            *_item_actions(),
            html.Hr(),
            *_imports(),
        ]
    )


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=REFRESH, data=0),
            html.H1("Filter lists", className="h4 mb-1"),
            html.P(
                "Team-wide lists that projects apply as must-match or must-not-match filters. "
                "Values match after normalisation (case, accents, punctuation, company suffixes "
                "such as Inc or GmbH); the text as written is kept for display.",
                className="text-muted small",
            ),
            html.Div(id=FEEDBACK),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dcc.Dropdown(id=SELECTED, placeholder="Choose a list to edit"),
                            html.Div(id=LISTS, className="mt-2"),
                            _create_card(),
                        ],
                        md=5,
                    ),
                    dbc.Col(_editor(), md=7),
                ],
                className="g-3",
            ),
        ]
    )
