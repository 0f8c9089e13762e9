"""The job panel component: ids carry the panel's scope, a started job switches polling on, and
the props it shows follow the job's state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from layouts.job_panel import JobPanel, counts_text, progress_props
from services.jobs import Job


def _job(**fields: Any) -> Job:
    base: dict[str, Any] = {
        "id": 7,
        "kind": "import_csv",
        "project_id": 1,
        "created_by": 1,
        "status": "running",
        "params": {},
        "total": 40,
        "done": 10,
        "failed": 0,
        "message": "reading rows",
        "error": None,
        "attempts": 1,
        "request_id": None,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "started_at": None,
        "finished_at": None,
    }
    return Job(**{**base, **fields})


def _ids(component: Any) -> list[Any]:
    found = [getattr(component, "id", None)]
    children = getattr(component, "children", None) or []
    for child in children if isinstance(children, list) else [children]:
        found += _ids(child)
    return [i for i in found if i is not None]


def test_every_part_of_a_panel_carries_its_scope() -> None:
    panel = JobPanel("project-import", job_id=3)
    ids = _ids(panel)
    assert {i["type"] for i in ids} == {
        "job-store",
        "job-interval",
        "job-progress",
        "job-status",
        "job-cancel",
    }
    assert {i["scope"] for i in ids} == {"project-import"}
    store = next(
        c for c in panel.children if getattr(c, "id", None) == JobPanel.ids.store("project-import")
    )
    assert store.data == {"job_id": 3}


def test_an_idle_panel_does_not_poll_and_a_started_job_switches_polling_on() -> None:
    interval = next(c for c in JobPanel("home").children if c.id["type"] == "job-interval")
    assert interval.disabled is True
    assert JobPanel.started(12) == ({"job_id": 12}, False)
    store, polling = JobPanel.start_outputs("home")
    assert (store.component_id, store.component_property) == (JobPanel.ids.store("home"), "data")
    assert polling.component_property == "disabled" and polling.allow_duplicate


def test_progress_follows_the_job_and_stops_when_it_finishes() -> None:
    running = progress_props(_job())
    assert running[:3] == (25, "25%", "primary")
    assert "reading rows" in running[3] and running[4:] == (False, False)
    done = progress_props(_job(status="done", done=30, failed=2, message="x"))
    assert done[2] == "success" and done[4:] == (True, True)
    assert "x" not in done[3].split(" · ")  # a finished job's last message is not news
    assert counts_text(_job(status="done", done=30, failed=2)) == (
        "30 done · 8 skipped · 2 failed of 40"
    )
    assert progress_props(None)[3] == "This job no longer exists."
