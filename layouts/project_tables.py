"""What the projects pages show from service answers: the project list, search and import
histories, an import's rows not added, the jobs table, the pipeline funnel and a project's header.

Pure functions of the rows a callback fetched (no I/O: a search's queue place, which lives in
Redis, is looked up by the callback and passed in).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from layouts import projects as page
from layouts.components import empty_state, status_badge, table
from layouts.job_panel import counts_text
from services import jobs, projects, searches
from services.imports import DETAIL_ROWS_KEPT, OUTCOME_LABELS, ImportSummary, RowOutcome


def projects_table(items: list[projects.Project]) -> Any:
    if not items:
        return empty_state("No projects yet", "Create the first hiring project on the right.")
    rows = [
        [
            dcc.Link(p.name, href=f"/projects/{p.id}"),
            p.location or "—",
            p.owner_name or "—",
            f"{p.profile_count:,}",
            status_badge(p.status),
            p.created_at.strftime("%Y-%m-%d"),
        ]
        for p in items
    ]
    return table(("Project", "Location", "Owner", "Profiles", "Status", "Created"), rows)


def _search_row(s: searches.Search, place: int | None, with_project: bool) -> list[Any]:
    row = [
        s.created_at.strftime("%Y-%m-%d %H:%M"),
        s.launched_by_email or "—",
        s.kind,
        html.Span(s.query[:80], title=s.query),
        s.requested_count,
        status_badge(s.status if place is None else f"queued · #{place}"),
        f"{s.new_count:,} new / {s.known_count:,} known",
        s.error or "",
    ]
    if with_project:
        row.insert(1, dcc.Link(s.project_name, href=f"/projects/{s.project_id}"))
    return row


def searches_table(
    items: list[searches.Search], places: Mapping[int, int | None], with_project: bool
) -> Any:
    """A search history; `places` holds each queued search's place in its agent's queue."""
    if not items:
        hint = (
            "Launch one from a project's Searches tab."
            if with_project
            else "Launch a LinkedIn or Sales Navigator search above."
        )
        return empty_state("No searches yet", hint)
    header: tuple[str, ...] = (
        "When",
        "Who",
        "Kind",
        "Query",
        "Profiles",
        "Status",
        "Result",
        "Error",
    )
    if with_project:
        header = (header[0], "Project", *header[1:])
    return table(header, [_search_row(s, places.get(s.id), with_project) for s in items])


def pipeline_figure(p: projects.Pipeline) -> go.Figure:
    stages = [
        ("Sourced", p.sourced),
        ("Enriched", p.enriched),
        ("Passed filters", p.passed_filters),
        ("Screened", p.screened),
        ("Strong/good fit", p.strong_or_good),
        ("Shortlisted", p.shortlisted),
        ("Contacts found", p.with_contacts),
    ]
    fig = go.Figure(
        go.Funnel(
            y=[s for s, _ in stages],
            x=[n for _, n in stages],
            textinfo="value+percent initial",
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=300)
    return fig


def project_header(project: projects.Project) -> html.Div:
    return html.Div(
        [
            dcc.Link("← Projects", href="/projects", className="small"),
            html.H1([project.name, " ", status_badge(project.status)], className="h4 mt-1 mb-0"),
            html.Div(
                f"{project.location or 'No location'} · owner {project.owner_name or '—'}",
                className="text-muted small",
            ),
        ]
    )


def project_missing() -> html.Div:
    return empty_state("Project not found", "It may have been removed; see all projects.")


def imports_table(items: list[ImportSummary]) -> Any:
    if not items:
        return empty_state("No imports yet", "Upload a PhantomBuster export, a CSV or a workbook.")
    rows = [
        [
            i.created_at.strftime("%Y-%m-%d %H:%M"),
            i.filename,
            i.format,
            f"{i.rows:,}",
            f"{i.new:,}",
            f"{i.linked:,}",
            f"{i.already_in_project:,}",
            f"{i.skipped:,}",
            f"{i.failed:,}",
            i.by or "—",
            page.import_reasons_button(i.id, "Reasons") if i.detail_rows else "—",
        ]
        for i in items
    ]
    header = ("When", "File", "Format", "Rows", "New", "Linked", "Already in project")
    return table((*header, "Skipped", "Failed", "By", "Rows not added"), rows)


def reasons_table(rows: list[RowOutcome]) -> Any:
    if not rows:
        return empty_state("No rows", "No rows of this import have this outcome.")
    return table(
        ("Row", "Name", "Outcome", "Reason"),
        [[f"{r.row:,}", r.name, OUTCOME_LABELS.get(r.outcome, r.outcome), r.reason] for r in rows],
    )


def reasons_title(import_id: int, total: int) -> str:
    kept = f"; the first {DETAIL_ROWS_KEPT:,} are kept" if total >= DETAIL_ROWS_KEPT else ""
    return f"Import #{import_id}: rows not added ({total:,}){kept}"


def _job_action(j: jobs.Job) -> Any:
    if not j.finished:
        action = ("cancel", "Cancel")
    elif j.status in ("failed", "cancelled"):
        action = ("retry", "Retry")
    else:
        return ""
    return dbc.Button(
        action[1],
        id=page.job_action_id(j.id, action[0]),
        size="sm",
        color="link",
        className="p-0",
    )


def jobs_table(items: list[jobs.Job]) -> Any:
    if not items:
        return empty_state("No jobs yet", "Searches, imports and enrichment run here as jobs.")
    rows = [
        [
            j.id,
            j.kind,
            status_badge(j.status),
            dbc.Progress(value=j.percent, label=f"{j.percent}%", style={"height": "1rem"}),
            counts_text(j),
            j.error or j.message or "",
            _job_action(j),
        ]
        for j in items
    ]
    return table(("#", "Kind", "Status", "Progress", "Counts", "Details", ""), rows)
