"""Profiles page callbacks: grid blocks, URL state, export link, detail panel, project options.

The grid callback always answers: an error returns an empty block at the current position and a
short message, because an exception would leave the block "loading" forever (dash-stack.md §1).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from dash import Input, Output, State, callback, clientside_callback, no_update

from layouts import ids
from layouts import profiles as page
from layouts.profile_detail import detail_panel
from services import grid, projects
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
) -> grid.GridQuery:
    return grid.parse_grid_query(
        filter_model=request.get("filterModel") or {},
        sort_model=request.get("sortModel") or [],
        search=search or "",
        location=location or "",
        seniority=seniority or [],
        enriched={"yes": True, "no": False}.get(enriched or ""),
        project_id=int(project) if project else None,
    )


@callback(
    Output(page.GRID, "getRowsResponse"),
    Output(page.COUNT, "children"),
    Output(page.ERROR, "children"),
    Output(page.ERROR, "is_open"),
    Output(ids.URL, "search"),
    Output(page.EXPORT, "href"),
    Input(page.GRID, "getRowsRequest"),
    State(page.SEARCH, "value"),
    State(page.LOCATION, "value"),
    State(page.SENIORITY, "value"),
    State(page.ENRICHED, "value"),
    State(page.PROJECT, "value"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def serve_block(
    request: dict[str, Any] | None,
    search: str | None,
    location: str | None,
    seniority: list[str] | None,
    enriched: str | None,
    project: str | None,
    current_search: str | None,
) -> tuple[Any, ...]:
    request = request or {}
    start = max(int(request.get("startRow") or 0), 0)
    end = min(max(int(request.get("endRow") or start + page.BLOCK_SIZE), start), start + MAX_BLOCK)
    try:
        require_role("recruiter")
        query = _query(request, search, location, seniority, enriched, project)
        block = grid.fetch_block(query, start, end)
    except (grid.GridQueryError, ValueError, PermissionError) as exc:
        return {"rowData": [], "rowCount": start}, no_update, str(exc), True, no_update, no_update
    except Exception:
        log.exception("grid block %s-%s failed", start, end)
        return (
            {"rowData": [], "rowCount": start},
            no_update,
            "Could not load these rows; scroll or change the view to retry.",
            True,
            no_update,
            no_update,
        )
    response = {"rowData": block.rows, "rowCount": block.row_count}
    if start != 0:
        return response, no_update, no_update, no_update, no_update, no_update
    # A first block means a new view: mirror it into the URL (pushState, no re-render).
    qs = urlencode(grid.query_to_url_params(query))
    new_search = f"?{qs}" if qs else ""
    count = f"{block.row_count:,} profiles" if block.row_count is not None else ""
    url_out = new_search if new_search != (current_search or "") else no_update
    return response, count, "", False, url_out, f"/download/profiles.csv{new_search}"


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
    prevent_initial_call=True,
)


@callback(
    Output(page.DETAIL, "is_open"),
    Output(page.DETAIL_BODY, "children"),
    Input(page.GRID, "cellClicked"),
    prevent_initial_call=True,
)
def open_detail(cell: dict[str, Any] | None) -> tuple[Any, Any]:
    require_role("recruiter")
    row_id = (cell or {}).get("rowId")
    if row_id is None:
        return no_update, no_update
    detail = grid.profile_detail(int(row_id))
    return True, detail_panel(detail)


@callback(Output(page.PROJECT, "options"), Input(page.PROJECT, "id"))
def project_options(_id: str | None) -> list[dict[str, Any]]:
    require_role("recruiter")
    return [{"label": p.name, "value": str(p.id)} for p in projects.list_project_names()]
