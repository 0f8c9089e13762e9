"""Shortlist, contact lookup through the SalesQL sandbox (no repeat lookups, daily credit budget
enforced with a clear message), and the formula-safe shortlist CSV export."""

from __future__ import annotations

import csv
import io

import psycopg
import pytest

from services import contacts, jobs
from services.screening import prompt
from services.shortlist_export import export_shortlist, safe_cell
from tests.factories import add_profile, make_project
from tests.helpers import celery_worker, create_user, login, wait_for
from tests.integration.sandbox_fixture import SandboxControl

pytestmark = pytest.mark.integration


def _finished(job_id: int) -> jobs.Job:
    return wait_for(lambda: (j := jobs.get_job(job_id)) and j.finished and j, timeout_s=60)


def _lookups(db: psycopg.Connection) -> int:
    row = db.execute(
        "SELECT count(*) FROM api_usage WHERE provider = 'salesql'"
        " AND operation = 'person_enrich' AND status <> 'budget_exceeded'"
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_lookup_stores_contacts_once_and_stops_at_the_daily_budget(
    db: psycopg.Connection,
    redis_conn: object,
    fast_providers: SandboxControl,
    monkeypatch: pytest.MonkeyPatch,
    same_utc_day: object,
) -> None:
    monkeypatch.setenv("SALESQL_DAILY_BUDGET", "3")  # credits per day for the team
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Data Eng", owner_id=user)
    ids = [add_profile(db, project, f"person-{i}") for i in range(6)]
    missing = add_profile(db, project, "notfound-person")
    assert contacts.set_shortlisted(user, project, [*ids[:2], missing]) == 3
    with celery_worker():
        first = _finished(contacts.start_lookup(user, project))
        assert first.status == "done" and (first.done, first.failed) == (3, 0), first
        stored = db.execute(
            "SELECT kind, type, validity FROM contacts WHERE profile_id = %s", (ids[0],)
        ).fetchall()
        assert {k for k, _t, _v in stored} == {"email", "phone"}
        assert all(t for _k, t, _v in stored)  # type (Work/Direct/...) is kept
        statuses = dict(db.execute("SELECT profile_id, status FROM contact_lookups").fetchall())
        assert statuses == {ids[0]: "found", ids[1]: "found", missing: "not_found"}
        assert _lookups(db) == 3
        # Nothing is due any more: known contacts and a recent "not found" are not looked up.
        with pytest.raises(jobs.JobError, match="Nothing to look up"):
            contacts.start_lookup(user, project)
        # Four more shortlisted: one credit is left today, so one is found and the job stops.
        contacts.set_shortlisted(user, project, ids[2:])
        second = _finished(contacts.start_lookup(user, project))
    assert second.status == "failed"
    assert second.error and "credit budget reached" in second.error and "3 units" in second.error
    assert (second.done, second.failed) == (1, 3)
    failed = db.execute(
        "SELECT error FROM contact_lookups WHERE status = 'failed' ORDER BY profile_id"
    ).fetchall()
    assert len(failed) == 3 and all("credit budget reached" in e for (e,) in failed)
    assert _lookups(db) == 4  # the budget refused before sending: no call over it
    assert fast_providers.requests("salesql") == 4


def test_shortlist_by_fit_and_formula_safe_export(
    db: psycopg.Connection, redis_conn: object, fast_providers: SandboxControl
) -> None:
    user = create_user(db, "rita@example.com", "recruiter")
    project = make_project(db, name="Data Eng", owner_id=user)
    evil = add_profile(
        db, project, "evil-person", company='=HYPERLINK("http://x")', title="@SUM(A1)"
    )
    plain = add_profile(db, project, "plain-person", company="Globex", title="Engineer")
    weak = add_profile(db, project, "weak-person")
    version = prompt.save_criteria(user, project, prompt.parse_criteria("Python", "", "", ""))
    for profile_id, fit, score, reasoning in (
        (evil, "strong", 9, "-1 risk: =cmd|' /C calc'!A0"),
        (plain, "strong", 8, "Solid Python."),
        (weak, "no", 2, "No match."),
    ):
        db.execute(
            "INSERT INTO screenings (project_id, profile_id, prompt_version_id, status, score,"
            " fit, reasoning, model, input_hash) VALUES (%s, %s, %s, 'done', %s, %s, %s,"
            " 'gpt-4o-mini', 'h')",
            (project, profile_id, version.id, score, fit, reasoning),
        )
    db.execute(
        "INSERT INTO contacts (profile_id, kind, value, type, validity, provider) VALUES"
        " (%s, 'phone', '+49 30 1234', 'Mobile', 'valid', 'salesql'),"
        " (%s, 'email', 'e@example.com', 'Work', 'Valid', 'salesql')",
        (evil, evil),
    )
    assert contacts.shortlist_by_fit(user, project, ("strong",)) == 2
    assert contacts.shortlist_by_fit(user, project, ("strong",)) == 0  # already shortlisted
    rows = list(csv.reader(io.StringIO("".join(export_shortlist(project)))))
    header, body = rows[0], rows[1:]
    assert [r[0] for r in body] == [str(evil), str(plain)]  # best score first, weak excluded
    cells = dict(zip(header, body[0], strict=True))
    assert cells["current_company"] == '\'=HYPERLINK("http://x")'
    assert cells["current_title"] == "'@SUM(A1)"
    assert cells["reasoning"].startswith("'-1 risk")
    assert cells["phones"] == "'+49 30 1234 (Mobile)"
    assert cells["emails"] == "e@example.com (Work, Valid)"
    assert (cells["score"], cells["fit"], cells["prompt_version"]) == ("9", "strong", "1")
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert safe_cell("\tx") == "'\tx" and safe_cell(5) == 5
    # Through the web route: login required, CSV streamed with the same content.
    from app import server

    client = server.test_client()
    assert client.get(f"/download/projects/{project}/shortlist.csv").status_code == 401
    login(client, "rita@example.com")
    response = client.get(f"/download/projects/{project}/shortlist.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "'=HYPERLINK" in response.get_data(as_text=True)
