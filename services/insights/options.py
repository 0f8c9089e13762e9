"""Choices for the insights filter dropdowns: every project and every team member by name."""

from __future__ import annotations

from dataclasses import dataclass

from services.core.db import unit_of_work


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class FilterOptions:
    projects: list[Option]
    users: list[Option]


def filter_options() -> FilterOptions:
    with unit_of_work() as conn:
        projects = conn.execute("SELECT id, name FROM projects ORDER BY name, id").fetchall()
        users = conn.execute(
            "SELECT id, CASE WHEN name = '' THEN email ELSE name END FROM users ORDER BY 2, id"
        ).fetchall()
    return FilterOptions(
        projects=[Option(int(r[0]), str(r[1])) for r in projects],
        users=[Option(int(r[0]), str(r[1])) for r in users],
    )
