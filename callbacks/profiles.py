"""Profiles page callbacks: grid blocks, URL state, export link, detail panel with the team's
tags and notes, project and tag options.

The grid callback always answers: an error returns an empty block at the current position and a
short message, because an exception would leave the block "loading" forever (dash-stack.md §1).
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qs

import dash_bootstrap_components as dbc
from dash import (
    ALL,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    html,
    no_update,
    set_props,
)
from dash.exceptions import PreventUpdate

from layouts import ids
from layouts import profile_detail as panel
from layouts import profiles as page
from services import grid, projects, tags_notes
from web.security import require_role

log = logging.getLogger(__name__)
MAX_BLOCK = 500


def _query(
    request: dict[str, Any],
    search: str | None,
    location: str | None,
    seniority: list[str] | None,
    enriched: str | None,
    project: str | None,
    location_exact: dict[str, Any] | None = None,
    tags: list[Any] | None = None,
) -> grid.GridQuery:
    exact = location_exact or {}
    return grid.parse_grid_query(
        filter_model=request.get("filterModel") or {},
        sort_model=request.get("sortModel") or [],
        search=search or "",
        location=location or "",
        seniority=seniority or [],
        enriched={"yes": True, "no": False}.get(enriched or ""),
        project_id=int(project) if project else None,
        # A link's exact location match holds only while the location text is unchanged.
        location_exact=bool(exact.get("exact")) and exact.get("location") == (location or ""),
        tag_ids=tuple(tags or ()),  # validated (whole numbers only) by parse_grid_query
    )


@callback(
    Output(page.GRID, "getRowsResponse"),
    Output(page.COUNT, "children"),
    Output(page.ERROR, "children"),
    Output(page.ERROR, "is_open"),
    Output(ids.URL, "search"),
    Output(page.EXPORT, "href"),
    Output(page.VIEW, "data"),
    Output(page.COUNT_REQUEST, "data"),
    Input(page.GRID, "getRowsRequest"),
    State(page.SEARCH, "value"),
    State(page.LOCATION, "value"),
    State(page.SENIORITY, "value"),
    State(page.ENRICHED, "value"),
    State(page.PROJECT, "value"),
    State(page.LOCATION_EXACT, "data"),
    State(ids.URL, "search"),
    State(page.TAGS, "value"),
    prevent_initial_call=True,
)
def serve_block(
    request: dict[str, Any] | None,
    search: str | None,
    location: str | None,
    seniority: list[str] | None,
    enriched: str | None,
    project: str | None,
    location_exact: dict[str, Any] | None,
    current_search: str | None,
    tags: list[Any] | None,
) -> tuple[Any, ...]:
    if not request or "startRow" not in request:
        # The grid reports an empty getRowsRequest when it mounts; no block waits for it, and
        # answering it as "rows 0-100 of the default view" would push a wrong URL into history.
        raise PreventUpdate
    start = max(int(request.get("startRow") or 0), 0)
    end = min(max(int(request.get("endRow") or start + page.BLOCK_SIZE), start), start + MAX_BLOCK)
    unchanged = (no_update,) * 4  # URL, export link, view, count request: first blocks only
    try:
        require_role("recruiter")
        query = _query(
            request, search, location, seniority, enriched, project, location_exact, tags
        )
        # Rows first: an uncounted view gets rowCount None (the grid keeps asking) and its count
        # is computed by count_view below; later blocks carry it once it is cached.
        block = grid.fetch_block(query, start, end, count="cached")
    except (grid.GridQueryError, ValueError, PermissionError) as exc:
        return {"rowData": [], "rowCount": start}, no_update, str(exc), True, *unchanged
    except Exception:
        log.exception("grid block %s-%s failed", start, end)
        message = "Could not load these rows; scroll or change the view to retry."
        return {"rowData": [], "rowCount": start}, no_update, message, True, *unchanged
    response = {"rowData": block.rows, "rowCount": block.row_count}
    if start != 0:
        return response, no_update, no_update, no_update, *unchanged
    # A first block means a new view: mirror it into the URL (pushState, no re-render).
    new_search = page.view_search(query)
    url_out = new_search if new_search != (current_search or "") else no_update
    export = f"/download/profiles.csv{new_search}"
    count: str
    count_request: Any
    if block.row_count is not None:
        count, count_request = _count_label(block.row_count), no_update
    else:  # a nonce, so that asking again for the same view still triggers the count
        count, count_request = "Counting…", {"view": new_search, "n": time.time_ns()}
    return response, count, "", False, url_out, export, new_search, count_request


def _count_label(total: int) -> str:
    return f"{total:,} profile" + ("" if total == 1 else "s")


@callback(
    Output(page.COUNT, "children", allow_duplicate=True),
    Output(page.COUNT_TOTAL, "data"),
    Input(page.COUNT_REQUEST, "data"),
    prevent_initial_call=True,
)
def count_view(request: dict[str, Any] | None) -> tuple[str, Any]:
    """The total of the view a first block could not count from the cache: the label, and the
    grid's length (set in the browser, below; later blocks carry it from the cache too).

    A count too slow for the request is shown as Postgres's estimate ("about N profiles") while
    a worker counts exactly; the poll below asks again ({"view", "poll": k}, the view on screen
    and the try number: nothing about the user is kept on the server) until it is exact. Only an
    exact count becomes the grid's length: an estimate that were too small would end the grid
    before its last row.
    """
    if not request or not isinstance(request.get("view"), str):
        raise PreventUpdate
    poll = request.get("poll")
    poll = poll if isinstance(poll, int) and not isinstance(poll, bool) and poll > 0 else 0
    try:
        require_role("recruiter")
        query = grid.url_params_to_query(parse_qs(request["view"].lstrip("?")))
        # A first ask may count within the budget; a poll only looks for the worker's number.
        counted = grid.view_count(query, try_exact=poll == 0)
    except (grid.GridQueryError, ValueError, PermissionError) as exc:
        set_props(page.COUNT_POLL, {"disabled": True})
        return f"Could not count: {exc}", no_update
    except Exception:
        log.exception("grid count failed")
        set_props(page.COUNT_POLL, {"disabled": True})
        return "Could not count these profiles.", no_update
    return _count_answer(counted, request["view"], poll)


def _count_answer(counted: grid.ViewCount, view: str, poll: int) -> tuple[str, Any]:
    """The label and grid length for a count; starts, keeps or stops the poll (a side update, so
    the callback's outputs stay the label and the length)."""
    if counted.exact:
        set_props(page.COUNT_POLL, {"disabled": True})
        return _count_label(counted.value), {"view": view, "total": counted.value}
    label = _about_label(counted.value)
    if poll == 0:  # a new estimate: poll from the first try
        set_props(page.COUNT_POLL, {"disabled": False, "n_intervals": 0})
    elif poll >= page.COUNT_POLL_TRIES:
        set_props(page.COUNT_POLL, {"disabled": True})
        label += " (exact count unavailable)"
    return label, no_update


def _about_label(estimate: int) -> str:
    """An estimate to two significant figures (2,437,112 -> "about 2,400,000 profiles"): the
    planner's estimate of a filtered view is often 10-50% off, so more digits would claim a
    precision it does not have."""
    scale = 10 ** max(len(str(estimate)) - 2, 0)
    return "about " + _count_label((estimate + scale // 2) // scale * scale)  # halves round up


# While the label shows an estimate, each tick asks count_view again for the view on screen (a
# view changed meanwhile is asked for instead: its count is then the one the page needs).
clientside_callback(
    """function(n, view) {
        if (!n) { return window.dash_clientside.no_update; }
        return {view: view || '', poll: n};
    }""",
    Output(page.COUNT_REQUEST, "data", allow_duplicate=True),
    Input(page.COUNT_POLL, "n_intervals"),
    State(page.VIEW, "data"),
    prevent_initial_call=True,
)


# Until the count is known the grid only knows "more rows follow" (its scrollbar grows block by
# block); once it is, the grid gets its full length, so the scrollbar can reach the last row.
clientside_callback(
    """function(counted, view) {
        const nu = window.dash_clientside.no_update;
        if (!counted || counted.view !== (view || '')) { return nu; }
        const api = dash_ag_grid.getApi('profiles-grid');
        if (api) { api.setRowCount(counted.total, true); }
        return nu;
    }""",
    Output(page.ROW_COUNT_SINK, "children"),
    Input(page.COUNT_TOTAL, "data"),
    State(page.VIEW, "data"),
    prevent_initial_call=True,
)


# Browser back/forward changes the URL without telling the pages router when the previous entry
# was pushed by serve_block above (its Location has refresh=False, so `_pages_location` keeps a
# stale search and may see "no change"). When the URL no longer describes the view on screen,
# hand it to the router (Dash's `_pages_location`), which renders the page from the URL again.
clientside_callback(
    """function(search, view, pathname) {
        const nu = window.dash_clientside.no_update;
        if (pathname !== '/profiles' || view === null || view === undefined) { return nu; }
        return (search || '') === view ? nu : (search || '');
    }""",
    Output("_pages_location", "search"),
    Input(ids.URL, "search"),
    State(page.VIEW, "data", allow_optional=True),
    State(ids.URL, "pathname"),
    prevent_initial_call=True,
)


# External filters are State of the grid callback; changing one purges the grid's cache so it
# asks again from the first block (dash-stack.md §1 "Refreshing on external filters").
clientside_callback(
    """function() {
        const api = dash_ag_grid.getApi('profiles-grid');
        if (api) { api.purgeInfiniteCache(); }
        return window.dash_clientside.no_update;
    }""",
    Output(page.PURGE_SINK, "children"),
    Input(page.SEARCH, "value"),
    Input(page.LOCATION, "value"),
    Input(page.SENIORITY, "value"),
    Input(page.ENRICHED, "value"),
    Input(page.PROJECT, "value"),
    Input(page.TAGS, "value"),
    prevent_initial_call=True,
)


@callback(
    Output(page.DETAIL, "is_open"),
    Output(page.DETAIL_BODY, "children"),
    Output(panel.DETAIL_MORE, "children"),
    Output(panel.PROFILE_ID, "data"),
    Input(page.GRID, "cellClicked"),
    prevent_initial_call=True,
)
def open_detail(cell: dict[str, Any] | None) -> tuple[Any, Any, Any, Any]:
    require_role("recruiter")
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
def show_annotations(profile_id: int | None, _changed: Any) -> tuple[Any, Any, Any]:
    """The open profile's tags and newest notes; opening another profile clears old messages."""
    user = require_role("recruiter")
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
    """Add or remove a tag, write or delete a note on the open profile."""
    user = require_role("recruiter")
    trigger = ctx.triggered_id
    if trigger is None or not ctx.triggered or not _clicked(ctx.triggered[0]["value"]):
        raise PreventUpdate
    if not isinstance(profile_id, int) or isinstance(profile_id, bool):
        return no_update, panel_alert("Open a profile first."), no_update, no_update
    tag_out: Any = no_update
    note_out: Any = no_update
    try:
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
    except tags_notes.AnnotationError as exc:
        return no_update, panel_alert(str(exc)), no_update, no_update
    return time.time_ns(), "", tag_out, note_out


def _id_in(ident: dict[str, Any], key: str) -> int:
    """The tag or note id of a button (a client could send anything there)."""
    value = ident.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PreventUpdate
    return value


def panel_alert(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="warning", className="py-1 px-2 small mb-2")


@callback(
    Output(page.TAGS, "options"),
    Output(panel.TAG_SUGGESTIONS, "children"),
    Input(page.TAGS, "id"),
    Input(panel.TAG_LIST, "children"),
)
def tag_options(_id: str | None, _tags_shown: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    """The team's tags for the grid's tag filter and the panel's suggestions (again after each
    tag change, which may have created one)."""
    require_role("recruiter")
    tags = tags_notes.list_tags()
    options = [{"label": f"{t.name} ({t.profile_count:,})", "value": t.id} for t in tags]
    return options, [html.Option(value=t.name) for t in tags]


@callback(Output(page.PROJECT, "options"), Input(page.PROJECT, "id"))
def project_options(_id: str | None) -> list[dict[str, Any]]:
    require_role("recruiter")
    return [{"label": p.name, "value": str(p.id)} for p in projects.list_project_names()]
