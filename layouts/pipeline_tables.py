"""What the project's pipeline tabs show from service answers: filter list choices and the last
run's summary, screening counts and verdicts with their review buttons, the shortlist.

Pure functions of the rows a callback fetched; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from layouts import project_pipeline as page
from layouts.components import empty_state, status_badge
from services.contacts import ShortlistRow
from services.filters.apply import FilterSummary
from services.filters.lists import FilterList
from services.screening import prompt
from services.screening.results import Agreement, Verdict, VersionCounts

FIT_COLOR = {"strong": "success", "good": "primary", "maybe": "warning", "no": "secondary"}


def _small_table(header: tuple[str, ...], body: list[html.Tr], striped: bool = True) -> dbc.Table:
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(body)],
        size="sm",
        striped=striped,
        className="small",
    )


def _mode_select(list_id: int, mode: str) -> dbc.Select:
    return dbc.Select(
        id=page.mode_id(list_id),
        value=mode,
        options=[{"label": label, "value": v} for v, label in page.MODES],
        size="sm",
    )


def filter_choices(all_lists: list[FilterList], chosen: Mapping[int, str]) -> Any:
    """Every team list with how it applies to this project (`chosen`: list id → mode)."""
    if not all_lists:
        return empty_state("No filter lists yet", "Create the team's lists on the Filters page.")
    rows = [
        html.Tr(
            [
                html.Td(fl.name),
                html.Td(fl.category_label),
                html.Td(f"{fl.item_count:,}"),
                html.Td(_mode_select(fl.id, chosen.get(fl.id, ""))),
            ]
        )
        for fl in all_lists
    ]
    return _small_table(("List", "Category", "Items", "Applies"), rows, striped=False)


def filter_summary(s: FilterSummary) -> Any:
    if not s.evaluated:
        return empty_state("Not filtered yet", "Choose lists above and apply them.")
    reasons = [html.Li(f"{text} — {n:,}") for text, n in s.top_reasons]
    return html.Div(
        [
            html.Div(
                f"{s.evaluated:,} evaluated · {s.passed:,} passed · {s.failed:,} filtered out",
                className="fw-semibold small",
            ),
            html.Ul(reasons, className="small") if reasons else None,
        ]
    )


def version_options(versions: list[prompt.PromptVersion]) -> list[dict[str, Any]]:
    return [
        {"label": f"v{v.version} · {v.model} · {v.created_at:%Y-%m-%d %H:%M}", "value": v.id}
        for v in versions
    ]


def results_summary(counts: VersionCounts, agreement: Agreement) -> html.Span:
    rate = "—" if agreement.rate is None else f"{agreement.rate:.0%} of {agreement.reviewed:,}"
    fits = ", ".join(f"{f} {counts.by_fit.get(f, 0):,}" for f in prompt.FITS)
    return html.Span(
        f"{counts.done:,} done · {counts.failed:,} failed · {counts.pending:,} pending"
        f" · ${counts.cost_usd:.4f} · {fits} · agreement {rate}"
    )


def _review(v: Verdict) -> html.Div:
    """A verdict's note and agree/disagree buttons (pattern ids: one callback for all rows)."""

    def button(label: str, verdict: str, color: str) -> dbc.Button:
        return dbc.Button(
            label,
            id=page.override_id(v.screening_id, verdict),
            size="sm",
            color=color,
            outline=v.override != verdict,
        )

    return html.Div(
        [
            dbc.Input(
                id=page.note_id(v.screening_id),
                value=v.override_note or "",
                placeholder="note",
                size="sm",
                className="mb-1",
            ),
            dbc.ButtonGroup(
                [button("Agree", "agree", "success"), button("Disagree", "disagree", "danger")]
            ),
        ],
        style={"minWidth": "170px"},
    )


def _verdict_row(v: Verdict) -> html.Tr:
    if v.status == "done":
        fit: Any = dbc.Badge(v.fit or "", color=FIT_COLOR.get(v.fit or "", "secondary"))
        detail: Any = html.Span(v.reasoning or "", title=str(v.checks or ""))
        review: Any = _review(v)
    else:
        fit = ""
        detail = html.Span(v.error or "waiting", className="text-danger" if v.error else "")
        review = ""
    return html.Tr(
        [
            html.Td(v.full_name or f"#{v.profile_id}"),
            html.Td(v.current_title or ""),
            html.Td(status_badge(v.status)),
            html.Td(v.score if v.score is not None else "—"),
            html.Td(fit),
            html.Td(detail),
            html.Td(review),
        ]
    )


def verdicts_table(rows: list[Verdict]) -> Any:
    if not rows:
        return empty_state("No results yet", "Run the screening to fill this in.")
    header = ("Name", "Title", "Status", "Score", "Fit", "Reasoning", "Review")
    return _small_table(header, [_verdict_row(v) for v in rows])


def no_version() -> Any:
    return empty_state("No prompt version yet", "Save the screening criteria first.")


def _lines(values: list[str]) -> Any:
    return html.Div([html.Div(v) for v in values]) if values else "—"


def shortlist_table(rows: list[ShortlistRow]) -> Any:
    if not rows:
        return empty_state("Nobody shortlisted yet", "Shortlist profiles from the Profiles tab.")
    body = [
        html.Tr(
            [
                html.Td(r.full_name or f"#{r.profile_id}"),
                html.Td(r.current_title or ""),
                html.Td(r.current_company or ""),
                html.Td("—" if r.score is None else f"{r.score} · {r.fit}"),
                html.Td(_lines(r.emails)),
                html.Td(_lines(r.phones)),
                html.Td(
                    r.lookup_status or "not looked up",
                    title=r.lookup_error or "",
                    className="text-danger" if r.lookup_status == "failed" else "",
                ),
            ]
        )
        for r in rows
    ]
    header = ("Name", "Title", "Company", "Verdict", "Emails", "Phones", "Lookup")
    return _small_table(header, body)
