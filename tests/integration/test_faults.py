"""Faults: a gunicorn worker killed under load, Redis and Postgres restarts, a provider outage.

Each test runs the part that fails as a real process of its own (gunicorn, an embedded Redis or
Postgres, the provider sandbox) so killing it affects nothing else on the machine.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import pytest

from services import jobs
from services.core import embedded, migrate
from services.core.cache import reset_cache
from services.core.db import close_pool
from services.core.redis_client import reset_redis
from services.core.settings import get_settings
from tests.factories import make_project
from tests.helpers import (
    ROOT,
    answers,
    celery_worker,
    create_user,
    free_port,
    gunicorn_argv,
    http_login,
    login,
    wait_for,
)
from tests.integration.sandbox_fixture import SandboxControl

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _use(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    """Point this process's app at other servers: fresh settings, pools and clients."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    close_pool()
    reset_redis()
    reset_cache()


@pytest.fixture()
def restore_clients() -> Iterator[None]:
    yield
    get_settings.cache_clear()
    close_pool()
    reset_redis()
    reset_cache()


@pytest.fixture()
def gunicorn(db: psycopg.Connection) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "2", "WEB_THREADS": "4"}
    proc = subprocess.Popen(
        gunicorn_argv(),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: answers(f"{base}/healthz"), timeout_s=30)
    try:
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_killing_a_gunicorn_worker_fails_only_in_flight_requests(
    db: psycopg.Connection, gunicorn: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, master = gunicorn
    create_user(db, "rita@example.com", "recruiter")
    outcomes: list[tuple[float, bool]] = []
    stop = threading.Event()

    def user_loop() -> None:
        with httpx.Client(base_url=base, timeout=10) as client:
            http_login(client, "rita@example.com")
            while not stop.is_set():
                try:
                    ok = client.get("/_dash-layout").status_code == 200
                except httpx.HTTPError:
                    ok = False
                outcomes.append((time.monotonic(), ok))

    threads = [threading.Thread(target=user_loop) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    victim = psutil.Process(master.pid).children()[0]
    killed_at = time.monotonic()
    victim.kill()
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join()
    failures = [t for t, ok in outcomes if not ok]
    assert len(outcomes) > 100
    assert len(failures) <= 4, f"{len(failures)} failed; only the 4 in-flight may fail"
    assert all(t >= killed_at for t in failures)
    after = [ok for t, ok in outcomes if t > killed_at + 1]
    assert after and all(after)  # the users' next actions work (master respawned a worker)
    assert len(psutil.Process(master.pid).children()) == 2


def test_pages_keep_working_while_redis_restarts_and_jobs_recover(
    db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch, restore_clients: None
) -> None:
    from app import server

    var = Path(tempfile.mkdtemp(prefix="sx-fault-redis-"))
    url = embedded.start_redis(var)
    _use(monkeypatch, REDIS_URL=url)
    create_user(db, "rita@example.com", "recruiter")
    db.execute(
        "INSERT INTO profiles (linkedin_url, full_name) VALUES"
        " ('https://www.linkedin.com/in/a-a', 'A'), ('https://www.linkedin.com/in/b-b', 'B')"
    )
    client: Any = server.test_client()
    login(client, "rita@example.com")
    embedded.stop_redis(var)
    try:
        assert client.get("/profiles").status_code == 200
        from services import grid, overview

        block = grid.fetch_block(grid.parse_grid_query({}, [], "", "", [], None, None), 0, 100)
        assert [r["full_name"] for r in block.rows] == ["A", "B"]  # cache misses fall through
        assert overview.overview().profiles == 2
        job_id = jobs.start_job("recount_profiles", {}, None)  # broker down: the row waits
        assert jobs.get_job(job_id).status == "queued"  # type: ignore[union-attr]
    finally:
        embedded.start_redis(var)
    monkeypatch.setenv("JOB_STALE_AFTER_S", "1")
    monkeypatch.setenv("JOB_REAP_INTERVAL_S", "1")
    time.sleep(1.2)
    with celery_worker():
        done = wait_for(lambda: (j := jobs.get_job(job_id)) and j.finished and j, timeout_s=60)
    assert done.status == "done"  # the reaper enqueued the job once Redis was back
    embedded.stop_redis(var)


def test_postgres_restart_pool_reconnects_and_nothing_hangs(
    monkeypatch: pytest.MonkeyPatch, restore_clients: None
) -> None:
    from services.overview import overview

    var = Path(tempfile.mkdtemp(prefix="sx-fault-pg-"))
    url = embedded.start_postgres(var, stop_on_exit=False)
    try:
        migrate.upgrade(url)
        _use(monkeypatch, DATABASE_URL=url)
        from services.core.db import unit_of_work

        with unit_of_work() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        embedded.stop_postgres(var)
        started = time.monotonic()
        with pytest.raises(psycopg.Error), unit_of_work() as conn:
            conn.execute("SELECT 1")
        assert time.monotonic() - started < 15  # the pool timeout, not a hang
        embedded.start_postgres(var, stop_on_exit=False)
        with unit_of_work() as conn:  # the pool replaced its dead connections
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert overview().profiles == 0
    finally:
        embedded.stop_postgres(var)


def test_provider_outage_jobs_back_off_and_finish_afterwards(
    db: psycopg.Connection, fast_providers: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.enrichment import start_enrichment
    from services.imports import import_upload, store_upload

    monkeypatch.setenv("CRUSTDATA_MAX_ATTEMPTS", "12")
    monkeypatch.setenv("CRUSTDATA_MAX_RETRY_S", "45")
    monkeypatch.setenv("CRUSTDATA_BACKOFF_BASE_S", "0.5")
    monkeypatch.setenv("CRUSTDATA_BACKOFF_MAX_S", "2")
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="P")
    text = "profileUrl\n" + "".join(f"https://www.linkedin.com/in/out-{i}\n" for i in range(30))
    upload_id, _fmt, _rows = store_upload(project, "p.csv", text.encode(), user, 100_000)
    import_upload(upload_id, user)
    # Every call answers 503 for 15 s (the worker needs ~5 s to start, so it meets the outage).
    outage_end = time.time() + 15
    fast_providers.configure("crustdata", outage_until=outage_end)
    job_id = start_enrichment(user, project)
    with celery_worker():
        job = wait_for(lambda: (j := jobs.get_job(job_id)) and j.finished and j, timeout_s=90)
    assert job.status == "done" and (job.done, job.failed) == (30, 0)
    failed_attempts = db.execute(
        "SELECT count(*) FROM api_usage WHERE provider = 'crustdata' AND http_status >= 500"
    ).fetchone()
    assert failed_attempts is not None and failed_attempts[0] >= 1  # it met the outage…
    first_ok = db.execute(
        "SELECT extract(epoch FROM min(ts)) FROM api_usage WHERE provider ="
        " 'crustdata' AND operation = 'person_enrich' AND status = 'ok'"
    ).fetchone()
    assert first_ok is not None and float(first_ok[0]) >= outage_end - 0.5  # …and waited it out
