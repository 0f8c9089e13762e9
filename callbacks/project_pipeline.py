"""Project page pipeline callbacks: the project grid and shortlisting, filter list choices and
the filter job, screening criteria/versions/jobs/results/overrides, the shortlist with its
contact lookup. Each callback is guarded, calls one service and hands the answer to
`layouts/pipeline_tables.py`; actions and the views that show their effect are separate
callbacks (an action bumps a store the view listens to)."""

from __future__ import annotations

import json
import logging
from typing import Any

from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, no_update

from callbacks.kit import acting_user, alert, guarded
from layouts import pipeline_tables as render
from layouts import project_pipeline as page
from layouts import projects as project_page
from layouts.job_panel import JobPanel
from services import contacts, stages
from services.core.errors import UserError
from services.filters import apply, lists
from services.grid.project_view import fetch_project_block
from services.screening import job as screening_job
from services.screening import prompt, results

log = logging.getLogger(__name__)
PROJECT_ID = project_page.PROJECT_ID
MAX_BLOCK = 500


def _refused_alert(error: UserError) -> Any:
    return alert(error.user_message)


def _refused_start(error: UserError) -> tuple[Any, Any, Any]:
    """A job that could not start: the message, and the job panel left as it was."""
    return alert(error.user_message), no_update, no_update


def _chosen(selected: Any) -> list[int]:
    """The profile ids of the grid's selected rows (a client could send anything)."""
    return [int(r["id"]) for r in selected or [] if isinstance(r, dict) and "id" in r]


# --- project grid ------------------------------------------------------------------------------


def _block_bounds(request: dict[str, Any]) -> tuple[int, int]:
    start = max(int(request.get("startRow") or 0), 0)
    end = min(max(int(request.get("endRow") or start + 100), start + 1), start + MAX_BLOCK)
    return start, end


def _refused_block(error: UserError) -> tuple[Any, Any]:
    """An empty answer for the block the grid asked for (it waits for one), and why."""
    request = ctx.inputs.get(f"{page.GRID}.getRowsRequest") or {}
    start = max(int(request.get("startRow") or 0), 0) if isinstance(request, dict) else 0
    return {"rowData": [], "rowCount": start}, alert(error.user_message, "warning")


@callback(
    Output(page.GRID, "getRowsResponse"),
    Output(page.GRID_FEEDBACK, "children", allow_duplicate=True),
    Input(page.GRID, "getRowsRequest"),
    State(PROJECT_ID, "data"),
    prevent_initial_call=True,
)
@guarded(role="recruiter", refused=_refused_block)
def serve_project_block(request: dict[str, Any] | None, project_id: int) -> tuple[Any, Any]:
    request = request or {}
    start, end = _block_bounds(request)
    filters, sorts = request.get("filterModel") or {}, request.get("sortModel") or []
    # The grid waits for every block it asked for: it must get an answer, whatever happens.
    try:
        block = fetch_project_block(int(project_id), filters, sorts, start, end)
    except UserError as exc:
        return {"rowData": [], "rowCount": start}, alert(exc.user_message, "warning")
    except Exception:
        log.exception("project grid block %s-%s failed", start, end)
        message = "Could not load these rows; scroll or change the view to retry."
        return {"rowData": [], "rowCount": start}, alert(message, "warning")
    return {"rowData": block.rows, "rowCount": block.row_count}, no_update


def _grid_action(user_id: int, project_id: int, trigger: Any, chosen: list[int]) -> Any:
    if trigger == page.SHORTLIST_STRONG:
        n = contacts.shortlist_by_fit(user_id, project_id, ("strong",))
        return alert(f"{n:,} strong fits added to the shortlist.", "success")
    if not chosen:
        return alert("Select rows in the grid first (tick their boxes).", "warning")
    if trigger == page.SCREEN_SELECTED:
        job_id = screening_job.start_screening(
            user_id, project_id, scope="selection", profile_ids=chosen
        )
        return alert(f"Screening job #{job_id} started for {len(chosen):,}.", "success")
    on = trigger == page.SHORTLIST_SELECTED
    n = contacts.set_shortlisted(user_id, project_id, chosen, on)
    return alert(f"{n:,} {'added to' if on else 'removed from'} the shortlist.", "success")


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
@guarded(role="recruiter", refused=_refused_alert)
def grid_action(
    _add: Any, _remove: Any, _strong: Any, _screen: Any, selected: Any, project_id: int
) -> Any:
    return _grid_action(acting_user().id, project_id, ctx.triggered_id, _chosen(selected))


@callback(
    Output(page.GRID_FEEDBACK, "children", allow_duplicate=True),
    Input(page.STAGE_APPLY, "n_clicks"),
    State(page.STAGE_PICK, "value"),
    State(page.GRID, "selectedRows"),
    State(PROJECT_ID, "data"),
    prevent_initial_call=True,
)
@guarded(role="recruiter", refused=lambda e: alert(e.user_message, "warning"))
def move_stage(_n: Any, stage: str | None, selected: Any, project_id: int) -> Any:
    """Move the selected rows to the chosen pipeline stage (one transaction, audited)."""
    user = acting_user()
    result = stages.move_stage(user.id, int(project_id), _chosen(selected), stage or "")
    label = stages.LABELS[stage or ""]
    extra = f" ({result.unchanged:,} already there)" if result.unchanged else ""
    return alert(f"{result.moved:,} moved to {label}{extra}.", "success")


# After a shortlist or stage change the grid asks for its rows again (those columns changed).
clientside_callback(
    """function(children) {
        const api = dash_ag_grid.getApi(GRID_ID);
        if (api && children) { api.refreshInfiniteCache(); }
        return window.dash_clientside.no_update;
    }""".replace("GRID_ID", json.dumps(page.GRID)),
    Output(page.GRID_SINK, "children"),
    Input(page.GRID_FEEDBACK, "children"),
    prevent_initial_call=True,
)


# --- filters tab -------------------------------------------------------------------------------


@callback(Output(page.FILTER_LISTS, "children"), Input(PROJECT_ID, "data"))
@guarded(role="recruiter", refused=_refused_alert)
def show_filter_choices(project_id: int) -> Any:
    chosen = {a.list_id: a.mode for a in apply.applied_lists(project_id)}
    return render.filter_choices(lists.list_lists(), chosen)


@callback(
    Output(page.FILTER_FEEDBACK, "children"),
    *JobPanel.start_outputs(page.FILTER_SCOPE),
    Input(page.FILTER_SAVE, "n_clicks"),
    Input(page.FILTER_RUN, "n_clicks"),
    State(page.mode_id(ALL), "value"),
    State(page.mode_id(ALL), "id"),
    State(PROJECT_ID, "data"),
    prevent_initial_call=True,
)
@guarded(role="recruiter", refused=_refused_start)
def save_or_run_filters(
    _save: Any, _run: Any, modes: list[str], mode_ids: list[dict[str, Any]], project_id: int
) -> tuple[Any, Any, Any]:
    user = acting_user()
    choices = {int(i["list"]): m for i, m in zip(mode_ids, modes, strict=True) if m}
    apply.set_project_lists(user.id, project_id, choices)
    if ctx.triggered_id == page.FILTER_SAVE:
        message = alert(f"{len(choices)} list(s) apply to this project.", "success")
        return message, no_update, no_update
    return "", *JobPanel.started(apply.start_filter_job(user.id, project_id))


@callback(
    Output(page.FILTER_SUMMARY, "children"),
    Input(PROJECT_ID, "data"),
    Input(JobPanel.ids.progress(page.FILTER_SCOPE), "label"),
)
@guarded(role="recruiter", refused=_refused_alert)
def show_filter_summary(project_id: int, _label: Any) -> Any:
    return render.filter_summary(apply.summary(project_id))


# --- screening tab -----------------------------------------------------------------------------


@callback(
    Output(page.MUST_HAVES, "value"),
    Output(page.NICE_TO_HAVES, "value"),
    Output(page.DEALBREAKERS, "value"),
    Output(page.NOTES, "value"),
    Input(PROJECT_ID, "data"),
)
@guarded(role="recruiter")
def show_criteria(project_id: int) -> tuple[str, str, str, str]:
    c = prompt.current_criteria(project_id)
    return "\n".join(c.must_haves), "\n".join(c.nice_to_haves), "\n".join(c.dealbreakers), c.notes


def _save_criteria(project_id: int, texts: tuple[str | None, ...], model: str | None) -> Any:
    """Save the criteria as a new prompt version; the alert that says how it went."""
    try:
        criteria = prompt.parse_criteria(*texts)
        saved = prompt.save_criteria(acting_user().id, project_id, criteria, model or None)
    except UserError as exc:
        return alert(exc.user_message)
    return alert(f"Saved as prompt version {saved.version}.", "success")


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
@guarded(role="recruiter")
def versions(
    project_id: int,
    _save: Any,
    must: str | None,
    nice: str | None,
    deal: str | None,
    notes: str | None,
    model: str | None,
) -> tuple[Any, Any, Any]:
    feedback: Any = no_update
    if ctx.triggered_id == page.CRITERIA_SAVE:
        feedback = _save_criteria(project_id, (must, nice, deal, notes), model)
    all_versions = prompt.list_versions(project_id)
    chosen = all_versions[0].id if all_versions else None
    return render.version_options(all_versions), chosen, feedback


@callback(
    Output(page.SCREEN_FEEDBACK, "children", allow_duplicate=True),
    *JobPanel.start_outputs(page.SCREEN_SCOPE),
    Input(page.SCREEN_RUN, "n_clicks"),
    Input(page.SCREEN_RETRY, "n_clicks"),
    State(page.VERSION, "value"),
    State(page.SCOPE, "value"),
    State(PROJECT_ID, "data"),
    prevent_initial_call=True,
)
@guarded(role="recruiter", refused=_refused_start)
def run_screening(
    _run: Any, _retry: Any, version_id: int | None, scope: str, project_id: int
) -> tuple[Any, Any, Any]:
    user = acting_user()
    if ctx.triggered_id == page.SCREEN_RETRY:
        job_id = screening_job.retry_failed(user.id, project_id, version_id)
    else:
        job_id = screening_job.start_screening(user.id, project_id, version_id, scope)
    return "", *JobPanel.started(job_id)


@callback(
    Output(page.OVERRIDE_FEEDBACK, "children"),
    Output(page.OVERRIDES_CHANGED, "data"),
    Input(page.override_id(ALL, ALL), "n_clicks"),
    State(page.note_id(ALL), "value"),
    State(page.note_id(ALL), "id"),
    State(page.OVERRIDES_CHANGED, "data"),
    prevent_initial_call=True,
)
@guarded(role="recruiter", refused=lambda e: (alert(e.user_message), no_update))
def override_verdict(
    _clicks: Any, notes: list[str], note_ids: list[dict[str, Any]], changes: int | None
) -> tuple[Any, Any]:
    """A recruiter agrees or disagrees with a verdict, with an optional note."""
    trigger = ctx.triggered_id
    if not (isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0]["value"]):
        return no_update, no_update  # the table re-rendered its buttons; nothing was clicked
    by_id = {int(i["sid"]): n for i, n in zip(note_ids, notes, strict=True)}
    sid = int(trigger["sid"])
    results.set_override(acting_user().id, sid, str(trigger["verdict"]), by_id.get(sid) or "")
    return None, (changes or 0) + 1


@callback(
    Output(page.SCREEN_COUNTS, "children"),
    Output(page.SCREEN_RESULTS, "children"),
    Input(page.VERSION, "value"),
    Input(page.SCREEN_STATUS, "value"),
    Input(JobPanel.ids.progress(page.SCREEN_SCOPE), "value"),
    Input(page.OVERRIDES_CHANGED, "data"),
    State(PROJECT_ID, "data"),
)
@guarded(role="recruiter")
def show_results(
    version_id: int | None, status: str | None, _progress: Any, _changes: Any, project_id: int
) -> tuple[Any, Any]:
    if not version_id:
        return "", render.no_version()
    summary = render.results_summary(
        results.counts(project_id, int(version_id)), results.agreement(project_id)
    )
    rows = results.verdicts(project_id, int(version_id), status or None, limit=200)
    return summary, render.verdicts_table(rows)


# --- shortlist tab -----------------------------------------------------------------------------


@callback(
    Output(page.LOOKUP_FEEDBACK, "children"),
    *JobPanel.start_outputs(page.LOOKUP_SCOPE),
    Input(page.LOOKUP, "n_clicks"),
    State(PROJECT_ID, "data"),
    prevent_initial_call=True,
)
@guarded(
    role="recruiter", refused=lambda e: (alert(e.user_message, "warning"), no_update, no_update)
)
def lookup_contacts(_n: Any, project_id: int) -> tuple[Any, Any, Any]:
    job_id = contacts.start_lookup(acting_user().id, project_id)
    return "", *JobPanel.started(job_id)


@callback(
    Output(page.SHORTLIST_TABLE, "children"),
    Input(PROJECT_ID, "data"),
    Input(JobPanel.ids.progress(page.LOOKUP_SCOPE), "value"),
    Input(page.GRID_FEEDBACK, "children"),
)
@guarded(role="recruiter", refused=_refused_alert)
def show_shortlist(project_id: int, _progress: Any, _feedback: Any) -> Any:
    return render.shortlist_table(contacts.shortlist(project_id))
