"""/healthz notices a stopped Redis; the one-command runner really starts on embedded defaults."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest

from services.core import embedded
from services.core.cache import reset_cache
from services.core.redis_client import reset_redis
from services.core.settings import get_settings
from tests.helpers import ROOT, csrf_from


def test_healthz_reports_a_stopped_redis_as_unhealthy(
    db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import server

    var_dir = Path(tempfile.mkdtemp(prefix="sx-redis-"))
    url = embedded.start_redis(var_dir)
    monkeypatch.setenv("REDIS_URL", url)
    get_settings.cache_clear()
    reset_redis()
    reset_cache()
    try:
        client: Any = server.test_client()
        assert client.get("/healthz").status_code == 200
        embedded.stop_redis(var_dir)
        resp = client.get("/healthz")
        body = resp.get_json()
        assert resp.status_code == 503
        assert body["status"] == "unhealthy"
        assert body["checks"]["redis"]["ok"] is False and body["checks"]["postgres"]["ok"] is True
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        reset_redis()
        reset_cache()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_runner_starts_everything_on_embedded_defaults_and_serves_a_login() -> None:
    var_dir = tempfile.mkdtemp(prefix="sx-embedded-")
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "SX_TEST_PREPARED",
            "SANDBOX_URL",
            "SOURCINGX_ENV",
        }
    }
    env["SOURCINGX_VAR_DIR"] = var_dir
    log_path = Path(var_dir) / "runner.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run",
                "--port",
                str(port),
                "--seed",
                "300",
                "--worker-concurrency",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 150
        text = ""
        while time.monotonic() < deadline and "SourcingX is up" not in text:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.5)
            text = log_path.read_text(errors="replace")
        match = re.search(r"Sign in as (\S+) with password (\S+)", text)
        assert match, text[-3000:]
        email, password = match.groups()
        assert (Path(var_dir) / "pg" / "PG_VERSION").exists()
        assert (Path(var_dir) / "redis" / "redis.sock").exists()
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        token = csrf_from(opener.open(f"{base}/login").read().decode())
        form = urlencode({"email": email, "password": password, "csrf_token": token}).encode()
        home = opener.open(urllib.request.Request(f"{base}/login", data=form)).read().decode()
        assert "_dash-renderer" in home or "dash-renderer" in home
        req = urllib.request.Request(
            f"{base}/_dash-update-component",
            method="POST",
            headers={"Content-Type": "application/json", "Origin": base},
            data=(
                b'{"output":"nav-profile-count.children","outputs":{"id":"nav-profile-count",'
                b'"property":"children"},"inputs":[{"id":"url","property":"pathname",'
                b'"value":"/"}],"changedPropIds":["url.pathname"]}'
            ),
        )
        assert "300 profiles" in opener.open(req).read().decode()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        embedded.stop_redis(Path(var_dir))
        embedded.stop_postgres(Path(var_dir))
    assert "stopped" in log_path.read_text(errors="replace")
