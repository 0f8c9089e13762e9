"""Enrichment through Crustdata's batch endpoint (issue #13): from `CRUSTDATA_BATCH_MIN` due
profiles the job submits one batch job instead of 25-URL calls, polls it by re-queueing itself,
and saves the results file in committed chunks; a killed worker resumes from the last chunk and
re-reads the file without billing it again; a failed batch falls back to the sync calls."""

from __future__ import annotations

import time

import httpx
import psycopg
import pytest

from services import enrichment, jobs
from services.core.db import unit_of_work
from services.enrichment import start_enrichment
from tests.factories import add_profile, make_project
from tests.helpers import celery_worker, create_user, wait_for
from tests.integration.sandbox_fixture import SandboxControl

pytestmark = pytest.mark.integration


@pytest.fixture()
def env(fast_providers: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> SandboxControl:
    monkeypatch.setenv("CRUSTDATA_BATCH_MIN", "10")
    monkeypatch.setenv("CRUSTDATA_BATCH_POLL_S", "0.2")
    fast_providers.configure("crustdata", batch_seconds=0.6, credits=1000)
    return fast_providers


def _usage(db: psycopg.Connection) -> dict[str, tuple[int, float]]:
    rows = db.execute(
        "SELECT operation, count(*), coalesce(sum(units), 0) FROM api_usage"
        " WHERE provider = 'crustdata' GROUP BY operation"
    ).fetchall()
    return {op: (int(n), float(units)) for op, n, units in rows}


def _project(db: psycopg.Connection, found: int, missing: int) -> tuple[int, int, list[int]]:
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Data Eng", owner_id=user)
    ids = [add_profile(db, project, f"ann-lee-{i}") for i in range(found)]
    ids += [add_profile(db, project, f"notfound-{i}") for i in range(missing)]
    return user, project, ids


def _credits_left(env: SandboxControl) -> int:
    headers = {"authorization": "Bearer k"}
    return int(httpx.get(f"{env.url}/crustdata/user/credits", headers=headers).json()["credits"])


def _statuses(db: psycopg.Connection) -> dict[str, int]:
    rows = db.execute(
        "SELECT enrichment_status, count(*) FROM profiles GROUP BY enrichment_status"
    ).fetchall()
    return {status: int(n) for status, n in rows}


def test_thirty_profiles_take_one_batch_job_instead_of_two_sync_calls(
    db: psycopg.Connection, env: SandboxControl
) -> None:
    user, project, _ = _project(db, found=27, missing=3)
    with celery_worker():
        job_id = start_enrichment(user, project)
        job = wait_for(lambda: (j := jobs.get_job(job_id)) and j.finished and j, timeout_s=60)
    assert job.status == "done", job.error
    assert (job.total, job.done, job.failed) == (30, 27, 3)
    assert job.params["batch"]["phase"] == "saved"
    usage = _usage(db)
    assert usage["person_batch_submit"] == (1, 0.0)  # submitting is free
    assert "person_enrich" not in usage  # no 25-URL calls
    assert usage["person_batch_results"] == (1, 27.0)  # one credit per delivered record
    assert usage["person_batch_status"][0] >= 1
    assert _statuses(db) == {"enriched": 27, "failed": 3}
    reasons = db.execute(
        "SELECT DISTINCT enrichment_error FROM profiles WHERE enrichment_status = 'failed'"
    ).fetchall()
    assert reasons == [("no match",)]
    raw = db.execute("SELECT count(*) FROM profile_raw WHERE provider = 'crustdata'").fetchone()
    assert raw == (27,)
    assert _credits_left(env) == 1000 - 27  # the sandbox charged each delivered record once


def _insert_job(user: int, project: int) -> int:
    with unit_of_work() as conn:
        return jobs.insert_job(conn, "enrich", {"project_id": project}, user, project)


def _drive(job_id: int, limit_s: float = 30) -> None:
    """Deliver the job in-process until it stops re-queueing (what the worker would do)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        job = jobs.get_job(job_id)
        assert job is not None
        try:
            enrichment.run_enrichment(job)
            return
        except jobs.Requeue as wait:
            time.sleep(min(wait.delay_s, 0.3))
    raise AssertionError("job kept re-queueing")


def test_killed_worker_resumes_after_the_last_chunk_and_never_pays_twice(
    db: psycopg.Connection, env: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, project, ids = _project(db, found=27, missing=3)
    job_id = _insert_job(user, project)
    monkeypatch.setattr(enrichment, "SAVE_CHUNK", 10)
    real_save, calls = enrichment._save, []

    def dying_save(*args: object) -> bool:
        calls.append(1)
        if len(calls) == 15:  # mid second chunk: that chunk's transaction never commits
            raise SystemExit("worker killed")
        return real_save(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(enrichment, "_save", dying_save)
    with pytest.raises(SystemExit):
        _drive(job_id)
    job = jobs.get_job(job_id)
    assert job is not None and (job.done, job.failed) == (10, 0)  # the first chunk committed
    assert job.params["batch"]["saved_through"] == ids[9]
    monkeypatch.setattr(enrichment, "_save", real_save)
    _drive(job_id)
    job = jobs.get_job(job_id)
    assert job is not None and (job.done, job.failed) == (27, 3)
    assert _statuses(db) == {"enriched": 27, "failed": 3}
    usage = _usage(db)
    assert usage["person_batch_submit"] == (1, 0.0)  # the resumed job followed the same batch
    assert usage["person_batch_results"] == (2, 27.0)  # read twice, billed once
    assert _credits_left(env) == 1000 - 27
    # A further delivery after completion changes nothing and bills nothing.
    before = db.execute("SELECT max(updated_at) FROM profiles").fetchone()
    _drive(job_id)
    assert db.execute("SELECT max(updated_at) FROM profiles").fetchone() == before
    after = _usage(db)
    assert after["person_batch_submit"] == (1, 0.0) and "person_enrich" not in after
    assert sum(units for _, units in after.values()) == 27.0


def test_failed_batch_falls_back_to_sync_calls_with_the_reason(
    db: psycopg.Connection, env: SandboxControl
) -> None:
    user, project, _ = _project(db, found=11, missing=0)
    add_profile(db, project, "batchfail-1")  # the sandbox fails the whole batch job
    job_id = _insert_job(user, project)
    _drive(job_id)
    job = jobs.get_job(job_id)
    assert job is not None
    assert "failed" in (job.message or "") and "Crustdata batch not used" in (job.message or "")
    usage = _usage(db)
    assert usage["person_batch_submit"][0] == 1 and "person_batch_results" not in usage
    assert usage["person_enrich"][0] == 1  # 12 profiles: one sync call
    assert _statuses(db)["enriched"] == 12
