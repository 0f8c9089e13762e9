"""One gate in front of every route: login required, same-origin writes, session cookie flags.

Public: the login page, /healthz and static files under /assets/ (shipped code and CSS, no
data), and provider webhooks under /webhooks/, which check a secret in their path instead of a
session and can only nudge a job to look again. Everything else, including every /_dash-* route, downloads and API routes, needs a
signed-in, active user; requests that are not page navigations get 401 JSON instead of a redirect.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import ParamSpec
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, jsonify, redirect, request, session
from flask_login import LoginManager, UserMixin, current_user
from werkzeug.wrappers import Response as BaseResponse

from services import auth
from services.core.errors import Forbidden, NotSignedIn, UserError
from services.core.settings import Settings

P = ParamSpec("P")
RouteResult = BaseResponse | Response | tuple[Response, int]
PUBLIC_PATHS = frozenset({"/login", "/healthz", "/_favicon.ico", "/favicon.ico"})
# /webhooks/ authenticate with a secret in their path (web/webhooks.py), not a session.
PUBLIC_PREFIXES = ("/assets/", "/webhooks/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NON_PAGE_PREFIXES = ("/_dash-", "/api/", "/download/", "/metrics", "/_reload-hash")
CSRF_SESSION_KEY = "_csrf"


class SessionUser(UserMixin):
    """The signed-in user for one request (rebuilt from the database every request)."""

    def __init__(self, user: auth.User) -> None:
        self.user = user
        self.id = user.id
        self.role = user.role
        self.name = user.name
        self.email = user.email

    def get_id(self) -> str:
        # The session version rides along so a deactivation or password reset ends the session.
        return f"{self.user.id}:{self.user.session_version}"

    def has_role(self, minimum: str) -> bool:
        return self.user.has_role(minimum)


def _load_user(token: str) -> SessionUser | None:
    try:
        user_id, version = (int(part) for part in token.split(":", 1))
    except ValueError:
        return None
    user = auth.load_active_user(user_id, version)
    return SessionUser(user) if user else None


def csrf_token() -> str:
    """The per-session token that Flask forms (login, logout, uploads) must send back."""
    token = session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return str(token)


def check_csrf(submitted: str | None) -> bool:
    expected = session.get(CSRF_SESSION_KEY)
    return (
        bool(expected)
        and bool(submitted)
        and secrets.compare_digest(str(expected), submitted or "")
    )


def is_same_origin() -> bool:
    """Browsers say where a request comes from; a write from another site is refused."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        referer = request.headers.get("Referer")
        if referer is None:
            return True  # not a browser (CLI, load tool); cookies still must be valid
        origin = referer
    return urlsplit(origin).netloc == request.host


def _metrics_token_ok() -> bool:
    from web.observability import metrics_token_ok

    return metrics_token_ok()


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def gate() -> BaseResponse | tuple[Response, int] | None:
    if request.method not in SAFE_METHODS and not is_same_origin():
        return jsonify(error="cross-origin request refused"), 403
    if _is_public(request.path):
        return None
    if request.path == "/metrics" and _metrics_token_ok():
        return None  # Prometheus scrapes with a bearer token, not a session
    if current_user.is_authenticated:
        return None
    if request.path.startswith(NON_PAGE_PREFIXES) or request.method not in SAFE_METHODS:
        return jsonify(error="login required"), 401
    return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))


def install(server: Flask, settings: Settings) -> LoginManager:
    server.secret_key = settings.secret_key
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.trust_tls,
        SESSION_COOKIE_NAME="sourcingx_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_lifetime_hours),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.trust_tls,
        MAX_CONTENT_LENGTH=settings.upload_max_bytes + 1024 * 1024,
    )
    manager = LoginManager()
    manager.user_loader(_load_user)
    manager.session_protection = "basic"
    manager.init_app(server)
    server.before_request(gate)
    return manager


def current_session_user() -> SessionUser | None:
    user = current_user
    return user if getattr(user, "is_authenticated", False) else None  # type: ignore[return-value]


def acting_user() -> SessionUser:
    """The signed-in user of a guarded callback or route."""
    user = current_session_user()
    if user is None:
        raise NotSignedIn("Please sign in again")
    return user


def require_role(minimum: str) -> SessionUser:
    """Re-check authorisation inside a callback or route; raises PermissionError if not allowed."""
    user = current_session_user()
    if user is None or not user.has_role(minimum):
        raise Forbidden(f"This needs the {minimum} role")
    return user


def guarded_route(role: str) -> Callable[[Callable[P, RouteResult]], Callable[P, RouteResult]]:
    """Download and API routes: the role is checked before the route runs, and a `UserError`
    becomes JSON `{"error": message}` with the error's status (403 for a refused role)."""

    def decorate(route: Callable[P, RouteResult]) -> Callable[P, RouteResult]:
        @wraps(route)
        def run(*args: P.args, **kwargs: P.kwargs) -> RouteResult:
            try:
                require_role(role)
                return route(*args, **kwargs)
            except UserError as error:
                return jsonify(error=error.user_message), error.status

        run.guarded_role = role  # type: ignore[attr-defined]  # what tests check is on every route
        return run

    return decorate
