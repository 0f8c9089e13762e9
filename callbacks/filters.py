"""Filters page callbacks: show lists and one list's items; create, edit, import, delete.

Each change goes through one service call and bumps REFRESH so the lists and items re-render.
"""

from __future__ import annotations

import base64
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, html, no_update

from layouts import filters as page
from layouts.components import empty_state
from services.filters import lists
from web.security import require_role


def _alert(message: str, color: str = "danger") -> dbc.Alert:
    return dbc.Alert(message, color=color, className="py-2 small", dismissable=True)


@callback(
    Output(page.LISTS, "children"),
    Output(page.SELECTED, "options"),
    Input(page.REFRESH, "data"),
)
def show_lists(_refresh: int) -> tuple[Any, Any]:
    require_role("recruiter")
    items = lists.list_lists()
    options = [
        {"label": f"{fl.name} · {fl.category_label} ({fl.item_count:,})", "value": fl.id}
        for fl in items
    ]
    if not items:
        return empty_state("No lists yet", "Create the team's first list below."), options
    rows = [
        html.Tr(
            [
                html.Td(fl.name),
                html.Td(fl.category_label),
                html.Td(f"{fl.item_count:,}"),
                html.Td(fl.source + (f" · {fl.source_ref}" if fl.source_ref else "")),
                html.Td(fl.updated_at.strftime("%Y-%m-%d")),
            ]
        )
        for fl in items
    ]
    table = dbc.Table(
        [
            html.Thead(
                html.Tr([html.Th(h) for h in ("List", "Category", "Items", "Source", "Updated")])
            ),
            html.Tbody(rows),
        ],
        size="sm",
        striped=True,
        className="small",
    )
    return table, options


@callback(
    Output(page.ITEMS, "rowData"),
    Output(page.ITEMS_TITLE, "children"),
    Input(page.SELECTED, "value"),
    Input(page.REFRESH, "data"),
)
def show_items(list_id: int | None, _refresh: int) -> tuple[Any, Any]:
    require_role("recruiter")
    if not list_id:
        return [], "Choose a list"
    fl = lists.get_list(int(list_id))
    if fl is None:
        return [], "This list no longer exists"
    rows = [
        {"id": str(i.id), "value": i.value, "normalized": i.normalized}
        for i in lists.list_items(fl.id)
    ]
    return rows, f"{fl.name} · {fl.category_label} · {fl.item_count:,} items"


@callback(
    Output(page.FEEDBACK, "children"),
    Output(page.REFRESH, "data"),
    Output(page.SELECTED, "value"),
    Input(page.NEW_SUBMIT, "n_clicks"),
    Input(page.ADD_SUBMIT, "n_clicks"),
    Input(page.REMOVE_SELECTED, "n_clicks"),
    Input(page.DELETE_LIST, "n_clicks"),
    Input(page.UPLOAD, "contents"),
    Input(page.SHEET_SUBMIT, "n_clicks"),
    State(page.NEW_NAME, "value"),
    State(page.NEW_CATEGORY, "value"),
    State(page.SELECTED, "value"),
    State(page.ADD_VALUES, "value"),
    State(page.ITEMS, "selectedRows"),
    State(page.UPLOAD, "filename"),
    State(page.REPLACE, "value"),
    State(page.SHEET_ID, "value"),
    State(page.SHEET_RANGE, "value"),
    State(page.REFRESH, "data"),
    prevent_initial_call=True,
)
def change_lists(
    _new: Any,
    _add: Any,
    _remove: Any,
    _delete: Any,
    upload: str | None,
    _sheet: Any,
    name: str | None,
    category: str | None,
    list_id: int | None,
    values: str | None,
    selected: list[dict[str, Any]] | None,
    filename: str | None,
    replace: list[str] | None,
    sheet_id: str | None,
    sheet_range: str | None,
    refresh: int,
) -> tuple[Any, Any, Any]:
    user = require_role("recruiter")
    trigger = ctx.triggered_id
    bump = (refresh or 0) + 1
    try:
        if trigger == page.NEW_SUBMIT:
            new_id = lists.create_list(user.id, name or "", category or "")
            return _alert("List created.", "success"), bump, new_id
        if not list_id:
            return _alert("Choose a list first."), no_update, no_update
        list_id = int(list_id)
        if trigger == page.ADD_SUBMIT:
            report = lists.add_items(user.id, list_id, (values or "").splitlines())
            return _alert(report.describe(), "success"), bump, no_update
        if trigger == page.REMOVE_SELECTED:
            ids = [int(r["id"]) for r in selected or []]
            removed = lists.remove_items(user.id, list_id, ids)
            return _alert(f"{removed:,} removed.", "success"), bump, no_update
        if trigger == page.DELETE_LIST:
            lists.delete_list(user.id, list_id)
            return _alert("List deleted.", "success"), bump, None
        if trigger == page.UPLOAD and upload:
            content = base64.b64decode(upload.split(",", 1)[1], validate=True)
            report = lists.import_csv(
                user.id, list_id, filename or "upload.csv", content, replace=bool(replace)
            )
            return _alert(f"{filename}: {report.describe()}", "success"), bump, no_update
        if trigger == page.SHEET_SUBMIT:
            report = lists.import_sheet(
                user.id, list_id, sheet_id or "", sheet_range or "", replace=bool(replace)
            )
            return _alert(f"Sheet: {report.describe()}", "success"), bump, no_update
    except (lists.ListError, ValueError, IndexError) as exc:
        message = str(exc) if isinstance(exc, lists.ListError) else "The file could not be read"
        return _alert(message), no_update, no_update
    return no_update, no_update, no_update
