"""The callback kit: a declarative guard for every callback and download route, the one alert
a refusal shows, and the app-wide Dash error handler.

A callback states the role it needs (`@guarded(role=...)`) instead of calling `require_role` by
hand, so no callback can forget it. What a user can correct arrives as a `UserError` and becomes
an alert with its message; anything else is a programming error: logged with its request id, and
the user sees a generic message, never the exception's text. Shaped after redash's
`@require_permission` and superset's command errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import dash_bootstrap_components as dbc
from dash import set_props
from flask import g, has_request_context

from layouts import ids
from services.core.errors import UserError
from web.security import acting_user, require_role

__all__ = ["acting_user", "alert", "guarded", "on_callback_error", "refused_alert"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
GENERIC_MESSAGE = "Something went wrong on our side; it has been logged. Please try again."


def alert(message: Any, color: str = "danger") -> dbc.Alert:
    """The one in-page message a callback shows: a refusal (danger), a warning, a success."""
    return dbc.Alert(message, color=color, className="py-2 mb-2")


def refused_alert(error: UserError) -> dbc.Alert:
    return alert(error.user_message)


def guarded(
    role: str = "recruiter", refused: Callable[[UserError], Any] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the callback only for a signed-in user with at least `role`.

    A `UserError` (a refused role included) becomes `refused(error)` — the callback's outputs
    for a refusal — when given; otherwise it goes to `on_callback_error`, which shows it in the
    page's alert. Other exceptions are never caught here."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                require_role(role)
                return fn(*args, **kwargs)
            except UserError as error:
                if refused is None:
                    raise
                return refused(error)  # type: ignore[no-any-return]

        run.guarded_role = role  # type: ignore[attr-defined]  # what tests check is on every callback
        return run

    return decorate


def _request_id() -> str:
    return str(getattr(g, "request_id", "")) if has_request_context() else ""


def on_callback_error(error: Exception) -> None:
    """Dash's `on_error` for every callback: a `UserError` is shown as it is; anything else is
    logged and shown as a generic message with the request id to quote. The callback's own
    outputs stay as they were (returning None means no update)."""
    if isinstance(error, UserError):
        message, color = error.user_message, "warning"
    else:
        reference = _request_id()
        log.error("callback failed", exc_info=error)  # the log line carries the request id
        message = GENERIC_MESSAGE + (f" (reference {reference})" if reference else "")
        color = "danger"
    set_props(ids.APP_ALERT, {"children": message, "color": color, "is_open": True})
