"""The allow-list of grid columns: UI colId -> SQL column, value kind, and what it may be used for.

Nothing outside this table ever becomes an SQL identifier. Row output reads exactly these columns
(never `profile_raw` or other wide columns) and turns them into JSON-ready values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from psycopg import sql

from services.grid.errors import GridQueryError, shown

Kind = Literal["text", "number", "date"]
TABLE = "profiles"
ALIAS = "p"


@dataclass(frozen=True)
class Column:
    """One grid column. `skills` is a text[] filtered through sx_skills_text() and not sortable."""

    col_id: str
    sql_name: str
    kind: Kind
    nullable: bool
    sortable: bool = True
    is_array: bool = False
    is_flag: bool = False  # a boolean, filtered as the text "yes" / "no"

    def ref(self, alias: str = ALIAS) -> sql.Composable:
        """The column as a qualified identifier (alias.column)."""
        return sql.Identifier(alias, self.sql_name)

    def filter_expr(self, alias: str = ALIAS) -> sql.Composable:
        """The expression text/number/date filters compare against."""
        if self.is_array:
            # The IMMUTABLE wrapper from migration 0001 (array_to_string is only STABLE).
            return sql.SQL("sx_skills_text({})").format(self.ref(alias))
        if self.is_flag:
            return sql.SQL("CASE WHEN {0} THEN 'yes' WHEN NOT {0} THEN 'no' END").format(
                self.ref(alias)
            )
        return self.ref(alias)


COLUMNS: dict[str, Column] = {
    c.col_id: c
    for c in (
        Column("id", "id", "number", nullable=False),
        Column("full_name", "full_name", "text", nullable=False),
        Column("headline", "headline", "text", nullable=True),
        Column("current_title", "current_title", "text", nullable=True),
        Column("current_company", "current_company", "text", nullable=True),
        Column("location", "location", "text", nullable=True),
        Column("seniority", "seniority", "text", nullable=True),
        Column("years_experience", "years_experience", "number", nullable=True),
        Column("skills", "skills", "text", nullable=False, sortable=False, is_array=True),
        Column("enrichment_status", "enrichment_status", "text", nullable=False),
        Column("enriched_at", "enriched_at", "date", nullable=True),
        Column("created_at", "created_at", "date", nullable=False),
        # From the PhantomBuster exports (migration 0008). Only the two with a (column, id)
        # index sort: a sort on the others would read the whole table for every page.
        Column("connection_degree", "connection_degree", "text", nullable=True),
        Column("industry", "industry", "text", nullable=True),
        Column("school", "school", "text", nullable=True, sortable=False),
        Column("school_degree", "school_degree", "text", nullable=True, sortable=False),
        Column("months_in_role", "months_in_role", "number", nullable=True, sortable=False),
        Column("months_in_company", "months_in_company", "number", nullable=True, sortable=False),
        Column("shared_connections", "shared_connections", "number", nullable=True, sortable=False),
        Column(
            "is_open_profile",
            "is_open_profile",
            "text",
            nullable=True,
            sortable=False,
            is_flag=True,
        ),
        Column("is_premium", "is_premium", "text", nullable=True, sortable=False, is_flag=True),
        Column("profile_image_url", "profile_image_url", "text", nullable=True, sortable=False),
    )
}
ROW_KEYS: tuple[str, ...] = tuple(COLUMNS)
ID_COLUMN = COLUMNS["id"]


def get_column(col_id: object, purpose: str, columns: Mapping[str, Column] | None = None) -> Column:
    """The allow-listed column for a UI colId, or a GridQueryError naming the refused one.
    `columns` is another allow-list (the project view's); the profile grid's by default."""
    allowed = COLUMNS if columns is None else columns
    if isinstance(col_id, str) and col_id in allowed:
        return allowed[col_id]
    raise GridQueryError(f"Unknown column {shown(col_id)} in {purpose}.")


def select_list(alias: str = ALIAS) -> sql.Composable:
    """The grid's row columns, qualified, in ROW_KEYS order."""
    return sql.SQL(", ").join(COLUMNS[k].ref(alias) for k in ROW_KEYS)


def row_to_json(row: dict[str, Any], keys: tuple[str, ...] = ROW_KEYS) -> dict[str, Any]:
    """A DB row (dict_row) as grid row data: timestamps as ISO strings, skills as a list."""
    out: dict[str, Any] = {}
    for key in keys:
        value = row[key]
        if isinstance(value, datetime):
            value = value.isoformat()
        elif key == "skills":
            value = list(value or [])
        out[key] = value
    return out
