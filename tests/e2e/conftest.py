"""Browser end-to-end fixtures: the whole app as a real subprocess, driven by system Chromium.

`live_app` runs `manage.py run` (gunicorn, a Celery worker, the sandbox) on a free port against
a database and a Redis db of its own, derived from what tests/conftest.py prepared: database
`<test db>_e2e` on the same server (dropped and created empty, so the runner migrates it, creates
the admin and seeds demo profiles) and Redis db SX_E2E_REDIS_DB (default: the test db - 1).
The runner prints the admin password once; it is read from its output.
`page` is a fresh tab in a browser context that signed in through the login form once.
Screenshots go to test-artifacts/e2e/ (git-ignored), with the app's log.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
SEED_PROFILES = 3000
START_TIMEOUT_S = 150
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return (
            f"{CHROMIUM} is missing (Debian package 'chromium'; scripts/test installs it as root)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (dev extra)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _e2e_database_url(test_url: str) -> str:
    parts = urlsplit(test_url)
    name = f"{parts.path.lstrip('/')}_e2e"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def _e2e_redis_url(test_url: str) -> str:
    if test_url.startswith("unix://"):
        base, _, query = test_url.partition("?")
        current = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("db", 0))
    else:
        base, current = test_url, int(urlsplit(test_url).path.lstrip("/") or 0)
    db = int(os.environ.get("SX_E2E_REDIS_DB", (current - 1) % 16))
    if test_url.startswith("unix://"):
        url = f"{base}?db={db}"
    else:
        url = urlunsplit(urlsplit(base)._replace(path=f"/{db}"))
    import redis

    redis.Redis.from_url(url).flushdb()
    return url


@dataclass
class LiveApp:
    url: str
    email: str
    password: str
    database_url: str
    log: list[str] = field(default_factory=list)


@pytest.fixture(autouse=True, scope="session")
def _servers_for_e2e(live_servers: None) -> None:
    """The test Postgres and Redis are up before any test of this tier runs (the app's own
    database and Redis db are derived from them)."""


@pytest.fixture(scope="session")
def live_app(live_servers: None) -> Iterator[LiveApp]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    database_url = _e2e_database_url(os.environ["DATABASE_URL"])
    redis_url = _e2e_redis_url(os.environ["REDIS_URL"])
    port = _free_port()
    var_dir = tempfile.mkdtemp(prefix="sx-e2e-var-")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SOURCINGX_VAR_DIR": var_dir,
        "SOURCINGX_ENV": "development",
        "PYTHONUNBUFFERED": "1",
        "WEB_CONCURRENCY": "2",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run",
            "--port",
            str(port),
            "--seed",
            str(SEED_PROFILES),
            "--worker-concurrency",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lines: list[str] = []
    ready = threading.Event()
    log_path = ARTIFACTS / "app.log"

    def drain() -> None:  # keeps the pipe empty for the whole session
        assert proc.stdout is not None
        with open(log_path, "w", encoding="utf-8") as log:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace")
                lines.append(line)
                log.write(line)
                log.flush()
                if line.startswith("Press Ctrl-C"):
                    ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT_S) or proc.poll() is not None:
            raise RuntimeError(f"the app did not start; see {log_path}")
        text = "".join(lines)
        up = re.search(r"SourcingX is up at (\S+)", text)
        creds = re.search(r"Sign in as (\S+) with password (\S+) \(shown once\)", text)
        assert up, f"the runner did not report the app up; see {log_path}"
        assert creds, "the runner prints the first admin's password once"
        yield LiveApp(up.group(1), creds.group(1), creds.group(2), database_url, lines)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the runner stops its children itself
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def signed_in_context(browser: Any, live_app: LiveApp) -> Iterator[Any]:
    """A browser context with the admin's session cookie (signed in through the real form)."""
    context = browser.new_context(base_url=live_app.url, viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("#email", live_app.email)
    page.fill("#password", live_app.password)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/$"))
    page.screenshot(path=str(ARTIFACTS / "00-signed-in.png"))
    page.close()
    yield context
    context.close()


@dataclass
class Console:
    """What the page wrote to the browser console, and uncaught page errors."""

    messages: list[str] = field(default_factory=list)

    def matching(self, pattern: str) -> list[str]:
        return [m for m in self.messages if re.search(pattern, m)]


@pytest.fixture()
def console() -> Console:
    return Console()


@pytest.fixture()
def page(signed_in_context: Any, console: Console) -> Iterator[Any]:
    """A fresh tab of the signed-in context; console warnings/errors are collected."""
    tab = signed_in_context.new_page()
    tab.on(
        "console",
        lambda msg: (
            console.messages.append(f"{msg.type}: {msg.text}")
            if msg.type in ("warning", "error")
            else None
        ),
    )
    tab.on("pageerror", lambda exc: console.messages.append(f"pageerror: {exc}"))
    yield tab
    tab.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def wait(seconds: float) -> None:
    time.sleep(seconds)
