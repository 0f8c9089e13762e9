"""Time in the demo history: working days and hours before `now`, and moving the rows a real
code path just stamped with `now()` back to the moment the story says they happened.

Real service functions stamp their rows with the database clock. The history runs them in time
order and, right after each, sets what they stamped to the history time. Every history time lies
before the reference time `now`, and `now` is not after the database clock (checked first), so
"stamped at or after `now`" is exactly "written by the call that just ran".
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from services.core.db import unit_of_work
from services.core.errors import UserError

HISTORY_DAYS = 90
STEP_TIME = timedelta(minutes=45)  # longer than any one step takes (a search run, a review)
# Today's steps after the cutoff keep their order and spacing, 20-odd times faster: the rest
# of the day fits in 35 minutes, and each step's few minutes still end before `now`.
SQUEEZE = timedelta(minutes=35)
# (weekday) -> chance that a team member works that day; Monday is 0.
WORK_CHANCE = (0.92, 0.95, 0.93, 0.9, 0.8, 0.08, 0.04)


class DemoClockError(UserError):
    """The reference time cannot be used (it is in the database's future)."""


@dataclass(frozen=True)
class Day:
    """One calendar day (UTC) of the history; `ago` 0 is the day of `now`."""

    ago: int
    start: datetime
    now: datetime

    @property
    def weekday(self) -> int:
        return self.start.weekday()

    def at(self, hour: float) -> datetime:
        """This day at `hour` (UTC). Today, the steps that would start later than `STEP_TIME`
        before `now` are squeezed, in their order, into the time left (SQUEEZE): the history
        shows a whole working day for today, all of it over by `now`."""
        moment = self.start + timedelta(hours=hour)
        cutoff = self.now - STEP_TIME
        if self.ago > 0 or moment <= cutoff:
            return moment
        late = (moment - cutoff) / (self.start + timedelta(days=1) - cutoff)  # 0..1
        return cutoff + SQUEEZE * late

    @property
    def open(self) -> bool:
        """Whether there is room for work on this day (today: at least an hour has passed)."""
        return self.ago > 0 or self.now - self.start >= STEP_TIME + timedelta(minutes=15)


def days(now: datetime, count: int = HISTORY_DAYS) -> list[Day]:
    """The `count` days up to and including the day of `now`, oldest first."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [Day(ago, midnight - timedelta(days=ago), now) for ago in range(count - 1, -1, -1)]


def scaled(days_ago: int, count: int) -> int:
    """A plan's "days before now" in a history of `count` days instead of 90 (same shape)."""
    return min(count - 1, round(days_ago * count / HISTORY_DAYS))


def works(rng: random.Random, day: Day) -> bool:
    """Weekday pattern: most people work Monday to Friday, a few on a weekend."""
    return rng.random() < WORK_CHANCE[day.weekday]


def work_hour(rng: random.Random, low: float = 8.0, high: float = 17.5) -> float:
    """An hour in the (Berlin) working day, UTC, busiest late morning and early afternoon."""
    return min(high, max(low, rng.triangular(low, high, (low + high) / 2 - 0.5)))


def check_reference(now: datetime) -> None:
    if now.tzinfo is None:
        raise DemoClockError("The reference time needs a time zone (UTC).")
    with unit_of_work() as conn:
        row = conn.execute("SELECT %s::timestamptz > clock_timestamp()", (now,)).fetchone()
    if row and row[0]:
        raise DemoClockError("The demo history must lie in the past: `now` is after the clock.")


# Rows real code paths write with now(): (table, timestamp columns, the column marking them).
STAMPED: dict[str, tuple[str, tuple[str, ...]]] = {
    "audit_log": ("ts", ("ts",)),
    "projects": ("created_at", ("created_at", "updated_at")),
    "filter_lists": ("updated_at", ("created_at", "updated_at")),
    "prompt_versions": ("created_at", ("created_at",)),
    "profiles": ("created_at", ("created_at", "updated_at")),
    "project_profiles": ("added_at", ("added_at",)),
    "imports": ("created_at", ("created_at",)),
    "filter_results": ("evaluated_at", ("evaluated_at",)),
    "jobs": ("created_at", ("created_at", "started_at", "finished_at", "updated_at")),
    "screening_overrides": ("created_at", ("created_at",)),
    "tags": ("created_at", ("created_at",)),
    "profile_tags": ("added_at", ("added_at",)),
    "profile_notes": ("created_at", ("created_at",)),
}


def backdate(conn: psycopg.Connection, since: datetime, at: datetime, *tables: str) -> None:
    """Set the timestamps written at or after `since` in these tables (and audit_log) to `at`,
    in one statement (one data-modifying CTE per table: a round trip each would dominate)."""
    parts = []
    for n, table in enumerate(dict.fromkeys(("audit_log", *tables))):
        key, columns = STAMPED[table]  # table and column names are the constants above
        sets = ", ".join(f"{c} = CASE WHEN {c} IS NULL THEN NULL ELSE %(at)s END" for c in columns)
        parts.append(f"u{n} AS (UPDATE {table} SET {sets} WHERE {key} >= %(since)s RETURNING 1)")
    conn.execute(f"WITH {', '.join(parts)} SELECT 1", {"at": at, "since": since})


@dataclass(frozen=True)
class HistoryDb:
    """The history's own connection (autocommit: each `tx()` is one transaction), and moving
    what real code paths stamp with the clock to history times (see the module docstring)."""

    now: datetime
    conn: psycopg.Connection

    @contextmanager
    def tx(self) -> Iterator[psycopg.Connection]:
        with self.conn.transaction():
            yield self.conn

    @contextmanager
    def at(self, when: datetime, *tables: str) -> Iterator[None]:
        """Run real code paths inside; what they stamped in `tables` is moved back to `when`."""
        yield
        with self.tx() as conn:
            self.move(conn, when, *tables)

    def move(self, conn: psycopg.Connection, when: datetime, *tables: str) -> None:
        backdate(conn, self.now, when, *tables)
