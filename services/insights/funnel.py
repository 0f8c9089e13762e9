"""The sourcing funnel per project and for the team.

A project's candidates are its `project_profiles` rows added in the date range (and by the chosen
recruiter). Each stage counts those candidates independently:
sourced (all) → enriched → passed filters → screened (a finished screening) → strong/good fit
(by the latest finished screening, i.e. the newest prompt version) → shortlisted → contacts found,
then the recruiters' pipeline stages (services/stages.py): contacted → replied → interviewing →
hired, each counting the members that got at least that far (`stage_reached`, kept through a
rejection). Rejections are counted beside them (in the table and CSV, not as a funnel step).
The stage counts read only project_profiles columns already scanned, so they add no join.

The chart sums counts kept per project, UTC day and recruiter (funnel_rollup, migration 0010),
which triggers mark stale and jobs and the read itself refresh; `funnel_full` is the same
funnel counted from every membership in the range, kept as the rollup's reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from psycopg import sql

from services.insights import funnel_rollup
from services.insights.common import cached_chart, fetch_rows
from services.insights.filters import InsightsFilter, where
from services.insights.funnel_rollup import COUNTS, JOINS, LATEST, RESULT

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


# GROUPING SETS gives every project's row and the team row from one scan. `pp` is inlined and
# `latest` no longer joins it: materialising the memberships and joining them twice cost ~25 %
# of the query at 1M profiles. The counting itself is shared with the rollup (funnel_rollup).
FUNNEL_SQL = f"""
WITH pp AS NOT MATERIALIZED (
    SELECT pp.project_id, pp.profile_id, pp.shortlisted, pp.stage, pp.stage_reached
    FROM project_profiles pp {{where}}
), {LATEST}, counted AS (
    SELECT CASE WHEN grouping(pp.project_id) = 0 THEN pp.project_id END AS project_id,
           {COUNTS}
    FROM pp
    {JOINS}
    GROUP BY GROUPING SETS ((pp.project_id), ())
)
{RESULT}"""


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


def funnel_full(f: InsightsFilter) -> list[FunnelRow]:
    """The funnel counted from every membership in the range (the rollup's reference)."""
    return fetch_rows(_query(f), f.sql_params(), FunnelRow)


def funnel(f: InsightsFilter) -> list[FunnelRow]:
    """The team row first (when any candidate matches), then one row per project by name;
    summed from the rollup (funnel_rollup), which is brought up to date first."""
    return cached_chart("funnel", f, lambda: funnel_rollup.read(f, FunnelRow))
