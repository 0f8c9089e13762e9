"""The demo team, its filter lists and its projects, made through the real service functions
(`auth.create_user`, `filters.lists`, `filters.apply.set_project_lists`, `projects`,
`screening.prompt.save_criteria`) and then moved back to the day the history says."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from services import auth, projects
from services.demo.plan import LISTS, SHEET_ID, SHEET_RANGE, TEAM, ProjectPlan
from services.demo.state import Demo, ProjectState
from services.demo.usage import Who
from services.filters import apply as filter_apply
from services.filters import lists
from services.screening import prompt as pr


def ensure_team(conn: psycopg.Connection, joined: datetime) -> dict[str, int]:
    """The demo lead and recruiters (created once, by email, as having joined at `joined`).
    Their passwords are random and never shown: they are people in the story, and an admin can
    reset one to sign in as them."""
    ids: dict[str, int] = {}
    for member in TEAM:
        row = conn.execute(
            "SELECT id FROM users WHERE lower(email) = lower(%s)", (member.email,)
        ).fetchone()
        if row is None:
            user = auth.create_user(
                conn, member.email, member.name, auth.generate_password(), member.role
            )
            ids[member.key] = user.id
            conn.execute("UPDATE users SET created_at = %s WHERE id = %s", (joined, user.id))
            conn.execute(
                "UPDATE audit_log SET ts = %s WHERE action = 'user.create' AND object_id = %s",
                (joined, str(user.id)),
            )
        else:
            ids[member.key] = int(row[0])
    return ids


def _csv(values: tuple[str, ...]) -> bytes:
    return ("company\n" + "\n".join(values) + "\n").encode()


def create_lists(demo: Demo, at: datetime) -> None:
    """The team's filter lists: typed in, imported from a CSV, or read from a Google Sheet."""
    lead = demo.user("lead")
    for spec in LISTS:
        when = at + timedelta(minutes=7 * len(demo.lists))
        with demo.db.at(when, "filter_lists"):
            list_id = lists.create_list(lead, spec.name, spec.category)
            if spec.source == "csv":
                lists.import_csv(lead, list_id, "clients.csv", _csv(spec.values))
            elif spec.source == "sheet":
                sync_sheet(demo, list_id, spec.values, when)
            else:
                lists.add_items(lead, list_id, spec.values)
        demo.lists[spec.key] = list_id


def sync_sheet(demo: Demo, list_id: int, values: tuple[str, ...], at: datetime) -> None:
    """What `lists.import_sheet` does: the range read through the Sheets client (here its usage
    row, since the sheet is not reachable), then the items replaced in one transaction."""
    lead = demo.user("lead")
    demo.usage.add(
        at,
        Who(lead),
        "sheets",
        "values_get",
        units=1.0,
        latency=(180, 450),
        subject=f"{SHEET_ID}!{SHEET_RANGE}",
    )
    ref = f"{SHEET_ID}!{SHEET_RANGE}"
    lists._write_items(lead, list_id, values, replace=True, source="sheet", source_ref=ref)


def resync_sheet(demo: Demo, at: datetime) -> None:
    """The lead refreshes the sheet-backed list (Monday mornings)."""
    spec = next(s for s in LISTS if s.source == "sheet")
    with demo.db.at(at, "filter_lists"):
        sync_sheet(demo, demo.lists[spec.key], spec.values, at)


def criteria(plan: ProjectPlan, version: int) -> pr.Criteria:
    must = plan.must + (plan.v2_must if version > 1 else ())
    return pr.parse_criteria(
        [text for text, _ in must],
        [text for text, _ in plan.nice],
        [text for text, _ in plan.deal],
        plan.notes,
    )


def open_project(demo: Demo, plan: ProjectPlan, at: datetime) -> ProjectState:
    """Create the project, choose its filter lists and save its screening criteria (v1)."""
    owner = demo.user(plan.owner)
    with demo.db.at(at, "projects", "prompt_versions"):
        project_id = projects.create_project(
            owner, plan.name, plan.description, plan.location, owner
        )
        filter_apply.set_project_lists(
            owner, project_id, {demo.lists[key]: mode for key, mode in plan.lists.items()}
        )
        version = pr.save_criteria(owner, project_id, criteria(plan, 1))
    state = ProjectState(
        plan, project_id, version.id, version.version, version.prompt_text, version.model
    )
    demo.projects.append(state)
    return state


def tighten_criteria(demo: Demo, state: ProjectState, at: datetime) -> None:
    """Prompt version 2: the owner adds a must-have after the first reviews."""
    with demo.db.at(at, "projects", "prompt_versions"):
        version = pr.save_criteria(demo.user(state.plan.owner), state.id, criteria(state.plan, 2))
    state.version_id, state.version = version.id, version.version
    state.prompt_text, state.model = version.prompt_text, version.model
