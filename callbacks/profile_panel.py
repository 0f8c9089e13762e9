"""Profiles page, detail panel: opening a profile from the grid, and the team's tags and notes
on it (add or remove a tag, write or delete a note). Registered with the Profiles page's other
callbacks (callbacks/profiles.py imports this module)."""

from __future__ import annotations

import time
from typing import Any

from dash import ALL, Input, Output, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.kit import acting_user, alert, guarded
from layouts import profile_detail as panel
from layouts import profiles as page
from services import grid, tags_notes


@callback(
    Output(page.DETAIL, "is_open"),
    Output(page.DETAIL_BODY, "children"),
    Output(panel.DETAIL_MORE, "children"),
    Output(panel.PROFILE_ID, "data"),
    Input(page.GRID, "cellClicked"),
    prevent_initial_call=True,
)
@guarded(role="recruiter")
def open_detail(cell: dict[str, Any] | None) -> tuple[Any, Any, Any, Any]:
    try:
        row_id = int((cell or {}).get("rowId") or "")
    except (TypeError, ValueError):  # no row (a header or a blank loading row)
        return no_update, no_update, no_update, no_update
    detail = grid.profile_detail(row_id)
    profile_id = None if detail is None else row_id
    return True, panel.detail_panel(detail), panel.detail_more(detail), profile_id


@callback(
    Output(panel.TAG_LIST, "children"),
    Output(panel.NOTE_LIST, "children"),
    Output(panel.FEEDBACK, "children", allow_duplicate=True),
    Input(panel.PROFILE_ID, "data"),
    Input(panel.CHANGED, "data"),
    prevent_initial_call=True,
)
@guarded(role="recruiter")
def show_annotations(profile_id: int | None, _changed: Any) -> tuple[Any, Any, Any]:
    """The open profile's tags and newest notes; opening another profile clears old messages."""
    user = acting_user()
    feedback = "" if ctx.triggered_id == panel.PROFILE_ID else no_update
    if not isinstance(profile_id, int) or isinstance(profile_id, bool):
        return "", "", feedback
    found = tags_notes.for_profile(profile_id)
    notes = panel.notes_view(found.notes, found.note_count, user.id, user.role == "admin")
    return panel.tags_view(found.tags), notes, feedback


def _clicked(value: Any) -> bool:
    """A real click: buttons rendered into the panel report n_clicks 0 when they appear."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@callback(
    Output(panel.CHANGED, "data"),
    Output(panel.FEEDBACK, "children"),
    Output(panel.TAG_INPUT, "value"),
    Output(panel.NOTE_INPUT, "value"),
    Input(panel.TAG_ADD, "n_clicks"),
    Input(panel.TAG_INPUT, "n_submit"),
    Input(panel.NOTE_ADD, "n_clicks"),
    Input({"type": panel.TAG_REMOVE_TYPE, "tag": ALL}, "n_clicks"),
    Input({"type": panel.NOTE_DELETE_TYPE, "note": ALL}, "n_clicks"),
    State(panel.PROFILE_ID, "data"),
    State(panel.TAG_INPUT, "value"),
    State(panel.NOTE_INPUT, "value"),
    prevent_initial_call=True,
)
@guarded(
    role="recruiter",
    refused=lambda error: (no_update, alert(error.user_message, "warning"), no_update, no_update),
)
def annotate(
    _tag: Any,
    _submit: Any,
    _note: Any,
    _remove: Any,
    _delete: Any,
    profile_id: Any,
    tag_text: str | None,
    note_text: str | None,
) -> tuple[Any, Any, Any, Any]:
    """Add or remove a tag, write or delete a note on the open profile; an AnnotationError
    becomes a warning in the panel, via `guarded`."""
    user = acting_user()
    trigger = ctx.triggered_id
    if trigger is None or not ctx.triggered or not _clicked(ctx.triggered[0]["value"]):
        raise PreventUpdate
    if not isinstance(profile_id, int) or isinstance(profile_id, bool):
        return no_update, alert("Open a profile first.", "warning"), no_update, no_update
    tag_out: Any = no_update
    note_out: Any = no_update
    if trigger in (panel.TAG_ADD, panel.TAG_INPUT):
        tags_notes.tag_profile(user.id, profile_id, tag_text or "")
        tag_out = ""
    elif trigger == panel.NOTE_ADD:
        tags_notes.add_note(user.id, profile_id, note_text or "")
        note_out = ""
    elif isinstance(trigger, dict) and trigger.get("type") == panel.TAG_REMOVE_TYPE:
        tags_notes.untag_profile(user.id, profile_id, _id_in(trigger, "tag"))
    elif isinstance(trigger, dict) and trigger.get("type") == panel.NOTE_DELETE_TYPE:
        tags_notes.delete_note(user.id, _id_in(trigger, "note"))
    else:
        raise PreventUpdate
    return time.time_ns(), "", tag_out, note_out


def _id_in(ident: dict[str, Any], key: str) -> int:
    """The tag or note id of a button (a client could send anything there)."""
    value = ident.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PreventUpdate
    return value
