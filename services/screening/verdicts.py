"""Screening verdicts: writing each answer (or failure) of a screening job, with its progress.

Each answer is committed on its own with the job's absolute progress and running cost, and only
onto a row the job still holds as `pending`, so a redelivered job never overwrites a verdict.
A call that fails after its retries becomes a `failed` row with the error text and no score;
after an account-wide refusal the job's remaining pending rows become failed with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from services import jobs
from services.core.db import unit_of_work
from services.providers.errors import ProviderError, RetriesExhausted
from services.screening import prompt as pr


@dataclass(frozen=True)
class Work:
    screening_id: int
    profile_id: int
    sent: str  # the exact candidate JSON sent; its sha256 is stored as input_hash


@dataclass
class Outcome:
    work: Work
    answer: Any = None  # StructuredAnswer[ScreeningAnswer]
    error: ProviderError | None = None


@dataclass
class Tally:
    done: int = 0
    failed: int = 0
    cost: float = 0.0


def _save_answer(conn: psycopg.Connection, job_id: int, work: Work, answer: Any) -> str:
    parsed: pr.ScreeningAnswer = answer.parsed
    cur = conn.execute(
        "UPDATE screenings SET status = 'done', score = %s, fit = %s, checks = %s,"
        " reasoning = %s, model = %s, input_hash = %s, tokens_in = %s, tokens_out = %s,"
        " cost_usd = %s, error = NULL, attempts = attempts + 1, updated_at = now()"
        " WHERE id = %s AND job_id = %s AND status = 'pending'",
        (
            parsed.score,
            parsed.fit,
            Jsonb([c.model_dump() for c in parsed.checks]),
            parsed.reasoning[:4000],
            answer.model,
            pr.input_hash(work.sent),
            answer.usage.prompt_tokens,
            answer.usage.completion_tokens,
            round(answer.cost_usd, 6),
            work.screening_id,
            job_id,
        ),
    )
    return "done" if cur.rowcount else "skipped"


def _save_failure(conn: psycopg.Connection, job_id: int, work: Work, error: ProviderError) -> str:
    attempts = error.attempts if isinstance(error, RetriesExhausted) else 1
    cur = conn.execute(
        "UPDATE screenings SET status = 'failed', score = NULL, fit = NULL, error = %s,"
        " input_hash = %s, cost_usd = %s, attempts = attempts + %s, updated_at = now()"
        " WHERE id = %s AND job_id = %s AND status = 'pending'",
        (
            error.reason[:1000],
            pr.input_hash(work.sent),
            round(error.cost_usd, 6),
            attempts,
            work.screening_id,
            job_id,
        ),
    )
    return "failed" if cur.rowcount else "skipped"


def save_outcome(conn: psycopg.Connection, job_id: int, outcome: Outcome) -> str:
    """Write one verdict or failure; returns 'done', 'failed' or 'skipped'."""
    if outcome.answer is not None:
        return _save_answer(conn, job_id, outcome.work, outcome.answer)
    assert outcome.error is not None
    return _save_failure(conn, job_id, outcome.work, outcome.error)


def job_tally(conn: psycopg.Connection, job_id: int) -> tuple[int, Tally]:
    """The job's row count, and what of it is done, failed and spent so far."""
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = 'done'),"
        " count(*) FILTER (WHERE status = 'failed'), coalesce(sum(cost_usd), 0)"
        " FROM screenings WHERE job_id = %s",
        (job_id,),
    ).fetchone()
    assert row is not None
    return int(row[0]), Tally(int(row[1]), int(row[2]), float(row[3]))


def progress_message(version: pr.PromptVersion, tally: Tally) -> str:
    return f"${tally.cost:.4f} spent so far · prompt v{version.version} · {version.model}"


def commit_outcome(job_id: int, version: pr.PromptVersion, outcome: Outcome, tally: Tally) -> None:
    """One result, committed with the job's absolute progress and running cost."""
    with unit_of_work() as conn:
        result = save_outcome(conn, job_id, outcome)
        if result == "done":
            tally.done += 1
            tally.cost += float(outcome.answer.cost_usd)
        elif result == "failed":
            tally.failed += 1
            tally.cost += float(outcome.error.cost_usd if outcome.error else 0.0)
        jobs.set_progress(
            conn, job_id, tally.done, tally.failed, message=progress_message(version, tally)
        )


def fail_rest(job_id: int, error: ProviderError) -> None:
    """After an account-wide refusal, the job's pending rows become failed with that reason."""
    with unit_of_work() as conn:
        conn.execute(
            "UPDATE screenings SET status = 'failed', error = %s, updated_at = now()"
            " WHERE job_id = %s AND status = 'pending'",
            (f"not sent: {error.reason}"[:1000], job_id),
        )
        _total, tally = job_tally(conn, job_id)
        jobs.set_progress(conn, job_id, tally.done, tally.failed)
