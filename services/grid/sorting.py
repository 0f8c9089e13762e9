"""Sort model -> total ORDER BY, and the keyset predicates that continue after a known row.

Ordering is made total by appending `id` (unless the user already sorts by id, which is unique),
in the direction of the first sort column so that a (column, id) index serves both directions
by scanning forwards or backwards. NULL placement is Postgres' default (last for ASC, first for
DESC), which is also what such an index yields when scanned backwards.

Keyset: row-value comparison `(a, b, id) > (...)` is unusable with mixed directions and is wrong
for NULLs, so "after row v" is expanded into disjoint branches, each of which is a contiguous
range of the order and an index range scan for single-column sorts:

    for i in 1..n: a_1 = v_1 AND ... AND a_{i-1} = v_{i-1} AND <a_i after v_i>
    <a_i after v_i> = ASC:  v_i NULL -> nothing;      else a_i > v_i, or (separately) a_i IS NULL
                      DESC: v_i NULL -> a_i IS NOT NULL; else a_i < v_i
    (`= NULL` in a prefix becomes `IS NULL`)

The page layer runs each branch with its own ORDER BY/LIMIT and merges them (UNION ALL).
`skills` is not sortable (an array has no useful order; sort by another column instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql

from services.grid.columns import ALIAS, ID_COLUMN, Column, get_column
from services.grid.errors import GridQueryError, shown
from services.grid.params import Params, and_all

MAX_SORT_COLUMNS = 5


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY term."""

    column: Column
    descending: bool


def normalize_sort_model(
    model: object, columns: Mapping[str, Column] | None = None
) -> list[dict[str, str]]:
    """A canonical, validated copy of AG Grid's sortModel: [{"colId", "sort"}]."""
    if model is None:
        return []
    if not isinstance(model, list):
        raise GridQueryError("The sort model must be a list.")
    if len(model) > MAX_SORT_COLUMNS:
        raise GridQueryError(f"At most {MAX_SORT_COLUMNS} sort columns are allowed.")
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for item in model:
        if not isinstance(item, dict):
            raise GridQueryError("Each sort entry must be an object with colId and sort.")
        column = get_column(item.get("colId"), "sort", columns)
        if not column.sortable:
            raise GridQueryError(f"Column {column.col_id} cannot be sorted.")
        direction = item.get("sort")
        if direction not in ("asc", "desc"):
            raise GridQueryError(
                f"Sort direction {shown(direction)} on {column.col_id} is not asc or desc."
            )
        if item.get("type", "default") != "default":
            raise GridQueryError(f"Sort type {shown(item.get('type'))} is not supported.")
        if column.col_id in seen:
            raise GridQueryError(f"Column {column.col_id} appears twice in the sort.")
        seen.add(column.col_id)
        out.append({"colId": column.col_id, "sort": direction})
    return out


def sort_keys(
    model: list[dict[str, str]], columns: Mapping[str, Column] | None = None
) -> list[SortKey]:
    """The total order: the user's columns, then id (dropped after id, which is unique)."""
    keys: list[SortKey] = []
    for item in normalize_sort_model(model, columns):
        keys.append(SortKey(get_column(item["colId"], "sort", columns), item["sort"] == "desc"))
        if item["colId"] == ID_COLUMN.col_id:
            return keys
    primary_desc = keys[0].descending if keys else False
    keys.append(SortKey(ID_COLUMN, primary_desc))
    return keys


def order_by(keys: list[SortKey], alias: str = ALIAS) -> sql.Composable:
    """`ORDER BY a.x DESC, a.id DESC` for the keys (default NULL placement)."""
    terms = [
        sql.SQL("{} {}").format(k.column.ref(alias), sql.SQL("DESC" if k.descending else "ASC"))
        for k in keys
    ]
    return sql.SQL("ORDER BY ") + sql.SQL(", ").join(terms)


def key_values(row: dict[str, Any], keys: list[SortKey]) -> list[Any]:
    """The sort-key tuple of a DB row (raw values, not JSON-converted)."""
    return [row[k.column.col_id] for k in keys]


def encode_values(values: list[Any], keys: list[SortKey]) -> list[Any]:
    """JSON-safe form of a sort-key tuple (timestamps as ISO strings with offset)."""
    return [
        v.isoformat() if isinstance(v, datetime) else v for v, _k in zip(values, keys, strict=True)
    ]


def decode_values(raw: list[Any], keys: list[SortKey]) -> list[Any]:
    """Inverse of encode_values; raises ValueError/TypeError on a malformed entry."""
    if len(raw) != len(keys):
        raise ValueError("boundary does not match the sort")
    out: list[Any] = []
    for value, key in zip(raw, keys, strict=True):
        if value is None:
            if not key.column.nullable:
                raise ValueError("NULL boundary on a NOT NULL column")
            out.append(None)
        elif key.column.kind == "date":
            out.append(datetime.fromisoformat(value))
        elif key.column.kind == "number":
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError("number boundary is not an integer")
            out.append(value)
        else:
            if not isinstance(value, str):
                raise TypeError("text boundary is not a string")
            out.append(value)
    return out


def after_branches(
    keys: list[SortKey], values: list[Any], params: Params, alias: str = ALIAS
) -> list[sql.Composable]:
    """Disjoint conditions whose union is exactly the rows ordered after `values`."""
    return [
        branch for group in after_branch_groups(keys, values, params, alias) for branch in group
    ]


def after_branch_groups(
    keys: list[SortKey], values: list[Any], params: Params, alias: str = ALIAS
) -> list[list[sql.Composable]]:
    """after_branches grouped by the key they advance, outermost key first.

    Read in reverse (innermost group first, each group's branches in their order), the branches
    are consecutive ranges of the sort order: the page layer can stop as soon as it has enough.
    """
    groups: list[list[sql.Composable]] = []
    prefix: list[sql.Composable] = []
    for key, value in zip(keys, values, strict=True):
        ref = key.column.ref(alias)
        group: list[sql.Composable] = []
        if value is None:
            if key.descending:  # NULLs come first in DESC: every non-NULL value follows
                group.append(and_all([*prefix, sql.SQL("{} IS NOT NULL").format(ref)]))
            prefix.append(sql.SQL("{} IS NULL").format(ref))
            groups.append(group)
            continue
        ph = params.add(value)
        op = sql.SQL("<" if key.descending else ">")
        group.append(and_all([*prefix, sql.SQL("{} {} {}").format(ref, op, ph)]))
        if not key.descending and key.column.nullable:  # NULLs come last in ASC
            group.append(and_all([*prefix, sql.SQL("{} IS NULL").format(ref)]))
        prefix.append(sql.SQL("{} = {}").format(ref, ph))
        groups.append(group)
    return groups
