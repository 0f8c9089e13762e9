"""Shared test helpers: users, logged-in clients, Dash callback POSTs, a real Celery worker."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery"


def create_user(db: psycopg.Connection, email: str, role: str, password: str = PASSWORD) -> int:
    from services import auth

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        user = auth.create_user(conn, email, email.split("@")[0], password, role)
    return user.id


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "login form carries a CSRF token"
    return match.group(1)


def login(client: Any, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def dash_post(
    client: Any,
    output: str,
    outputs: list[dict[str, Any]] | dict[str, Any],
    inputs: list[dict[str, Any]],
    state: list[dict[str, Any]] | None = None,
    changed: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """POST one callback the way the Dash renderer does."""
    body = {
        "output": output,
        "outputs": outputs,
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": changed
        or [f"{i['id']}.{i['property']}" for i in inputs if isinstance(i.get("id"), str)],
    }
    return client.post(
        "/_dash-update-component",
        json=body,
        headers={"Origin": "http://localhost", **(headers or {})},
    )


def callback_body(
    dep: dict[str, Any], values: dict[tuple[str, str], Any] | None = None
) -> dict[str, Any]:
    """A structurally valid body for one registered callback (an entry of /_dash-dependencies):
    every input and state it declares, valued from `values` by (id, property) where given (ids of
    pattern-matching components as Dash spells them, e.g. '{"scope":"x","type":"job-store"}'),
    else None. Built from the registration, so a callback that gains a State still gets it."""
    values = values or {}

    def ref(item: dict[str, Any]) -> dict[str, Any]:
        ident = item["id"]
        value = values.get((ident, item["property"]))
        if isinstance(ident, str) and ident.startswith("{"):
            ident = json.loads(ident)
        return {"id": ident, "property": item["property"], "value": value}

    def out(spec: str) -> dict[str, Any]:
        ident, prop = spec.rsplit(".", 1)
        return {
            "id": json.loads(ident) if ident.startswith("{") else ident,
            "property": prop.split("@")[0],
        }

    # The renderer sends a list for multi-output callbacks ("..a.b...c.d..") and a dict otherwise.
    specs = [o for o in re.split(r"\.\.\.", dep["output"].strip(".")) if o]
    multi = dep["output"].startswith("..")
    return {
        "output": dep["output"],
        "outputs": [out(o) for o in specs] if multi else out(specs[0]),
        "inputs": [ref(i) for i in dep["inputs"]],
        "state": [ref(s) for s in dep["state"]],
        "changedPropIds": [],
    }


def celery_argv(concurrency: int = 1, name: str | None = None) -> list[str]:
    """The command line of a test Celery worker (node `name`, unique by default)."""
    return [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "celery_app",
        "worker",
        "-c",
        str(concurrency),
        "--pool",
        "prefork",
        "-O",
        "fair",
        "--loglevel",
        "INFO",
        "-n",
        f"{name or f'test-{time.time_ns()}'}@%h",
        "--without-gossip",
        "--without-mingle",
    ]


def gunicorn_argv() -> list[str]:
    """The command line of the web tier as deployed (gunicorn.conf.py reads PORT etc.)."""
    return [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "app:server"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(url: str) -> bool:
    """True once `url` answers 200 (a server that is still starting answers nothing)."""
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def http_login(client: httpx.Client, email: str, password: str = PASSWORD) -> None:
    """Sign in over real HTTP (a server subprocess) through the login form and its CSRF token."""
    token = csrf_from(client.get("/login").text)
    resp = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert resp.status_code == 302, resp.text[:300]


@contextmanager
def celery_worker(concurrency: int = 1) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on the test broker and database."""
    log_path = Path(os.environ.get("SOURCINGX_VAR_DIR", "/tmp")) / f"celery-{time.time_ns()}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            celery_argv(concurrency),
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_for(predicate: Any, timeout_s: float = 30.0, interval_s: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s}s")


def output_key(client: Any, *fragments: str) -> str:
    """The exact `output` string Dash registered for the callback whose outputs contain these."""
    deps = client.get("/_dash-dependencies").get_json()
    matches = [d["output"] for d in deps if all(f in d["output"] for f in fragments)]
    assert len(matches) == 1, f"expected one callback with {fragments}, got {matches}"
    return str(matches[0])
