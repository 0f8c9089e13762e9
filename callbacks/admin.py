"""Admin callbacks: every one re-checks the admin role before touching data, and each action is
one service call that writes its own audit row."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, no_update

from callbacks.kit import acting_user, alert, guarded, refused_alert
from layouts import admin as page
from services import erasure, users
from services.audit import browse as audit_log
from services.auth import AuthError
from services.provider_status import provider_status


@callback(Output(page.USERS, "children"), Input(page.USERS, "id"))
@guarded(role="admin", refused=refused_alert)
def show_users(_id: str) -> dbc.Table | dbc.Alert:
    return page.users_table(users.list_users())


@callback(
    Output(page.MANAGE_USER, "options"),
    Output(page.AUDIT_USER, "options"),
    Input(page.USERS, "children"),
)
@guarded(role="admin", refused=lambda _error: ([], []))
def user_options(_table: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    options = [
        {"value": u.id, "label": f"{u.email} ({u.role}{'' if u.active else ', inactive'})"}
        for u in users.list_users()
    ]
    return options, options


@callback(
    Output(page.INVITE_MESSAGE, "children"),
    Output(page.USERS, "children", allow_duplicate=True),
    Input(page.INVITE_BUTTON, "n_clicks"),
    State(page.INVITE_EMAIL, "value"),
    State(page.INVITE_NAME, "value"),
    State(page.INVITE_ROLE, "value"),
    prevent_initial_call=True,
)
@guarded(role="admin", refused=lambda error: (refused_alert(error), no_update))
def invite(n_clicks: int | None, email: str | None, name: str | None, role: str | None) -> Any:
    if not n_clicks:
        return no_update, no_update
    admin = acting_user()
    # An AuthError (a taken email, an unknown role) becomes the refusal alert, via `guarded`.
    user, password = users.invite_user(email or "", name or "", role or "", by=admin.id)
    message = alert(
        [f"Created {user.email} ({user.role}). Their password, shown only now: ", password],
        color="success",
    )
    return message, page.users_table(users.list_users())


_ACTIONS = (page.ROLE_BUTTON, page.DEACTIVATE_BUTTON, page.ACTIVATE_BUTTON, page.RESET_BUTTON)


@callback(
    Output(page.MANAGE_MESSAGE, "children"),
    Output(page.USERS, "children", allow_duplicate=True),
    *[Input(button, "n_clicks") for button in _ACTIONS],
    State(page.MANAGE_USER, "value"),
    State(page.MANAGE_ROLE, "value"),
    prevent_initial_call=True,
)
@guarded(role="admin", refused=lambda error: (refused_alert(error), no_update))
def manage_user(*args: Any) -> Any:
    user_id, role = args[-2], args[-1]
    action = ctx.triggered_id
    if action not in _ACTIONS:
        return no_update, no_update
    admin = acting_user()
    target = _chosen_user(user_id)
    if action == page.ROLE_BUTTON:
        users.change_role(target, role or "", by=admin.id)
        done = f"Role changed to {role}."
    elif action == page.DEACTIVATE_BUTTON:
        users.set_active(target, False, by=admin.id)
        done = "Deactivated: their sessions have ended."
    elif action == page.ACTIVATE_BUTTON:
        users.set_active(target, True, by=admin.id)
        done = "Activated."
    else:
        done = f"New password, shown only now: {users.reset_password(target, by=admin.id)}"
    return alert(done, color="success"), page.users_table(users.list_users())


def _chosen_user(user_id: Any) -> int:
    """The dropdown's user id (a client could send anything there)."""
    if not user_id:
        raise AuthError("Choose a user first.")
    try:
        return int(user_id)
    except (TypeError, ValueError):
        raise AuthError("Choose a user from the list.") from None


@callback(Output(page.PROVIDERS, "children"), Input(page.PROVIDERS, "id"))
@guarded(role="admin", refused=refused_alert)
def show_providers(_id: str) -> Any:
    return page.providers_table(provider_status())


@callback(
    Output(page.AUDIT_TABLE, "children"),
    Output(page.AUDIT_CURSOR, "data"),
    Output(page.AUDIT_OLDER, "disabled"),
    Output(page.AUDIT_CSV, "href"),
    Input(page.AUDIT_APPLY, "n_clicks"),
    Input(page.AUDIT_OLDER, "n_clicks"),
    State(page.AUDIT_USER, "value"),
    State(page.AUDIT_ACTION, "value"),
    State(page.AUDIT_OBJECT_TYPE, "value"),
    State(page.AUDIT_OBJECT_ID, "value"),
    State(page.AUDIT_DATES, "start_date"),
    State(page.AUDIT_DATES, "end_date"),
    State(page.AUDIT_CURSOR, "data"),
)
@guarded(role="admin", refused=lambda error: (refused_alert(error), None, True, no_update))
def show_audit(
    _apply: int | None,
    _older: int | None,
    user_id: Any,
    action: str | None,
    object_type: str | None,
    object_id: str | None,
    date_from: str | None,
    date_to: str | None,
    cursor: int | None,
) -> Any:
    before = cursor if ctx.triggered_id == page.AUDIT_OLDER else None
    # An AuditFilterError becomes the refusal outputs, via `guarded`.
    f = audit_log.parse_audit_filter(
        {
            "user_id": user_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "date_from": date_from,
            "date_to": date_to,
        }
    )
    result = audit_log.list_entries(f, before_id=before)
    href = "/download/audit.csv" + ("?" + urlencode(f.to_params()) if f.to_params() else "")
    return (
        page.audit_table(result.entries),
        result.next_before_id,
        result.next_before_id is None,
        href,
    )


@callback(
    Output(page.ERASE_MESSAGE, "children"),
    Input(page.ERASE_BUTTON, "n_clicks"),
    State(page.ERASE_ID, "value"),
    State(page.ERASE_CONFIRM, "value"),
    prevent_initial_call=True,
)
@guarded(role="admin", refused=refused_alert)
def erase(n_clicks: int | None, profile_id: Any, confirm: str | None) -> Any:
    if not n_clicks:
        return no_update
    admin = acting_user()
    if (confirm or "").strip() != page.ERASE_WORD:
        raise erasure.ErasureError(f"Type {page.ERASE_WORD} to confirm the erasure.")
    if not str(profile_id or "").isdigit():
        raise erasure.ErasureError("Enter the profile's id (a whole number).")
    result = erasure.erase_profile(int(profile_id), by=admin.id)
    removed = ", ".join(f"{n} {table}" for table, n in result.removed.items() if n)
    return alert(f"Profile #{result.profile_id} erased ({removed}).", color="success")
