"""The grid's view state (GridQuery), its validation, its WHERE clause and its cache identity.

A GridQuery holds only canonical, validated data (filter/sort models normalised by filters.py and
sorting.py), so equal views produce equal cache keys. SQL is always rebuilt from it through the
allow-lists, so even a hand-built GridQuery cannot smuggle identifiers or text into SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from services.grid.columns import ALIAS
from services.grid.errors import GridQueryError
from services.grid.filters import compile_filter_model, like_escape, normalize_filter_model
from services.grid.params import Params, and_all
from services.grid.search import normalize_search, search_condition
from services.grid.sorting import normalize_sort_model

MAX_LOCATION_LENGTH = 200
MAX_SENIORITY_VALUES = 20
MAX_TAG_VALUES = 20


@dataclass(frozen=True)
class GridQuery:
    """Everything that decides which rows the grid shows, and in which order."""

    filter_model: dict[str, Any] = field(default_factory=dict)
    sort_model: list[dict[str, str]] = field(default_factory=list)
    search: str = ""
    location: str = ""
    seniority: tuple[str, ...] = ()
    enriched: bool | None = None
    project_id: int | None = None
    location_exact: bool = False  # False: location contains the text; True: equals it
    tag_ids: tuple[int, ...] = ()  # profiles carrying any of these tags (sorted, distinct)

    def filter_identity(self) -> dict[str, Any]:
        """What decides the row set (not its order): the row-count cache key."""
        return {
            "f": self.filter_model,
            "q": self.search,
            "loc": [self.location, self.location_exact],
            "sen": sorted(self.seniority),
            "enr": self.enriched,
            "proj": self.project_id,
            **({"tags": list(self.tag_ids)} if self.tag_ids else {}),
        }

    def view_identity(self) -> dict[str, Any]:
        """Row set plus order: the key of remembered block boundaries."""
        return {**self.filter_identity(), "s": self.sort_model}


def parse_grid_query(
    filter_model: object = None,
    sort_model: object = None,
    search: object = "",
    location: object = "",
    seniority: object = (),
    enriched: object = None,
    project_id: object = None,
    location_exact: object = False,
    tag_ids: object = (),
) -> GridQuery:
    """Validate raw UI values into a GridQuery; raises GridQueryError with a user-facing text."""
    place = _location(location)
    levels = _seniority(seniority)
    if "\x00" in place or any("\x00" in s for s in levels):
        raise GridQueryError("Location and seniority cannot contain NUL characters.")
    is_enriched = _enriched(enriched)
    project = _project_id(project_id)
    exact = _location_exact(location_exact)
    tags = _tag_ids(tag_ids)
    return GridQuery(
        filter_model=normalize_filter_model(filter_model),
        sort_model=normalize_sort_model(sort_model),
        search=normalize_search(search),
        location=place.strip(),
        seniority=tuple(sorted(set(levels))),
        enriched=is_enriched,
        project_id=project,
        # "exact" means nothing without a location; keeping it would split cache keys and URLs
        location_exact=exact and bool(place.strip()),
        tag_ids=tags,
    )


def _location(value: object) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > MAX_LOCATION_LENGTH:
        raise GridQueryError(f"The location must be text of at most {MAX_LOCATION_LENGTH} chars.")
    return value


def _seniority(value: object) -> list[str] | tuple[str, ...]:
    if value is None:
        value = ()
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or len(value) > MAX_SENIORITY_VALUES:
        raise GridQueryError(f"Seniority must be a list of at most {MAX_SENIORITY_VALUES} values.")
    if not all(isinstance(s, str) and 0 < len(s) <= 100 for s in value):
        raise GridQueryError("Each seniority value must be non-empty text.")
    return value


def _enriched(value: object) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise GridQueryError("'Enriched' must be yes, no or unset.")
    return value


def _project_id(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise GridQueryError("The project must be a positive whole number.")
    return value


def _location_exact(value: object) -> bool:
    if not isinstance(value, bool):
        raise GridQueryError("location_exact must be true or false.")
    return value


def _tag_ids(value: object) -> tuple[int, ...]:
    """Tag ids as whole numbers; unknown ids are allowed (they match no profile)."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or len(value) > MAX_TAG_VALUES:
        raise GridQueryError(f"Tags must be a list of at most {MAX_TAG_VALUES} tag ids.")
    if not all(isinstance(t, int) and not isinstance(t, bool) and 0 < t < 2**63 for t in value):
        raise GridQueryError("Each tag must be a tag id (a positive whole number).")
    return tuple(sorted(set(value)))


def where_clause(query: GridQuery, params: Params, alias: str = ALIAS) -> sql.Composable:
    """The WHERE condition (without the keyword) for a view; re-validates everything."""
    checked = parse_grid_query(
        query.filter_model,
        query.sort_model,
        query.search,
        query.location,
        query.seniority,
        query.enriched,
        query.project_id,
        query.location_exact,
        query.tag_ids,
    )
    if alias != ALIAS:
        raise ValueError("filters are compiled against the 'p' alias")
    parts = compile_filter_model(checked.filter_model, params)
    found = search_condition(checked.search, params)
    if found is not None:
        parts.append(found)
    parts.extend(_profile_conditions(checked, params, alias))
    parts.extend(_membership_conditions(checked, params, alias))
    return and_all(parts)


def _profile_conditions(checked: GridQuery, params: Params, alias: str) -> list[sql.Composable]:
    """Location, seniority and enrichment, on the profile's own columns."""
    parts: list[sql.Composable] = []
    if checked.location:
        ref = sql.Identifier(alias, "location")
        if checked.location_exact:
            parts.append(
                sql.SQL("lower({}) = lower({}::text)").format(ref, params.add(checked.location))
            )
        else:
            pattern = params.add(f"%{like_escape(checked.location)}%")
            parts.append(sql.SQL("{} ILIKE {}::text").format(ref, pattern))
    if checked.seniority:
        parts.append(
            sql.SQL("{} = ANY({}::text[])").format(
                sql.Identifier(alias, "seniority"), params.add(list(checked.seniority))
            )
        )
    if checked.enriched is not None:
        op = sql.SQL("=" if checked.enriched else "<>")
        parts.append(
            sql.SQL("{} {} 'enriched'").format(sql.Identifier(alias, "enrichment_status"), op)
        )
    return parts


def _membership_conditions(checked: GridQuery, params: Params, alias: str) -> list[sql.Composable]:
    """Project membership and tags, as semi-joins."""
    parts: list[sql.Composable] = []
    if checked.project_id is not None:
        parts.append(
            sql.SQL(
                "EXISTS (SELECT 1 FROM project_profiles pp "
                "WHERE pp.project_id = {} AND pp.profile_id = {})"
            ).format(params.add(checked.project_id), sql.Identifier(alias, "id"))
        )
    if checked.tag_ids:
        # Semi-join on profile_tags: the primary key (profile_id, tag_id) answers it per row,
        # the (tag_id, profile_id) index from the tag side; the ids are one bound array.
        parts.append(
            sql.SQL(
                "EXISTS (SELECT 1 FROM profile_tags pt "
                "WHERE pt.profile_id = {} AND pt.tag_id = ANY({}::bigint[]))"
            ).format(sql.Identifier(alias, "id"), params.add(list(checked.tag_ids)))
        )
    return parts


def canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON (used for URLs and hashing)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
