"""The sourcing pipeline end to end on a real Celery worker against the provider sandbox:
search runs (with a busy agent), dedup across searches and CSV, enrichment that survives a
killed worker and never pays twice for a profile."""

from __future__ import annotations

import time

import psutil
import psycopg
import pytest

from services import jobs, searches
from services.enrichment import start_enrichment
from services.imports import import_upload, store_upload
from tests.factories import make_project
from tests.helpers import celery_worker, create_user, wait_for
from tests.integration.sandbox_fixture import (
    SandboxControl,
)

pytestmark = pytest.mark.integration


@pytest.fixture()
def pipeline_env(fast_providers: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> SandboxControl:
    monkeypatch.setenv("SEARCH_POLL_INTERVAL_S", "0.3")
    monkeypatch.setenv("SEARCH_QUEUE_RECHECK_S", "0.5")
    monkeypatch.setenv("JOB_LOCK_TTL_S", "4")
    monkeypatch.setenv("JOB_STALE_AFTER_S", "3")
    fast_providers.configure("phantombuster", container_seconds=1.0)
    return fast_providers


def _finished(job_id: int, timeout_s: float = 60) -> jobs.Job:
    return wait_for(lambda: (j := jobs.get_job(job_id)) and j.finished and j, timeout_s=timeout_s)


def test_search_run_end_to_end_imports_and_records_history(
    db: psycopg.Connection, pipeline_env: SandboxControl
) -> None:
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Backend", owner_id=user)
    search_id, job_id = searches.start_search(user, project, "linkedin", "data engineer berlin", 40)
    with celery_worker():
        job = _finished(job_id)
    search = searches.get_search(search_id)
    assert job.status == "done", job.error
    assert search is not None and search.status == "done" and search.container_id
    assert search.new_count == 40 and search.known_count == 0
    assert db.execute(
        "SELECT count(*) FROM project_profiles WHERE project_id = %s AND search_id = %s",
        (project, search_id),
    ).fetchone() == (40,)
    ops = dict(
        db.execute(
            "SELECT operation, count(*) FROM api_usage WHERE provider = 'phantombuster'"
            " GROUP BY operation"
        ).fetchall()
    )
    assert ops.get("agent_launch") == 1 and ops.get("container_fetch", 0) >= 1
    # The same search for another project finds everyone already known: nothing inserted twice.
    other = make_project(db, name="Other", owner_id=user)
    search2, job2 = searches.start_search(user, other, "linkedin", "data engineer berlin", 40)
    with celery_worker():
        _finished(job2)
    again = searches.get_search(search2)
    assert again is not None and (again.new_count, again.known_count) == (0, 40)
    assert db.execute("SELECT count(*) FROM profiles").fetchone() == (40,)


def test_two_users_on_one_agent_one_runs_one_waits_both_get_their_results(
    db: psycopg.Connection, pipeline_env: SandboxControl
) -> None:
    pipeline_env.configure("phantombuster", container_seconds=2.0)
    rita = create_user(db, "rita@example.com", "recruiter")
    sam = create_user(db, "sam@example.com", "recruiter")
    p1, p2 = make_project(db, name="P1", owner_id=rita), make_project(db, name="P2", owner_id=sam)
    s1, j1 = searches.start_search(rita, p1, "linkedin", "golang payments", 15)
    s2, j2 = searches.start_search(sam, p2, "linkedin", "react design systems", 25)
    messages: list[str] = []
    with celery_worker(concurrency=2):

        def both_done() -> bool:
            for j in (j1, j2):
                job = jobs.get_job(j)
                if job and job.message and "queue" in job.message:
                    messages.append(job.message)
            return all(jobs.get_job(j).finished for j in (j1, j2))  # type: ignore[union-attr]

        wait_for(both_done, timeout_s=90, interval_s=0.1)
    first, second = searches.get_search(s1), searches.get_search(s2)
    assert first is not None and second is not None
    assert (first.status, second.status) == ("done", "done")
    assert (first.new_count, second.new_count) == (15, 25)
    assert any("number 1 in its queue" in m for m in messages), messages
    assert first.container_id != second.container_id
    members = dict(
        db.execute("SELECT project_id, count(*) FROM project_profiles GROUP BY 1").fetchall()
    )
    assert members == {p1: 15, p2: 25}


def _project_with_profiles(db: psycopg.Connection, user: int, n: int) -> int:
    project = make_project(db, name="Backend", owner_id=user)
    text = "profileUrl,fullName\n" + "".join(
        f"https://www.linkedin.com/in/person-{i:04d},Person {i}\n" for i in range(n)
    )
    upload_id, _fmt, _rows = store_upload(project, "people.csv", text.encode(), user, 10_000_000)
    import_upload(upload_id, user)
    return project


def _enrich_usage(db: psycopg.Connection) -> tuple[int, float]:
    row = db.execute(
        "SELECT count(*), coalesce(sum(units), 0) FROM api_usage WHERE provider ="
        " 'crustdata' AND operation = 'person_enrich' AND status IN ('ok', 'partial')"
    ).fetchone()
    assert row is not None
    return int(row[0]), float(row[1])


def test_enrichment_enriches_everyone_once_and_skips_fresh_profiles(
    db: psycopg.Connection, pipeline_env: SandboxControl
) -> None:
    user = create_user(db, "rita@example.com", "recruiter")
    project = _project_with_profiles(db, user, 60)
    job_id = start_enrichment(user, project)
    with celery_worker():
        job = _finished(job_id)
    assert job.status == "done" and (job.done, job.failed, job.total) == (60, 0, 60)
    assert db.execute(
        "SELECT count(*) FROM profiles WHERE enrichment_status = 'enriched'"
        " AND enriched_at IS NOT NULL AND current_title IS NOT NULL"
    ).fetchone() == (60,)
    assert db.execute(
        "SELECT count(*) FROM profile_raw WHERE provider = 'crustdata'"
    ).fetchone() == (60,)
    calls, _units = _enrich_usage(db)
    assert calls == 3  # 60 profiles in batches of 25
    rerun = start_enrichment(user, project)
    with celery_worker():
        job2 = _finished(rerun)
    assert job2.status == "done" and job2.total == 0
    assert _enrich_usage(db)[0] == 3  # nothing fresh was paid for again


def test_per_profile_failures_are_recorded_and_retryable(
    db: psycopg.Connection, pipeline_env: SandboxControl
) -> None:
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Backend", owner_id=user)
    text = (
        "profileUrl\nhttps://www.linkedin.com/in/good-one\n"
        "https://www.linkedin.com/in/has-error-inside\nhttps://www.linkedin.com/in/notfound-x\n"
    )
    upload_id, _f, _r = store_upload(project, "p.csv", text.encode(), user, 10_000)
    import_upload(upload_id, user)
    with celery_worker():
        job = _finished(start_enrichment(user, project))
    assert (job.done, job.failed) == (1, 2)
    failed = dict(
        db.execute(
            "SELECT public_id, enrichment_error FROM profiles WHERE enrichment_status = 'failed'"
        ).fetchall()
    )
    assert set(failed) == {"has-error-inside", "notfound-x"} and all(failed.values())
    with celery_worker():
        retry = _finished(start_enrichment(user, project))
    assert retry.total == 2  # only the failures are due again


def test_worker_killed_mid_enrichment_finishes_after_restart_paying_once(
    db: psycopg.Connection, pipeline_env: SandboxControl
) -> None:
    user = create_user(db, "rita@example.com", "recruiter")
    project = _project_with_profiles(db, user, 200)
    pipeline_env.configure("crustdata", latency_ms=700)
    job_id = start_enrichment(user, project)
    with celery_worker() as worker:
        wait_for(
            lambda: (j := jobs.get_job(job_id)) and j.done >= 50, timeout_s=60, interval_s=0.05
        )
        _kill_tree(worker.pid)  # the whole worker, main process and pool, as a crash would
        worker.wait(timeout=10)
    killed_at = jobs.get_job(job_id)
    assert killed_at is not None and killed_at.status == "running" and killed_at.done < 200
    time.sleep(4)  # past JOB_STALE_AFTER_S and the run lock's TTL
    with celery_worker():
        job = _finished(job_id, timeout_s=90)
    assert job.status == "done" and job.done == 200, job
    assert db.execute(
        "SELECT count(*) FROM profiles WHERE enrichment_status = 'enriched'"
    ).fetchone() == (200,)
    calls, units = _enrich_usage(db)
    per_profile = db.execute(
        "SELECT max(units) / 25 FROM api_usage WHERE provider = 'crustdata'"
        " AND operation = 'person_enrich' AND status = 'ok'"
    ).fetchone()
    assert per_profile is not None
    assert units == pytest.approx(200 * float(per_profile[0]))  # each profile paid exactly once
    assert calls == 8


def _kill_tree(pid: int) -> None:
    parent = psutil.Process(pid)
    for child in parent.children(recursive=True):
        child.kill()
    parent.kill()
