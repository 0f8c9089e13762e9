"""Named bind parameters collected while SQL is composed.

Every user value goes through `Params.add`, which returns a placeholder; the SQL text therefore
only ever holds allow-listed identifiers, fixed keywords and `%(pN)s` markers. One instance
lives for one query build and is never shared.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql


class Params:
    """An ordered name -> value map for one statement."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> sql.Placeholder:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return sql.Placeholder(name)


TRUE = sql.SQL("TRUE")


def and_all(parts: list[sql.Composable]) -> sql.Composable:
    """Conjunction of conditions (TRUE when there are none)."""
    if not parts:
        return TRUE
    if len(parts) == 1:
        return parts[0]
    return sql.SQL("({})").format(sql.SQL(" AND ").join(parts))


def or_all(parts: list[sql.Composable]) -> sql.Composable:
    """Disjunction of conditions (FALSE when there are none)."""
    if not parts:
        return sql.SQL("FALSE")
    if len(parts) == 1:
        return parts[0]
    return sql.SQL("({})").format(sql.SQL(" OR ").join(parts))
