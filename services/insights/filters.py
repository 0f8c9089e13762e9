"""The insights filter: a date range, an optional project and an optional recruiter.

It travels in the page URL (`from`, `to`, `project`, `user`, `grain`) so a view can be shared, and
every aggregate is cached under its canonical form, so equal views share one cache entry.
Parsing refuses anything malformed instead of guessing: a tampered URL gets a clear message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from psycopg import sql

from services.core.errors import UserError

Grain = Literal["day", "week"]
GRAINS: tuple[Grain, ...] = ("day", "week")
DEFAULT_DAYS = 30
# A bound on the range keeps one chart's daily series (and its cost) bounded.
MAX_RANGE_DAYS = 731
MAX_PARAM_LENGTH = 40


class InsightsFilterError(UserError):
    """A filter value that cannot be used (message is safe to show)."""


@dataclass(frozen=True)
class InsightsFilter:
    """What every insights chart is computed for. Dates are inclusive UTC calendar days."""

    date_from: dt.date
    date_to: dt.date
    project_id: int | None = None
    user_id: int | None = None
    grain: Grain = "day"

    def __post_init__(self) -> None:
        if self.date_to < self.date_from:
            raise InsightsFilterError("The end date is before the start date.")
        if (self.date_to - self.date_from).days > MAX_RANGE_DAYS:
            raise InsightsFilterError(f"Choose a range of at most {MAX_RANGE_DAYS} days.")
        for name in ("project_id", "user_id"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise InsightsFilterError(f"{name} must be a positive whole number.")
        if self.grain not in GRAINS:
            raise InsightsFilterError("grain must be day or week.")

    @property
    def ts_from(self) -> dt.datetime:
        """Start of the first day (UTC), inclusive."""
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=dt.UTC)

    @property
    def ts_to(self) -> dt.datetime:
        """Start of the day after the last one (UTC), exclusive."""
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)

    def sql_params(self) -> dict[str, object]:
        """Bound parameters for the chart queries (names are the same in every module)."""
        return {
            "ts_from": self.ts_from,
            "ts_to": self.ts_to,
            "project_id": self.project_id,
            "user_id": self.user_id,
            "grain": self.grain,
        }

    def to_params(self) -> dict[str, str]:
        """The canonical URL parameters (also the cache-key form of this filter)."""
        out = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        if self.project_id is not None:
            out["project"] = str(self.project_id)
        if self.user_id is not None:
            out["user"] = str(self.user_id)
        if self.grain != "day":
            out["grain"] = self.grain
        return out


def default_filter(today: dt.date | None = None) -> InsightsFilter:
    today = today or dt.datetime.now(dt.UTC).date()
    return InsightsFilter(today - dt.timedelta(days=DEFAULT_DAYS - 1), today)


def _one(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if isinstance(value, list):  # a repeated key: the last one wins, like the grid's URL state
        value = value[-1] if value else None
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_PARAM_LENGTH:
        raise InsightsFilterError(f"The URL parameter {key!r} is not valid.")
    return value.strip()


def _date(params: Mapping[str, Any], key: str, default: dt.date) -> dt.date:
    raw = _one(params, key)
    if raw is None:
        return default
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise InsightsFilterError(f"{key!r} must be a date like 2026-01-31.") from exc


def _id(params: Mapping[str, Any], key: str) -> int | None:
    raw = _one(params, key)
    if raw is None:
        return None
    if not raw.isdigit():
        raise InsightsFilterError(f"{key!r} must be a positive whole number.")
    return int(raw)


def parse_filter(params: Mapping[str, Any], today: dt.date | None = None) -> InsightsFilter:
    """Build a filter from URL/query parameters; missing dates default to the last 30 days."""
    default = default_filter(today)
    grain = _one(params, "grain") or "day"
    if grain not in GRAINS:
        raise InsightsFilterError("grain must be day or week.")
    return InsightsFilter(
        date_from=_date(params, "from", default.date_from),
        date_to=_date(params, "to", default.date_to),
        project_id=_id(params, "project"),
        user_id=_id(params, "user"),
        grain=grain,  # type: ignore[arg-type]
    )


def where(conditions: list[sql.Composable]) -> sql.Composed:
    """`WHERE a AND b ...` from the conditions a filter needs (only those present, so the planner
    sees no `%s IS NULL OR ...` branches and can use the matching index)."""
    if not conditions:
        return sql.Composed([])
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(conditions)
