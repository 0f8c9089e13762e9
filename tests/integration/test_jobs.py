"""The job path end to end: web enqueues, a real Celery worker runs it, progress reaches done."""

from __future__ import annotations

from typing import Any

import psycopg

from services import jobs
from tests.factories import make_project
from tests.helpers import celery_worker, create_user, dash_post, login, output_key, wait_for


def test_recount_job_runs_on_a_real_worker_and_reaches_done(db: psycopg.Connection) -> None:
    for i in range(25):
        make_project(db, name=f"P{i}", profile_count=999)
    db.execute("INSERT INTO profiles (linkedin_url) VALUES ('https://www.linkedin.com/in/a')")
    db.execute("INSERT INTO project_profiles (project_id, profile_id) VALUES (1, 1)")
    job_id = jobs.start_job("recount_profiles", {}, None)
    assert jobs.get_job(job_id).status == "queued"  # type: ignore[union-attr]
    with celery_worker():
        job = wait_for(lambda: (j := jobs.get_job(job_id)) and j.finished and j, timeout_s=60)
    assert job.status == "done" and job.done == job.total == 25 and job.percent == 100
    counts = [r[0] for r in db.execute("SELECT profile_count FROM projects ORDER BY id")]
    assert counts == [1] + [0] * 24


def test_unknown_job_kind_fails_with_reason(db: psycopg.Connection) -> None:
    with psycopg.connect(db.info.dsn) as conn:
        job_id = jobs.insert_job(conn, "no_such_kind", {}, None)
    jobs.enqueue(job_id)
    with celery_worker():
        job = wait_for(lambda: (j := jobs.get_job(job_id)) and j.finished and j, timeout_s=60)
    assert job.status == "failed" and "unknown job kind" in (job.error or "")


def test_cancelled_job_is_not_run_and_can_be_retried(db: psycopg.Connection) -> None:
    for i in range(3):
        make_project(db, name=f"P{i}", profile_count=999)
    with psycopg.connect(db.info.dsn) as conn:
        job_id = jobs.insert_job(conn, "recount_profiles", {}, None)
    assert jobs.cancel(job_id, None)
    assert not jobs.cancel(job_id, None)  # already finished
    assert jobs.retry(job_id, None)
    with celery_worker():
        job = wait_for(lambda: (j := jobs.get_job(job_id)) and j.finished and j, timeout_s=60)
    assert job.status == "done"


def test_page_starts_job_and_any_worker_can_poll_it(db: psycopg.Connection) -> None:
    from app import server

    create_user(db, "rita@example.com", "recruiter")
    client: Any = server.test_client()
    login(client, "rita@example.com")
    store = {"id": {"type": "job-store", "scope": "home"}, "property": "data"}
    interval = {"id": {"type": "job-interval", "scope": "home"}, "property": "disabled"}
    resp = dash_post(
        client,
        output_key(client, '"scope":"home","type":"job-store"'),
        [store, interval],
        [{"id": "home-recount", "property": "n_clicks", "value": 1}],
    )
    body = resp.get_json()
    job_id = body["response"]['{"scope":"home","type":"job-store"}']["data"]["job_id"]
    assert jobs.get_job(job_id).created_by is not None  # type: ignore[union-attr]
    with celery_worker():
        wait_for(lambda: jobs.get_job(job_id).finished, timeout_s=60)  # type: ignore[union-attr]
    other_worker: Any = server.test_client()  # a fresh client stands in for another web worker
    login(other_worker, "rita@example.com")
    outs = [
        {"id": {"type": t, "scope": "home"}, "property": p}
        for t, p in (
            ("job-progress", "value"),
            ("job-progress", "label"),
            ("job-progress", "color"),
            ("job-status", "children"),
            ("job-interval", "disabled"),
            ("job-cancel", "disabled"),
        )
    ]
    poll = dash_post(
        other_worker,
        output_key(other_worker, "job-progress", "job-status"),
        outs,
        [{"id": {"type": "job-interval", "scope": "home"}, "property": "n_intervals", "value": 3}],
        state=[
            {
                "id": {"type": "job-store", "scope": "home"},
                "property": "data",
                "value": {"job_id": job_id},
            }
        ],
        changed=['{"scope":"home","type":"job-interval"}.n_intervals'],
    )
    text = poll.get_data(as_text=True)
    assert poll.status_code == 200 and "100%" in text and "done" in text
