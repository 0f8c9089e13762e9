"""Session-scoped provider sandbox: a real HTTP server (`python -m sandbox`) on a free local port.

`sandbox_url` starts it once per test session, points the app's settings at it (SANDBOX_URL, no
provider keys) and yields its base URL. `sandbox_ctl` resets it to a plain state (no rate limits,
no faults) for each test and offers helpers to configure faults and read its request counters.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis as redis_lib

from services.core.settings import get_settings
from tests.factories import make_job, make_project, make_user

PROVIDER_KEY_VARS = (
    "PHANTOMBUSTER_API_KEY",
    "CRUSTDATA_API_KEY",
    "SALESQL_API_KEY",
    "OPENAI_API_KEY",
    "GOOGLE_SHEETS_API_KEY",
)


def _start() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--plain", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if len(line) != 3 or line[0] != "SANDBOX_LISTENING":
        proc.kill()
        raise RuntimeError(f"sandbox did not start: {line}")
    url = f"http://{line[1]}:{line[2]}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_sandbox/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("sandbox did not answer its health check")


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    proc, url = _start()
    saved = {k: os.environ.get(k) for k in (*PROVIDER_KEY_VARS, "SANDBOX_URL")}
    for key in PROVIDER_KEY_VARS:
        os.environ[key] = ""  # empty, not absent: an empty variable also masks a key in .env
    os.environ["SANDBOX_URL"] = url
    get_settings.cache_clear()
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


class SandboxControl:
    """Test-side handle on the sandbox's control endpoints."""

    def __init__(self, url: str) -> None:
        self.url = url

    def reset(self, providers: dict[str, dict[str, Any]] | None = None) -> None:
        body = {"plain": True, "providers": providers or {}}
        httpx.post(f"{self.url}/_sandbox/reset", json=body, timeout=5).raise_for_status()

    def configure(self, provider: str, **settings: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/_sandbox/config", json={"provider": provider, **settings}, timeout=5
        )
        response.raise_for_status()
        return dict(response.json())

    def stats(self, provider: str) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/_sandbox/stats", params={"provider": provider}, timeout=5)
        response.raise_for_status()
        return dict(response.json()[provider])

    def requests(self, provider: str) -> int:
        """How many requests of this provider reached the fault/limit gate."""
        return sum(self.stats(provider)["counts"].values())


@pytest.fixture()
def sandbox_ctl(sandbox_url: str) -> Iterator[SandboxControl]:
    ctl = SandboxControl(sandbox_url)
    ctl.reset()
    get_settings.cache_clear()
    yield ctl
    ctl.reset()


# Generous limits and short retry timings so a test only waits where it means to.
FAST_ENV = {
    "PHANTOMBUSTER_RATE_PER_MIN": "60000",
    "CRUSTDATA_RATE_PER_MIN": "60000",
    "SALESQL_RATE_PER_MIN": "60000",
    "SALESQL_RATE_PER_DAY": "1000000",
    "OPENAI_RATE_PER_MIN": "60000",
    "OPENAI_TOKENS_PER_MIN": "100000000",
    "SHEETS_RATE_PER_MIN_PER_USER": "60000",
    "SHEETS_RATE_PER_MIN": "60000",
}
for _p in ("PHANTOMBUSTER", "CRUSTDATA", "SALESQL", "OPENAI", "SHEETS"):
    FAST_ENV.update(
        {
            f"{_p}_MAX_ATTEMPTS": "3",
            f"{_p}_MAX_RETRY_S": "8",
            f"{_p}_BACKOFF_BASE_S": "0.05",
            f"{_p}_BACKOFF_MAX_S": "0.2",
            f"{_p}_READ_TIMEOUT_S": "1",
            f"{_p}_CONNECT_TIMEOUT_S": "1",
            f"{_p}_LIMIT_WAIT_S": "5",
        }
    )


@pytest.fixture()
def fast_providers(
    sandbox_ctl: SandboxControl, monkeypatch: pytest.MonkeyPatch, live_servers: None
) -> SandboxControl:
    """Sandbox reset plus fast limits/retries in the environment the clients read, and no
    budget or rate-limit counters left in Redis by an earlier test (the database is emptied per
    test; a budget counter seeded from it must not outlive it)."""
    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)
    client = redis_lib.Redis.from_url(os.environ["REDIS_URL"])
    try:
        for pattern in ("sx:budget:*", "sx:rl:*"):
            for key in client.scan_iter(pattern, count=500):
                client.delete(key)
    finally:
        client.close()
    return sandbox_ctl


def make_context(conn: Any, *, with_job: bool = True) -> Any:
    """Insert a user, a project (and a job) and return a CallContext for them."""
    from services.providers.metering import CallContext

    user_id = make_user(conn, email="rita@example.com", name="Rita", role="recruiter")
    project_id = make_project(conn, name="Backend hires", owner_id=user_id)
    job_id = None
    if with_job:
        job_id = make_job(conn, kind="enrich", project_id=project_id, created_by=user_id)
    return CallContext(user_id=user_id, project_id=project_id, job_id=job_id)


def usage_rows(conn: Any, provider: str | None = None) -> list[dict[str, Any]]:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        if provider:
            cur.execute("SELECT * FROM api_usage WHERE provider = %s ORDER BY id", (provider,))
        else:
            cur.execute("SELECT * FROM api_usage ORDER BY id")
        return list(cur.fetchall())
