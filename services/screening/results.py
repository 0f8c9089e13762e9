"""Reading verdicts, recruiter overrides beside them, agreement rate, and version comparison."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row

from services import audit
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
from services.jobs import JobError

MAX_NOTE = 1000


@dataclass(frozen=True)
class Verdict:
    screening_id: int
    profile_id: int
    full_name: str
    current_title: str | None
    current_company: str | None
    version: int
    status: str
    score: int | None
    fit: str | None
    checks: list[dict[str, Any]] | None
    reasoning: str | None
    error: str | None
    model: str | None
    cost_usd: float | None
    updated_at: datetime
    override: str | None
    override_note: str | None


RESULTS_SQL = """
SELECT s.id AS screening_id, s.profile_id, p.full_name, p.current_title, p.current_company,
       v.version, s.status, s.score, s.fit, s.checks, s.reasoning, s.error, s.model,
       s.cost_usd::float AS cost_usd, s.updated_at, o.verdict AS override, o.note AS override_note
FROM screenings s JOIN prompt_versions v ON v.id = s.prompt_version_id
JOIN profiles p ON p.id = s.profile_id
LEFT JOIN screening_overrides o ON o.screening_id = s.id
WHERE s.project_id = %(project)s AND s.prompt_version_id = %(version)s
  AND (%(status)s::text IS NULL OR s.status = %(status)s)
ORDER BY s.updated_at DESC, s.id DESC
LIMIT %(limit)s
"""


def verdicts(
    project_id: int, version_id: int, status: str | None = None, limit: int = 200
) -> list[Verdict]:
    """The newest verdicts of one prompt version (optionally only done/failed/pending)."""
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(Verdict)) as cur:
        cur.execute(
            RESULTS_SQL,
            {"project": project_id, "version": version_id, "status": status, "limit": limit},
        )
        return cur.fetchall()


@dataclass(frozen=True)
class VersionCounts:
    pending: int
    done: int
    failed: int
    cost_usd: float
    by_fit: dict[str, int]


def counts(project_id: int, version_id: int) -> VersionCounts:
    with unit_of_work() as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'pending'),"
            " count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'failed'),"
            " coalesce(sum(cost_usd), 0)::float FROM screenings"
            " WHERE project_id = %s AND prompt_version_id = %s",
            (project_id, version_id),
        ).fetchone()
        fits = conn.execute(
            "SELECT fit, count(*) FROM screenings WHERE project_id = %s"
            " AND prompt_version_id = %s AND status = 'done' GROUP BY fit",
            (project_id, version_id),
        ).fetchall()
    assert row is not None
    return VersionCounts(
        int(row[0]), int(row[1]), int(row[2]), float(row[3]), {str(f): int(n) for f, n in fits}
    )


def set_override(user_id: int, screening_id: int, verdict: str, note: str = "") -> None:
    """Agree or disagree with a finished verdict; the model's answer is kept unchanged."""
    if verdict not in ("agree", "disagree"):
        raise JobError("Choose agree or disagree")
    note = (note or "").strip()[:MAX_NOTE]
    with unit_of_work() as conn:
        row = conn.execute(
            "SELECT status, project_id FROM screenings WHERE id = %s", (screening_id,)
        ).fetchone()
        if row is None:
            raise JobError("No such screening")
        if row[0] != "done":
            raise JobError("Only a finished verdict can be overridden")
        conn.execute(
            "INSERT INTO screening_overrides (screening_id, user_id, verdict, note)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (screening_id) DO UPDATE SET"
            " user_id = EXCLUDED.user_id, verdict = EXCLUDED.verdict, note = EXCLUDED.note,"
            " created_at = now()",
            (screening_id, user_id, verdict, note),
        )
        audit.record(
            conn,
            user_id,
            "screening.override",
            "screening",
            screening_id,
            {"verdict": verdict, "project_id": row[1]},
        )
    bump_data_version("insights")


@dataclass(frozen=True)
class Agreement:
    reviewed: int
    agree: int
    disagree: int

    @property
    def rate(self) -> float | None:
        return self.agree / self.reviewed if self.reviewed else None


def agreement(project_id: int) -> Agreement:
    """How often recruiters agreed with the model's verdicts in this project (all versions)."""
    with unit_of_work() as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE o.verdict = 'agree'),"
            " count(*) FILTER (WHERE o.verdict = 'disagree')"
            " FROM screening_overrides o JOIN screenings s ON s.id = o.screening_id"
            " WHERE s.project_id = %s",
            (project_id,),
        ).fetchone()
    assert row is not None
    return Agreement(int(row[0]), int(row[1]), int(row[2]))


@dataclass(frozen=True)
class Comparison:
    """Two prompt versions on the candidates both screened with the same data."""

    both: int
    same_fit: int
    mean_score_change: float | None


def compare(project_id: int, version_a: int, version_b: int) -> Comparison:
    with unit_of_work() as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE a.fit = b.fit),"
            " avg(b.score - a.score)::float"
            " FROM screenings a JOIN screenings b ON b.profile_id = a.profile_id"
            " AND b.project_id = a.project_id AND b.input_hash = a.input_hash"
            " WHERE a.project_id = %s AND a.prompt_version_id = %s"
            " AND b.prompt_version_id = %s AND a.status = 'done' AND b.status = 'done'",
            (project_id, version_a, version_b),
        ).fetchone()
    assert row is not None
    return Comparison(int(row[0]), int(row[1]), None if row[2] is None else float(row[2]))
