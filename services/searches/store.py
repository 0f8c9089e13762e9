"""The `searches` table: the only module that writes it, and the reads of the search history.

Every status change of a search happens here, including the ones the agent lease asks for while
it holds the agent (`SearchRecords`): a search becomes `running` only under the lease, a stale
search still holding the agent is failed in the same transaction, and the partial unique index
`searches_one_active_per_agent` is the real guarantee of one active search per agent. Functions
that take a connection write inside the caller's transaction (with the rows they belong to).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import class_row

from services.core.db import unit_of_work
from services.providers.lease import RunStart

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Search:
    id: int
    project_id: int
    project_name: str
    agent_id: str
    kind: str
    query: str
    requested_count: int
    launched_by: int | None
    launched_by_email: str | None
    status: str
    container_id: str | None
    job_id: int | None
    new_count: int
    known_count: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None


SEARCH_SQL = (
    "SELECT s.id, s.project_id, p.name AS project_name, s.agent_id, s.kind, s.query,"
    " s.requested_count, s.launched_by, u.email AS launched_by_email, s.status, s.container_id, s.job_id,"
    " s.new_count, s.known_count, s.error, s.created_at, s.finished_at FROM searches s"
    " JOIN projects p ON p.id = s.project_id LEFT JOIN users u ON u.id = s.launched_by"
)


def list_searches(project_id: int | None = None, limit: int = 50) -> list[Search]:
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(Search)) as cur:
        if project_id is None:
            cur.execute(SEARCH_SQL + " ORDER BY s.id DESC LIMIT %s", (limit,))
        else:
            cur.execute(
                SEARCH_SQL + " WHERE s.project_id = %s ORDER BY s.id DESC LIMIT %s",
                (project_id, limit),
            )
        return cur.fetchall()


def get_search(search_id: int) -> Search | None:
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(Search)) as cur:
        cur.execute(SEARCH_SQL + " WHERE s.id = %s", (search_id,))
        return cur.fetchone()


def insert_search(
    conn: psycopg.Connection,
    project_id: int,
    agent_id: str,
    kind: str,
    query: str,
    count: int,
    user_id: int,
) -> int:
    """A new `queued` search; returns its id."""
    row = conn.execute(
        "INSERT INTO searches (project_id, agent_id, kind, query, requested_count, launched_by)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (project_id, agent_id, kind, query, count, user_id),
    ).fetchone()
    assert row is not None
    return int(row[0])


def set_job(conn: psycopg.Connection, search_id: int, job_id: int) -> None:
    conn.execute("UPDATE searches SET job_id = %s WHERE id = %s", (job_id, search_id))


def set_fields(search_id: int, **fields: object) -> None:
    """Write the given columns of one search in a transaction of their own."""
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    with unit_of_work() as conn:
        conn.execute(
            f"UPDATE searches SET {assignments} WHERE id = %(id)s", {**fields, "id": search_id}
        )


def claim_metering(search_id: int) -> bool:
    """True once per search: the caller bills the run, however often the job is redelivered."""
    with unit_of_work() as conn:
        claimed = conn.execute(
            "UPDATE searches SET run_seconds = 0 WHERE id = %s AND run_seconds IS NULL"
            " RETURNING id",
            (search_id,),
        ).fetchone()
    return claimed is not None


def set_counts(conn: psycopg.Connection, search_id: int, new: int, known: int) -> None:
    """The imported result's counts, in the import's transaction."""
    conn.execute(
        "UPDATE searches SET new_count = %s, known_count = %s WHERE id = %s",
        (new, known, search_id),
    )


class SearchRecords:
    """The searches' side of the agent lease (`RunRecords`), called while the lease is held."""

    def mark_running(self, agent_id: str, search_id: int) -> RunStart:
        reclaimed: int | None = None
        with unit_of_work() as conn:
            for _ in range(2):
                try:
                    with conn.transaction():
                        row = conn.execute(
                            "UPDATE searches SET status = 'running', started_at = now(), "
                            "error = NULL WHERE id = %s AND agent_id = %s AND status = 'queued' "
                            "RETURNING id",
                            (search_id, agent_id),
                        ).fetchone()
                    break
                except pg_errors.UniqueViolation:
                    # We hold the Redis lease, so whoever ran the active search lost theirs: it
                    # stopped renewing (crashed). Its search cannot finish under a lease any more.
                    reclaimed = _fail_stale(conn, agent_id, search_id)
            else:
                row = None
        if row is not None:
            return RunStart(reclaimed_search_id=reclaimed)
        if reclaimed is None:
            return RunStart(refusal=_not_queued(agent_id, search_id))
        return RunStart(refusal="agent still marked busy")

    def mark_ended(self, search_id: int, final_status: str, error: str | None) -> None:
        with unit_of_work() as conn:
            conn.execute(
                "UPDATE searches SET status = %(s)s, error = %(e)s, "
                "finished_at = CASE WHEN %(s)s IN ('done', 'failed', 'cancelled') "
                "THEN now() END, "
                "started_at = CASE WHEN %(s)s = 'queued' THEN NULL ELSE started_at END "
                "WHERE id = %(id)s AND status IN ('running', 'importing')",
                {"s": final_status, "e": error, "id": search_id},
            )


def _fail_stale(conn: psycopg.Connection, agent_id: str, search_id: int) -> int | None:
    row = conn.execute(
        "UPDATE searches SET status = 'failed', finished_at = now(), "
        "error = 'agent lease expired: the worker running this search stopped' "
        "WHERE agent_id = %s AND status IN ('running', 'importing') AND id <> %s RETURNING id",
        (agent_id, search_id),
    ).fetchone()
    if row is not None:
        log.warning("search %s on agent %s failed: lease expired", row[0], agent_id)
    return int(row[0]) if row else None


def _not_queued(agent_id: str, search_id: int) -> str:
    return (
        f"search {search_id} is not a queued search of agent {agent_id} "
        "(already started, finished or cancelled)"
    )
