"""Pipeline stages of project members: sourced → contacted → replied → interviewing → hired, or
rejected at any point.

A move is bulk (the rows selected in the project grid), one transaction: the members' stage and
stage_changed_at, one history row per member that actually changed, and one audit row.
`stage_reached` keeps how far along the path a member got: moving along the path (forwards, or
back to correct a mistake) sets it to that stage; a rejection leaves it, so the funnel still
counts a candidate rejected after the interview as contacted, replied and interviewed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from psycopg.rows import class_row

from services import audit
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
from services.core.errors import UserError
from services.insights import funnel_rollup

PATH: tuple[str, ...] = ("sourced", "contacted", "replied", "interviewing", "hired")
STAGES: tuple[str, ...] = (*PATH, "rejected")
LABELS: dict[str, str] = {s: s.capitalize() for s in STAGES}
MAX_SELECTION = 5000
AUDITED_IDS = 200  # the audit row lists at most this many ids (and always the count)


class StageError(UserError):
    """A stage move that cannot be carried out (message is safe to show)."""


@dataclass(frozen=True)
class MoveResult:
    moved: int  # members whose stage changed
    unchanged: int  # selected members already in that stage
    not_members: int  # selected profiles that are not in the project


@dataclass(frozen=True)
class StageChange:
    profile_id: int
    from_stage: str
    to_stage: str
    changed_by: int | None
    changed_at: dt.datetime


def reached_rank(stage: str) -> int | None:
    """The stage's place on the path (0..4), None for 'rejected' (which keeps the old one)."""
    return PATH.index(stage) if stage in PATH else None


# The old stage is read under a row lock in the same statement, so two people moving the same
# rows at once produce one consistent history (the second sees the first's result).
MOVE_SQL = """
WITH old AS (
    SELECT project_id, profile_id, stage FROM project_profiles
    WHERE project_id = %(project)s AND profile_id = ANY(%(ids)s::bigint[])
    FOR UPDATE
), moved AS (
    UPDATE project_profiles pp
    SET stage = %(stage)s, stage_changed_at = coalesce(%(at)s::timestamptz, now()),
        stage_reached = coalesce(%(rank)s::smallint, pp.stage_reached)
    FROM old
    WHERE pp.project_id = old.project_id AND pp.profile_id = old.profile_id
      AND old.stage <> %(stage)s
    RETURNING pp.profile_id, old.stage AS from_stage
), logged AS (
    INSERT INTO project_stage_history
        (project_id, profile_id, from_stage, to_stage, changed_by, changed_at)
    SELECT %(project)s, profile_id, from_stage, %(stage)s, %(user)s,
           coalesce(%(at)s::timestamptz, now())
    FROM moved
    RETURNING profile_id
)
SELECT (SELECT count(*) FROM old), (SELECT count(*) FROM logged)
"""


def move_stage(
    user_id: int,
    project_id: int,
    profile_ids: list[int],
    stage: str,
    at: dt.datetime | None = None,
) -> MoveResult:
    """Move the selected members of a project to `stage`; `at` defaults to the database's now()."""
    if stage not in STAGES:
        raise StageError(f"Choose a stage: {', '.join(STAGES)}.")
    ids = sorted({int(i) for i in profile_ids})
    if not ids:
        raise StageError("Select rows in the grid first (tick their boxes).")
    if len(ids) > MAX_SELECTION:
        raise StageError(f"At most {MAX_SELECTION:,} profiles at once.")
    with unit_of_work() as conn:
        if conn.execute("SELECT 1 FROM projects WHERE id = %s", (project_id,)).fetchone() is None:
            raise StageError("No such project.")
        row = conn.execute(
            MOVE_SQL,
            {"project": project_id, "ids": ids, "stage": stage, "at": at,
             "rank": reached_rank(stage), "user": user_id},
        ).fetchone()  # fmt: skip
        assert row is not None
        members, moved = int(row[0]), int(row[1])
        if moved:
            audit.record(
                conn, user_id, "stage.move", "project", project_id,
                {"stage": stage, "count": moved, "profile_ids": ids[:AUDITED_IDS]},
            )  # fmt: skip
    if moved:
        bump_data_version("projects", "insights")
        funnel_rollup.request_refresh()
    return MoveResult(moved, members - moved, len(ids) - members)


HISTORY_SQL = """
SELECT profile_id, from_stage, to_stage, changed_by, changed_at FROM project_stage_history
WHERE project_id = %s AND profile_id = %s ORDER BY changed_at, id
"""


def history(project_id: int, profile_id: int) -> list[StageChange]:
    """One member's moves, oldest first."""
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(StageChange)) as cur:
        cur.execute(HISTORY_SQL, (project_id, profile_id))
        return cur.fetchall()
