"""The view state as URL query parameters, so the page URL can be the state (and shared).

Compact keys: f (filter model, compact JSON), s (sort: `col,-col` where - means desc), q (search),
loc / loc_eq (location, exact match flag), sen (seniority, JSON list), enr (1/0), proj (id),
tag (tag ids, comma-separated).
Decoding goes through parse_grid_query, so a tampered URL is refused like any other bad input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from services.grid.errors import GridQueryError
from services.grid.query import GridQuery, canonical_json, parse_grid_query

MAX_PARAM_LENGTH = 4000


def query_to_url_params(query: GridQuery) -> dict[str, str]:
    """Only non-default parts; equal views give equal parameters."""
    out: dict[str, str] = {}
    if query.filter_model:
        out["f"] = canonical_json(query.filter_model)
    if query.sort_model:
        out["s"] = ",".join(
            ("-" if s["sort"] == "desc" else "") + s["colId"] for s in query.sort_model
        )
    if query.search:
        out["q"] = query.search
    if query.location:
        out["loc"] = query.location
        if query.location_exact:
            out["loc_eq"] = "1"
    if query.seniority:
        out["sen"] = canonical_json(list(query.seniority))
    if query.enriched is not None:
        out["enr"] = "1" if query.enriched else "0"
    if query.project_id is not None:
        out["proj"] = str(query.project_id)
    if query.tag_ids:
        out["tag"] = ",".join(str(t) for t in query.tag_ids)
    return out


def _one(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if isinstance(value, list):  # a repeated key (Dash pages pass a list): the last one wins
        value = value[-1] if value else None
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_PARAM_LENGTH:
        raise GridQueryError(f"The URL parameter {key!r} is not valid.")
    return value


def _json(params: Mapping[str, Any], key: str) -> Any:
    raw = _one(params, key)
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise GridQueryError(f"The URL parameter {key!r} is not valid JSON.") from None


def url_params_to_query(params: Mapping[str, Any]) -> GridQuery:
    """The GridQuery a URL describes (raises GridQueryError for anything invalid)."""
    sort_raw = _one(params, "s") or ""
    sort_model = [
        {"colId": part.lstrip("-"), "sort": "desc" if part.startswith("-") else "asc"}
        for part in sort_raw.split(",")
        if part
    ]
    enr = _one(params, "enr")
    if enr not in (None, "", "0", "1"):
        raise GridQueryError("The URL parameter 'enr' must be 1 or 0.")
    proj = _one(params, "proj")
    if proj and not proj.isdigit():
        raise GridQueryError("The URL parameter 'proj' must be a project id.")
    tag = _one(params, "tag") or ""
    tags = [part for part in tag.split(",") if part]
    if not all(part.isdigit() and part.isascii() for part in tags):
        raise GridQueryError("The URL parameter 'tag' must be tag ids separated by commas.")
    return parse_grid_query(
        filter_model=_json(params, "f") or {},
        sort_model=sort_model,
        search=_one(params, "q") or "",
        location=_one(params, "loc") or "",
        seniority=tuple(_json(params, "sen") or ()),
        enriched=None if enr in (None, "") else enr == "1",
        project_id=int(proj) if proj else None,
        location_exact=_one(params, "loc_eq") == "1",
        tag_ids=tuple(int(part) for part in tags),
    )
