"""Demo data: deterministic profiles and a believable 90-day history of a recruiting team.

`seed_demo` is the one entry point (`manage.py seed-demo` and the first start of `manage.py run`
call it): it adds the profiles (idempotent by URL), and on a database without projects it adds
the demo team (a lead and four recruiters) and their history relative to `now`, so that every
insights chart has data. The history goes through the real service functions where those do
not call a provider, and writes the rows a provider-calling path would have written where they
do (see each module). A database that already has projects gets no second history.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

import psycopg

from services.core.cache import bump_data_version
from services.demo import clock, history
from services.demo.plan import PROJECTS, TEAM
from services.demo.profiles import (
    COPY_COLUMNS,
    SeedResult,
    generate_rows,
    insert_lines,
    seed_profiles,
)
from services.demo.state import Demo, Pool
from services.demo.team import ensure_team
from services.demo.usage import Usage

__all__ = [
    "COPY_COLUMNS",
    "PROJECTS",
    "TEAM",
    "DemoReport",
    "SeedResult",
    "generate_rows",
    "seed_demo",
    "seed_profiles",
]

HELD_BACK_MAX = 600
COUNTED = (
    "projects",
    "searches",
    "imports",
    "screenings",
    "screening_overrides",
    "contact_lookups",
    "api_usage",
)


@dataclass(frozen=True)
class DemoReport:
    profiles: SeedResult
    history: bool  # False when the database already had projects
    counts: dict[str, int]


def seed_demo(
    conn: psycopg.Connection,
    count: int,
    seed: int,
    now: datetime,
    days: int = clock.HISTORY_DAYS,
) -> DemoReport:
    """Seed `count` profiles and, on a database without projects, the team's history of `days`
    days up to `now` (which must not be after the database clock). Commits `conn`."""
    if not 7 <= days <= 365:
        raise ValueError("A demo history covers 7 to 365 days.")
    clock.check_reference(now)
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM projects)").fetchone()
    if row and row[0]:
        profiles = seed_profiles(conn, count, seed, now)
        conn.commit()
        return DemoReport(profiles, False, {})
    # Some of the `count` people are not loaded now: the history's searches and uploads find
    # them (the rest are loaded at its end), so the database ends with `count` demo people.
    profiles = seed_profiles(conn, count, seed, now, hold_back=min(count // 10, HELD_BACK_MAX))
    users = ensure_team(conn, clock.days(now, days)[0].at(7.5))
    conn.commit()  # the real service functions below use their own pooled transactions
    conn.autocommit = True  # and the history's own statements run one transaction each
    rng = random.Random(f"sourcingx-demo:{seed}")
    demo = Demo(now, rng, Usage(rng), Pool.load(), clock.HistoryDb(now, conn), days, users)
    demo.unfound = list(profiles.held_back)
    try:
        history.run(demo)
        with conn.transaction():
            found = len(profiles.held_back) - len(demo.unfound)
            rest = insert_lines(conn, (p.line for p in demo.unfound))
        _finish(conn)
        result = SeedResult(count, profiles.inserted + found + rest)
        return DemoReport(result, True, _counts(conn))
    finally:
        conn.autocommit = False


def _finish(conn: psycopg.Connection) -> None:
    with conn.transaction():
        # Imports touch their project's updated_at with the real clock; the story's is its last.
        conn.execute(
            "UPDATE projects p SET updated_at = greatest(p.created_at, coalesce("
            " (SELECT max(pp.added_at) FROM project_profiles pp WHERE pp.project_id = p.id),"
            " p.created_at))"
        )
    bump_data_version("profiles", "projects", "insights", "filters")


def _counts(conn: psycopg.Connection) -> dict[str, int]:
    return {
        table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
        for table in COUNTED
    }
