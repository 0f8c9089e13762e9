"""Saved views on the Profiles page: save the view on screen, list mine and the shared ones,
rename / share / delete mine. Each callback re-checks the role and calls the saved_views
service; ownership is checked there."""

from __future__ import annotations

import time
from typing import Any

from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.kit import acting_user, alert, guarded
from layouts import profiles as page
from layouts import saved_views as views
from services import saved_views


@callback(Output(views.LIST, "children"), Input(views.CHANGED, "data"))
@guarded(role="recruiter")
def show_views(_changed: Any) -> Any:
    user = acting_user()
    return views.views_table(saved_views.list_views(user.id), user.id)


clientside_callback(
    "function(n, open) { return n ? !open : window.dash_clientside.no_update; }",
    Output(views.COLLAPSE, "is_open"),
    Input(views.TOGGLE, "n_clicks"),
    State(views.COLLAPSE, "is_open"),
    prevent_initial_call=True,
)


def _clicked(value: Any) -> bool:
    """A real click (rows rendered into the list report n_clicks 0 when they appear)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _view_id(ident: Any) -> int:
    """The view id of a row's button or input (a client could send anything)."""
    value = ident.get("view") if isinstance(ident, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PreventUpdate
    return value


@callback(
    Output(views.CHANGED, "data"),
    Output(views.FEEDBACK, "children"),
    Output(views.NAME, "value"),
    Output(views.COLLAPSE, "is_open", allow_duplicate=True),
    Input(views.SAVE, "n_clicks"),
    Input(views.NAME, "n_submit"),
    Input({"type": views.RENAME_TYPE, "view": ALL}, "n_clicks"),
    Input({"type": views.SHARE_TYPE, "view": ALL}, "n_clicks"),
    Input({"type": views.DELETE_TYPE, "view": ALL}, "n_clicks"),
    State(views.NAME, "value"),
    State(views.SHARED, "value"),
    State(page.VIEW, "data"),
    State({"type": views.RENAME_INPUT_TYPE, "view": ALL}, "value"),
    State({"type": views.RENAME_INPUT_TYPE, "view": ALL}, "id"),
    prevent_initial_call=True,
)
@guarded(
    role="recruiter",
    refused=lambda error: (no_update, alert(error.user_message, "warning"), no_update, no_update),
)
def change_views(
    _save: Any,
    _submit: Any,
    _rename: Any,
    _share: Any,
    _delete: Any,
    name: str | None,
    shared: bool | None,
    view_search: str | None,
    new_names: list[str | None],
    name_ids: list[dict[str, Any]],
) -> tuple[Any, Any, Any, Any]:
    """A SavedViewError (or any UserError) becomes a warning in FEEDBACK, via `guarded`."""
    user = acting_user()
    trigger = ctx.triggered_id
    if trigger is None or not ctx.triggered or not _clicked(ctx.triggered[0]["value"]):
        raise PreventUpdate
    if trigger in (views.SAVE, views.NAME):
        saved = saved_views.save_view(user.id, name or "", view_search or "", bool(shared))
        done = f"Saved the view {saved.name!r}" + (" for the team." if saved.shared else ".")
        return time.time_ns(), alert(done, "success"), "", True
    view_id = _view_id(trigger)
    kind = trigger.get("type")
    if kind == views.RENAME_TYPE:
        by_id = {_view_id(i): v for i, v in zip(name_ids, new_names, strict=False)}
        saved_views.rename_view(user.id, view_id, by_id.get(view_id) or "")
        message = "Renamed."
    elif kind == views.SHARE_TYPE:
        message = _toggle_shared(user.id, view_id)
    elif kind == views.DELETE_TYPE:
        saved_views.delete_view(user.id, view_id)
        message = "Deleted."
    else:
        raise PreventUpdate
    return time.time_ns(), alert(message, "success"), no_update, no_update


def _toggle_shared(user_id: int, view_id: int) -> str:
    view = saved_views.get_view(user_id, view_id)
    if view is None:
        raise saved_views.SavedViewError("That view no longer exists.")
    saved_views.set_shared(user_id, view_id, not view.shared)
    return "Shared with the team." if not view.shared else "Now private."
