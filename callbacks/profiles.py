"""Profiles page callbacks: grid blocks, URL state, export link, project and tag options (the
detail panel's are in callbacks/profile_panel.py).

The grid callback always answers: an error returns an empty block at the current position and a
short message, because an exception would leave the grid's block "loading" forever.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from dash import (
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

from callbacks.kit import guarded
from layouts import ids
from layouts import profile_detail as panel
from layouts import profiles as page
from services import grid, projects, tags_notes
from services.core.errors import UserError

log = logging.getLogger(__name__)
MAX_BLOCK = 500
GRID_JS = json.dumps(page.GRID)  # the grid's id as a JavaScript string literal


def _project_id(project: Any) -> Any:
    """The project dropdown's value (an id as text) as parse_grid_query takes it; anything else
    is passed on for it to refuse with its message."""
    if isinstance(project, str) and project.isascii() and project.isdigit():
        return int(project)
    return project or None


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
        project_id=_project_id(project),
        # A link's exact location match holds only while the location text is unchanged.
        location_exact=bool(exact.get("exact")) and exact.get("location") == (location or ""),
        tag_ids=tuple(tags or ()),  # validated (whole numbers only) by parse_grid_query
    )


def _failed_block(start: int, message: str) -> tuple[Any, ...]:
    """An empty block where the grid asked, and why (URL, export link, view and count request
    change with first blocks only)."""
    return {"rowData": [], "rowCount": start}, no_update, message, True, *(no_update,) * 4


def _block_refused(error: UserError) -> tuple[Any, ...]:
    request = ctx.inputs.get(f"{page.GRID}.getRowsRequest") or {}
    start = request.get("startRow") if isinstance(request, dict) else None
    return _failed_block(max(start, 0) if isinstance(start, int) else 0, error.user_message)


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
@guarded(role="recruiter", refused=_block_refused)
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
    try:
        query = _query(
            request, search, location, seniority, enriched, project, location_exact, tags
        )
        # Rows first: an uncounted view gets rowCount None (the grid keeps asking) and its count
        # is computed by count_view below; later blocks carry it once it is cached.
        block = grid.fetch_block(query, start, end, count="cached")
    except UserError as exc:
        return _failed_block(start, exc.user_message)
    except Exception:  # not left to the app's handler: the grid must get an answer
        log.exception("grid block %s-%s failed", start, end)
        return _failed_block(
            start, "Could not load these rows; scroll or change the view to retry."
        )
    return _block_answer(block, query, start, current_search)


def _block_answer(
    block: grid.BlockResult, query: grid.GridQuery, start: int, current_search: str | None
) -> tuple[Any, ...]:
    response = {"rowData": block.rows, "rowCount": block.row_count}
    if start != 0:
        return response, no_update, no_update, no_update, *(no_update,) * 4
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
@guarded(
    role="recruiter", refused=lambda error: _count_failed(f"Could not count: {error.user_message}")
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
        query = grid.url_params_to_query(parse_qs(request["view"].lstrip("?")))
        # A first ask may count within the budget; a poll only looks for the worker's number.
        counted = grid.view_count(query, try_exact=poll == 0)
    except UserError as exc:
        return _count_failed(f"Could not count: {exc.user_message}")
    except Exception:  # not left to the app's handler: the poll must stop
        log.exception("grid count failed")
        return _count_failed("Could not count these profiles.")
    return _count_answer(counted, request["view"], poll)


def _count_failed(label: str) -> tuple[str, Any]:
    set_props(page.COUNT_POLL, {"disabled": True})
    return label, no_update


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
        const api = dash_ag_grid.getApi(GRID);
        if (api) { api.setRowCount(counted.total, true); }
        return nu;
    }""".replace("GRID", GRID_JS),
    Output(page.ROW_COUNT_SINK, "children"),
    Input(page.COUNT_TOTAL, "data"),
    State(page.VIEW, "data"),
    prevent_initial_call=True,
)


# Browser back/forward changes the URL without telling the pages router when the previous entry
# was pushed by serve_block above (its Location has refresh=False, so the router's Location keeps
# a stale search and may see "no change"). When the URL no longer describes the view on screen,
# hand it to the router (Dash's PAGES_LOCATION), which renders the page from the URL again.
clientside_callback(
    """function(search, view, pathname) {
        const nu = window.dash_clientside.no_update;
        if (pathname !== '/profiles' || view === null || view === undefined) { return nu; }
        return (search || '') === view ? nu : (search || '');
    }""",
    Output(ids.PAGES_LOCATION, "search"),
    Input(ids.URL, "search"),
    State(page.VIEW, "data", allow_optional=True),
    State(ids.URL, "pathname"),
    prevent_initial_call=True,
)


# External filters are State of the grid callback, so the grid does not see them change:
# changing one purges the grid's cache so that it asks again from the first block.
clientside_callback(
    """function() {
        const api = dash_ag_grid.getApi(GRID);
        if (api) { api.purgeInfiniteCache(); }
        return window.dash_clientside.no_update;
    }""".replace("GRID", GRID_JS),
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
    Output(page.TAGS, "options"),
    Output(panel.TAG_SUGGESTIONS, "children"),
    Input(page.TAGS, "id"),
    Input(panel.TAG_LIST, "children"),
)
@guarded(role="recruiter")
def tag_options(_id: str | None, _tags_shown: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    """The team's tags for the grid's tag filter and the panel's suggestions (again after each
    tag change, which may have created one)."""
    tags = tags_notes.list_tags()
    options = [{"label": f"{t.name} ({t.profile_count:,})", "value": t.id} for t in tags]
    return options, [html.Option(value=t.name) for t in tags]


@callback(Output(page.PROJECT, "options"), Input(page.PROJECT, "id"))
@guarded(role="recruiter")
def project_options(_id: str | None) -> list[dict[str, Any]]:
    return [{"label": p.name, "value": str(p.id)} for p in projects.list_project_names()]
