"""Project page pipeline callbacks: the project grid and shortlisting, filter list choices and
the filter job, screening criteria/versions/jobs/results/overrides, the shortlist with its
contact lookup. Each callback re-checks the role and calls one service."""

from __future__ import annotations

import logging
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, html, no_update

from layouts import ids
from layouts import project_pipeline as page
from layouts import projects as project_page
from layouts.components import empty_state
from services import contacts, stages
from services.filters import apply, lists
from services.grid import GridQueryError
from services.grid.project_view import fetch_project_block
from services.jobs import JobError
from services.screening import job as screening_job
from services.screening import prompt, results
from web.security import require_role

log = logging.getLogger(__name__)
PROJECT_ID = project_page.PROJECT_ID
MAX_BLOCK = 500
FIT_COLOR = {"strong": "success", "good": "primary", "maybe": "warning", "no": "secondary"}
STATUS_COLOR = {"done": "success", "failed": "danger", "pending": "warning"}


def _alert(message: str, color: str = "danger") -> dbc.Alert:
    return dbc.Alert(message, color=color, className="py-2 small", dismissable=True)


def _started(job_id: int) -> tuple[Any, Any]:
    return {"job_id": job_id}, False


# --- project grid ------------------------------------------------------------------------------


@callback(
    Output(page.GRID, "getRowsResponse"),
    Output(page.GRID_FEEDBACK, "children", allow_duplicate=True),
    Input(page.GRID, "getRowsRequest"),
    State(PROJECT_ID, "data"),
    prevent_initial_call=True,
)
def serve_project_block(request: dict[str, Any] | None, project_id: int) -> tuple[Any, Any]:
    request = request or {}
    start = max(int(request.get("startRow") or 0), 0)
    end = min(max(int(request.get("endRow") or start + 100), start + 1), start + MAX_BLOCK)
    try:
        require_role("recruiter")
        block = fetch_project_block(
            int(project_id),
            request.get("filterModel") or {},
            request.get("sortModel") or [],
            start,
            end,
        )
    except (GridQueryError, ValueError, PermissionError) as exc:
        return {"rowData": [], "rowCount": start}, _alert(str(exc), "warning")
    except Exception:
        log.exception("project grid block %s-%s failed", start, end)
        message = "Could not load these rows; scroll or change the view to retry."
        return {"rowData": [], "rowCount": start}, _alert(message, "warning")
    return {"rowData": block.rows, "rowCount": block.row_count}, no_update


@callback(
    Output(page.GRID_FEEDBACK, "children", allow_duplicate=True),
    Input(page.SHORTLIST_SELECTED, "n_clicks"),
    Input(page.UNSHORTLIST_SELECTED, "n_clicks"),
    Input(page.SHORTLIST_STRONG, "n_clicks"),
    Input(page.SCREEN_SELECTED, "n_clicks"),
    State(page.GRID, "selectedRows"),
    State(PROJECT_ID, "data"),
    prevent_initial_call=True,
)
def grid_action(
    _add: Any, _remove: Any, _strong: Any, _screen: Any, selected: Any, project_id: int
) -> Any:
    user = require_role("recruiter")
    trigger = ctx.triggered_id
    chosen = [int(r["id"]) for r in selected or [] if isinstance(r, dict) and "id" in r]
    try:
        if trigger == page.SHORTLIST_STRONG:
            n = contacts.shortlist_by_fit(user.id, project_id, ("strong",))
            return _alert(f"{n:,} strong fits added to the shortlist.", "success")
        if not chosen:
            return _alert("Select rows in the grid first (tick their boxes).", "warning")
        if trigger == page.SCREEN_SELECTED:
            job_id = screening_job.start_screening(
                user.id, project_id, scope="selection", profile_ids=chosen
            )
            return _alert(f"Screening job #{job_id} started for {len(chosen):,}.", "success")
        on = trigger == page.SHORTLIST_SELECTED
        n = contacts.set_shortlisted(user.id, project_id, chosen, on)
        verb = "added to" if on else "removed from"
        return _alert(f"{n:,} {verb} the shortlist.", "success")
    except JobError as exc:
        return _alert(str(exc))


@callback(
    Output(page.GRID_FEEDBACK, "children", allow_duplicate=True),
    Input(page.STAGE_APPLY, "n_clicks"),
    State(page.STAGE_PICK, "value"),
    State(page.GRID, "selectedRows"),
    State(PROJECT_ID, "data"),
    prevent_initial_call=True,
)
def move_stage(_n: Any, stage: str | None, selected: Any, project_id: int) -> Any:
    """Move the selected rows to the chosen pipeline stage (one transaction, audited)."""
    user = require_role("recruiter")
    chosen = [int(r["id"]) for r in selected or [] if isinstance(r, dict) and "id" in r]
    try:
        result = stages.move_stage(user.id, int(project_id), chosen, stage or "")
    except stages.StageError as exc:
        return _alert(str(exc), "warning")
    label = stages.LABELS[stage or ""]
    extra = f" ({result.unchanged:,} already there)" if result.unchanged else ""
    return _alert(f"{result.moved:,} moved to {label}{extra}.", "success")


# After a shortlist or stage change the grid asks for its rows again (those columns changed).
clientside_callback(
    """function(children) {
        const api = dash_ag_grid.getApi('project-grid');
        if (api && children) { api.refreshInfiniteCache(); }
        return window.dash_clientside.no_update;
    }""",
    Output(page.GRID_SINK, "children"),
    Input(page.GRID_FEEDBACK, "children"),
    prevent_initial_call=True,
)


# --- filters tab -------------------------------------------------------------------------------


@callback(
    Output(page.FILTER_LISTS, "children"),
    Input(PROJECT_ID, "data"),
)
def show_filter_choices(project_id: int) -> Any:
    require_role("recruiter")
    all_lists = lists.list_lists()
    if not all_lists:
        return empty_state("No filter lists yet", "Create the team's lists on the Filters page.")
    chosen = {a.list_id: a.mode for a in apply.applied_lists(project_id)}
    rows = [
        html.Tr(
            [
                html.Td(fl.name),
                html.Td(fl.category_label),
                html.Td(f"{fl.item_count:,}"),
                html.Td(
                    dbc.Select(
                        id=page.mode_id(fl.id),
                        value=chosen.get(fl.id, ""),
                        options=[{"label": label, "value": v} for v, label in page.MODES],
                        size="sm",
                    )
                ),
            ]
        )
        for fl in all_lists
    ]
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in ("List", "Category", "Items", "Applies")])),
            html.Tbody(rows),
        ],
        size="sm",
        className="small",
    )


@callback(
    Output(page.FILTER_FEEDBACK, "children"),
    Output(ids.job_store(page.FILTER_SCOPE), "data"),
    Output(ids.job_interval(page.FILTER_SCOPE), "disabled", allow_duplicate=True),
    Input(page.FILTER_SAVE, "n_clicks"),
    Input(page.FILTER_RUN, "n_clicks"),
    State({"type": "project-filter-mode", "list": ALL}, "value"),
    State({"type": "project-filter-mode", "list": ALL}, "id"),
    State(PROJECT_ID, "data"),
    prevent_initial_call=True,
)
def save_or_run_filters(
    _save: Any, _run: Any, modes: list[str], mode_ids: list[dict[str, Any]], project_id: int
) -> tuple[Any, Any, Any]:
    user = require_role("recruiter")
    choices = {int(i["list"]): m for i, m in zip(mode_ids, modes, strict=True) if m}
    try:
        apply.set_project_lists(user.id, project_id, choices)
    except JobError as exc:
        return _alert(str(exc)), no_update, no_update
    if ctx.triggered_id == page.FILTER_SAVE:
        message = _alert(f"{len(choices)} list(s) apply to this project.", "success")
        return message, no_update, no_update
    return "", *_started(apply.start_filter_job(user.id, project_id))


@callback(
    Output(page.FILTER_SUMMARY, "children"),
    Input(PROJECT_ID, "data"),
    Input(ids.job_progress(page.FILTER_SCOPE), "label"),
)
def show_filter_summary(project_id: int, _label: Any) -> Any:
    require_role("recruiter")
    s = apply.summary(project_id)
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


# --- screening tab -----------------------------------------------------------------------------


@callback(
    Output(page.MUST_HAVES, "value"),
    Output(page.NICE_TO_HAVES, "value"),
    Output(page.DEALBREAKERS, "value"),
    Output(page.NOTES, "value"),
    Input(PROJECT_ID, "data"),
)
def show_criteria(project_id: int) -> tuple[str, str, str, str]:
    require_role("recruiter")
    c = prompt.current_criteria(project_id)
    return "\n".join(c.must_haves), "\n".join(c.nice_to_haves), "\n".join(c.dealbreakers), c.notes


@callback(
    Output(page.VERSION, "options"),
    Output(page.VERSION, "value"),
    Output(page.SCREEN_FEEDBACK, "children", allow_duplicate=True),
    Input(PROJECT_ID, "data"),
    Input(page.CRITERIA_SAVE, "n_clicks"),
    State(page.MUST_HAVES, "value"),
    State(page.NICE_TO_HAVES, "value"),
    State(page.DEALBREAKERS, "value"),
    State(page.NOTES, "value"),
    State(page.MODEL, "value"),
    prevent_initial_call="initial_duplicate",
)
def versions(
    project_id: int,
    _save: Any,
    must: str | None,
    nice: str | None,
    deal: str | None,
    notes: str | None,
    model: str | None,
) -> tuple[Any, Any, Any]:
    user = require_role("recruiter")
    feedback: Any = no_update
    if ctx.triggered_id == page.CRITERIA_SAVE:
        try:
            criteria = prompt.parse_criteria(must, nice, deal, notes)
            saved = prompt.save_criteria(user.id, project_id, criteria, model or None)
            feedback = _alert(f"Saved as prompt version {saved.version}.", "success")
        except JobError as exc:
            feedback = _alert(str(exc))
    all_versions = prompt.list_versions(project_id)
    options = [
        {"label": f"v{v.version} · {v.model} · {v.created_at:%Y-%m-%d %H:%M}", "value": v.id}
        for v in all_versions
    ]
    return options, (all_versions[0].id if all_versions else None), feedback


@callback(
    Output(page.SCREEN_FEEDBACK, "children", allow_duplicate=True),
    Output(ids.job_store(page.SCREEN_SCOPE), "data"),
    Output(ids.job_interval(page.SCREEN_SCOPE), "disabled", allow_duplicate=True),
    Input(page.SCREEN_RUN, "n_clicks"),
    Input(page.SCREEN_RETRY, "n_clicks"),
    State(page.VERSION, "value"),
    State(page.SCOPE, "value"),
    State(PROJECT_ID, "data"),
    prevent_initial_call=True,
)
def run_screening(
    _run: Any, _retry: Any, version_id: int | None, scope: str, project_id: int
) -> tuple[Any, Any, Any]:
    user = require_role("recruiter")
    try:
        if ctx.triggered_id == page.SCREEN_RETRY:
            job_id = screening_job.retry_failed(user.id, project_id, version_id)
        else:
            job_id = screening_job.start_screening(user.id, project_id, version_id, scope)
    except JobError as exc:
        return _alert(str(exc)), no_update, no_update
    return "", *_started(job_id)


def _verdict_row(v: results.Verdict) -> html.Tr:
    status = dbc.Badge(v.status, color=STATUS_COLOR.get(v.status, "secondary"))
    if v.status == "done":
        fit = dbc.Badge(v.fit or "", color=FIT_COLOR.get(v.fit or "", "secondary"))
        detail: Any = html.Span(v.reasoning or "", title=str(v.checks or ""))
        review: Any = html.Div(
            [
                dbc.Input(
                    id=page.note_id(v.screening_id),
                    value=v.override_note or "",
                    placeholder="note",
                    size="sm",
                    className="mb-1",
                ),
                dbc.ButtonGroup(
                    [
                        dbc.Button(
                            "Agree",
                            id=page.override_id(v.screening_id, "agree"),
                            size="sm",
                            color="success",
                            outline=v.override != "agree",
                        ),
                        dbc.Button(
                            "Disagree",
                            id=page.override_id(v.screening_id, "disagree"),
                            size="sm",
                            color="danger",
                            outline=v.override != "disagree",
                        ),
                    ]
                ),
            ],
            style={"minWidth": "170px"},
        )
    else:
        fit = ""
        detail = html.Span(v.error or "waiting", className="text-danger" if v.error else "")
        review = ""
    return html.Tr(
        [
            html.Td(v.full_name or f"#{v.profile_id}"),
            html.Td(v.current_title or ""),
            html.Td(status),
            html.Td(v.score if v.score is not None else "—"),
            html.Td(fit),
            html.Td(detail),
            html.Td(review),
        ]
    )


@callback(
    Output(page.SCREEN_COUNTS, "children"),
    Output(page.SCREEN_RESULTS, "children"),
    Input(page.VERSION, "value"),
    Input(page.SCREEN_STATUS, "value"),
    Input(ids.job_progress(page.SCREEN_SCOPE), "value"),
    Input({"type": "project-override", "sid": ALL, "verdict": ALL}, "n_clicks"),
    State({"type": "project-override-note", "sid": ALL}, "value"),
    State({"type": "project-override-note", "sid": ALL}, "id"),
    State(PROJECT_ID, "data"),
)
def show_results(
    version_id: int | None,
    status: str | None,
    _progress: Any,
    _clicks: Any,
    notes: list[str],
    note_ids: list[dict[str, Any]],
    project_id: int,
) -> tuple[Any, Any]:
    user = require_role("recruiter")
    trigger = ctx.triggered_id
    message: Any = None
    # The job panel's progress is a dict id too: only an override button is an override click.
    is_override = isinstance(trigger, dict) and trigger.get("type") == "project-override"
    if is_override and ctx.triggered and ctx.triggered[0]["value"]:
        by_id = {int(i["sid"]): n for i, n in zip(note_ids, notes, strict=True)}
        sid = int(trigger["sid"])
        try:
            results.set_override(user.id, sid, str(trigger["verdict"]), by_id.get(sid) or "")
        except JobError as exc:
            message = _alert(str(exc))
    if not version_id:
        return "", empty_state("No prompt version yet", "Save the screening criteria first.")
    counts = results.counts(project_id, int(version_id))
    agreement = results.agreement(project_id)
    rate = "—" if agreement.rate is None else f"{agreement.rate:.0%} of {agreement.reviewed:,}"
    fits = ", ".join(f"{f} {counts.by_fit.get(f, 0):,}" for f in prompt.FITS)
    summary = html.Div(
        [
            message,
            html.Span(
                f"{counts.done:,} done · {counts.failed:,} failed · {counts.pending:,} pending"
                f" · ${counts.cost_usd:.4f} · {fits} · agreement {rate}"
            ),
        ]
    )
    rows = results.verdicts(project_id, int(version_id), status or None, limit=200)
    if not rows:
        return summary, empty_state("No results yet", "Run the screening to fill this in.")
    table = dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th(h)
                        for h in ("Name", "Title", "Status", "Score", "Fit", "Reasoning", "Review")
                    ]
                )
            ),
            html.Tbody([_verdict_row(v) for v in rows]),
        ],
        size="sm",
        striped=True,
        className="small",
    )
    return summary, table


# --- shortlist tab -----------------------------------------------------------------------------


@callback(
    Output(page.LOOKUP_FEEDBACK, "children"),
    Output(ids.job_store(page.LOOKUP_SCOPE), "data"),
    Output(ids.job_interval(page.LOOKUP_SCOPE), "disabled", allow_duplicate=True),
    Input(page.LOOKUP, "n_clicks"),
    State(PROJECT_ID, "data"),
    prevent_initial_call=True,
)
def lookup_contacts(_n: Any, project_id: int) -> tuple[Any, Any, Any]:
    user = require_role("recruiter")
    try:
        job_id = contacts.start_lookup(user.id, project_id)
    except JobError as exc:
        return _alert(str(exc), "warning"), no_update, no_update
    return "", *_started(job_id)


@callback(
    Output(page.SHORTLIST_TABLE, "children"),
    Input(PROJECT_ID, "data"),
    Input(ids.job_progress(page.LOOKUP_SCOPE), "value"),
    Input(page.GRID_FEEDBACK, "children"),
)
def show_shortlist(project_id: int, _progress: Any, _feedback: Any) -> Any:
    require_role("recruiter")
    rows = contacts.shortlist(project_id)
    if not rows:
        return empty_state("Nobody shortlisted yet", "Shortlist profiles from the Profiles tab.")
    body = [
        html.Tr(
            [
                html.Td(r.full_name or f"#{r.profile_id}"),
                html.Td(r.current_title or ""),
                html.Td(r.current_company or ""),
                html.Td("—" if r.score is None else f"{r.score} · {r.fit}"),
                html.Td(html.Div([html.Div(e) for e in r.emails]) if r.emails else "—"),
                html.Td(html.Div([html.Div(p) for p in r.phones]) if r.phones else "—"),
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
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(body)],
        size="sm",
        striped=True,
        className="small",
    )
