"""Metrics, request ids and JSON logs of the web tier."""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg
import pytest

from services import jobs
from services.core.logs import REQUEST_ID, JsonFormatter
from tests.helpers import create_user, dash_post, login, output_key
from web.observability import callback_label


@pytest.fixture()
def client(db: psycopg.Connection) -> Any:
    from app import server

    return server.test_client()


def test_metrics_need_an_admin_or_the_token(
    client: Any, db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/metrics").status_code == 401
    create_user(db, "rita@example.com", "recruiter")
    login(client, "rita@example.com")
    assert client.get("/metrics").status_code == 403
    monkeypatch.setenv("METRICS_TOKEN", "scrape-token-0123456789")
    anon = client.application.test_client()
    assert anon.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    scraped = anon.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert scraped.status_code == 200
    text = scraped.get_data(as_text=True)
    assert "sx_http_request_seconds" in text and "sx_job_queue_depth" in text


def test_callbacks_are_measured_by_name_and_requests_carry_an_id(
    client: Any, db: psycopg.Connection
) -> None:
    create_user(db, "ada@example.com", "admin")
    login(client, "ada@example.com")
    resp = dash_post(
        client,
        "nav-profile-count.children",
        {"id": "nav-profile-count", "property": "children"},
        [{"id": "url", "property": "pathname", "value": "/"}],
        headers={"X-Request-ID": "trace-abc-12345"},
    )
    assert resp.headers["X-Request-ID"] == "trace-abc-12345"
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 16  # generated when absent
    text = client.get("/metrics").get_data(as_text=True)
    assert 'sx_callback_seconds_count{callback="nav-profile-count",status="2xx"}' in text


def test_a_job_enqueued_by_a_request_carries_its_request_id(
    client: Any, db: psycopg.Connection
) -> None:
    create_user(db, "rita@example.com", "recruiter")
    login(client, "rita@example.com")
    store = {"id": {"type": "job-store", "scope": "home"}, "property": "data"}
    interval = {"id": {"type": "job-interval", "scope": "home"}, "property": "disabled"}
    resp = dash_post(
        client,
        output_key(client, '"scope":"home","type":"job-store"'),
        [store, interval],
        [{"id": "home-recount", "property": "n_clicks", "value": 1}],
        headers={"X-Request-ID": "req-follow-me-1"},
    )
    job_id = resp.get_json()["response"]['{"scope":"home","type":"job-store"}']["data"]["job_id"]
    job = jobs.get_job(job_id)
    assert job is not None and job.request_id == "req-follow-me-1"


def test_json_log_lines_carry_ids_and_nothing_else_personal() -> None:
    token = REQUEST_ID.set("req-1234567")
    try:
        record = logging.LogRecord("sx", logging.INFO, __file__, 1, "job %s done", (7,), None)
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["request_id"] == "req-1234567" and line["msg"] == "job 7 done"
    assert set(line) == {"ts", "level", "logger", "msg", "pid", "request_id"}


@pytest.mark.parametrize(
    ("output", "label"),
    [
        ("profiles-grid.getRowsResponse", "profiles-grid"),
        ("..profiles-grid.getRowsResponse...profiles-count.children..", "profiles-grid"),
        ('..{"scope":"home","type":"job-progress"}.value...x.y@abc123..', "job-progress"),
        (None, "unknown"),
    ],
)
def test_callback_labels_are_short_and_bounded(output: Any, label: str) -> None:
    assert callback_label(output) == label
