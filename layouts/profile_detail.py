"""The profile detail panel: one profile, the team's tags and notes on it, its projects, data age
and raw provider JSON.

The panel's body is rendered per profile (`detail_panel`, `detail_more`); the tags and notes
section is static (`annotations_section`) and filled by its own callbacks, which read the open
profile's id from PROFILE_ID. Pure layout: no I/O.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts.components import empty_state

PROFILE_ID = "profiles-detail-profile"  # the open profile's id (a number, nothing else)
DETAIL_MORE = "profiles-detail-more"
ANNOTATIONS = "profiles-detail-annotations"
TAG_LIST = "profiles-detail-tags"
TAG_INPUT = "profiles-detail-tag-input"
TAG_SUGGESTIONS = "profiles-detail-tag-suggestions"
TAG_ADD = "profiles-detail-tag-add"
NOTE_INPUT = "profiles-detail-note-input"
NOTE_ADD = "profiles-detail-note-add"
NOTE_LIST = "profiles-detail-notes"
FEEDBACK = "profiles-detail-feedback"
CHANGED = "profiles-detail-changed"  # a nonce: a tag or note was written, show them again
TAG_REMOVE_TYPE = "detail-tag-remove"
NOTE_DELETE_TYPE = "detail-note-delete"
NOTE_MAX_LENGTH = 4000


def tag_remove_id(tag_id: int) -> dict[str, Any]:
    return {"type": TAG_REMOVE_TYPE, "tag": tag_id}


def note_delete_id(note_id: int) -> dict[str, Any]:
    return {"type": NOTE_DELETE_TYPE, "note": note_id}


def _field(label: str, value: Any) -> html.Div:
    return html.Div(
        [
            html.Span(label, className="text-muted small d-block"),
            html.Span(value if value not in (None, "") else "—"),
        ],
        className="mb-2",
    )


def detail_panel(detail: Any) -> html.Div:
    """The profile's own fields (name, title, company, ..., data age)."""
    if detail is None:
        return empty_state("Profile not found", "It may have been erased; refresh the grid.")
    p = detail.profile
    age = detail.data_age_days
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
        ]
    )


def detail_more(detail: Any) -> html.Div:
    """Below the tags and notes: the profile's projects (with stage) and raw provider data."""
    if detail is None:
        return html.Div()
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


def annotations_section() -> html.Div:
    """Tags and notes of the open profile: the inputs here, the lists filled by callbacks."""
    return html.Div(
        [
            html.H4("Tags", className="h6 mt-3"),
            html.Div(id=TAG_LIST, className="mb-2"),
            dbc.InputGroup(
                [
                    dbc.Input(
                        id=TAG_INPUT,
                        placeholder="Add a tag (existing or new)",
                        list=TAG_SUGGESTIONS,
                        maxLength=50,
                        autoComplete="off",
                    ),
                    dbc.Button("Add tag", id=TAG_ADD, color="secondary", outline=True),
                ],
                size="sm",
                className="mb-2",
            ),
            html.Datalist(id=TAG_SUGGESTIONS),
            html.H4("Notes", className="h6 mt-3"),
            dbc.Textarea(
                id=NOTE_INPUT,
                placeholder="A note for the team (visible to everyone)",
                maxLength=NOTE_MAX_LENGTH,
                style={"height": "80px"},
                className="mb-1",
            ),
            dbc.Button("Add note", id=NOTE_ADD, size="sm", color="primary", className="mb-2"),
            html.Div(id=FEEDBACK),
            html.Div(id=NOTE_LIST),
            dcc.Store(id=CHANGED),
        ],
        id=ANNOTATIONS,
    )


def tags_view(tags: list[Any]) -> Any:
    if not tags:
        return html.Span("No tags yet.", className="text-muted small")
    return [
        dbc.Badge(
            [
                tag.name,
                html.Button(
                    "\u00d7",  # a multiplication sign: "remove"
                    id=tag_remove_id(tag.id),
                    title=f"Remove the tag {tag.name}",
                    className="btn btn-link btn-sm text-white p-0 ms-1 lh-1 align-baseline",
                    n_clicks=0,
                ),
            ],
            color="info",
            className="me-1 mb-1 profile-tag",
        )
        for tag in tags
    ]


def notes_view(notes: list[Any], total: int, user_id: int, is_admin: bool) -> Any:
    """Newest first; a delete button only where the viewer may delete (author or admin)."""
    if not notes:
        return html.Div("No notes yet.", className="text-muted small")
    items = [
        html.Li(
            [
                html.Div(
                    [
                        html.Span(note.author_name or "former user", className="fw-semibold"),
                        html.Span(
                            f" · {note.created_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC",
                            className="text-muted",
                        ),
                        html.Button(
                            "Delete",
                            id=note_delete_id(note.id),
                            className="btn btn-link btn-sm text-danger p-0 ms-2 align-baseline",
                            n_clicks=0,
                        )
                        if note.author_id == user_id or is_admin
                        else None,
                    ],
                    className="small",
                ),
                html.Div(note.body, style={"whiteSpace": "pre-wrap"}, className="profile-note"),
            ],
            className="list-group-item px-2 py-1",
        )
        for note in notes
    ]
    more = (
        html.Div(f"{total - len(notes):,} older notes not shown.", className="text-muted small")
        if total > len(notes)
        else None
    )
    return html.Div([html.Ul(items, className="list-group list-group-flush"), more])
