"""The documented provider behaviours, end to end through real jobs on a Celery worker and the
sandbox: Crustdata's object locations enrich and bill, a search launch keeps its LinkedIn login and
follows a large result file, PhantomBuster is billed by execution time and its run webhook ends
the wait, a container stuck in `unknown` fails with its reason, and a spent SalesQL day stops the
lookup with its message."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from services import contacts, jobs, searches
from services.core.settings import get_settings
from services.enrichment import start_enrichment
from services.providers.phantombuster import webhook_token
from tests.factories import add_profile, make_project
from tests.helpers import (
    ROOT,
    answers,
    celery_worker,
    create_user,
    free_port,
    gunicorn_argv,
    wait_for,
)
from tests.integration.sandbox_fixture import SandboxControl

pytestmark = pytest.mark.integration


@pytest.fixture()
def env(fast_providers: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> SandboxControl:
    monkeypatch.setenv("SEARCH_POLL_INTERVAL_S", "0.2")
    monkeypatch.setenv("SEARCH_QUEUE_RECHECK_S", "0.5")
    fast_providers.configure("phantombuster", container_seconds=0.8)
    return fast_providers


def _finished(job_id: int, timeout_s: float = 60) -> jobs.Job:
    return wait_for(lambda: (j := jobs.get_job(job_id)) and j.finished and j, timeout_s=timeout_s)


def _usage(db: psycopg.Connection, provider: str) -> dict[str, tuple[int, float]]:
    rows = db.execute(
        "SELECT operation, count(*), coalesce(sum(units), 0) FROM api_usage"
        " WHERE provider = %s GROUP BY operation",
        (provider,),
    ).fetchall()
    return {op: (int(n), float(units)) for op, n, units in rows}


def test_object_locations_enrich_and_only_matches_are_billed(
    db: psycopg.Connection, env: SandboxControl
) -> None:
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Data Eng", owner_id=user)
    found = [add_profile(db, project, f"ann-lee-{i}") for i in range(3)]
    missing = add_profile(db, project, "notfound-person")
    with celery_worker():
        job = _finished(start_enrichment(user, project))
    assert job.status == "done", job.error
    rows = dict(
        db.execute(
            "SELECT id, location FROM profiles WHERE enrichment_status = 'enriched'"
        ).fetchall()
    )
    assert set(rows) == set(found)
    # The sandbox answers `location` as the documented object; the list shows its raw text.
    assert all(loc and loc.count(",") == 2 for loc in rows.values()), rows
    status = db.execute("SELECT enrichment_status FROM profiles WHERE id = %s", (missing,))
    assert status.fetchone() == ("failed",)
    # One credit per matched profile (no contact fields asked), none for the miss.
    assert _usage(db, "crustdata")["person_enrich"][1] == 3.0


def test_search_keeps_its_login_uses_manifest_keys_and_follows_a_result_file(
    db: psycopg.Connection, env: SandboxControl
) -> None:
    env.configure("phantombuster", large_result_rows=5)
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Data Eng", owner_id=user)
    search_id, job_id = searches.start_search(user, project, "linkedin", "data engineer", 12)
    with celery_worker():
        job = _finished(job_id)
    assert job.status == "done", job.error
    search = searches.get_search(search_id)
    assert search is not None and search.new_count == 12
    [launched] = httpx.get(f"{env.url}/_sandbox/containers").json()["containers"]
    argument = launched["argument"]
    assert argument["sessionCookie"]  # the agent's saved identity was merged, not replaced
    assert argument["linkedInSearchUrl"].startswith(searches.LINKEDIN_PEOPLE_SEARCH)
    assert "keywords=data+engineer" in argument["linkedInSearchUrl"]
    assert argument["numberOfResultsPerSearch"] == 12 and "searchType" not in argument
    usage = _usage(db, "phantombuster")
    assert usage["result_download"][0] == 1  # the jsonUrl file was read through the layer
    # Billed by execution time, once: the run took about container_seconds.
    count, seconds = usage["execution_time"]
    assert count == 1 and 0.5 <= seconds <= 5
    assert usage["agent_launch"][1] == 0.0
    run = db.execute("SELECT run_seconds FROM searches WHERE id = %s", (search_id,)).fetchone()
    assert run is not None and run[0] == pytest.approx(seconds)


def test_search_over_linkedins_cap_is_refused_with_the_reason(db: psycopg.Connection) -> None:
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Data Eng", owner_id=user)
    with pytest.raises(searches.SearchError, match="at most 1,000 results per search"):
        searches.start_search(user, project, "linkedin", "go", 1001)


def test_container_stuck_in_unknown_fails_with_its_reason(
    db: psycopg.Connection, env: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCH_UNKNOWN_DEADLINE_S", "1.5")
    env.configure("phantombuster", stuck_unknown=True)
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Data Eng", owner_id=user)
    search_id, job_id = searches.start_search(user, project, "linkedin", "rust", 5)
    with celery_worker():
        _finished(job_id)
    search = searches.get_search(search_id)
    assert search is not None and search.status == "failed"
    assert search.error and "'unknown'" in search.error


def _shortlist(db: psycopg.Connection, n: int) -> tuple[int, int, list[int]]:
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Data Eng", owner_id=user)
    ids = [add_profile(db, project, f"person-{i}") for i in range(n)]
    contacts.set_shortlisted(user, project, ids)
    return user, project, ids


def test_spent_salesql_day_by_our_counter_stops_the_lookup_without_calls(
    db: psycopg.Connection, env: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESQL_RATE_PER_DAY", "2")
    user, project, _ids = _shortlist(db, 5)
    with celery_worker():
        job = _finished(contacts.start_lookup(user, project))
    assert job.status == "failed" and job.error
    assert "daily limit reached, resumes at 00:00 UTC" in job.error
    assert (job.done, job.failed) == (2, 3)
    assert env.requests("salesql") == 2  # nothing sent past the day's limit


def test_salesql_bare_429_for_a_day_spent_elsewhere_stops_after_one_profile(
    db: psycopg.Connection, env: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESQL_BARE_429_WAIT_S", "0.1")
    monkeypatch.setenv("SALESQL_MAX_ATTEMPTS", "3")
    env.configure("salesql", daily_limit=2)  # another tool on the account spent the rest
    user, project, _ids = _shortlist(db, 6)
    with celery_worker():
        job = _finished(contacts.start_lookup(user, project))
    assert job.status == "failed" and job.error
    assert "daily limit reached, resumes at 00:00 UTC" in job.error
    assert (job.done, job.failed) == (2, 4)
    # Two found, then one profile's attempts: not five retries for every remaining profile.
    assert env.requests("salesql") == 2 + 3


@pytest.fixture()
def web(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The web tier as deployed, reachable as this app's public URL (PhantomBuster's webhook)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("PUBLIC_BASE_URL", base)
    get_settings.cache_clear()
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "1", "WEB_THREADS": "2"}
    proc = subprocess.Popen(
        gunicorn_argv(), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: answers(f"{base}/healthz"), timeout_s=30)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        get_settings.cache_clear()


def test_run_webhook_ends_the_wait_instead_of_slow_polling(
    db: psycopg.Connection,
    redis_conn: object,
    env: SandboxControl,
    web: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEARCH_WEBHOOK_POLL_S", "300")  # without the webhook: minutes
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Data Eng", owner_id=user)
    started = time.monotonic()
    search_id, job_id = searches.start_search(user, project, "linkedin", "kotlin", 4)
    with celery_worker():
        job = _finished(job_id, timeout_s=60)
    assert job.status == "done", job.error
    assert time.monotonic() - started < 60  # the webhook, not the 300 s poll, ended the wait
    usage = _usage(db, "phantombuster")
    assert usage["agent_save_webhook"][0] == 1
    assert usage["container_fetch"][0] <= 3
    token = webhook_token(get_settings().secret_key)
    assert httpx.post(f"{web}/webhooks/phantombuster/{'0' * 40}", json={}).status_code == 404
    assert httpx.post(f"{web}/webhooks/phantombuster/{token}", json={}).status_code == 400
    search = searches.get_search(search_id)
    assert search is not None and search.new_count == 4
