"""Admin area through the real Flask app: user management, the admin gate on every admin
callback, provider status without keys, the audit log listing and export, and GDPR erasure."""

from __future__ import annotations

import json
import re
from typing import Any

import psycopg
import pytest

from tests.factories import (
    add_to_project,
    make_job,
    make_profile,
    make_project,
    make_prompt_version,
)
from tests.helpers import create_user, dash_post, login, output_key

MANAGE_INPUTS = ("admin-change-role", "admin-deactivate", "admin-activate", "admin-reset-password")


@pytest.fixture()
def client(db: psycopg.Connection) -> Any:
    from app import server

    server.config["TESTING"] = True
    return server.test_client()


@pytest.fixture()
def team(db: psycopg.Connection, redis_conn: Any) -> dict[str, int]:
    return {
        "admin": create_user(db, "ada@example.com", "admin"),
        "lead": create_user(db, "lena@example.com", "lead"),
        "rita": create_user(db, "rita@example.com", "recruiter"),
    }


def _new_client(client: Any, email: str, password: str | None = None) -> Any:
    other = client.application.test_client()
    resp = login(other, email, password) if password else login(other, email)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return other


def _invite(client: Any, email: str, role: str) -> Any:
    return dash_post(
        client,
        output_key(client, "admin-invite-message.children"),
        [
            {"id": "admin-invite-message", "property": "children"},
            {"id": "admin-users", "property": "children"},
        ],
        [{"id": "admin-invite", "property": "n_clicks", "value": 1}],
        state=[
            {"id": "admin-invite-email", "property": "value", "value": email},
            {"id": "admin-invite-name", "property": "value", "value": "New Person"},
            {"id": "admin-invite-role", "property": "value", "value": role},
        ],
    )


def _manage(client: Any, button: str, user_id: int, role: str = "recruiter") -> Any:
    return dash_post(
        client,
        output_key(client, "admin-manage-message.children"),
        [
            {"id": "admin-manage-message", "property": "children"},
            {"id": "admin-users", "property": "children"},
        ],
        [
            {"id": b, "property": "n_clicks", "value": 1 if b == button else None}
            for b in MANAGE_INPUTS
        ],
        state=[
            {"id": "admin-manage-user", "property": "value", "value": user_id},
            {"id": "admin-manage-role", "property": "value", "value": role},
        ],
        changed=[f"{button}.n_clicks"],
    )


def _message(resp: Any, element: str) -> str:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return str(resp.get_json()["response"][element]["children"])


def _audit_actions(db: psycopg.Connection) -> list[str]:
    return [r[0] for r in db.execute("SELECT action FROM audit_log ORDER BY id").fetchall()]


def test_admin_invites_a_user_who_can_then_sign_in(
    client: Any, db: psycopg.Connection, team: dict[str, int]
) -> None:
    login(client, "ada@example.com")
    text = _message(_invite(client, "new@example.com", "lead"), "admin-invite-message")
    password = re.search(r"shown only now: ', '([A-Za-z0-9_-]+)'", text)
    assert password, text
    _new_client(client, "new@example.com", password.group(1))
    row = db.execute("SELECT role, active FROM users WHERE email = 'new@example.com'").fetchone()
    assert row == ("lead", True)
    assert "user.create" in _audit_actions(db)
    again = _message(_invite(client, "NEW@example.com", "lead"), "admin-invite-message")
    assert "already exists" in again


def test_role_change_is_applied_and_audited(
    client: Any, db: psycopg.Connection, team: dict[str, int]
) -> None:
    login(client, "ada@example.com")
    resp = _manage(client, "admin-change-role", team["rita"], role="lead")
    assert "Role changed" in _message(resp, "admin-manage-message")
    assert db.execute("SELECT role FROM users WHERE id = %s", (team["rita"],)).fetchone() == (
        "lead",
    )
    row = db.execute(
        "SELECT user_id, object_id, details->>'role' FROM audit_log WHERE action = 'user.role'"
    ).fetchone()
    assert row == (team["admin"], str(team["rita"]), "lead")
    refused = _manage(client, "admin-change-role", team["admin"], role="recruiter")
    assert "yourself" in _message(refused, "admin-manage-message")


def test_deactivation_ends_a_live_session_and_activation_restores_sign_in(
    client: Any, db: psycopg.Connection, team: dict[str, int]
) -> None:
    rita = _new_client(client, "rita@example.com")
    assert rita.get("/profiles").status_code == 200
    login(client, "ada@example.com")
    resp = _manage(client, "admin-deactivate", team["rita"])
    assert "Deactivated" in _message(resp, "admin-manage-message")
    assert rita.get("/profiles").status_code == 302
    assert rita.get("/_dash-layout").status_code == 401
    assert login(rita.application.test_client(), "rita@example.com").status_code == 401
    _manage(client, "admin-activate", team["rita"])
    _new_client(client, "rita@example.com")
    assert _audit_actions(db).count("user.deactivate") == 1
    self_off = _manage(client, "admin-deactivate", team["admin"])
    assert "yourself" in _message(self_off, "admin-manage-message")


def test_password_reset_gives_a_new_password_and_ends_sessions(
    client: Any, db: psycopg.Connection, team: dict[str, int]
) -> None:
    rita = _new_client(client, "rita@example.com")
    login(client, "ada@example.com")
    text = _message(_manage(client, "admin-reset-password", team["rita"]), "admin-manage-message")
    new_password = re.search(r"shown only now: ([A-Za-z0-9_-]+)", text)
    assert new_password, text
    assert rita.get("/profiles").status_code == 302
    _new_client(client, "rita@example.com", new_password.group(1))
    assert "user.password_reset" in _audit_actions(db)


def _admin_callbacks(client: Any) -> list[Any]:
    """Every admin server callback, posted once with harmless-looking inputs."""
    posts = [
        dash_post(
            client,
            "admin-users.children",
            {"id": "admin-users", "property": "children"},
            [{"id": "admin-users", "property": "id", "value": "admin-users"}],
        ),
        dash_post(
            client,
            output_key(client, "admin-manage-user.options"),
            [
                {"id": "admin-manage-user", "property": "options"},
                {"id": "admin-audit-user", "property": "options"},
            ],
            [{"id": "admin-users", "property": "children", "value": None}],
        ),
        _invite(client, "sneaky@example.com", "admin"),
        *[_manage(client, b, 1, role="recruiter") for b in MANAGE_INPUTS],
        dash_post(
            client,
            "admin-providers.children",
            {"id": "admin-providers", "property": "children"},
            [{"id": "admin-providers", "property": "id", "value": "admin-providers"}],
        ),
        _audit(client),
        _erase(client, 1),
    ]
    return posts


def _audit(client: Any, action: str | None = None, cursor: int | None = None) -> Any:
    return dash_post(
        client,
        output_key(client, "admin-audit-table.children"),
        [
            {"id": "admin-audit-table", "property": "children"},
            {"id": "admin-audit-cursor", "property": "data"},
            {"id": "admin-audit-older", "property": "disabled"},
            {"id": "admin-audit-csv", "property": "href"},
        ],
        [
            {"id": "admin-audit-apply", "property": "n_clicks", "value": None if cursor else 1},
            {"id": "admin-audit-older", "property": "n_clicks", "value": 1 if cursor else None},
        ],
        state=[
            {"id": "admin-audit-user", "property": "value", "value": None},
            {"id": "admin-audit-action", "property": "value", "value": action},
            {"id": "admin-audit-object-type", "property": "value", "value": None},
            {"id": "admin-audit-object-id", "property": "value", "value": None},
            {"id": "admin-audit-dates", "property": "start_date", "value": None},
            {"id": "admin-audit-dates", "property": "end_date", "value": None},
            {"id": "admin-audit-cursor", "property": "data", "value": cursor},
        ],
        changed=["admin-audit-older.n_clicks" if cursor else "admin-audit-apply.n_clicks"],
    )


def _erase(client: Any, profile_id: int) -> Any:
    return dash_post(
        client,
        output_key(client, "admin-erase-message.children"),
        {"id": "admin-erase-message", "property": "children"},
        [{"id": "admin-erase", "property": "n_clicks", "value": 1}],
        state=[
            {"id": "admin-erase-id", "property": "value", "value": profile_id},
            {"id": "admin-erase-confirm", "property": "value", "value": "ERASE"},
        ],
    )


@pytest.mark.parametrize("email", ["rita@example.com", "lena@example.com"])
def test_recruiter_and_lead_are_refused_by_every_admin_callback(
    client: Any, db: psycopg.Connection, team: dict[str, int], email: str
) -> None:
    db.execute(
        "INSERT INTO profiles (id, linkedin_url, full_name) VALUES (1, 'https://x.test/in/a', 'A')"
    )
    login(client, email)
    before = db.execute(
        "SELECT id, role, active, session_version FROM users ORDER BY id"
    ).fetchall()
    for resp in _admin_callbacks(client):
        assert resp.status_code == 200
        text = resp.get_data(as_text=True)
        assert "ada@example.com" not in text and "crustdata" not in text, text[:300]
        assert "admin role" in text or text.count("[]") >= 2, text[:300]
    after = db.execute("SELECT id, role, active, session_version FROM users ORDER BY id").fetchall()
    assert after == before
    assert db.execute("SELECT count(*) FROM profiles").fetchone() == (1,)
    assert client.get("/download/audit.csv").status_code == 403


def test_provider_status_shows_limits_and_budgets_never_keys(
    client: Any, team: dict[str, int]
) -> None:
    from services.providers.config import PROVIDERS, SANDBOX_KEY

    login(client, "ada@example.com")
    resp = dash_post(
        client,
        "admin-providers.children",
        {"id": "admin-providers", "property": "children"},
        [{"id": "admin-providers", "property": "id", "value": "admin-providers"}],
    )
    text = json.dumps(resp.get_json())
    assert all(p in text for p in PROVIDERS)
    assert "30 requests/min" in text and "5,000 requests/day" in text
    assert "sandbox" in text or "not configured" in text
    assert SANDBOX_KEY not in text and "api_key" not in text


def test_audit_log_lists_filters_pages_and_exports(
    client: Any, db: psycopg.Connection, team: dict[str, int]
) -> None:
    from services.audit import browse as audit_log

    for i in range(60):
        db.execute(
            "INSERT INTO audit_log (user_id, action, object_type, object_id) VALUES (%s, %s,"
            " 'thing', %s)",
            (team["lead"], "thing.poke" if i % 2 else "=cmd()", str(i)),
        )
    login(client, "ada@example.com")
    first = _audit(client).get_json()["response"]
    assert first["admin-audit-older"]["disabled"] is False
    cursor = first["admin-audit-cursor"]["data"]
    older = _audit(client, cursor=cursor).get_json()["response"]
    assert older["admin-audit-older"]["disabled"] is True
    listed = audit_log.list_entries(audit_log.parse_audit_filter({"action": "thing."}))
    assert [e.object_id for e in listed.entries][:3] == ["59", "57", "55"]
    assert listed.next_before_id is None and len(listed.entries) == 30
    filtered = _audit(client, action="user.").get_json()["response"]
    assert "thing.poke" not in str(filtered["admin-audit-table"]["children"])
    assert filtered["admin-audit-csv"]["href"] == "/download/audit.csv?action=user."
    resp = client.get("/download/audit.csv?object_type=thing")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    lines = resp.get_data(as_text=True).splitlines()
    assert lines[0] == "id,ts,user_id,user_email,action,object_type,object_id,details"
    assert len(lines) == 61
    assert any(",'=cmd(),thing," in line for line in lines)  # formula-safe
    assert "lena@example.com" in lines[1]
    assert client.get("/download/audit.csv?date_from=junk").status_code == 400
    assert "audit.export" in _audit_actions(db)


URL = "https://www.linkedin.com/in/erin-example-1234"


def _profile_everywhere(db: psycopg.Connection, lead: int) -> None:
    """Profile 7 (to erase) and profile 8 (to keep), each in every table that holds profiles."""
    ex = db.execute
    make_project(db, id=1, name="Alpha")
    make_job(db, id=1, kind="screen", project_id=1, created_by=lead)
    make_prompt_version(db, id=1, project_id=1)
    people = [(7, URL, "Erin Example"), (8, URL + "-keep", "Kept Person")]
    for pid, url, name in people:
        make_profile(db, id=pid, linkedin_url=url, public_id=url.rsplit("/", 1)[1], full_name=name)
        ex(
            "INSERT INTO profile_raw (profile_id, provider, payload) VALUES (%s, 'crustdata',"
            " %s::jsonb)",
            (pid, f'{{"name": "{name}"}}'),
        )
        add_to_project(db, 1, pid)
        ex(
            "INSERT INTO filter_results (project_id, profile_id, passed) VALUES (1, %s, true)",
            (pid,),
        )
        sid = ex(
            "INSERT INTO screenings (project_id, profile_id, prompt_version_id, status, score, fit,"
            " reasoning, job_id) VALUES (1, %s, 1, 'done', 8, 'good', %s, 1) RETURNING id",
            (pid, f"{name} looks good"),
        ).fetchone()
        assert sid
        ex(
            "INSERT INTO screening_overrides (screening_id, user_id, verdict) VALUES (%s, %s,"
            " 'agree')",
            (sid[0], lead),
        )
        ex(
            "INSERT INTO contacts (profile_id, kind, value, provider) VALUES (%s, 'email', %s,"
            " 'salesql')",
            (pid, f"{pid}@example.com"),
        )
        ex(
            "INSERT INTO contact_lookups (profile_id, status, provider) VALUES (%s, 'found',"
            " 'salesql')",
            (pid,),
        )
        ex(
            "INSERT INTO api_usage (provider, operation, status, subject, cost_usd, project_id)"
            " VALUES ('salesql', 'person_enrich', 'ok', %s, 0.02, 1)",
            (url,),
        )
    ex(
        "INSERT INTO api_usage (provider, operation, status, subject) VALUES"
        " ('crustdata', 'enrich', 'ok', 'http://linkedin.com/in/erin-example-1234/?trk=x')"
    )
    # The team's tags, notes and stage moves on them (migration 0009) are theirs to lose too.
    tag = ex("INSERT INTO tags (name, created_by) VALUES ('Follow up', %s) RETURNING id", (lead,))
    tag_id = tag.fetchone()[0]  # type: ignore[index]
    for pid in (7, 8):
        ex("INSERT INTO profile_tags (profile_id, tag_id) VALUES (%s, %s)", (pid, tag_id))
        ex(
            "INSERT INTO profile_notes (profile_id, author_id, body) VALUES (%s, %s, %s)",
            (pid, lead, f"Called profile {pid}"),
        )
        ex(
            "INSERT INTO project_stage_history (project_id, profile_id, from_stage, to_stage)"
            " VALUES (1, %s, 'sourced', 'contacted')",
            (pid,),
        )
    ex("UPDATE projects SET profile_count = 2")


def test_erasure_removes_the_profile_everywhere_and_keeps_an_audit_entry(
    client: Any, db: psycopg.Connection, team: dict[str, int]
) -> None:
    _profile_everywhere(db, team["lead"])
    login(client, "ada@example.com")
    refused = _message_plain(_erase_confirmed(client, 7, "yes"))
    assert "Type ERASE" in refused
    done = _message_plain(_erase(client, 7))
    assert "Profile #7 erased" in done
    tables = [
        r[0]
        for r in db.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND column_name = 'profile_id'"
        ).fetchall()
    ]
    assert {"profile_raw", "project_profiles", "screenings", "contacts"} <= set(tables)
    for table in tables:
        left = db.execute(f'SELECT count(*) FROM "{table}" WHERE profile_id = 7').fetchone()
        kept = db.execute(f'SELECT count(*) FROM "{table}" WHERE profile_id = 8').fetchone()
        assert left == (0,), table
        assert kept == (1,), table
    assert db.execute("SELECT count(*) FROM profiles WHERE id = 7").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM screening_overrides").fetchone() == (1,)
    usage = db.execute("SELECT subject, cost_usd FROM api_usage ORDER BY id").fetchall()
    assert [u[0] for u in usage] == [None, URL + "-keep", None]  # the spend stays, the name goes
    assert db.execute("SELECT profile_count FROM projects").fetchone() == (1,)
    entry = db.execute(
        "SELECT user_id, object_type, object_id, details::text FROM audit_log"
        " WHERE action = 'profile.erase'"
    ).fetchone()
    assert entry is not None and entry[:3] == (team["admin"], "profile", "7")
    whole_log = str(db.execute("SELECT array_agg(a::text) FROM audit_log a").fetchone())
    assert "erin" not in whole_log.lower() and "linkedin.com" not in whole_log
    missing = _message_plain(_erase(client, 7))
    assert "no profile #7" in missing


def _erase_confirmed(client: Any, profile_id: int, confirm: str) -> Any:
    return dash_post(
        client,
        output_key(client, "admin-erase-message.children"),
        {"id": "admin-erase-message", "property": "children"},
        [{"id": "admin-erase", "property": "n_clicks", "value": 1}],
        state=[
            {"id": "admin-erase-id", "property": "value", "value": profile_id},
            {"id": "admin-erase-confirm", "property": "value", "value": confirm},
        ],
    )


def _message_plain(resp: Any) -> str:
    return _message(resp, "admin-erase-message")
