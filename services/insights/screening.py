"""Screening quality: score distribution and fit bands per project and prompt version, and how
often recruiters agree with the model's verdicts.

Only finished screenings count, those created in the date range; the recruiter filter keeps the
screenings run by jobs that recruiter started.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from services.insights.common import cached_chart, fetch_rows
from services.insights.filters import InsightsFilter, where

FITS: tuple[str, ...] = ("strong", "good", "maybe", "no")


@dataclass(frozen=True)
class ScoreRow:
    project_id: int
    project_name: str
    prompt_version: int
    score: int
    screenings: int


@dataclass(frozen=True)
class FitRow:
    project_id: int
    project_name: str
    prompt_version: int
    fit: str
    screenings: int


@dataclass(frozen=True)
class AgreementRow:
    project_id: int
    project_name: str
    prompt_version: int
    screened: int
    reviewed: int
    agree: int
    disagree: int
    agreement_rate: float | None  # agree / reviewed; None when nobody reviewed a verdict


def _conditions(f: InsightsFilter) -> list[sql.Composable]:
    conds: list[sql.Composable] = [
        sql.SQL("s.status = 'done'"),
        sql.SQL("s.created_at >= %(ts_from)s"),
        sql.SQL("s.created_at < %(ts_to)s"),
    ]
    if f.project_id is not None:
        conds.append(sql.SQL("s.project_id = %(project_id)s"))
    if f.user_id is not None:
        conds.append(
            sql.SQL("s.job_id IN (SELECT j.id FROM jobs j WHERE j.created_by = %(user_id)s)")
        )
    return conds


GROUPED_SQL = """
SELECT s.project_id, pr.name AS project_name, pv.version AS prompt_version,
       s.{column} AS {column}, count(*) AS screenings
FROM screenings s
JOIN prompt_versions pv ON pv.id = s.prompt_version_id
JOIN projects pr ON pr.id = s.project_id
{where}
GROUP BY s.project_id, pr.name, pv.version, s.{column}
ORDER BY pr.name, s.project_id, pv.version, s.{column}
"""

AGREEMENT_SQL = """
SELECT s.project_id, pr.name AS project_name, pv.version AS prompt_version,
       count(*) AS screened,
       count(o.screening_id) AS reviewed,
       count(*) FILTER (WHERE o.verdict = 'agree') AS agree,
       count(*) FILTER (WHERE o.verdict = 'disagree') AS disagree,
       (count(*) FILTER (WHERE o.verdict = 'agree'))::float8
           / nullif(count(o.screening_id), 0) AS agreement_rate
FROM screenings s
JOIN prompt_versions pv ON pv.id = s.prompt_version_id
JOIN projects pr ON pr.id = s.project_id
LEFT JOIN screening_overrides o ON o.screening_id = s.id
{where}
GROUP BY s.project_id, pr.name, pv.version
ORDER BY pr.name, s.project_id, pv.version
"""


def _grouped(f: InsightsFilter, column: str) -> sql.Composed:
    # column is one of two code constants, never user input.
    assert column in ("score", "fit")
    return sql.SQL(GROUPED_SQL).format(column=sql.Identifier(column), where=where(_conditions(f)))


def scores(f: InsightsFilter) -> list[ScoreRow]:
    """How many finished screenings got each score, per project and prompt version."""
    return cached_chart(
        "scores", f, lambda: fetch_rows(_grouped(f, "score"), f.sql_params(), ScoreRow)
    )


def fits(f: InsightsFilter) -> list[FitRow]:
    """How many finished screenings fell in each fit band, per project and prompt version."""
    return cached_chart("fits", f, lambda: fetch_rows(_grouped(f, "fit"), f.sql_params(), FitRow))


def agreement(f: InsightsFilter) -> list[AgreementRow]:
    """Recruiter reviews of the model's verdicts, per project and prompt version."""
    query = sql.SQL(AGREEMENT_SQL).format(where=where(_conditions(f)))
    return cached_chart("agreement", f, lambda: fetch_rows(query, f.sql_params(), AgreementRow))
