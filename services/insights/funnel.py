"""The sourcing funnel per project and for the team, counted in one grouped query.

A project's candidates are its `project_profiles` rows added in the date range (and by the chosen
recruiter). Each stage counts those candidates independently:
sourced (all) → enriched → passed filters → screened (a finished screening) → strong/good fit
(by the latest finished screening, i.e. the newest prompt version) → shortlisted → contacts found,
then the recruiters' pipeline stages (services/stages.py): contacted → replied → interviewing →
hired, each counting the members that got at least that far (`stage_reached`, kept through a
rejection). Rejections are counted beside them (in the table and CSV, not as a funnel step).
The stage counts read only project_profiles columns already scanned, so they add no join.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from psycopg import sql

from services.insights.common import cached_chart, fetch_rows
from services.insights.filters import InsightsFilter, where

STAGES: tuple[tuple[str, str], ...] = (
    ("sourced", "Sourced"),
    ("enriched", "Enriched"),
    ("passed_filters", "Passed filters"),
    ("screened", "Screened"),
    ("qualified", "Strong/good fit"),
    ("shortlisted", "Shortlisted"),
    ("contacted", "Contacts found"),
    ("reached_contacted", "Contacted"),
    ("reached_replied", "Replied"),
    ("reached_interviewing", "Interviewing"),
    ("hired", "Hired"),
)


@dataclass(frozen=True)
class FunnelRow:
    """One project's funnel; project_id None is the team total over every project shown."""

    project_id: int | None
    project_name: str
    sourced: int
    enriched: int
    passed_filters: int
    screened: int
    qualified: int
    shortlisted: int
    contacted: int
    reached_contacted: int
    reached_replied: int
    reached_interviewing: int
    hired: int
    rejected: int

    def counts(self) -> list[int]:
        return [int(getattr(self, field)) for field, _ in STAGES]

    def conversion(self) -> list[float | None]:
        """Each stage as a share of the stage before it (None where that stage is empty)."""
        counts = self.counts()
        return [None] + [b / a if a else None for a, b in pairwise(counts)]


# GROUPING SETS gives every project's row and the team row from one scan; the latest finished
# screening per candidate comes from DISTINCT ON over the newest prompt version (an index walk,
# migration 0007). `pp` is inlined and `latest` no longer joins it: materialising the memberships
# and joining them twice cost ~25 % of the query at 1M profiles.
FUNNEL_SQL = """
WITH pp AS NOT MATERIALIZED (
    SELECT pp.project_id, pp.profile_id, pp.shortlisted, pp.stage, pp.stage_reached
    FROM project_profiles pp {where}
), latest AS (
    SELECT DISTINCT ON (s.project_id, s.profile_id) s.project_id, s.profile_id, s.fit
    FROM screenings s
    WHERE s.status = 'done' {latest_where}
    ORDER BY s.project_id, s.profile_id, s.prompt_version_id DESC
), counted AS (
    SELECT CASE WHEN grouping(pp.project_id) = 0 THEN pp.project_id END AS project_id,
           count(*) AS sourced,
           count(*) FILTER (WHERE p.enrichment_status = 'enriched') AS enriched,
           count(*) FILTER (WHERE fr.passed) AS passed_filters,
           count(l.profile_id) AS screened,
           count(*) FILTER (WHERE l.fit IN ('strong', 'good')) AS qualified,
           count(*) FILTER (WHERE pp.shortlisted) AS shortlisted,
           count(*) FILTER (WHERE cl.status = 'found') AS contacted,
           count(*) FILTER (WHERE pp.stage_reached >= 1) AS reached_contacted,
           count(*) FILTER (WHERE pp.stage_reached >= 2) AS reached_replied,
           count(*) FILTER (WHERE pp.stage_reached >= 3) AS reached_interviewing,
           count(*) FILTER (WHERE pp.stage_reached >= 4) AS hired,
           count(*) FILTER (WHERE pp.stage = 'rejected') AS rejected
    FROM pp
    JOIN profiles p ON p.id = pp.profile_id
    LEFT JOIN filter_results fr
           ON fr.project_id = pp.project_id AND fr.profile_id = pp.profile_id
    LEFT JOIN latest l ON l.project_id = pp.project_id AND l.profile_id = pp.profile_id
    LEFT JOIN contact_lookups cl ON cl.profile_id = pp.profile_id
    GROUP BY GROUPING SETS ((pp.project_id), ())
)
SELECT c.project_id, coalesce(pr.name, 'All projects') AS project_name, c.sourced, c.enriched,
       c.passed_filters, c.screened, c.qualified, c.shortlisted, c.contacted,
       c.reached_contacted, c.reached_replied, c.reached_interviewing, c.hired, c.rejected
FROM counted c LEFT JOIN projects pr ON pr.id = c.project_id
WHERE c.sourced > 0
ORDER BY c.project_id IS NOT NULL, pr.name, c.project_id
"""


def _query(f: InsightsFilter) -> sql.Composed:
    conds: list[sql.Composable] = [
        sql.SQL("pp.added_at >= %(ts_from)s"),
        sql.SQL("pp.added_at < %(ts_to)s"),
    ]
    latest_where: sql.Composable = sql.SQL("")
    if f.project_id is not None:
        conds.append(sql.SQL("pp.project_id = %(project_id)s"))
        latest_where = sql.SQL("AND s.project_id = %(project_id)s")
    if f.user_id is not None:
        conds.append(sql.SQL("pp.added_by = %(user_id)s"))
    return sql.SQL(FUNNEL_SQL).format(where=where(conds), latest_where=latest_where)


def funnel(f: InsightsFilter) -> list[FunnelRow]:
    """The team row first (when any candidate matches), then one row per project by name."""
    return cached_chart("funnel", f, lambda: fetch_rows(_query(f), f.sql_params(), FunnelRow))
