"""The profile detail panel: one profile, its projects, data age and raw provider JSON."""

from __future__ import annotations

import json
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from layouts.components import empty_state


def _field(label: str, value: Any) -> html.Div:
    return html.Div(
        [
            html.Span(label, className="text-muted small d-block"),
            html.Span(value if value not in (None, "") else "—"),
        ],
        className="mb-2",
    )


def detail_panel(detail: Any) -> html.Div:
    if detail is None:
        return empty_state("Profile not found", "It may have been erased; refresh the grid.")
    p = detail.profile
    age = detail.data_age_days
    projects = [
        html.Li(f"{m['name']} · {m['stage']}" + (" · shortlisted" if m.get("shortlisted") else ""))
        for m in detail.projects
    ] or [html.Li("Not in any project", className="text-muted")]
    raw: list[Any] = [
        html.Details(
            [
                html.Summary(f"{provider} · fetched {str(r['fetched_at'])[:19]}"),
                html.Pre(
                    json.dumps(r["payload"], indent=2)[:20000],
                    className="small bg-light p-2",
                    style={"maxHeight": "40vh"},
                ),
            ]
        )
        for provider, r in detail.raw.items()
    ] or [html.Div("No raw provider data stored.", className="text-muted small")]
    return html.Div(
        [
            html.H3(p.get("full_name") or "(no name)", className="h5", id="detail-name"),
            html.Div(p.get("headline") or "", className="text-muted mb-3"),
            _field("Title", p.get("current_title")),
            _field("Company", p.get("current_company")),
            _field("Location", p.get("location")),
            _field(
                "Seniority / years",
                f"{p.get('seniority') or '—'} / {p.get('years_experience') or '—'}",
            ),
            _field("Skills", ", ".join(p.get("skills") or [])),
            _field(
                "LinkedIn",
                html.A(
                    p.get("linkedin_url"),
                    href=p.get("linkedin_url"),
                    target="_blank",
                    rel="noopener noreferrer",
                ),
            ),
            _field("Data age", "never enriched" if age is None else f"{age} days"),
            html.H4("Projects", className="h6 mt-3"),
            html.Ul(projects),
            html.H4("Raw provider data", className="h6 mt-3"),
            dbc.Badge("sandbox data", color="warning", text_color="dark", className="mb-2")
            if any(
                isinstance(r["payload"], dict) and r["payload"].get("_sandbox")
                for r in detail.raw.values()
            )
            else None,
            *raw,
        ]
    )
