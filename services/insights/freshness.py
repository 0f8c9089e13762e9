"""Data freshness: how old each profile's enrichment is, and how many are due for a refresh.

Buckets are fractions and multiples of `settings.enrichment_freshness_days` (F): under F/3, F/3 to
2F/3, 2F/3 to F, F to 2F, 2F to 4F, over 4F, and never enriched. Enrichments older than F are due.
This is a picture of now, so only the project filter applies (not the dates or the recruiter).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from psycopg import sql

from services.core.settings import get_settings
from services.insights.common import cached_chart, fetch_rows
from services.insights.filters import InsightsFilter

ANY_DAY = dt.date(2000, 1, 1)


@dataclass(frozen=True)
class FreshnessRow:
    bucket: int  # 0..5 by age, 6 = never enriched
    label: str
    profiles: int
    due: bool  # older than the freshness window (never-enriched rows are not "due", just pending)


# Bucket edges are bound as timestamps (now minus each edge), so each row costs a few timestamp
# comparisons rather than an interval computation; ages in the future count as fresh.
FRESHNESS_SQL = """
SELECT CASE WHEN p.enriched_at IS NULL THEN 6
            WHEN p.enriched_at > %(e1)s THEN 0
            WHEN p.enriched_at > %(e2)s THEN 1
            WHEN p.enriched_at > %(e3)s THEN 2
            WHEN p.enriched_at > %(e4)s THEN 3
            WHEN p.enriched_at > %(e5)s THEN 4
            ELSE 5 END AS bucket,
       count(*) AS profiles
FROM profiles p {project_join}
GROUP BY 1
ORDER BY 1
"""


@dataclass(frozen=True)
class _Bucket:
    bucket: int
    profiles: int


def _labels(days: int) -> list[str]:
    edges = _edges(days)
    labels = [f"{edges[i]:g} to {edges[i + 1]:g} days" for i in range(len(edges) - 1)]
    return [*labels, f"over {edges[-1]:g} days", "never enriched"]


def _edges(days: int) -> list[float]:
    return [0.0, round(days / 3, 1), round(2 * days / 3, 1), float(days), 2.0 * days, 4.0 * days]


def _compute(f: InsightsFilter, days: int) -> list[FreshnessRow]:
    join = (
        sql.SQL(
            "JOIN project_profiles pp ON pp.profile_id = p.id AND pp.project_id = %(project_id)s"
        )
        if f.project_id is not None
        else sql.Composed([])
    )
    query = sql.SQL(FRESHNESS_SQL).format(project_join=join)
    now = dt.datetime.now(dt.UTC)
    params: dict[str, object] = {
        f"e{i}": now - dt.timedelta(days=edge) for i, edge in enumerate(_edges(days)) if i
    }
    params["project_id"] = f.project_id
    found = {b.bucket: b.profiles for b in fetch_rows(query, params, _Bucket)}
    labels = _labels(days)
    return [
        FreshnessRow(bucket=i, label=labels[i], profiles=found.get(i, 0), due=3 <= i <= 5)
        for i in range(7)
        if found
    ]


def freshness(f: InsightsFilter) -> list[FreshnessRow]:
    """Every bucket (zeros included) when the selection has profiles; [] when it has none."""
    days = get_settings().enrichment_freshness_days
    # Ages are relative to now, so the dates are not part of this chart's key.
    scope = InsightsFilter(ANY_DAY, ANY_DAY, project_id=f.project_id)
    return cached_chart(f"freshness:{days}", scope, lambda: _compute(scope, days))
