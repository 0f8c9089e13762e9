"""Filters page callbacks: show lists and one list's items; create, edit, import, delete.

Each change goes through one service call and bumps REFRESH so the lists and items re-render.
"""

from __future__ import annotations

import base64
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, html, no_update

from callbacks.kit import acting_user, alert, guarded
from layouts import filters as page
from layouts.components import empty_state
from services.filters import lists


@callback(
    Output(page.LISTS, "children"),
    Output(page.SELECTED, "options"),
    Input(page.REFRESH, "data"),
)
@guarded(role="recruiter")
def show_lists(_refresh: int) -> tuple[Any, Any]:
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
@guarded(role="recruiter")
def show_items(list_id: int | None, _refresh: int) -> tuple[Any, Any]:
    if not list_id:
        return [], "Choose a list"
    try:
        target = int(list_id)
    except (TypeError, ValueError):  # the dropdown's value: a client could send anything
        return [], "Choose a list"
    fl = lists.get_list(target)
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
@guarded(role="recruiter", refused=lambda error: (alert(error.user_message), no_update, no_update))
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
    """A ListError (or any UserError) becomes a danger alert in FEEDBACK, via `guarded`."""
    user = acting_user()
    trigger = ctx.triggered_id
    bump = (refresh or 0) + 1
    if trigger == page.NEW_SUBMIT:
        new_id = lists.create_list(user.id, name or "", category or "")
        return alert("List created.", "success"), bump, new_id
    if not list_id:
        return alert("Choose a list first."), no_update, no_update
    target = _whole_number(list_id, "No such list")
    if trigger == page.DELETE_LIST:
        lists.delete_list(user.id, target)
        return alert("List deleted.", "success"), bump, None
    imports = (upload, filename, sheet_id, sheet_range, bool(replace))
    done = _change_items(user.id, target, trigger, values, selected, imports)
    return (no_update,) * 3 if done is None else (alert(done, "success"), bump, no_update)


def _change_items(
    user_id: int,
    list_id: int,
    trigger: Any,
    values: str | None,
    selected: list[dict[str, Any]] | None,
    imports: tuple[str | None, str | None, str | None, str | None, bool],
) -> str | None:
    """Add, remove or import a list's items; the message saying what changed (None: nothing)."""
    upload, filename, sheet_id, sheet_range, replace = imports
    if trigger == page.ADD_SUBMIT:
        return lists.add_items(user_id, list_id, (values or "").splitlines()).describe()
    if trigger == page.REMOVE_SELECTED:
        item_ids = [
            _whole_number(row.get("id"), "Choose rows of the list") for row in selected or []
        ]
        return f"{lists.remove_items(user_id, list_id, item_ids):,} removed."
    if trigger == page.UPLOAD and upload:
        content = _uploaded_bytes(upload)
        report = lists.import_csv(
            user_id, list_id, filename or "upload.csv", content, replace=replace
        )
        return f"{filename}: {report.describe()}"
    if trigger == page.SHEET_SUBMIT:
        report = lists.import_sheet(
            user_id, list_id, sheet_id or "", sheet_range or "", replace=replace
        )
        return f"Sheet: {report.describe()}"
    return None


def _whole_number(value: Any, problem: str) -> int:
    """An id the client sent (a dropdown's value, a grid row's id): anything else is refused."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise lists.ListError(problem) from None


def _uploaded_bytes(upload: str) -> bytes:
    """dcc.Upload's data URL, decoded (a client could send anything there)."""
    try:
        return base64.b64decode(upload.split(",", 1)[1], validate=True)
    except (ValueError, IndexError):
        raise lists.ListError("The file could not be read") from None
