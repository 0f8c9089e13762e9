"""Insights: funnel, screening quality, activity, spend and data freshness, aggregated in SQL.

Each chart is one public function taking an `InsightsFilter` and returning a short list of typed
rows, cached in Redis by filter and data version (see `common`). `CHARTS` names them for the page,
its callbacks and the CSV route, so adding a chart is one entry here and one figure builder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from services.insights import activity, freshness, funnel, screening, spend
from services.insights.common import chart_key, single_flight
from services.insights.filters import (
    InsightsFilter,
    InsightsFilterError,
    default_filter,
    parse_filter,
)

T = TypeVar("T")

__all__ = [
    "CHARTS",
    "Chart",
    "InsightsFilter",
    "InsightsFilterError",
    "chart_rows",
    "chart_view",
    "csv_lines",
    "default_filter",
    "parse_filter",
    "table_records",
]


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    hint: str
    compute: Callable[[InsightsFilter], Sequence[Any]]
    row_type: type


CHARTS: dict[str, Chart] = {
    c.name: c
    for c in (
        Chart(
            "funnel",
            "Funnel",
            "Candidates added in the range, stage by stage, with conversion from the stage before.",
            funnel.funnel,
            funnel.FunnelRow,
        ),
        Chart(
            "scores",
            "Screening scores",
            "Finished screenings per score (1 to 10), by project and prompt version.",
            screening.scores,
            screening.ScoreRow,
        ),
        Chart(
            "fits",
            "Fit bands",
            "Finished screenings per fit band, by project and prompt version.",
            screening.fits,
            screening.FitRow,
        ),
        Chart(
            "agreement",
            "Recruiter agreement",
            "Share of reviewed verdicts the recruiter agreed with, per prompt version.",
            screening.agreement,
            screening.AgreementRow,
        ),
        Chart(
            "activity",
            "Activity",
            "Searches, imports, screenings and contact lookups per recruiter.",
            activity.activity,
            activity.ActivityRow,
        ),
        Chart(
            "spend_daily",
            "Spend per day",
            "API cost per provider per day (UTC).",
            spend.daily,
            spend.DailySpendRow,
        ),
        Chart(
            "spend_users",
            "Spend per recruiter",
            "API cost per recruiter and provider.",
            spend.by_user,
            spend.UserSpendRow,
        ),
        Chart(
            "spend_projects",
            "Spend per project",
            "All provider spend of a project, per strong/good fit and per contacted candidate.",
            spend.by_project,
            spend.ProjectSpendRow,
        ),
        Chart(
            "budgets",
            "Budgets today",
            "Today's use of each provider's daily budget (team-wide; dates set the daily average).",
            spend.budgets,
            spend.BudgetRow,
        ),
        Chart(
            "freshness",
            "Enrichment freshness",
            "Age of each profile's enrichment now; older than the freshness window is due.",
            freshness.freshness,
            freshness.FreshnessRow,
        ),
    )
}


def chart_rows(name: str, f: InsightsFilter) -> Sequence[Any]:
    """The rows of one chart; a name outside CHARTS is refused (it comes from a URL)."""
    chart = CHARTS.get(name)
    if chart is None:
        raise InsightsFilterError(f"There is no chart called {name!r}.")
    return chart.compute(f)


# Never longer than the shortest row cache (spend: 60 s), so a view is never staler than its rows.
VIEW_TTL_S = 60


def chart_view(name: str, f: InsightsFilter, render: Callable[[Sequence[Any]], T]) -> T:
    """What a chart shows, rendered from its rows by `render`, cached under the same filter and
    data versions as the rows: a warm request for a large chart (a bar per recruiter per day over
    six months) then skips rebuilding its figure and table."""
    if name not in CHARTS:
        raise InsightsFilterError(f"There is no chart called {name!r}.")
    return single_flight(
        chart_key(f"{name}:view", f), lambda: render(chart_rows(name, f)), VIEW_TTL_S
    )


def columns(name: str) -> list[str]:
    return [field.name for field in fields(CHARTS[name].row_type)]


def _cell(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value


def table_records(name: str, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows as plain dicts (JSON-ready) for the table view of a chart."""
    keys = columns(name)
    return [{k: _cell(getattr(r, k)) for k in keys} for r in rows]


# Cells a spreadsheet would run as a formula get a leading quote (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> str:
    value = _cell(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    return str(value)


def csv_lines(name: str, rows: Sequence[Any]) -> Iterator[list[str]]:
    """The header, then one list of formula-safe cells per row (numbers stay numbers)."""
    keys = columns(name)
    yield keys
    for r in rows:
        yield [_csv_cell(getattr(r, k)) for k in keys]
